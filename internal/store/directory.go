package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The sources of accounts.
const (
	SourceLocal = "local"
	SourceLDAP  = "ldap"
)

// directorySyncReason is the reason the audit trail gives for a change the
// directory made to an account.
const directorySyncReason = "Synchronised from the directory at sign-in"

// directoryLogin signs someone in against the directory: on success their
// account is created or brought up to date (name, roles from their groups)
// and a session opens. The account keeps no usable local password: the
// directory alone says who may sign in. A local account of the same name is
// never taken over.
func (s *IdentityStore) directoryLogin(ctx context.Context, username, password, address string) (string, *identity.Account, error) {
	// A refusal costs the time of a local one, so that timing does not
	// tell a local account from the directory's people.
	refuse := func() (string, *identity.Account, error) {
		if _, err := s.db.passwords.Verify(ctx, dummyHash, password); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials()
	}
	if password == "" {
		return refuse() // never an unauthenticated bind
	}
	du, err := s.Directory.Authenticate(ctx, strings.TrimSpace(username), password)
	if errs.Is(err, errs.Unauthorized) {
		return refuse()
	}
	if err != nil {
		return "", nil, errs.Wrap(err, "directory sign-in")
	}
	a, err := s.syncDirectoryAccount(ctx, du, address)
	// Two first sign-ins of the same person at once both create the
	// account: the second finds it made by the first.
	if errs.Is(err, errs.Conflict) {
		a, err = s.syncDirectoryAccount(ctx, du, address)
	}
	if errs.Is(err, errs.Unauthorized) || (err == nil && !a.Active) {
		return refuse()
	}
	if err != nil {
		return "", nil, err
	}
	// SignIn does not pass the device yet: a directory session is a
	// browser's.
	token, err := s.openSession(ctx, a, address, identity.DeviceBrowser, 0)
	if err != nil {
		return "", nil, err
	}
	return token, a, nil
}

// syncDirectoryAccount creates the account of a person the directory
// vouches for, or brings its name and roles up to date, in one command
// ("account.directory_sync") audited field by field. galenix makes the
// change on the directory's word, so the system is its actor.
func (s *IdentityStore) syncDirectoryAccount(ctx context.Context, du *identity.DirectoryUser, address string) (*identity.Account, error) {
	// A first sign-in needs a password hash for the new account: made
	// before the write, so that the slow hashing holds no lock.
	var hash string
	err := s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		var id string
		return notFound(tx.queryRow(`SELECT id FROM accounts WHERE username = ?`, du.Username).Scan(&id), "store.no_account")
	})
	if errs.Is(err, errs.NotFound) {
		if hash, err = s.db.unusableHash(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	actor := identity.System
	actor.Address = address
	var a identity.Account
	err = s.db.Write(identity.WithActor(ctx, actor), "account.directory_sync", directorySyncReason, func(tx *Tx) error {
		err := notFound(scanAccount(tx.queryRow(`SELECT `+accountCols+` FROM accounts WHERE username = ?`, du.Username), &a), "store.no_account")
		if errs.Is(err, errs.NotFound) && hash != "" {
			a = identity.Account{Username: du.Username, Name: du.Name, Roles: du.Roles, Source: SourceLDAP}
			return tx.createAccount(&a, hash)
		}
		if errs.Is(err, errs.NotFound) {
			// Removed between the read and the write: try again.
			return errs.E(errs.Conflict, "store.account_changed_during_sign")
		}
		if err != nil {
			return err
		}
		if a.Source != SourceLDAP {
			// The person's username is a local account's: the
			// directory does not speak for it.
			return errBadCredentials()
		}
		return tx.updateDirectoryAccount(&a, du)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// unusableHash is the password hash of a directory account: the hash of a
// random password no one knows, well-formed and matching nothing.
func (db *DB) unusableHash() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(err, "random password")
	}
	hash, err := db.passwords.Hash(base64.RawStdEncoding.EncodeToString(b))
	return hash, errs.Wrap(err, "hash")
}

// updateDirectoryAccount writes the name and roles the directory gives, and
// audits those that changed.
func (tx *Tx) updateDirectoryAccount(a *identity.Account, du *identity.DirectoryUser) error {
	next := *a
	next.Name, next.Roles = du.Name, du.Roles
	if err := next.Validate(); err != nil {
		return err
	}
	changes := audit.Diff("account", a.ID,
		[]audit.Field{audit.F("name", a.Name), audit.F("roles", joinRoles(a.Roles))},
		[]audit.Field{audit.F("name", next.Name), audit.F("roles", joinRoles(next.Roles))})
	if len(changes) == 0 {
		return nil
	}
	if _, err := tx.exec(`UPDATE accounts SET name = ?, roles = ?, version = version + 1 WHERE id = ?`, next.Name, joinRoles(next.Roles), a.ID); err != nil {
		return err
	}
	next.Version++
	*a = next
	return tx.Audit(changes, "")
}

func joinRoles(roles []identity.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
