package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/errs"
)

// Visitors in the JSON API and in pages: a host of the staff pre-registers
// their visitor and sees their own visits; the PC Sécurité sees them all,
// hands the badge at the gate, takes it back, and sees who stays past
// their expected departure.

// routesVisits registers the visits' API and pages.
func (s *Server) routesVisits() {
	s.handle("GET", "/api/v1/visits", false, list(s, func(r *http.Request) ([]access.Visit, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Visits(r.Context())
	}))
	s.handle("POST", "/api/v1/visits", false, create(s, func(ctx context.Context, v *access.Visit) error {
		a, err := s.access()
		if err != nil {
			return err
		}
		return a.CreateVisit(ctx, v)
	}))
	s.handle("GET", "/api/v1/visits/{id}", false, get(s, func(ctx context.Context, id string) (*access.Visit, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Visit(ctx, id)
	}))
	s.handle("PUT", "/api/v1/visits/{id}", false, update(s, func(v *access.Visit, id string) { v.ID = id },
		func(ctx context.Context, v *access.Visit, reason string) error {
			a, err := s.access()
			if err != nil {
				return err
			}
			return a.UpdateVisit(ctx, v, reason)
		}))
	s.handle("POST", "/api/v1/visits/{id}/arrive", false, s.visitStep(func(ctx context.Context, a access.Service, id string, in visitStepIn) (*access.Visit, error) {
		return a.ArriveVisit(ctx, id, in.Badge)
	}))
	s.handle("POST", "/api/v1/visits/{id}/depart", false, s.visitStep(func(ctx context.Context, a access.Service, id string, _ visitStepIn) (*access.Visit, error) {
		return a.DepartVisit(ctx, id)
	}))
	s.handle("POST", "/api/v1/visits/{id}/cancel", false, s.visitStep(func(ctx context.Context, a access.Service, id string, in visitStepIn) (*access.Visit, error) {
		return a.CancelVisit(ctx, id, in.Reason)
	}))

	s.handle("GET", "/visits", false, func(w http.ResponseWriter, r *http.Request) { s.renderVisits(w, r, http.StatusOK, nil) })
	s.formWrite("/visits", s.registerVisit)
	s.handle("GET", "/visits/{id}", false, func(w http.ResponseWriter, r *http.Request) { s.renderVisit(w, r, http.StatusOK, "", nil) })
	for _, step := range []string{"arrive", "depart", "cancel", "extend"} {
		s.formWrite("/visits/{id}/"+step, s.visitFormStep(step))
	}
}

// visitStepIn is the body of a step of a visit: the badge handed at the
// gate, the reason of a cancellation.
type visitStepIn struct {
	Badge  string `json:"badge"`
	Reason string `json:"reason"`
}

// visitStep answers a step of a visit's life in the JSON API.
func (s *Server) visitStep(fn func(ctx context.Context, a access.Service, id string, in visitStepIn) (*access.Visit, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in visitStepIn
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		a, err := s.access()
		var v *access.Visit
		if err == nil {
			v, err = fn(r.Context(), a, r.PathValue("id"), in)
		}
		s.answer(w, r, http.StatusOK, v, err)
	}
}

// visitsPage is the visits a host or the PC Sécurité sees: the visitors
// on site (the overdue first), those expected, those over, and the form
// that registers one.
type visitsPage struct {
	base
	OnSite, Expected, Over []access.Visit
	Overdue                int
	// Gate: the reader is the PC Sécurité (names any host, hands badges).
	Gate     bool
	Register *form
	zone     *time.Location
}

// When writes a time in the site's zone, the reader's way.
func (p visitsPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

func (s *Server) renderVisits(w http.ResponseWriter, r *http.Request, status int, reg *form) {
	a, err := s.access()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := visitsPage{base: s.base(r, "visits"), zone: s.zone()}
	if err := access.MayHost(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Gate = access.MayGate(d.Actor) == nil
	if d.Gate {
		d.Nav = "security"
	}
	visits, err := a.Visits(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, v := range visits {
		switch v.Status {
		case access.VisitOnSite:
			d.OnSite = append(d.OnSite, v)
			if v.Overdue {
				d.Overdue++
			}
		case access.VisitExpected:
			d.Expected = append(d.Expected, v)
		default:
			d.Over = append(d.Over, v)
		}
	}
	// The overdue first, then by expected departure.
	slices.SortStableFunc(d.OnSite, func(a, b access.Visit) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		return a.ExpectedUntil.Compare(b.ExpectedUntil)
	})
	if reg == nil {
		start := time.Now().In(d.zone).Truncate(15 * time.Minute).Add(15 * time.Minute)
		reg = &form{Values: url.Values{"expected_at": {start.Format(localMinute)}, "expected_until": {start.Add(3 * time.Hour).Format(localMinute)}}, lang: d.Lang}
	}
	reg.shown = []string{"visitor", "company", "purpose", "expected_at", "expected_until"}
	if d.Gate {
		// Only the PC Sécurité names the host; a host's own refusal
		// (no person of the staff behind the account) is said above the
		// button.
		reg.shown = append(reg.shown, "host")
	}
	d.Register = reg
	s.render(w, r, status, "visits", d)
}

// localMinute is how a datetime-local field writes a moment.
const localMinute = "2006-01-02T15:04"

// moment reads a datetime-local field as a moment in the site's zone.
func moment(v url.Values, name string, zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(localMinute, strings.TrimSpace(v.Get(name)), zone)
	if err != nil {
		return time.Time{}, errs.Field(name, "input.datetime")
	}
	return t, nil
}

// visitOf reads the registration form: the host by badge or name, when
// the PC Sécurité names one; the times in the site's zone.
func (s *Server) visitOf(r *http.Request, v url.Values) (access.Visit, error) {
	in := access.Visit{Visitor: v.Get("visitor"), Company: v.Get("company"), Purpose: v.Get("purpose")}
	var err error
	zone := s.zone()
	if in.ExpectedAt, err = moment(v, "expected_at", zone); err != nil {
		return in, err
	}
	if in.ExpectedUntil, err = moment(v, "expected_until", zone); err != nil {
		return in, err
	}
	if host := strings.TrimSpace(v.Get("host")); host != "" {
		if in.HostID, err = s.personNamed(r.Context(), host, true); err != nil {
			return in, err
		}
		if in.HostID == "" {
			return in, errs.Field("host", "visit.host_unknown", host)
		}
	}
	return in, nil
}

// registerVisit registers a visit from the list's form and leads to it.
func (s *Server) registerVisit(w http.ResponseWriter, r *http.Request, vals url.Values) {
	a, err := s.access()
	var in access.Visit
	if err == nil {
		if in, err = s.visitOf(r, vals); err == nil {
			err = a.CreateVisit(r.Context(), &in)
		}
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Field == "host_id" {
			// The form names the host by badge or name.
			err = &errs.Error{Code: e.Code, Field: "host", Key: e.Key, Args: e.Args}
		}
		s.logIfInternal(r, err)
		s.renderVisits(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/visits/"+url.PathEscape(in.ID)+"?done=registered", http.StatusSeeOther)
}

// visitNotices say what was done, after a redirection (?done=).
var visitNotices = map[string]string{
	"registered": "visit.done.registered", "arrive": "visit.done.arrive", "depart": "visit.done.depart", "cancel": "visit.done.cancel",
	"extend": "visit.done.extend",
}

// visitPage is one visit: who, whose, when, where it stands; the gate's
// forms for the PC Sécurité, the host's to extend or cancel it; its
// history.
type visitPage struct {
	base
	V        access.Visit
	Gate     bool
	Form     *form
	Step     string
	Notice   string
	History  []audit.Entry
	ExtendAt string
	zone     *time.Location
}

// When writes a time in the site's zone, the reader's way.
func (p visitPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// Word is a name of the trail in words: a command or a field.
func (p visitPage) Word(kind, name string) string { return auditWord(p.Lang, kind, name) }

// Old is an entry's old value in words.
func (p visitPage) Old(e audit.Entry) string {
	return auditValue(p.Lang, "visit", e.Field, e.Old, e.OldLabel, p.zone)
}

// New is an entry's new value in words.
func (p visitPage) New(e audit.Entry) string {
	return auditValue(p.Lang, "visit", e.Field, e.New, e.NewLabel, p.zone)
}

// FormFor is the form of a step: the one refused, else a fresh one.
func (p visitPage) FormFor(step string) *form {
	if p.Step == step && p.Form != nil {
		return p.Form
	}
	return &form{Values: url.Values{}, lang: p.Lang, shown: []string{"badge", "reason", "expected_until"}}
}

func (s *Server) renderVisit(w http.ResponseWriter, r *http.Request, status int, step string, f *form) {
	a, err := s.access()
	var v *access.Visit
	if err == nil {
		v, err = a.Visit(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := visitPage{base: s.base(r, "visits"), V: *v, Step: step, Form: f, zone: s.zone()}
	d.Gate = access.MayGate(d.Actor) == nil
	if d.Gate {
		d.Nav = "security"
	}
	if key, ok := visitNotices[r.URL.Query().Get("done")]; ok && f == nil {
		d.Notice = tr(d.Lang, key)
	}
	if f != nil {
		f.shown = []string{"badge", "reason", "expected_until"}
	}
	d.ExtendAt = v.ExpectedUntil.In(d.zone).Add(time.Hour).Format(localMinute)
	if d.History, err = s.recordHistory(r.Context(), "visit", v.ID); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "visit", d)
}

// visitFormStep is a step of a visit from its page: the badge handed,
// taken back, the visit cancelled with a reason, the stay extended with
// one.
func (s *Server) visitFormStep(step string) func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, vals url.Values) {
		id := r.PathValue("id")
		a, err := s.access()
		if err == nil {
			ctx := r.Context()
			switch step {
			case "arrive":
				_, err = a.ArriveVisit(ctx, id, vals.Get("badge"))
			case "depart":
				_, err = a.DepartVisit(ctx, id)
			case "cancel":
				_, err = a.CancelVisit(ctx, id, vals.Get("reason"))
			case "extend":
				var v *access.Visit
				if v, err = a.Visit(ctx, id); err == nil {
					next := *v
					if next.Version, err = formVersion(vals); err == nil {
						if next.ExpectedUntil, err = moment(vals, "expected_until", s.zone()); err == nil {
							err = a.UpdateVisit(ctx, &next, vals.Get("reason"))
						}
					}
				}
			}
		}
		if err != nil {
			if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
				s.pageError(w, r, err)
				return
			}
			s.logIfInternal(r, err)
			s.renderVisit(w, r, refusalStatus(err), step, &form{Values: vals, Err: err, lang: langOf(r)})
			return
		}
		http.Redirect(w, r, "/visits/"+url.PathEscape(id)+"?done="+step, http.StatusSeeOther)
	}
}
