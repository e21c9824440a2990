package web

import "galenix/internal/identity"

// machineMayUse reports whether a machine (an API token) may call the route
// pattern: a token reaches only the routes its scopes name.
func (s *Server) machineMayUse(a identity.Actor, pattern string) bool {
	return false
}
