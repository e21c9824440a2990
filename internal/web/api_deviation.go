package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The deviations' and CAPA's JSON API: the QA board's list, one deviation
// with its actions, a deviation reported by hand, and each step of the
// workflow as a command on the version its author read (the body's
// "version" or If-Match; 412 stale otherwise). The closure is QA's
// signature (POST /api/v1/signatures, entity "deviation", meaning
// "approved"), which the store's hook turns into the closure.
// A batch-record deviation's title is a stored coded text: it is answered
// in the request's language, its code beside it (title_code), as the batch
// record's deviations are (api_texts.go).

// errNoDeviations: galenix was wired without the deviations' service.
var errNoDeviations = errors.New("web: no deviation service wired")

// deviations returns the deviations' service, or the error a request gets
// when galenix was wired without one.
func (s *Server) deviations() (quality.DeviationService, error) {
	if s.Deviations == nil {
		return nil, errs.Wrap(errNoDeviations, "deviations")
	}
	return s.Deviations, nil
}

// routesDeviations registers the deviations' API.
func (s *Server) routesDeviations() {
	s.handle("GET", "/api/v1/deviations", false, list(s, func(r *http.Request) ([]apiQualityDeviation, error) {
		svc, err := s.deviations()
		if err != nil {
			return nil, err
		}
		f, err := deviationFilter(r)
		if err != nil {
			return nil, err
		}
		list, err := svc.Deviations(r.Context(), f)
		out := make([]apiQualityDeviation, len(list))
		for i := range list {
			out[i] = *deviationAnswer(r, &list[i])
		}
		return out, err
	}))
	s.handle("POST", "/api/v1/deviations", false, func(w http.ResponseWriter, r *http.Request) {
		var in quality.NewDeviation
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.deviations()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.OpenDeviation(r.Context(), in)
		if err == nil {
			setETag(w, d)
		}
		s.answerDeviation(w, r, http.StatusCreated, d, err)
	})
	s.handle("GET", "/api/v1/deviations/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.deviations()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.Deviation(r.Context(), r.PathValue("id"))
		if err == nil {
			setETag(w, d)
		}
		s.answerDeviation(w, r, http.StatusOK, d, err)
	})
	s.deviationStep("assess", func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, b *stepBody) (*quality.Deviation, error) {
		return svc.AssessDeviation(ctx, id, st, quality.Assessment{Class: b.Class, Reason: b.Reason, RecurrenceOf: b.RecurrenceOf, Impacts: b.Impacts})
	})
	s.deviationStep("approve", func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, _ *stepBody) (*quality.Deviation, error) {
		return svc.ApproveAssessment(ctx, id, st)
	})
	s.deviationStep("investigate", func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, b *stepBody) (*quality.Deviation, error) {
		f := quality.Findings{RootCause: b.RootCause, Actions: []quality.Action{}}
		for i, a := range b.Actions {
			due, err := dayOrTime(a.Due, "due", s.zone())
			if err != nil {
				return nil, errs.Field("due", "web.deviation.action_due", i+1)
			}
			f.Actions = append(f.Actions, quality.Action{ID: a.ID, Preventive: a.Preventive, Description: a.Description, OwnerID: a.OwnerID, Due: due})
		}
		return svc.InvestigateDeviation(ctx, id, st, f)
	})
	s.deviationStep("plan-check", func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, b *stepBody) (*quality.Deviation, error) {
		due, err := dayOrTime(b.EffectivenessDue, "effectiveness_due", s.zone())
		if err != nil {
			return nil, err
		}
		return svc.PlanEffectivenessCheck(ctx, id, st, due)
	})
	s.deviationStep("check", func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, b *stepBody) (*quality.Deviation, error) {
		if b.Effective == nil {
			return nil, errs.Field("effective", "web.deviation.effective")
		}
		return svc.CheckEffectiveness(ctx, id, st, *b.Effective, b.Note)
	})
	s.handle("POST", "/api/v1/deviations/{id}/actions/{action_id}/complete", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Evidence string `json:"evidence"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.deviations()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.CompleteAction(r.Context(), r.PathValue("id"), r.PathValue("action_id"), in.Evidence)
		if err == nil {
			setETag(w, d)
		}
		s.answerDeviation(w, r, http.StatusOK, d, err)
	})
	s.handle("GET", "/api/v1/deviation-actions", false, list(s, func(r *http.Request) ([]quality.ActionItem, error) {
		svc, err := s.deviations()
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		f := quality.ActionFilter{}
		if f.Open, err = boolParam(q.Get("open"), "open"); err != nil {
			return nil, err
		}
		if f.Mine, err = boolParam(q.Get("mine"), "mine"); err != nil {
			return nil, err
		}
		return svc.Actions(r.Context(), f)
	}))
	s.handle("GET", "/api/v1/deviation-owners", false, list(s, func(r *http.Request) ([]quality.Owner, error) {
		svc, err := s.deviations()
		if err != nil {
			return nil, err
		}
		return svc.Owners(r.Context())
	}))
}

// stepBody is what the steps of the workflow take; each reads its own
// fields: the version decided on, the assessment, the findings, the day of
// the effectiveness check, its outcome.
type stepBody struct {
	quality.DeviationStep
	Class            quality.Class    `json:"class"`
	Reason           string           `json:"reason"`
	RecurrenceOf     string           `json:"recurrence_of"`
	Impacts          []quality.Impact `json:"impacts"`
	RootCause        string           `json:"root_cause"`
	Actions          []actionBody     `json:"actions"`
	EffectivenessDue string           `json:"effectiveness_due"`
	Effective        *bool            `json:"effective"`
	Note             string           `json:"note"`
}

// actionBody is a CAPA action as the investigation gives it: its due day
// written YYYY-MM-DD (in the site's zone); id names an action already
// recorded.
type actionBody struct {
	ID          string `json:"id"`
	Preventive  bool   `json:"preventive"`
	Description string `json:"description"`
	OwnerID     string `json:"owner_id"`
	Due         string `json:"due"`
}

// deviationStep registers POST /api/v1/deviations/{id}/<name>: the body
// (may be empty) and If-Match, then one service call.
func (s *Server) deviationStep(name string, call func(ctx context.Context, svc quality.DeviationService, id string, st quality.DeviationStep, b *stepBody) (*quality.Deviation, error)) {
	s.handle("POST", "/api/v1/deviations/{id}/"+name, false, func(w http.ResponseWriter, r *http.Request) {
		var in stepBody
		b, err := readBody(w, r)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			err = decodeStrict(b, &in)
		}
		if err == nil {
			err = ifMatch(r, &in)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.deviations()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := call(r.Context(), svc, r.PathValue("id"), in.DeviationStep, &in)
		if err == nil {
			setETag(w, d)
		}
		s.answerDeviation(w, r, http.StatusOK, d, err)
	})
}

// apiQualityDeviation is a deviation as the API answers it: its title in
// the request's language, with its code when it is a coded text.
type apiQualityDeviation struct {
	quality.Deviation
	Title     string      `json:"title,omitempty"`
	TitleCode *text.Coded `json:"title_code,omitempty"`
}

// deviationAnswer is the deviation as the reader may see it, its title
// written in the request's language.
func deviationAnswer(r *http.Request, d *quality.Deviation) *apiQualityDeviation {
	a := apiQualityDeviation{Deviation: *forReader(r.Context(), d)}
	a.Impacts = nonNil(a.Impacts) // an array, never null, as the document says
	a.Title, a.TitleCode = storedAnswer(apiLang(r), a.Deviation.Title)
	return &a
}

// answerDeviation writes the deviation with the status, or the error.
func (s *Server) answerDeviation(w http.ResponseWriter, r *http.Request, status int, d *quality.Deviation, err error) {
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, status, deviationAnswer(r, d))
}

// forReader is the second wall: a reader who may not see names (a
// client's user) gets the client's view, whatever the service answered.
func forReader(ctx context.Context, d *quality.Deviation) *quality.Deviation {
	if seesNames(ctx) {
		return d
	}
	// The store left out the CAPA unless the client's agreement shares
	// them; the wall keeps what it answered, stripped of every name.
	v := d.ClientView(true)
	return &v
}

// deviationFilter reads the board's filters: state (several, separated by
// commas), class, batch_id, older_than (days), limit and offset.
func deviationFilter(r *http.Request) (quality.DeviationFilter, error) {
	q := r.URL.Query()
	f := quality.DeviationFilter{Class: quality.Class(q.Get("class")), BatchID: q.Get("batch_id")}
	if v := q.Get("state"); v != "" {
		for _, part := range strings.Split(v, ",") {
			st := quality.DeviationState(strings.TrimSpace(part))
			if !slices.Contains(quality.DeviationStates, st) {
				return f, errs.Field("state", "web.deviation.state")
			}
			f.States = append(f.States, st)
		}
	}
	if f.Class != "" && !slices.Contains(quality.Classes, f.Class) {
		return f, errs.Field("class", "quality.deviation.class")
	}
	if v := q.Get("older_than"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 36500 {
			return f, errs.Field("older_than", "web.deviation.older_than")
		}
		f.OlderThan = n
	}
	var err error
	f.Limit, f.Offset, err = pageOf(q)
	return f, err
}

// dayOrTime reads a day, YYYY-MM-DD, as its start in the site's zone, or
// an RFC 3339 time.
func dayOrTime(v, field string, zone *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, bounds.Time(field, t)
	}
	d, err := time.ParseInLocation(time.DateOnly, v, zone)
	if err != nil {
		return time.Time{}, errs.Field(field, "web.dates_written_day_2026")
	}
	return d, bounds.Time(field, d)
}

// boolParam reads a yes-or-no query parameter: true, false or nothing.
func boolParam(v, name string) (bool, error) {
	switch v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errs.Field(name, "web.deviation.bool")
}
