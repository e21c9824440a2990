package identity

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
)

// Policy is the site's sign-in policy. An administrator may change it; the
// defaults follow ANSSI and NIST SP 800-63B guidance.
type Policy struct {
	// MinLength is the least number of characters of a password.
	MinLength int
	// History is how many previous passwords may not be used again.
	History int
	// MaxAge is how long a password lasts before it must be changed; 0
	// means it does not expire.
	MaxAge time.Duration
	// LockAfter failed sign-ins in a row lock the account for LockFor.
	LockAfter int
	LockFor   time.Duration
	// Idle and Absolute bound a browser session; ShopfloorIdle the
	// session of a shared shop-floor device.
	Idle          time.Duration
	ShopfloorIdle time.Duration
	Absolute      time.Duration
	// AdminTOTP requires a second factor (TOTP) of administrators.
	AdminTOTP bool
}

// DefaultPolicy is the policy of a new site.
func DefaultPolicy() Policy {
	return Policy{
		MinLength: 12, History: 5, MaxAge: 0,
		LockAfter: 5, LockFor: 15 * time.Minute,
		Idle: SessionIdle, ShopfloorIdle: 5 * time.Minute, Absolute: SessionAbsolute,
		AdminTOTP: true,
	}
}

// CheckPassword checks a new password against the policy.
func (p Policy) CheckPassword(password, username string) error {
	if utf8.RuneCountInString(password) < p.MinLength {
		return errs.Field("password", fmt.Sprintf("A password needs at least %d characters.", p.MinLength),
			fmt.Sprintf("Un mot de passe doit compter au moins %d caractères.", p.MinLength))
	}
	return nil
}

// Directory signs people in against an external directory (Active
// Directory, LDAP). Its groups give the account's roles.
type Directory interface {
	// Authenticate checks the credentials against the directory and
	// returns who they belong to; wrong credentials give an unauthorized
	// error.
	Authenticate(ctx context.Context, username, password string) (*DirectoryUser, error)
}

// DirectoryUser is a person as the directory knows them.
type DirectoryUser struct {
	Username string
	Name     string
	// Roles are the galenix roles that the person's groups map to.
	Roles []Role
}
