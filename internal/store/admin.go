package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// AdminStore implements identity.Admin: the administration of accounts,
// client assignments and machine tokens. Every change goes through the write
// path, so that each creation, change and withdrawal of an access right is
// in the audit trail in the same transaction (EU GMP Annex 11 §12.3).
type AdminStore struct {
	db *DB
	// ids gives the sign-in policy that new passwords must meet.
	ids *IdentityStore
}

// Admin returns the administration service that goes with the identity
// service, under the same sign-in policy.
func (s *IdentityStore) Admin() identity.Admin { return &AdminStore{db: s.db, ids: s} }

var _ identity.Admin = (*AdminStore)(nil)

// unusablePasswordHash is what an account created by an administrator holds
// for an instant, before SetPassword writes its first password in the same
// transaction. It is no argon2id hash, so no password ever matches it.
const unusablePasswordHash = "!"

func errNoAccount() error {
	return errs.E(errs.NotFound, "store.no_such_account")
}

// setPassword sets the account's password under the site's policy: the
// stored settings over the identity service's defaults.
func (s *AdminStore) setPassword(tx *Tx, accountID, password string) error {
	policy, err := tx.policyOver(s.ids.Policy)
	if err != nil {
		return err
	}
	return tx.setPassword(accountID, password, policy)
}

// Accounts lists the accounts the actor may see, by username: every one
// with PermAccountsView, their own laboratory's users for a client manager.
func (s *AdminStore) Accounts(ctx context.Context, f identity.AccountFilter) ([]identity.Account, error) {
	sight, err := actorOf(ctx).AccountSight()
	if err != nil {
		return nil, err
	}
	clientID := f.ClientID
	if !sight.All {
		if clientID != "" && clientID != sight.ClientID {
			return []identity.Account{}, nil
		}
		clientID = sight.ClientID
	}
	q, args := where(`SELECT `+accountCols+` FROM accounts`, "client_id", clientID)
	return list(ctx, s.db, q+` ORDER BY username`, args, func(sc scanner, a *identity.Account) error { return scanAccount(sc, a) })
}

// Account returns one account; one the actor may not see is not found, so
// that its existence does not leak.
func (s *AdminStore) Account(ctx context.Context, id string) (*identity.Account, error) {
	var a identity.Account
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.seenAccount(id, &a) })
	return &a, err
}

// seenAccount reads an account the transaction's actor may see.
func (tx *Tx) seenAccount(id string, a *identity.Account) error {
	sight, err := tx.actor.AccountSight()
	if err != nil {
		return errNoAccount()
	}
	if _, err := uuid.Parse(id); err != nil {
		return errNoAccount()
	}
	err = scanAccount(tx.queryRow(`SELECT `+accountCols+` FROM accounts WHERE id = ?`, id), a)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sight.Sees(a)) {
		return errNoAccount()
	}
	return err
}

// CreateAccount records a local account with its first password, which
// must meet the site's policy. A client manager's new account belongs to
// their own laboratory.
func (s *AdminStore) CreateAccount(ctx context.Context, a *identity.Account, password, reason string) error {
	actor := actorOf(ctx)
	if err := actor.MayManageAccounts(); err != nil {
		return err
	}
	if a.ClientID == "" && actor.IsClient() {
		a.ClientID = actor.ClientID
	}
	if err := actor.CheckNewAccount(a); err != nil {
		return err
	}
	a.Source = SourceLocal
	return s.db.Write(ctx, "account.create", reason, func(tx *Tx) error {
		if err := a.Validate(); err != nil {
			return err
		}
		if a.ClientID != "" {
			if err := tx.clientExists(a.ClientID); err != nil {
				return err
			}
		}
		if err := tx.createAccount(a, unusablePasswordHash); err != nil {
			return err
		}
		return s.setPassword(tx, a.ID, password)
	})
}

// clientExists refuses a client id that names no client the actor may see.
func (tx *Tx) clientExists(id string) error {
	missing := errs.Field("client_id", "store.no_such_client_laboratory")
	if _, err := uuid.Parse(id); err != nil {
		return missing
	}
	cond, args := inScope("id", tx.actor.DirectoryScope())
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM clients WHERE id = ? AND `+cond, append([]any{id}, args...)...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return missing
	}
	return nil
}

// UpdateAccount changes an account's name, roles and active flag. The
// username, the client laboratory and the source stay as they are.
func (s *AdminStore) UpdateAccount(ctx context.Context, a *identity.Account, reason string) error {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return err
	}
	return s.db.Write(ctx, "account.update", reason, func(tx *Tx) error {
		var old identity.Account
		if err := tx.seenAccount(a.ID, &old); err != nil {
			return err
		}
		// The username and the laboratory name who the account is: sent
		// back unchanged or left out, never changed.
		if u := strings.TrimSpace(a.Username); u != "" && u != old.Username {
			return errs.Field("username", "store.username_never_changes_create")
		}
		if a.ClientID != "" && a.ClientID != old.ClientID {
			return errs.Field("client_id", "store.account_client_laboratory_never")
		}
		a.Username, a.ClientID, a.Source, a.CreatedAt = old.Username, old.ClientID, old.Source, old.CreatedAt
		if err := a.Validate(); err != nil {
			return err
		}
		if err := tx.actor.CheckAccountChange(&old, a); err != nil {
			return err
		}
		return tx.changeAccount(&old, a)
	})
}

// changeAccount writes an account's new name, roles and active flag, and
// audits each field that changed, with the client's id when the account is
// a client's user (its laboratory sees its own users' trail). A change needs
// a reason; one that changes nothing writes nothing.
//
// An update that names a version (new.Version, 0: any) applies only to it:
// the check is in the UPDATE itself, so that of two concurrent edits of one
// version the second is refused as stale.
func (tx *Tx) changeAccount(old, new *identity.Account) error {
	if new.Version != 0 && new.Version != old.Version {
		return errs.StaleVersion(new.Version, old.Version)
	}
	changes := audit.Diff("account", old.ID, identity.AccountFields(old), identity.AccountFields(new))
	if len(changes) == 0 {
		new.Version = old.Version
		return nil
	}
	if tx.reason == "" {
		return errReasonRequired()
	}
	if err := tx.updateAtVersion("accounts", `name = ?, roles = ?, active = ?`,
		[]any{new.Name, identity.RolesText(new.Roles), new.Active}, old.ID, old.Version); err != nil {
		return err
	}
	new.Version = old.Version + 1
	if !new.Active {
		// A withdrawn account's sessions end at once.
		if _, err := tx.deleteSessions(`account_id = ?`, old.ID); err != nil {
			return err
		}
	}
	return tx.Audit(changes, old.ClientID)
}

// WithdrawAccount deactivates an account: it can no longer sign in, and its
// sessions end. The account and its trail stay.
func (s *AdminStore) WithdrawAccount(ctx context.Context, id, reason string) (*identity.Account, error) {
	if err := actorOf(ctx).MayManageAccounts(); err != nil {
		return nil, err
	}
	var a identity.Account
	err := s.db.Write(ctx, "account.withdraw", reason, func(tx *Tx) error {
		if err := tx.seenAccount(id, &a); err != nil {
			return err
		}
		if err := tx.actor.CheckWithdraw(&a); err != nil {
			return err
		}
		if !a.Active {
			return errs.E(errs.Conflict, "store.account_already_withdrawn")
		}
		if tx.reason == "" {
			return errReasonRequired()
		}
		old := a
		a.Active = false
		return tx.changeAccount(&old, &a)
	})
	return &a, err
}

// ResetPassword gives an account a new password, which must meet the site's
// policy: an administrator's reset, for someone who lost theirs.
func (s *AdminStore) ResetPassword(ctx context.Context, id, password, reason string) error {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return err
	}
	return s.db.Write(ctx, "account.password_reset", reason, func(tx *Tx) error {
		var a identity.Account
		if err := tx.seenAccount(id, &a); err != nil {
			return err
		}
		if tx.reason == "" {
			return errReasonRequired()
		}
		return s.setPassword(tx, a.ID, password)
	})
}
