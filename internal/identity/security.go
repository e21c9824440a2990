package identity

import (
	"context"
	"time"

	"galenix/internal/errs"
)

// The kinds of session, by the device it is opened on: each has its idle
// timeout.
const (
	// DeviceBrowser is a person's own browser.
	DeviceBrowser = "browser"
	// DeviceShopfloor is a shared device on the shop floor (a tablet at a
	// line): a short idle timeout, so that nobody acts in another's name.
	DeviceShopfloor = "shopfloor"
	// DeviceAPI is a program signed in through the API.
	DeviceAPI = "api"
)

// Credentials are what someone gives to sign in.
type Credentials struct {
	Username string
	Password string
	// TOTP is the code of the second factor, for an account that has one.
	TOTP string
	// Device is the kind of session to open: DeviceBrowser,
	// DeviceShopfloor or DeviceAPI; empty means DeviceBrowser.
	Device string
	// Address is where the attempt comes from.
	Address string
}

// ValidDevice reports whether d names a kind of session.
func ValidDevice(d string) bool {
	return d == DeviceBrowser || d == DeviceShopfloor || d == DeviceAPI
}

// Pending is a step a person must take before anything else.
type Pending string

// The pending steps.
const (
	// PendingPassword: the password has expired and must be changed.
	PendingPassword Pending = "password_change"
	// PendingPasswordAdminSet: an administrator set or reset the password,
	// so someone other than its owner knows it; the owner must choose
	// their own before anything else, and before any signature (21 CFR
	// 11.300, Annex 11 §14).
	PendingPasswordAdminSet Pending = "password_set_by_admin"
	// PendingTOTP: the policy requires a second factor of this person
	// (an administrator) and none is set up yet.
	PendingTOTP Pending = "totp_enrollment"
)

// ErrPasswordAdminSet refuses a request, or a signature, of a person whose
// password an administrator set and who has not changed it yet.
func ErrPasswordAdminSet() error {
	return errs.E(errs.PasswordChangeRequired, "identity.change_password_admin_gave")
}

// Refusal is the refusal of any other request while the step is pending.
func (p Pending) Refusal() error {
	switch p {
	case PendingPassword:
		return errs.E(errs.PasswordChangeRequired, "identity.your_password_expired_change")
	case PendingPasswordAdminSet:
		return ErrPasswordAdminSet()
	case PendingTOTP:
		return errs.E(errs.Forbidden, "identity.set_up_your_second")
	}
	return nil
}

// The kinds of security event.
const (
	// EventLoginFailed: a wrong password for an account.
	EventLoginFailed = "login_failed"
	// EventTOTPFailed: the right password but a wrong second-factor code.
	EventTOTPFailed = "totp_failed"
	// EventAccountLocked: failed sign-ins in a row locked the account.
	EventAccountLocked = "account_locked"
	// EventLoginLocked: an attempt to sign in to a locked account.
	EventLoginLocked = "login_locked"
	// EventLoginInactive: an attempt to sign in to a withdrawn account.
	EventLoginInactive = "login_inactive"
	// EventUnknownUser: an attempt with a username no account has.
	EventUnknownUser = "unknown_user"
	// The badge readers' alerts (internal/access): a badge refused again
	// and again, a door forced or held open, a badge let into two
	// buildings at once, a badge leaving a zone it had left (tailgating).
	EventAccessDenials    = "access_denials"
	EventAccessForced     = "access_forced"
	EventAccessHeld       = "access_held"
	EventAccessTwoPlaces  = "access_two_places"
	EventAccessTailgating = "access_tailgating"
	// EventAccessVisitorOverdue: a visitor on site past their expected
	// departure.
	EventAccessVisitorOverdue = "access_visitor_overdue"
)

// EventKinds lists the kinds of security event.
var EventKinds = []string{EventLoginFailed, EventTOTPFailed, EventAccountLocked, EventLoginLocked, EventLoginInactive, EventUnknownUser,
	EventAccessDenials, EventAccessForced, EventAccessHeld, EventAccessTwoPlaces, EventAccessTailgating, EventAccessVisitorOverdue}

// SecurityEvent is something the security role must see: a failed sign-in,
// a locked account.
type SecurityEvent struct {
	ID   string    `json:"id"`
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Username is the username given, even when no account has it.
	Username string `json:"username"`
	// AccountID is the account concerned; empty for an unknown username.
	AccountID string `json:"account_id"`
	Address   string `json:"address"`
	Detail    string `json:"detail"`
	// AcknowledgedBy and AcknowledgedAt say who took note of the event,
	// and when; empty while nobody has.
	AcknowledgedBy string     `json:"acknowledged_by"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

// EventFilter selects security events.
type EventFilter struct {
	// Open keeps only the events nobody has acknowledged.
	Open bool
	// Kind keeps only the events of that kind (one of EventKinds); empty
	// keeps all.
	Kind string
	// From and To keep the events at or after From and before To; zero
	// leaves that side open.
	From, To time.Time
	// Limit bounds the number of events; 0 or more than 1000 means 1000.
	Limit int
}

// TOTPEnrollment is a second factor being set up: the secret to enter in an
// authenticator app, and the otpauth:// address that a QR code carries.
type TOTPEnrollment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// SessionInfo is one of a person's open sessions, as they see it.
type SessionInfo struct {
	ID        string
	Kind      string
	Address   string
	CreatedAt time.Time
	LastSeen  time.Time
	// Current is the session the request came with.
	Current bool
}

// AccountSecurity is what a person sees of their own sign-in: their
// password's age, their second factor, their open sessions.
type AccountSecurity struct {
	// Local says the password is kept here (not in the directory).
	Local             bool
	PasswordChangedAt time.Time
	// PasswordExpiresAt is zero when the password does not expire.
	PasswordExpiresAt time.Time
	TOTPEnabled       bool
	// TOTPRequired says the policy requires a second factor of them.
	TOTPRequired bool
	Sessions     []SessionInfo
}

// Security is the sign-in policy and what surrounds signing in: passwords,
// the second factor, sessions and the security events raised to the
// security role. Each method acts for the actor in the context and checks
// its permissions itself.
type Security interface {
	// SignIn checks the credentials and opens a session of the device's
	// kind, returning its token. Wrong credentials, an unknown username,
	// a locked or withdrawn account all give the same unauthorized error;
	// an account with a second factor and no code (or a wrong one) gives
	// an unauthorized error whose field is "totp".
	SignIn(ctx context.Context, c Credentials) (token string, a *Account, err error)
	// SignInPolicy returns the site's sign-in policy, for anyone.
	SignInPolicy(ctx context.Context) (Policy, error)
	// SetSignInPolicy changes the site's sign-in policy
	// (PermAccountsAdmin); a change needs a reason.
	SetSignInPolicy(ctx context.Context, p Policy, reason string) (Policy, error)
	// ChangePassword changes the actor's own password, given the current
	// one; the actor's other sessions end.
	ChangePassword(ctx context.Context, current, next string) error
	// RevokeSessions ends every session of the actor ("sign out
	// everywhere") and returns how many ended.
	RevokeSessions(ctx context.Context) (int, error)
	// EnrollTOTP starts setting up the actor's second factor and returns
	// its secret; until confirmed it is not asked for.
	EnrollTOTP(ctx context.Context) (TOTPEnrollment, error)
	// ConfirmTOTP turns the second factor on, given a valid code.
	ConfirmTOTP(ctx context.Context, code string) error
	// MyAccount returns what the actor sees of their own sign-in.
	MyAccount(ctx context.Context) (AccountSecurity, error)
	// SecurityEvents lists security events, those nobody acknowledged
	// first, newest first (PermSecurityEvents).
	SecurityEvents(ctx context.Context, f EventFilter) ([]SecurityEvent, error)
	// AcknowledgeEvent records that the actor took note of an event
	// (PermSecurityEvents).
	// AcknowledgeEvent takes note of an event, with a comment (required
	// for a badge reader's alert).
	AcknowledgeEvent(ctx context.Context, id, comment string) (*SecurityEvent, error)
}
