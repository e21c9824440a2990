package web

import (
	"errors"

	"galenix/internal/errs"
	"galenix/internal/infra"
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

// routesInfra registers the infrastructure's JSON API.
func (s *Server) routesInfra() {}
