package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/access"
	"galenix/internal/errs"
)

// The PC Sécurité's presence and musters, in the JSON API and in pages:
// who is on site now, live; at the alarm, the roll call per assembly
// point, printable, on a tablet, people checked off as they arrive and the
// unaccounted highlighted.

// routesMusters registers presence's and the musters' API and pages.
func (s *Server) routesMusters() {
	s.handle("GET", "/api/v1/access/presence", false, list(s, func(r *http.Request) ([]access.Presence, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Presence(r.Context())
	}))
	s.handle("GET", "/api/v1/musters", false, list(s, func(r *http.Request) ([]access.Muster, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Musters(r.Context())
	}))
	s.handle("POST", "/api/v1/musters", false, s.musterWithReason(http.StatusCreated, func(ctx context.Context, a access.Service, _, reason string) (*access.Muster, error) {
		return a.StartMuster(ctx, reason)
	}))
	s.handle("GET", "/api/v1/musters/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access()
		var m *access.Muster
		if err == nil {
			m, err = a.Muster(r.Context(), r.PathValue("id"))
		}
		s.answer(w, r, http.StatusOK, m, err)
	})
	s.handle("POST", "/api/v1/musters/{id}/check", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PersonID string `json:"person_id"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		a, err := s.access()
		var l *access.MusterLine
		if err == nil {
			l, err = a.CheckOff(r.Context(), r.PathValue("id"), in.PersonID)
		}
		s.answer(w, r, http.StatusOK, l, err)
	})
	s.handle("POST", "/api/v1/musters/{id}/end", false, s.musterWithReason(http.StatusOK, func(ctx context.Context, a access.Service, id, reason string) (*access.Muster, error) {
		return a.EndMuster(ctx, id, reason)
	}))

	s.handle("GET", "/security/presence", false, func(w http.ResponseWriter, r *http.Request) { s.renderPresence(w, r, http.StatusOK, nil) })
	s.formWrite("/security/musters", s.startMuster)
	s.handle("GET", "/security/musters/{id}", false, func(w http.ResponseWriter, r *http.Request) { s.renderMuster(w, r, http.StatusOK, nil) })
	s.formWrite("/security/musters/{id}/check", s.checkOff)
	s.formWrite("/security/musters/{id}/end", s.endMuster)
}

// musterWithReason answers a muster's write whose body is its reason:
// starting one, ending one (the path's id).
func (s *Server) musterWithReason(status int, fn func(ctx context.Context, a access.Service, id, reason string) (*access.Muster, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		a, err := s.access()
		var m *access.Muster
		if err == nil {
			m, err = fn(r.Context(), a, r.PathValue("id"), in.Reason)
		}
		s.answer(w, r, status, m, err)
	}
}

// presencePage is who is on site: counted by assembly point and zone,
// listed, the musters before, and the form that starts one.
type presencePage struct {
	base
	People  []access.Presence
	ByPoint []count
	ByZone  []count
	Musters []access.Muster
	Start   *form
	zone    *time.Location
}

// count is a number of people at a place.
type count struct {
	Name string
	N    int
}

// When writes a time in the site's zone, the reader's way.
func (p presencePage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

func counted(people []access.Presence, key func(access.Presence) string) []count {
	n := map[string]int{}
	for _, p := range people {
		n[key(p)]++
	}
	out := make([]count, 0, len(n))
	for k, v := range n {
		out = append(out, count{k, v})
	}
	slices.SortFunc(out, func(a, b count) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *Server) renderPresence(w http.ResponseWriter, r *http.Request, status int, start *form) {
	ctx := r.Context()
	a, err := s.access()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := presencePage{base: s.base(r, "security"), zone: s.zone()}
	if err := access.MayMuster(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.People, err = a.Presence(ctx); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.ByPoint = counted(d.People, func(p access.Presence) string { return p.AssemblyPoint })
	d.ByZone = counted(d.People, func(p access.Presence) string { return p.Zone })
	if d.Musters, err = a.Musters(ctx); err != nil {
		s.pageError(w, r, err)
		return
	}
	if start == nil {
		start = &form{Values: url.Values{}, lang: d.Lang}
	}
	start.shown = []string{"reason"}
	d.Start = start
	s.render(w, r, status, "presence", d)
}

// startMuster begins a roll call and leads to it.
func (s *Server) startMuster(w http.ResponseWriter, r *http.Request, vals url.Values) {
	a, err := s.access()
	var m *access.Muster
	if err == nil {
		m, err = a.StartMuster(r.Context(), vals.Get("reason"))
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderPresence(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/security/musters/"+url.PathEscape(m.ID), http.StatusSeeOther)
}

// musterPage is a roll call: its people by assembly point, each checked
// off or to check, the unaccounted counted, and the form that ends it.
type musterPage struct {
	base
	M      access.Muster
	Points []musterPoint
	End    *form
	zone   *time.Location
}

// musterPoint is an assembly point's people.
type musterPoint struct {
	Name        string
	People      []access.MusterLine
	Unaccounted int
}

// When writes a time in the site's zone, the reader's way.
func (p musterPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

func (s *Server) renderMuster(w http.ResponseWriter, r *http.Request, status int, end *form) {
	a, err := s.access()
	var m *access.Muster
	if err == nil {
		m, err = a.Muster(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := musterPage{base: s.base(r, "security"), M: *m, zone: s.zone()}
	for _, l := range m.People {
		if n := len(d.Points); n == 0 || d.Points[n-1].Name != l.AssemblyPoint {
			d.Points = append(d.Points, musterPoint{Name: l.AssemblyPoint})
		}
		p := &d.Points[len(d.Points)-1]
		p.People = append(p.People, l)
		if l.CheckedAt == nil {
			p.Unaccounted++
		}
	}
	if end == nil {
		end = &form{Values: url.Values{}, lang: d.Lang}
	}
	end.shown = []string{"reason"}
	d.End = end
	s.render(w, r, status, "muster", d)
}

// checkOff checks a person off and comes back to the roll call, at the
// assembly point.
func (s *Server) checkOff(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	a, err := s.access()
	if err == nil {
		_, err = a.CheckOff(r.Context(), id, vals.Get("person_id"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderMuster(w, r, refusalStatus(err), &form{Values: url.Values{}, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/security/musters/"+url.PathEscape(id)+"#p-"+url.PathEscape(vals.Get("person_id")), http.StatusSeeOther)
}

// endMuster ends the roll call with its reason.
func (s *Server) endMuster(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	a, err := s.access()
	if err == nil {
		_, err = a.EndMuster(r.Context(), id, vals.Get("reason"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderMuster(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/security/musters/"+url.PathEscape(id), http.StatusSeeOther)
}
