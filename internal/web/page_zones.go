package web

import (
	"net/http"
	"net/url"
	"strings"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// The PC Sécurité's zones and readers in a page: each zone with what
// entering it takes and its readers, and the forms that add a zone and a
// reader (a change goes through the API, with its reason).

// routesZonePages registers the zones' page and its forms.
func (s *Server) routesZonePages() {
	s.handle("GET", "/security/zones", false, func(w http.ResponseWriter, r *http.Request) { s.renderZones(w, r, http.StatusOK, nil, nil) })
	s.formWrite("/security/zones", s.addZone)
	s.formWrite("/security/readers", s.addReader)
}

// zonesPage is the zones, each with its readers, and the two forms.
type zonesPage struct {
	base
	Zones     []zoneRow
	Buildings []site.Building
	Kinds     []access.ZoneKind
	Grades    []site.Grade
	Roles     []identity.Role
	Zone      *form
	Reader    *form
}

// zoneRow is a zone with its building's name and its readers.
type zoneRow struct {
	access.Zone
	Building string
	Readers  []access.Reader
}

func (s *Server) renderZones(w http.ResponseWriter, r *http.Request, status int, zf, rf *form) {
	ctx := r.Context()
	a, err := s.access()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := zonesPage{base: s.base(r, "security"), Kinds: access.ZoneKinds, Grades: []site.Grade{site.GradeA, site.GradeB, site.GradeC, site.GradeD},
		Roles: identity.Roles}
	if err := access.MayMuster(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	zones, err := a.Zones(ctx)
	if err == nil {
		var readers []access.Reader
		if readers, err = a.Readers(ctx); err == nil {
			d.Buildings, err = s.Site.Buildings(ctx)
			names := map[string]string{}
			for _, b := range d.Buildings {
				names[b.ID] = b.Name
			}
			for _, z := range zones {
				row := zoneRow{Zone: z, Building: names[z.BuildingID]}
				for _, rd := range readers {
					if rd.ZoneID == z.ID {
						row.Readers = append(row.Readers, rd)
					}
				}
				d.Zones = append(d.Zones, row)
			}
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if zf == nil {
		zf = &form{Values: url.Values{}, lang: d.Lang}
	}
	zf.shown = []string{"code", "name", "kind", "building_id", "grade", "roles", "assembly_point"}
	if rf == nil {
		rf = &form{Values: url.Values{}, lang: d.Lang}
	}
	rf.shown = []string{"code", "zone_id", "direction", "door"}
	d.Zone, d.Reader = zf, rf
	s.render(w, r, status, "zones", d)
}

// addZone records a zone from the page's form.
func (s *Server) addZone(w http.ResponseWriter, r *http.Request, vals url.Values) {
	z := access.Zone{Code: vals.Get("code"), Name: vals.Get("name"), Kind: access.ZoneKind(vals.Get("kind")), BuildingID: vals.Get("building_id"),
		Grade: site.Grade(vals.Get("grade")), OnShift: checked(vals, "on_shift"), AssemblyPoint: vals.Get("assembly_point")}
	for _, role := range vals["roles"] {
		z.Roles = append(z.Roles, identity.Role(strings.TrimSpace(role)))
	}
	a, err := s.access()
	if err == nil {
		err = a.CreateZone(r.Context(), &z)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderZones(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)}, nil)
		return
	}
	http.Redirect(w, r, "/security/zones#z-"+url.PathEscape(z.ID), http.StatusSeeOther)
}

// addReader records a reader from the page's form.
func (s *Server) addReader(w http.ResponseWriter, r *http.Request, vals url.Values) {
	rd := access.Reader{Code: vals.Get("code"), ZoneID: vals.Get("zone_id"), Direction: access.Direction(vals.Get("direction")), Door: vals.Get("door")}
	a, err := s.access()
	if err == nil {
		err = a.CreateReader(r.Context(), &rd)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderZones(w, r, refusalStatus(err), nil, &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/security/zones#z-"+url.PathEscape(rd.ZoneID), http.StatusSeeOther)
}
