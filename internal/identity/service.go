package identity

import (
	"context"
	"time"
)

// Service signs people in and out and finds who a session belongs to.
type Service interface {
	// Login checks the credentials and opens a session, returning its
	// token; wrong credentials give an unauthorized error that does not
	// say which part was wrong.
	Login(ctx context.Context, username, password, address string) (token string, a *Account, err error)
	// Authenticate returns the actor of a session token.
	Authenticate(ctx context.Context, token string) (Actor, error)
	// Logout ends the session of the token.
	Logout(ctx context.Context, token string) error
	Accounts(ctx context.Context) ([]Account, error)
}

// Session lifetimes until the site's policy makes them configurable.
const (
	SessionIdle     = 30 * time.Minute
	SessionAbsolute = 12 * time.Hour
)
