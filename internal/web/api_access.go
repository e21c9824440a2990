package web

import (
	"context"
	"errors"
	"net/http"

	"galenix/internal/access"
	"galenix/internal/errs"
)

// Site access in the JSON API: the zones and readers (kept by the PC
// Sécurité and the administrators), the readers' signed policy, the
// intake of their events (a reader's machine token, scope access:write)
// and the runs of events not received.

// errNoAccess: galenix was wired without the access service.
var errNoAccess = errors.New("web: no access service wired")

func (s *Server) access() (access.Service, error) {
	if s.Access == nil {
		return nil, errs.Wrap(errNoAccess, "access")
	}
	return s.Access, nil
}

// accessRoutes are the routes a reader's machine token reaches.
const (
	accessPolicyPattern = "GET /api/v1/access/policy"
	accessEventsPattern = "POST /api/v1/access/events"
)

// routesAccess registers the access API.
func (s *Server) routesAccess() {
	s.handle("GET", "/api/v1/zones", false, list(s, func(r *http.Request) ([]access.Zone, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Zones(r.Context())
	}))
	s.handle("POST", "/api/v1/zones", false, create(s, func(ctx context.Context, z *access.Zone) error {
		a, err := s.access()
		if err != nil {
			return err
		}
		return a.CreateZone(ctx, z)
	}))
	s.handle("GET", "/api/v1/zones/{id}", false, get(s, func(ctx context.Context, id string) (*access.Zone, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Zone(ctx, id)
	}))
	s.handle("PUT", "/api/v1/zones/{id}", false, update(s, func(v *access.Zone, id string) { v.ID = id },
		func(ctx context.Context, z *access.Zone, reason string) error {
			a, err := s.access()
			if err != nil {
				return err
			}
			return a.UpdateZone(ctx, z, reason)
		}))
	s.handle("GET", "/api/v1/readers", false, list(s, func(r *http.Request) ([]access.Reader, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Readers(r.Context())
	}))
	s.handle("POST", "/api/v1/readers", false, create(s, func(ctx context.Context, v *access.Reader) error {
		a, err := s.access()
		if err != nil {
			return err
		}
		return a.CreateReader(ctx, v)
	}))
	s.handle("GET", "/api/v1/readers/{id}", false, get(s, func(ctx context.Context, id string) (*access.Reader, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Reader(ctx, id)
	}))
	s.handle("PUT", "/api/v1/readers/{id}", false, update(s, func(v *access.Reader, id string) { v.ID = id },
		func(ctx context.Context, v *access.Reader, reason string) error {
			a, err := s.access()
			if err != nil {
				return err
			}
			return a.UpdateReader(ctx, v, reason)
		}))

	s.handle("GET", "/api/v1/access/policy", false, func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access()
		var b *access.Bundle
		if err == nil && (s.AuditKey == nil || s.AuditKey() == nil) {
			err = errs.Wrap(errors.New("the readers' policy needs the site's key"), "access policy")
		}
		if err == nil {
			var p *access.Policy
			if p, err = a.Policy(r.Context()); err == nil {
				b, err = access.Sign(p, s.AuditKey())
			}
		}
		s.answer(w, r, http.StatusOK, b, err)
	})
	s.handle("POST", "/api/v1/access/events", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Events []access.Event `json:"events"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		a, err := s.access()
		var res *access.IntakeResult
		if err == nil {
			res, err = a.Intake(r.Context(), in.Events)
		}
		s.answer(w, r, http.StatusOK, res, err)
	})
	s.handle("GET", "/api/v1/access/gaps", false, list(s, func(r *http.Request) ([]access.Gap, error) {
		a, err := s.access()
		if err != nil {
			return nil, err
		}
		return a.Gaps(r.Context())
	}))
}
