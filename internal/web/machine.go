package web

import (
	"slices"

	"galenix/internal/identity"
)

// machineRoutes is what each scope of a machine token reaches: route
// patterns, method and path as registered. A token reaches the routes of its
// scopes and nothing else: no other API route, no page. docs/security.md
// shows this table, and a test keeps the two equal.
var machineRoutes = map[identity.TokenScope][]string{
	identity.ScopeSiteRead: {
		"GET /api/v1/buildings", "GET /api/v1/buildings/{id}",
		"GET /api/v1/rooms", "GET /api/v1/rooms/{id}",
		"GET /api/v1/lines", "GET /api/v1/lines/{id}",
		"GET /api/v1/equipment", "GET /api/v1/equipment/{id}",
	},
	identity.ScopeTelemetryWrite: {intakePattern},
	// A badge reader's controller: its policy, its events.
	identity.ScopeAccessWrite: {accessPolicyPattern, accessEventsPattern},
}

// machineMayUse reports whether a machine (an API token) may call the route
// pattern: a token reaches only the routes its scopes name.
func (s *Server) machineMayUse(a identity.Actor, pattern string) bool {
	for _, sc := range a.Scopes {
		if slices.Contains(machineRoutes[identity.TokenScope(sc)], pattern) {
			return true
		}
	}
	return false
}
