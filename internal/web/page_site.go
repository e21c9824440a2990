package web

import (
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/site"
)

// overviewPage is the whole site at a glance: buildings, their rooms, and
// the lines standing in each room.
type overviewPage struct {
	base
	Site      *site.Site
	Buildings []overviewBuilding
	Rooms     int
	Lines     int
	// ByStatus counts the lines of each state, in display order.
	ByStatus []statusCount
}

type overviewBuilding struct {
	site.Building
	Rooms []overviewRoom
	Lines int
}

type overviewRoom struct {
	site.Room
	// CascadeCode is the code of the room this one cascades to.
	CascadeCode string
	Lines       []site.Line
}

type statusCount struct {
	State site.LineState
	Count int
}

// overview reads the buildings, rooms and lines once each and groups them,
// so that the page costs four queries however large the site.
func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := overviewPage{base: s.base(r, "overview")}
	st, err := s.Site.Site(ctx)
	if errs.Is(err, errs.NotFound) {
		s.render(w, r, http.StatusOK, "overview", d)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Site = st
	buildings, err := s.Site.Buildings(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	rooms, err := s.Site.Rooms(ctx, site.RoomFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	lines, err := s.Site.Lines(ctx, site.LineFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}

	linesIn := map[string][]site.Line{}
	count := map[site.LineState]int{}
	for _, l := range lines {
		linesIn[l.RoomID] = append(linesIn[l.RoomID], l)
		count[l.State]++
	}
	codeOf := make(map[string]string, len(rooms))
	roomsIn := map[string][]overviewRoom{}
	for _, rm := range rooms {
		codeOf[rm.ID] = rm.Code
	}
	for _, rm := range rooms {
		roomsIn[rm.BuildingID] = append(roomsIn[rm.BuildingID], overviewRoom{Room: rm, CascadeCode: codeOf[rm.CascadesTo], Lines: linesIn[rm.ID]})
	}
	for _, b := range buildings {
		ob := overviewBuilding{Building: b, Rooms: roomsIn[b.ID]}
		for _, rm := range ob.Rooms {
			ob.Lines += len(rm.Lines)
		}
		d.Buildings = append(d.Buildings, ob)
	}
	d.Rooms, d.Lines = len(rooms), len(lines)
	for _, st := range site.LineStates {
		d.ByStatus = append(d.ByStatus, statusCount{State: st, Count: count[st]})
	}
	s.render(w, r, http.StatusOK, "overview", d)
}

// linePage is one production line with its place and its equipment.
type linePage struct {
	base
	Line      *site.Line
	Building  *site.Building
	Room      *site.Room
	Equipment []equipmentRow
	// Signatures are the line record's electronic signatures, as every
	// screen shows them (21 CFR 11.50).
	Signatures []esign.Signature
}

type equipmentRow struct {
	site.Equipment
	// Overdue marks equipment whose qualification has lapsed today.
	Overdue bool
}

func (s *Server) linePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l, err := s.Site.Line(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := linePage{base: s.base(r, "overview"), Line: l}
	if d.Room, err = s.Site.Room(ctx, l.RoomID); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Building, err = s.Site.Building(ctx, l.BuildingID); err != nil {
		s.pageError(w, r, err)
		return
	}
	eq, err := s.Site.Equipment(ctx, site.EquipmentFilter{LineID: l.ID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	now := time.Now()
	for _, e := range eq {
		d.Equipment = append(d.Equipment, equipmentRow{Equipment: e, Overdue: !e.QualifiedOn(now)})
	}
	// The line record's signatures name the site's staff: not shown to a
	// client laboratory's user, for whom they do not exist.
	if sigs := s.Signatures; sigs != nil && !d.Actor.IsClient() {
		if d.Signatures, err = sigs.Signatures(ctx, "line", l.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "line", d)
}
