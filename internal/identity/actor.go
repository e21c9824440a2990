// Package identity holds who is acting: accounts, roles, the actor carried in
// a request's context, and password hashing.
package identity

import (
	"context"
	"time"
)

// Role names what an account may do. The fuller permission rules build on it.
type Role string

// The roles of the site. Client users and client managers belong to a
// client laboratory; every other role is site staff.
const (
	RoleAdmin       Role = "admin"
	RoleOperator    Role = "operator"
	RoleSupervisor  Role = "supervisor"
	RoleMaintenance Role = "maintenance"
	RoleQA          Role = "qa"
	RoleQP          Role = "qp"
	RoleLab         Role = "lab"
	RoleSecurity    Role = "security"
	// RoleIT: the site's IT and OT team, who keep the infrastructure
	// inventory, its dependencies and its supervision.
	RoleIT            Role = "it"
	RoleClientUser    Role = "client_user"
	RoleClientManager Role = "client_manager"
)

// Roles lists every known role, in display order.
var Roles = []Role{RoleAdmin, RoleOperator, RoleSupervisor, RoleMaintenance, RoleQA, RoleQP, RoleLab, RoleSecurity, RoleIT, RoleClientUser, RoleClientManager}

// Client reports whether the role is one of a client laboratory's.
func (r Role) Client() bool { return r == RoleClientUser || r == RoleClientManager }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if k == r {
			return true
		}
	}
	return false
}

// Actor is who performs a command: a signed-in account or the system itself.
// It travels in the context from the web layer down to the store.
type Actor struct {
	UserID   string
	Username string
	Name     string
	Roles    []Role
	// ClientID is set for a client laboratory's user.
	ClientID string
	// Assigned lists the clients a member of staff is assigned to: the
	// clients whose confidential data they may see (need to know).
	Assigned []string
	// Scopes are set for a machine (a sensor gateway, a badge reader)
	// signed in with an API token: what the token may do. A machine has
	// no roles.
	Scopes []string
	// SessionID and Address identify where the request came from.
	SessionID string
	Address   string
	// Device is the kind of device the session was opened on
	// (DeviceBrowser, DeviceShopfloor, DeviceAPI).
	Device string
	// Idle is the session's idle timeout, and SessionLeft how long the
	// session lasts from this request unless another comes: to its idle
	// timeout from the last request seen, or to its absolute end if
	// sooner. Zero for a machine.
	Idle        time.Duration
	SessionLeft time.Duration
	// Pending, when set, is what the person must do before anything else:
	// change an expired password, or set up the second factor the policy
	// requires of them. The session is good for that step alone.
	Pending Pending
}

// System is the actor of work galenix does on its own (migrations, demo).
var System = Actor{UserID: "system", Username: "system", Name: "galenix"}

// Has reports whether the actor holds the role.
func (a Actor) Has(r Role) bool {
	for _, k := range a.Roles {
		if k == r {
			return true
		}
	}
	return false
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in the context, and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// IsMachine reports whether the actor is a machine signed in with an API
// token.
func (a Actor) IsMachine() bool { return len(a.Scopes) > 0 }
