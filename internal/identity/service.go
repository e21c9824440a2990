package identity

import (
	"context"
	"time"
)

// Service signs people in and out and finds who a session belongs to.
type Service interface {
	// Login checks the credentials and opens a browser session, returning
	// its token; wrong credentials give an unauthorized error that does not
	// say which part was wrong. SignIn does the same with a second factor
	// and a kind of device.
	Login(ctx context.Context, username, password, address string) (token string, a *Account, err error)
	// Authenticate returns the actor of a session token.
	Authenticate(ctx context.Context, token string) (Actor, error)
	// Logout ends the session of the token.
	Logout(ctx context.Context, token string) error
	Accounts(ctx context.Context) ([]Account, error)
	Security
}

// Session lifetimes of the default policy (DefaultPolicy); the site's
// policy sets those in force.
const (
	SessionIdle     = 30 * time.Minute
	SessionAbsolute = 12 * time.Hour
)
