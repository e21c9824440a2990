package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"galenix/internal/controlled"
	"galenix/internal/errs"
)

// The controlled-substance register in the JSON API: substances,
// containers, movements (entered here, signed through the signature
// routes: performed by the performer, verified by the witness as a second
// person on the same device), alerts, inventories, the monthly balances,
// the annual statement, and the state of the register's copy.

var errNoControlled = errors.New("web: no controlled-substance register wired")

// controlledSvc is the register's service, or an internal error when none
// is wired.
func (s *Server) controlledSvc() (controlled.Service, error) {
	if s.Controlled == nil {
		return nil, errs.Wrap(errNoControlled, "controlled")
	}
	return s.Controlled, nil
}

// registerFilter reads the register's query: substance_id, from and to
// (days, "2006-01-02", in the site's zone, to included), pending.
func (s *Server) registerFilter(r *http.Request) (controlled.Filter, error) {
	q := r.URL.Query()
	f := controlled.Filter{SubstanceID: strings.TrimSpace(q.Get("substance_id")), Pending: q.Get("pending") == "true"}
	zone := s.zone()
	for _, d := range []struct {
		name string
		t    *time.Time
		next int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		v := strings.TrimSpace(q.Get(d.name))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, v, zone)
		if err != nil {
			return f, errs.Field(d.name, "input.date")
		}
		*d.t = t.AddDate(0, 0, d.next)
	}
	return f, nil
}

// monthStatement is a month's balance drawn from the register, and the
// one recorded at its end.
type monthStatement struct {
	Summary  *controlled.Summary     `json:"summary"`
	Recorded *controlled.MonthRecord `json:"recorded"`
}

// copyState is the state of the register's copy on its second medium.
type copyState struct {
	Dir     string `json:"dir"`
	Lines   int    `json:"lines"`
	Missing int    `json:"missing"`
	Whole   bool   `json:"whole"`
	Problem string `json:"problem,omitempty"`
}

// routesControlled registers the register's API.
func (s *Server) routesControlled() {
	svc := func(fn func(c controlled.Service) error) error {
		c, err := s.controlledSvc()
		if err != nil {
			return err
		}
		return fn(c)
	}
	s.handle("GET", "/api/v1/controlled/substances", false, list(s, func(r *http.Request) (out []controlled.Substance, err error) {
		err = svc(func(c controlled.Service) error { out, err = c.Substances(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/controlled/substances", false, create(s, func(ctx context.Context, v *controlled.Substance) error {
		return svc(func(c controlled.Service) error { return c.CreateSubstance(ctx, v) })
	}))
	s.handle("GET", "/api/v1/controlled/substances/{id}", false, get(s, func(ctx context.Context, id string) (v *controlled.Substance, err error) {
		err = svc(func(c controlled.Service) error { v, err = c.Substance(ctx, id); return err })
		return v, err
	}))
	s.handle("GET", "/api/v1/controlled/substances/{id}/months", false, list(s, func(r *http.Request) (out []controlled.MonthRecord, err error) {
		err = svc(func(c controlled.Service) error {
			if _, err := c.Substance(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			out, err = c.MonthRecords(r.Context(), r.PathValue("id"))
			return err
		})
		return out, err
	}))
	s.handle("GET", "/api/v1/controlled/substances/{id}/month", false, func(w http.ResponseWriter, r *http.Request) {
		var out monthStatement
		err := svc(func(c controlled.Service) error {
			if _, err := c.Substance(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			t, err := s.monthOf(r.URL.Query().Get("month"))
			if err != nil {
				return err
			}
			out.Summary, out.Recorded, err = c.Month(r.Context(), r.PathValue("id"), t)
			return err
		})
		s.answer(w, r, http.StatusOK, &out, err)
	})
	s.handle("GET", "/api/v1/controlled/substances/{id}/statement", false, func(w http.ResponseWriter, r *http.Request) {
		var out *controlled.Statement
		err := svc(func(c controlled.Service) error {
			if _, err := c.Substance(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			year, err := strconv.Atoi(strings.TrimSpace(r.URL.Query().Get("year")))
			if err != nil {
				return errs.Field("year", "controlled.year")
			}
			out, err = c.Annual(r.Context(), r.PathValue("id"), year)
			return err
		})
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("GET", "/api/v1/controlled/containers", false, list(s, func(r *http.Request) (out []controlled.Container, err error) {
		err = svc(func(c controlled.Service) error {
			out, err = c.Containers(r.Context(), r.URL.Query().Get("substance_id"))
			return err
		})
		return out, err
	}))
	s.handle("POST", "/api/v1/controlled/containers", false, create(s, func(ctx context.Context, v *controlled.Container) error {
		return svc(func(c controlled.Service) error { return c.CreateContainer(ctx, v) })
	}))
	s.handle("GET", "/api/v1/controlled/movements", false, list(s, func(r *http.Request) (out []controlled.Movement, err error) {
		err = svc(func(c controlled.Service) error {
			f, err := s.registerFilter(r)
			if err != nil {
				return err
			}
			out, err = c.Register(r.Context(), f)
			return err
		})
		return out, err
	}))
	s.handle("POST", "/api/v1/controlled/movements", false, create(s, func(ctx context.Context, v *controlled.Movement) error {
		return svc(func(c controlled.Service) error { return c.EnterMovement(ctx, v) })
	}))
	s.handle("GET", "/api/v1/controlled/movements/{id}", false, get(s, func(ctx context.Context, id string) (v *controlled.Movement, err error) {
		err = svc(func(c controlled.Service) error { v, err = c.Movement(ctx, id); return err })
		return v, err
	}))
	s.handle("POST", "/api/v1/controlled/movements/{id}/discharge", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Document string `json:"document"`
		}
		var out *controlled.Movement
		err := decode(w, r, &in)
		if err == nil {
			err = svc(func(c controlled.Service) error {
				out, err = c.Discharge(r.Context(), r.PathValue("id"), in.Document)
				return err
			})
		}
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("GET", "/api/v1/controlled/reconciliation", false, list(s, func(r *http.Request) (out []controlled.Reconciliation, err error) {
		err = svc(func(c controlled.Service) error {
			f, err := s.registerFilter(r)
			if err != nil {
				return err
			}
			if f.SubstanceID == "" {
				return errs.Field("substance_id", "controlled.substance")
			}
			out, err = c.Reconcile(r.Context(), f)
			return err
		})
		return out, err
	}))
	s.handle("GET", "/api/v1/controlled/alerts", false, list(s, func(r *http.Request) (out []controlled.Alert, err error) {
		err = svc(func(c controlled.Service) error { out, err = c.Alerts(r.Context()); return err })
		lang := apiLang(r)
		for i := range out {
			out[i].Message = out[i].Detail.Render(lang)
		}
		return out, err
	}))
	s.handle("POST", "/api/v1/controlled/alerts/{id}/acknowledge", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Comment string `json:"comment"`
		}
		err := decode(w, r, &in)
		if err == nil {
			err = svc(func(c controlled.Service) error {
				return c.AcknowledgeAlert(r.Context(), r.PathValue("id"), in.Comment)
			})
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.handle("GET", "/api/v1/controlled/counts", false, list(s, func(r *http.Request) (out []controlled.Count, err error) {
		err = svc(func(c controlled.Service) error { out, err = c.Counts(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/controlled/counts", false, create(s, func(ctx context.Context, v *controlled.Count) error {
		return svc(func(c controlled.Service) error { return c.Count(ctx, v) })
	}))
	s.handle("GET", "/api/v1/controlled/establishment", false, get(s, func(ctx context.Context, _ string) (v *controlled.Establishment, err error) {
		err = svc(func(c controlled.Service) error { v, err = c.Establishment(ctx); return err })
		return v, err
	}))
	s.handle("PUT", "/api/v1/controlled/establishment", false, func(w http.ResponseWriter, r *http.Request) {
		var v controlled.Establishment
		reason, err := decodeWithReason(w, r, &v)
		if err == nil {
			err = ifMatch(r, &v)
		}
		if err == nil {
			err = svc(func(c controlled.Service) error { return c.SetEstablishment(r.Context(), &v, reason) })
		}
		if err == nil {
			setETag(w, &v)
		}
		s.answer(w, r, http.StatusOK, &v, err)
	})
	s.handle("GET", "/api/v1/controlled/copy", false, func(w http.ResponseWriter, r *http.Request) {
		out := copyState{Dir: s.RegisterCopyDir}
		err := svc(func(c controlled.Service) error {
			var err error
			out.Lines, out.Missing, err = c.VerifyCopy(r.Context(), s.RegisterCopyDir)
			if err != nil && errs.Is(err, errs.Conflict) {
				out.Problem, err = errs.MessageOf(err, apiLang(r)), nil
			}
			out.Whole = out.Problem == ""
			return err
		})
		s.answer(w, r, http.StatusOK, &out, err)
	})
}

// monthOf reads a month ("2006-01") as its first instant in the site's
// zone; "" is this month.
func (s *Server) monthOf(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Now(), nil
	}
	t, err := time.ParseInLocation("2006-01", v, s.zone())
	if err != nil {
		return time.Time{}, errs.Field("month", "controlled.month")
	}
	return t, nil
}
