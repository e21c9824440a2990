package identity

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
)

// Policy is the site's sign-in policy. An administrator may change it; the
// defaults follow ANSSI and NIST SP 800-63B guidance.
type Policy struct {
	// Version counts the stored policy's changes (0 or 1: never
	// changed): a change names the version it edited (If-Match) and
	// applies only to it.
	Version int
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

// The bounds an administrator's policy must stay within: a policy can be
// tightened freely, loosened only so far. The floor of 12 characters is the
// issue's and ANSSI's; the others keep lockout and sessions meaningful.
const (
	minMinLength = 12
	maxMinLength = 128
	maxHistory   = 24
	maxMaxAge    = 3 * 365 * 24 * time.Hour
	maxLockFor   = 24 * time.Hour
	maxIdle      = 12 * time.Hour
	maxAbsolute  = 7 * 24 * time.Hour
	// MaxPasswordLength bounds a password, so that nobody hashes a
	// megabyte on every sign-in.
	MaxPasswordLength = 256
)

// Validate checks that the policy stays within safe bounds. The fields it
// names are those of the policy's JSON form (the API's and the pages').
func (p Policy) Validate() error {
	bad := func(field, key string, args ...any) error {
		return errs.Field(field, key, args...)
	}
	switch {
	case p.MinLength < minMinLength || p.MinLength > maxMinLength:
		return bad("min_length", "identity.least_length_password_must", minMinLength, maxMinLength)
	case p.History < 0 || p.History > maxHistory:
		return bad("history", "identity.number_previous_passwords_refused", maxHistory)
	case p.MaxAge < 0 || (p.MaxAge > 0 && p.MaxAge < 24*time.Hour) || p.MaxAge > maxMaxAge:
		return bad("max_age_days", "identity.password_lifetime_must_0", int(maxMaxAge/(24*time.Hour)))
	case p.LockAfter < 3 || p.LockAfter > 20:
		return bad("lock_after", "identity.account_must_lock_after")
	case p.LockFor < time.Minute || p.LockFor > maxLockFor:
		return bad("lock_for_minutes", "identity.account_must_stay_locked", int(maxLockFor/time.Minute))
	case p.Idle < time.Minute || p.Idle > maxIdle:
		return bad("idle_minutes", "identity.session_idle_timeout_must", int(maxIdle/time.Minute))
	case p.ShopfloorIdle < time.Minute || p.ShopfloorIdle > p.Idle:
		return bad("shopfloor_idle_minutes", "identity.shop_floor_session_idle")
	case p.Absolute < p.Idle || p.Absolute > maxAbsolute:
		return bad("absolute_minutes", "identity.session_absolute_timeout_must", int(maxAbsolute/time.Minute))
	}
	return nil
}

// CheckPassword checks a new password against the policy: its length, the
// list of common passwords, and the username. The history of the account's
// passwords is the store's to check.
func (p Policy) CheckPassword(password, username string) error {
	n := utf8.RuneCountInString(password)
	if n < p.MinLength {
		return errs.Field("password", "identity.password_needs_least_characters", p.MinLength)
	}
	if n > MaxPasswordLength {
		return errs.Field("password", "identity.password_most_characters", MaxPasswordLength)
	}
	// A username of one or two letters ("qa") would refuse half the
	// dictionary while protecting nothing.
	if u := strings.ToLower(strings.TrimSpace(username)); utf8.RuneCountInString(u) >= 3 && strings.Contains(strings.ToLower(password), u) {
		return errs.Field("password", "identity.password_must_not_contain")
	}
	if IsCommonPassword(password) {
		return errs.Field("password", "identity.password_too_common_among")
	}
	return nil
}

// ErrPasswordReused is the refusal of a password among the last ones used.
func ErrPasswordReused(history int) error {
	return errs.Field("password", "identity.password_used_recently_choose", history)
}

// IdleFor is the idle timeout of a session of the kind.
func (p Policy) IdleFor(kind string) time.Duration {
	if kind == DeviceShopfloor {
		return p.ShopfloorIdle
	}
	return p.Idle
}

// PasswordExpired reports whether a password set at changed has expired at
// now.
func (p Policy) PasswordExpired(changed, now time.Time) bool {
	return p.MaxAge > 0 && !now.Before(changed.Add(p.MaxAge))
}

// PasswordExpires is when a password set at changed expires; zero when it
// does not.
func (p Policy) PasswordExpires(changed time.Time) time.Time {
	if p.MaxAge <= 0 {
		return time.Time{}
	}
	return changed.Add(p.MaxAge)
}

// PendingFor is the step the policy makes a person take before anything
// else, if any: changing a password (kept here, not in the directory) that
// an administrator set (adminSet) or that has expired comes first, then
// setting up the second factor it requires of administrators.
func (p Policy) PendingFor(roles []Role, localPassword, totpEnabled, adminSet bool, passwordChanged, now time.Time) Pending {
	if localPassword && adminSet {
		return PendingPasswordAdminSet
	}
	if localPassword && p.PasswordExpired(passwordChanged, now) {
		return PendingPassword
	}
	if p.AdminTOTP && !totpEnabled && slices.Contains(roles, RoleAdmin) {
		return PendingTOTP
	}
	return ""
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
