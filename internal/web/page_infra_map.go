package web

import (
	"net/http"

	"galenix/internal/infra"
	"galenix/internal/site"
)

// The site's map of the infrastructure: each building a card with its
// rooms holding assets, each asset with its state, and what the failures
// found now do to it; the page refreshes itself (htmx) every 15 s.

// mapAsset is an asset on the map, with what the failures found now do
// to it: "down" when it falls with what it depends on, "stopped" for a
// line, a room's monitoring, a door or a service stopped, "weakened" for
// a redundancy group left with no margin.
type mapAsset struct {
	infra.Ref
	Hit string
}

// mapRoom is a room and its assets; a building's assets outside any room
// are in a room without id.
type mapRoom struct {
	ID, Code, Name string
	Grade          site.Grade
	Assets         []mapAsset
	// Manual: the room has lost its GMP monitoring.
	Manual bool
}

// mapBuilding is a building's card on the map.
type mapBuilding struct {
	ID, Code, Name string
	Rooms          []mapRoom
	// Hit counts its assets touched by what is down now.
	Hit int
}

// infraMapPage is the site's map by building; Elsewhere holds the assets
// with no place (virtual machines, services, groups).
type infraMapPage struct {
	infraBase
	Buildings []mapBuilding
	Elsewhere []mapAsset
	// ElsewhereHit counts the assets with no place touched now.
	ElsewhereHit int
	Live         *infra.Impacted
}

func (s *Server) infraMap(w http.ResponseWriter, r *http.Request) {
	svc, b, ok := s.infraPage(w, r, "/infra/map")
	if !ok {
		return
	}
	ctx := r.Context()
	g, err := svc.Graph(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	buildings, rooms, err := s.infraPlaces(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	live := g.Live()
	d := infraMapPage{infraBase: b, Live: &live}
	hit := map[string]string{}
	for _, x := range live.Down {
		hit[x.ID] = "down"
	}
	for _, x := range live.Stopped {
		hit[x.ID] = "stopped"
	}
	for _, x := range live.Weakened {
		hit[x.ID] = "weakened"
	}
	manual := map[string]bool{}
	for _, x := range live.Rooms {
		manual[x.RoomID] = true
	}
	byBuilding := map[string][]mapAsset{}
	for i := range g.Assets {
		a := &g.Assets[i]
		m := mapAsset{Ref: g.Ref(int32(i)), Hit: hit[a.ID]}
		if a.BuildingID == "" {
			d.Elsewhere = append(d.Elsewhere, m)
			if m.Hit != "" || a.State == infra.StateDown {
				d.ElsewhereHit++
			}
			continue
		}
		byBuilding[a.BuildingID] = append(byBuilding[a.BuildingID], m)
	}
	for _, bd := range buildings {
		as := byBuilding[bd.ID]
		if len(as) == 0 {
			continue
		}
		mb := mapBuilding{ID: bd.ID, Code: bd.Code, Name: bd.Name}
		rs := append([]site.Room{{}}, rooms[bd.ID]...)
		for _, rm := range rs {
			mr := mapRoom{ID: rm.ID, Code: rm.Code, Name: rm.Name, Grade: rm.Grade, Manual: rm.ID != "" && manual[rm.ID]}
			for _, a := range as {
				if a.RoomID == rm.ID {
					mr.Assets = append(mr.Assets, a)
					if a.Hit != "" || a.State == infra.StateDown {
						mb.Hit++
					}
				}
			}
			if len(mr.Assets) > 0 {
				mb.Rooms = append(mb.Rooms, mr)
			}
		}
		d.Buildings = append(d.Buildings, mb)
	}
	s.render(w, r, http.StatusOK, "infra_map", d)
}
