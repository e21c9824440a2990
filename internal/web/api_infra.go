package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/text"
)

var errNoInfra = errors.New("the server has no infrastructure service")

// infraSvc is the infrastructure's service, or an internal error for a
// server built without it.
func (s *Server) infraSvc() (infra.Service, error) {
	if s.Infra == nil {
		return nil, errs.Wrap(errNoInfra, "infra")
	}
	return s.Infra, nil
}

// infraFinding is a conduit rule's finding with its message in the
// reader's language.
type infraFinding struct {
	infra.Finding
	Message string `json:"message"`
}

// infraEvent is a change of state with its detail in the reader's
// language.
type infraEvent struct {
	infra.Event
	Detail string `json:"detail"`
}

// infraCheck is a check with its last result's detail in the reader's
// language.
type infraCheck struct {
	infra.Check
	Detail string `json:"detail"`
}

// infraFindings renders the findings in lang (the pages' too).
func infraFindings(fs []infra.Finding, lang string) []infraFinding {
	out := make([]infraFinding, len(fs))
	for i, f := range fs {
		out[i] = infraFinding{Finding: f, Message: text.Render(lang, f.Key, f.Args...)}
	}
	return out
}

// whatIfScope reads a what-if's scope from the query: building_id, room_id,
// and asset_id repeated (the page adds the assets it names by codes).
func whatIfScope(q url.Values) infra.Scope {
	sc := infra.Scope{BuildingID: strings.TrimSpace(q.Get("building_id")), RoomID: strings.TrimSpace(q.Get("room_id"))}
	for _, id := range q["asset_id"] {
		if id = strings.TrimSpace(id); id != "" {
			sc.AssetIDs = append(sc.AssetIDs, id)
		}
	}
	return sc
}

// oneOf finds the item of a list with the id, or not found with the
// key.
func oneOf[T any](items []T, id func(T) string, want, key string) (*T, error) {
	if v := byID(items, id)[want]; v != nil {
		return v, nil
	}
	return nil, errs.E(errs.NotFound, key)
}

// removal reads a removal's reason, runs it and answers 204.
func (s *Server) removal(fn func(ctx context.Context, id, reason string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		err := decode(w, r, &in)
		if err == nil {
			err = fn(r.Context(), r.PathValue("id"), in.Reason)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// routesInfra registers the infrastructure's JSON API.
func (s *Server) routesInfra() {
	svc := func(fn func(c infra.Service) error) error {
		c, err := s.infraSvc()
		if err != nil {
			return err
		}
		return fn(c)
	}
	s.handle("GET", "/api/v1/infra/assets", false, list(s, func(r *http.Request) (out []infra.Asset, err error) {
		q := r.URL.Query()
		f := infra.Filter{BuildingID: strings.TrimSpace(q.Get("building_id")), Kind: infra.Kind(q.Get("kind")), Q: q.Get("q")}
		if f.Kind, err = filterState(string(f.Kind), infra.Kinds...); err != nil {
			return nil, err
		}
		err = svc(func(c infra.Service) error { out, err = c.Assets(r.Context(), f); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/assets", false, create(s, func(ctx context.Context, v *infra.Asset) error {
		return svc(func(c infra.Service) error { return c.CreateAsset(ctx, v) })
	}))
	s.handle("GET", "/api/v1/infra/assets/{id}", false, get(s, func(ctx context.Context, id string) (v *infra.Asset, err error) {
		err = svc(func(c infra.Service) error { v, err = c.Asset(ctx, id); return err })
		return v, err
	}))
	s.handle("PUT", "/api/v1/infra/assets/{id}", false, update(s, func(v *infra.Asset, id string) { v.ID = id },
		func(ctx context.Context, v *infra.Asset, reason string) error {
			return svc(func(c infra.Service) error {
				if err := c.UpdateAsset(ctx, v, reason); err != nil {
					return err
				}
				got, err := c.Asset(ctx, v.ID)
				if err == nil {
					*v = *got
				}
				return err
			})
		}))
	s.handle("POST", "/api/v1/infra/assets/{id}/remove", false, s.removal(func(ctx context.Context, id, reason string) error {
		return svc(func(c infra.Service) error { return c.DeleteAsset(ctx, id, reason) })
	}))
	// The page's export (its filters included), answering errors in the
	// API's envelope to an API client.
	s.handle("GET", "/api/v1/infra/inventory.csv", false, s.infraAssetsCSV)
	s.handle("POST", "/api/v1/infra/inventory", false, func(w http.ResponseWriter, r *http.Request) {
		var out infra.Imported
		data, _, err := importFile(w, r)
		if err == nil {
			err = svc(func(c infra.Service) error {
				out, err = c.Import(r.Context(), data, r.URL.Query().Get("reason"))
				return err
			})
		}
		s.answer(w, r, http.StatusOK, &out, err)
	})
	s.handle("GET", "/api/v1/infra/analysis", false, func(w http.ResponseWriter, r *http.Request) {
		var out *infra.Analysis
		err := svc(func(c infra.Service) error { var err error; out, err = c.Analysis(r.Context()); return err })
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("GET", "/api/v1/infra/whatif", false, func(w http.ResponseWriter, r *http.Request) {
		var out *infra.Impacted
		err := svc(func(c infra.Service) error {
			var err error
			out, err = c.WhatIf(r.Context(), whatIfScope(r.URL.Query()))
			return err
		})
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("GET", "/api/v1/infra/live", false, func(w http.ResponseWriter, r *http.Request) {
		var out *infra.Impacted
		err := svc(func(c infra.Service) error { var err error; out, err = c.Live(r.Context()); return err })
		s.answer(w, r, http.StatusOK, out, err)
	})

	s.handle("GET", "/api/v1/infra/zones", false, list(s, func(r *http.Request) (out []infra.Zone, err error) {
		err = svc(func(c infra.Service) error { out, err = c.Zones(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/zones", false, create(s, func(ctx context.Context, v *infra.Zone) error {
		return svc(func(c infra.Service) error { return c.CreateZone(ctx, v) })
	}))
	s.handle("GET", "/api/v1/infra/zones/{id}", false, get(s, func(ctx context.Context, id string) (v *infra.Zone, err error) {
		err = svc(func(c infra.Service) error {
			zs, err := c.Zones(ctx)
			if err == nil {
				v, err = oneOf(zs, func(z infra.Zone) string { return z.ID }, id, "infra.no_such_zone")
			}
			return err
		})
		return v, err
	}))
	s.handle("PUT", "/api/v1/infra/zones/{id}", false, update(s, func(v *infra.Zone, id string) { v.ID = id },
		func(ctx context.Context, v *infra.Zone, reason string) error {
			return svc(func(c infra.Service) error { return c.UpdateZone(ctx, v, reason) })
		}))
	s.handle("GET", "/api/v1/infra/conduits", false, list(s, func(r *http.Request) (out []infra.Conduit, err error) {
		err = svc(func(c infra.Service) error { out, err = c.Conduits(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/conduits", false, create(s, func(ctx context.Context, v *infra.Conduit) error {
		return svc(func(c infra.Service) error { return c.CreateConduit(ctx, v) })
	}))
	s.handle("GET", "/api/v1/infra/conduits/{id}", false, get(s, func(ctx context.Context, id string) (v *infra.Conduit, err error) {
		err = svc(func(c infra.Service) error {
			cs, err := c.Conduits(ctx)
			if err == nil {
				v, err = oneOf(cs, func(x infra.Conduit) string { return x.ID }, id, "infra.no_such_conduit")
			}
			return err
		})
		return v, err
	}))
	s.handle("PUT", "/api/v1/infra/conduits/{id}", false, update(s, func(v *infra.Conduit, id string) { v.ID = id },
		func(ctx context.Context, v *infra.Conduit, reason string) error {
			return svc(func(c infra.Service) error { return c.UpdateConduit(ctx, v, reason) })
		}))
	s.handle("GET", "/api/v1/infra/flows", false, list(s, func(r *http.Request) (out []infra.Flow, err error) {
		err = svc(func(c infra.Service) error { out, err = c.Flows(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/flows", false, create(s, func(ctx context.Context, v *infra.Flow) error {
		return svc(func(c infra.Service) error { return c.CreateFlow(ctx, v) })
	}))
	s.handle("POST", "/api/v1/infra/flows/{id}/remove", false, s.removal(func(ctx context.Context, id, reason string) error {
		return svc(func(c infra.Service) error { return c.DeleteFlow(ctx, id, reason) })
	}))
	s.handle("GET", "/api/v1/infra/findings", false, list(s, func(r *http.Request) (out []infraFinding, err error) {
		err = svc(func(c infra.Service) error {
			fs, err := c.Findings(r.Context())
			out = infraFindings(fs, apiLang(r))
			return err
		})
		return out, err
	}))

	checks := func(items []infra.Check, lang string) []infraCheck {
		out := make([]infraCheck, len(items))
		for i, c := range items {
			out[i] = infraCheck{Check: c, Detail: c.Detail.Render(lang)}
		}
		return out
	}
	s.handle("GET", "/api/v1/infra/checks", false, list(s, func(r *http.Request) (out []infraCheck, err error) {
		err = svc(func(c infra.Service) error {
			cs, err := c.Checks(r.Context(), strings.TrimSpace(r.URL.Query().Get("asset_id")))
			out = checks(cs, apiLang(r))
			return err
		})
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/checks", false, create(s, func(ctx context.Context, v *infra.Check) error {
		return svc(func(c infra.Service) error { return c.CreateCheck(ctx, v) })
	}))
	// A check's GET and PUT carry its last result's detail in words,
	// which a PUT ignores (the result is the supervision's).
	checkByID := func(r *http.Request, c infra.Service, id string) (*infraCheck, error) {
		cs, err := c.Checks(r.Context(), "")
		if err != nil {
			return nil, err
		}
		ch, err := oneOf(cs, func(x infra.Check) string { return x.ID }, id, "infra.no_such_check")
		if err != nil {
			return nil, err
		}
		return &checks([]infra.Check{*ch}, apiLang(r))[0], nil
	}
	s.handle("GET", "/api/v1/infra/checks/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		var out *infraCheck
		err := svc(func(c infra.Service) error { var err error; out, err = checkByID(r, c, r.PathValue("id")); return err })
		if err == nil {
			setETag(w, &out.Check)
		}
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("PUT", "/api/v1/infra/checks/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		var in infraCheck
		var out *infraCheck
		reason, err := decodeWithReason(w, r, &in)
		in.ID = r.PathValue("id")
		if err == nil {
			err = ifMatch(r, &in.Check)
		}
		if err == nil {
			err = svc(func(c infra.Service) error {
				if err := c.UpdateCheck(r.Context(), &in.Check, reason); err != nil {
					return err
				}
				var err error
				out, err = checkByID(r, c, in.ID)
				return err
			})
		}
		if err == nil {
			setETag(w, &out.Check)
		}
		s.answer(w, r, http.StatusOK, out, err)
	})
	s.handle("POST", "/api/v1/infra/checks/{id}/remove", false, s.removal(func(ctx context.Context, id, reason string) error {
		return svc(func(c infra.Service) error { return c.DeleteCheck(ctx, id, reason) })
	}))
	s.handle("GET", "/api/v1/infra/events", false, list(s, func(r *http.Request) (out []infraEvent, err error) {
		q := r.URL.Query()
		limit := 100
		if v := strings.TrimSpace(q.Get("limit")); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
				return nil, errs.Field("limit", "infra.limit")
			}
		}
		err = svc(func(c infra.Service) error {
			evs, err := c.Events(r.Context(), strings.TrimSpace(q.Get("asset_id")), limit)
			out = make([]infraEvent, len(evs))
			for i, e := range evs {
				out[i] = infraEvent{Event: e, Detail: e.Detail.Render(apiLang(r))}
			}
			return err
		})
		return out, err
	}))

	s.handle("GET", "/api/v1/infra/plans", false, list(s, func(r *http.Request) (out []infra.Plan, err error) {
		err = svc(func(c infra.Service) error { out, err = c.Plans(r.Context()); return err })
		return out, err
	}))
	s.handle("POST", "/api/v1/infra/plans", false, create(s, func(ctx context.Context, v *infra.Plan) error {
		return svc(func(c infra.Service) error { return c.DraftPlan(ctx, v) })
	}))
	s.handle("GET", "/api/v1/infra/plans/{id}", false, get(s, func(ctx context.Context, id string) (v *infra.Plan, err error) {
		err = svc(func(c infra.Service) error { v, err = c.Plan(ctx, id); return err })
		return v, err
	}))
}
