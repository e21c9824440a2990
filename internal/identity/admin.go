package identity

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
)

// Admin administers access rights: accounts and their roles, the client
// assignments of staff, and machine tokens. Every creation, change and
// withdrawal is a command with its audit entries (EU GMP Annex 11 §12.3).
// It checks the actor's permissions itself, whoever calls it.
type Admin interface {
	// Accounts lists the accounts the actor may see, by username.
	Accounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// Account returns one account; one the actor may not see is not found.
	Account(ctx context.Context, id string) (*Account, error)
	// CreateAccount records a local account with its first password.
	CreateAccount(ctx context.Context, a *Account, password, reason string) error
	// UpdateAccount changes the name, roles and active flag of a.ID; the
	// username, client laboratory and source never change.
	UpdateAccount(ctx context.Context, a *Account, reason string) error
	// WithdrawAccount deactivates an account and ends its sessions.
	WithdrawAccount(ctx context.Context, id, reason string) (*Account, error)
	// ResetPassword gives an account a new password (an administrator's
	// reset).
	ResetPassword(ctx context.Context, id, password, reason string) error
	// LockOf returns an account's run of failed sign-ins and its lock.
	LockOf(ctx context.Context, id string) (Lock, error)
	// Unlock ends an account's lock and its run of failed sign-ins, for
	// an administrator who has checked who is asking.
	Unlock(ctx context.Context, id, reason string) error

	// Assignments lists the client assignments of staff.
	Assignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error)
	Assignment(ctx context.Context, id string) (*Assignment, error)
	// Assign assigns a member of staff to a client laboratory.
	Assign(ctx context.Context, as *Assignment, reason string) error
	// Unassign withdraws an assignment; it returns what was withdrawn.
	Unassign(ctx context.Context, id, reason string) (*Assignment, error)

	// Tokens lists the machine tokens, newest first, without secrets.
	Tokens(ctx context.Context) ([]Token, error)
	Token(ctx context.Context, id string) (*Token, error)
	// CreateToken records a machine token and returns its secret, the only
	// time it is ever shown.
	CreateToken(ctx context.Context, t *Token, reason string) (secret string, err error)
	// RevokeToken withdraws a token: it stops working at once.
	RevokeToken(ctx context.Context, id, reason string) (*Token, error)
}

// Lock is an account's run of failed sign-ins in a row and, once they
// locked it, until when.
type Lock struct {
	FailedLogins int
	// Until is the end of the lock; nil when the account is not locked
	// (or its lock has ended).
	Until *time.Time
}

// AccountFilter selects accounts; empty fields select all.
type AccountFilter struct {
	// ClientID keeps the users of one client laboratory.
	ClientID string
}

// AssignmentFilter selects assignments; empty fields select all.
type AssignmentFilter struct {
	AccountID string
	ClientID  string
}

// Assignment gives a member of staff sight of one client laboratory's
// confidential data (need to know).
type Assignment struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	// Username and Name are the account's, for display.
	Username string `json:"username,omitempty"`
	Name     string `json:"name,omitempty"`
	ClientID string `json:"client_id"`
	// ClientCode and ClientName are shown only to those who may see every
	// client's name (PermClientDirectory) or are assigned to the client.
	ClientCode string    `json:"client_code,omitempty"`
	ClientName string    `json:"client_name,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// AccountFields lists an account's fields that administrators change, for
// the audit trail. The password, or its hash, never enters it.
func AccountFields(a *Account) []audit.Field {
	return []audit.Field{audit.F("name", a.Name), audit.F("roles", RolesText(a.Roles)), audit.F("active", strconv.FormatBool(a.Active))}
}

// RolesText writes roles the way they are stored and audited.
func RolesText(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// AccountSight is the set of accounts an actor may see.
type AccountSight struct {
	// All: every account (PermAccountsView).
	All bool
	// ClientID: only this client laboratory's users (a client manager).
	ClientID string
}

// Sees reports whether the account is in sight.
func (s AccountSight) Sees(a *Account) bool {
	return s.All || (s.ClientID != "" && a.ClientID == s.ClientID)
}

// AccountSight returns the accounts the actor may see: all of them with
// PermAccountsView; a client manager, their own laboratory's users; nobody
// else any (forbidden).
func (a Actor) AccountSight() (AccountSight, error) {
	switch {
	case a.Can(PermAccountsView):
		return AccountSight{All: true}, nil
	case a.IsClient() && a.Can(PermClientUsers):
		return AccountSight{ClientID: a.ClientID}, nil
	}
	return AccountSight{}, a.Require(PermAccountsView)
}

// MayManageAccounts refuses, with a forbidden error, an actor who may
// change no account at all: neither an administrator nor a client manager.
func (a Actor) MayManageAccounts() error {
	if a.Can(PermAccountsAdmin) || (a.IsClient() && a.Can(PermClientUsers)) {
		return nil
	}
	return a.Require(PermAccountsAdmin)
}

var errClientManagerScope = errs.E(errs.Forbidden, "identity.client_manager_may_create")

// onlyClientUser reports whether the roles are exactly a client user's.
func onlyClientUser(roles []Role) bool { return len(roles) == 1 && roles[0] == RoleClientUser }

// CheckNewAccount refuses an account the actor may not create: an
// administrator creates any; a client manager only client users of their own
// laboratory (never another client's, never staff).
func (a Actor) CheckNewAccount(acc *Account) error {
	if a.Can(PermAccountsAdmin) {
		return nil
	}
	if a.IsClient() && a.Can(PermClientUsers) {
		if onlyClientUser(acc.Roles) && acc.ClientID == a.ClientID {
			return nil
		}
		return errClientManagerScope
	}
	return a.Require(PermAccountsAdmin)
}

// CheckAccountChange refuses a change of an account's name, roles or active
// flag the actor may not make: only an administrator changes them, and not
// to remove their own administrator role or withdraw themselves, so that
// the site never loses its last administrator by mistake.
func (a Actor) CheckAccountChange(old, new *Account) error {
	if err := a.Require(PermAccountsAdmin); err != nil {
		return err
	}
	if old.ID != a.UserID {
		return nil
	}
	if slices.Contains(old.Roles, RoleAdmin) && !slices.Contains(new.Roles, RoleAdmin) {
		return errs.E(errs.Forbidden, "identity.you_cannot_remove_your")
	}
	if old.Active && !new.Active {
		return errSelfWithdraw
	}
	return nil
}

var errSelfWithdraw = errs.E(errs.Forbidden, "identity.you_cannot_withdraw_your")

// CheckWithdraw refuses the withdrawal of an account the actor may not
// withdraw: an administrator withdraws any account but their own; a client
// manager only the client users of their own laboratory.
func (a Actor) CheckWithdraw(target *Account) error {
	if target.ID == a.UserID {
		return errSelfWithdraw
	}
	if a.Can(PermAccountsAdmin) {
		return nil
	}
	if a.IsClient() && a.Can(PermClientUsers) {
		if target.ClientID == a.ClientID && onlyClientUser(target.Roles) {
			return nil
		}
		return errClientManagerScope
	}
	return a.Require(PermAccountsAdmin)
}
