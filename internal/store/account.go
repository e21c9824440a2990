package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// IdentityStore implements identity.Service.
type IdentityStore struct {
	db *DB
	// Policy is the default sign-in policy: each field the settings table
	// holds (see Tx.policy) overrides it.
	Policy identity.Policy
	// Directory, when set, signs people in against Active Directory/LDAP.
	Directory identity.Directory
}

// Identity returns the identity service of the database, with the default
// policy and no directory.
func (db *DB) Identity() *IdentityStore {
	return &IdentityStore{db: db, Policy: identity.DefaultPolicy()}
}

var _ identity.Service = (*IdentityStore)(nil)

// dummyHash is checked against when the username is unknown, so that a
// wrong username takes as long as a wrong password. It is the hash of a
// password no account has, made once with identity.HashPassword.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=1$f+WRKKyqkjrGyEfq7g7Vkw$yueMnXKdlSzblEwUGgYJUQ1QJQnSiPzCKovqYo6nrts"

func errBadCredentials() error {
	return errs.E(errs.Unauthorized, "ldap.wrong_username_password")
}

// errTOTPNeeded asks for the second factor: the password was right.
func errTOTPNeeded() error {
	return &errs.Error{Code: errs.Unauthorized, Field: "totp",
		Key: "store.enter_6_digit_code"}
}

func errTOTPWrong() error {
	return &errs.Error{Code: errs.Unauthorized, Field: "totp",
		Key: "store.totp_code_wrong_authenticator"}
}

// errTOTPUsed refuses a code already used to sign in: a code is good once
// (RFC 6238 §5.2), the next one comes within 30 seconds.
func errTOTPUsed() error {
	return &errs.Error{Code: errs.Unauthorized, Field: "totp", Key: "store.totp_code_used"}
}

func errSessionEnded() error {
	return errs.E(errs.Unauthorized, "store.your_session_ended_sign")
}

const accountCols = `id, username, name, roles, COALESCE(CAST(client_id AS TEXT), ''), active, created_at, source, version`

func scanAccount(sc scanner, a *identity.Account, extra ...any) error {
	var roles string
	err := sc.Scan(append([]any{&a.ID, &a.Username, &a.Name, &roles, &a.ClientID, &a.Active, &a.CreatedAt, &a.Source, &a.Version}, extra...)...)
	a.Roles = nil
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			a.Roles = append(a.Roles, identity.Role(r))
		}
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return err
}

// signInState is what signing in needs to know of an account.
type signInState struct {
	identity.Account
	hash        string
	lockedUntil sql.NullTime
	totpSecret  string
	totpEnabled bool
}

// usableUsername reports whether a username may be looked up at all: text
// that PostgreSQL accepts (valid UTF-8 without NUL) of a sane length.
func usableUsername(u string) bool {
	return u != "" && len(u) <= 256 && utf8.ValidString(u) && !strings.ContainsRune(u, 0)
}

// Login checks the credentials and opens a browser session.
func (s *IdentityStore) Login(ctx context.Context, username, password, address string) (string, *identity.Account, error) {
	return s.SignIn(ctx, identity.Credentials{Username: username, Password: password, Address: address, Device: identity.DeviceBrowser})
}

// SignIn checks the credentials and opens a session of the device's kind.
// Every refusal of a known account is audited ("session.login_failed") and
// raised to the security role; so is a username no account has. LockAfter
// failures in a row lock the account for LockFor ("account.locked"); while
// locked it is refused with the message of a wrong password, so that the
// lock says nothing to whoever is guessing.
func (s *IdentityStore) SignIn(ctx context.Context, c identity.Credentials) (string, *identity.Account, error) {
	device := c.Device
	if device == "" {
		device = identity.DeviceBrowser
	}
	if !identity.ValidDevice(device) {
		return "", nil, errs.Field("device", "store.device_must_browser_shopfloor")
	}
	username := strings.TrimSpace(c.Username)
	var st signInState
	var found error = errs.E(errs.NotFound, "store.no_account")
	if usableUsername(username) {
		found = s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
			return notFound(scanAccount(tx.queryRow(`SELECT `+accountCols+`, password_hash, locked_until, totp_secret, totp_enabled
				FROM accounts WHERE username = ?`, username), &st.Account, &st.hash, &st.lockedUntil, &st.totpSecret, &st.totpEnabled), "store.no_account")
		})
	}
	if found != nil && !errs.Is(found, errs.NotFound) {
		return "", nil, found
	}
	// People of the directory sign in against it: those it knows already,
	// and those it has not seen yet.
	if s.Directory != nil && (found != nil || st.Source == SourceLDAP) {
		return s.directoryLogin(ctx, c.Username, c.Password, c.Address)
	}
	sys := identity.System
	sys.Address = c.Address
	if found != nil {
		if _, err := s.db.passwords.Verify(ctx, dummyHash, c.Password); err != nil {
			return "", nil, err // busy: nothing is known yet, nothing counted
		}
		if err := s.recordFailure(ctx, sys, nil, username, failure{kind: identity.EventUnknownUser, audit: "unknown username"}); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials()
	}
	now := s.db.Now().UTC()
	passwordOK, err := s.db.passwords.Verify(ctx, st.hash, c.Password)
	if err != nil {
		return "", nil, err // busy: neither a failure nor a success
	}
	if st.lockedUntil.Valid && now.Before(st.lockedUntil.Time) {
		f := failure{kind: identity.EventLoginLocked, audit: "account locked", detail: "locked until " + auditAt(st.lockedUntil.Time)}
		if err := s.recordFailure(ctx, sys, &st.Account, username, f); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials()
	}
	if !passwordOK {
		if err := s.recordFailure(ctx, sys, &st.Account, username, failure{kind: identity.EventLoginFailed, audit: "wrong password", count: true}); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials()
	}
	if !st.Active {
		if err := s.recordFailure(ctx, sys, &st.Account, username, failure{kind: identity.EventLoginInactive, audit: "account withdrawn"}); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials()
	}
	var step int64 // the time step of the code given, 0 without a second factor
	if st.totpEnabled {
		if strings.TrimSpace(c.TOTP) == "" {
			return "", nil, errTOTPNeeded()
		}
		// A secret that does not open (no key, another key) fails closed:
		// no code is accepted, and the error says why.
		secret, err := openSecret(s.db.secretKey, st.ID, st.totpSecret)
		if err != nil {
			return "", nil, err
		}
		var ok bool
		step, ok = identity.MatchTOTP(secret, c.TOTP, now)
		if !ok {
			if err := s.recordFailure(ctx, sys, &st.Account, username, failure{kind: identity.EventTOTPFailed, audit: "wrong second-factor code", count: true}); err != nil {
				return "", nil, err
			}
			return "", nil, errTOTPWrong()
		}
	}
	token, err := s.openSession(ctx, &st.Account, c.Address, device, step)
	if e := (*errs.Error)(nil); errors.As(err, &e) && e.Key == "store.totp_code_used" {
		if err := s.recordFailure(ctx, sys, &st.Account, username, failure{kind: identity.EventTOTPFailed, audit: "second-factor code used already", count: true}); err != nil {
			return "", nil, err
		}
		return "", nil, errTOTPUsed()
	}
	if err != nil {
		return "", nil, err
	}
	a := st.Account
	return token, &a, nil
}

// Accounts lists the accounts by username.
func (s *IdentityStore) Accounts(ctx context.Context) ([]identity.Account, error) {
	return list(ctx, s.db, `SELECT `+accountCols+` FROM accounts ORDER BY username`, nil,
		func(sc scanner, a *identity.Account) error { return scanAccount(sc, a) })
}

// createAccount records an account with its password hash in this
// transaction; the hash itself never enters the audit trail. The password
// starts the account's password history and its age.
func (tx *Tx) createAccount(a *identity.Account, passwordHash string) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.ID = NewID()
	a.Active = true
	a.CreatedAt = tx.now
	a.Version = 1 // the column's default
	if a.Source == "" {
		a.Source = SourceLocal
	}
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	if _, err := tx.exec(`INSERT INTO accounts (id, username, name, password_hash, roles, client_id, active, created_at, source, password_changed_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.Username, a.Name, passwordHash, strings.Join(roles, ","), nullable(a.ClientID), a.Active, a.CreatedAt, a.Source, a.CreatedAt); err != nil {
		return err
	}
	if strings.HasPrefix(passwordHash, "$argon2id$") {
		if _, err := tx.exec(`INSERT INTO password_history (account_id, password_hash, created_at) VALUES (?,?,?)`, a.ID, passwordHash, tx.now); err != nil {
			return err
		}
	}
	return tx.Audit(audit.Diff("account", a.ID, nil, []audit.Field{
		audit.F("username", a.Username), audit.F("name", a.Name), audit.F("roles", strings.Join(roles, ",")),
		audit.F("client_id", a.ClientID), audit.F("active", "true")}), a.ClientID)
}

// Unlock ends an account's lock and its run of failed sign-ins
// ("account.unlock"), for an administrator who has checked who is asking.
// An account neither locked nor with failed sign-ins is a conflict:
// there is nothing to unlock, and nothing is written.
func (s *AdminStore) Unlock(ctx context.Context, accountID, reason string) error {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return err
	}
	// The reason records who asked and how they were recognised.
	if strings.TrimSpace(reason) == "" {
		return errs.Field("reason", "reason.required", text.Key("reason.what.change"))
	}
	return s.db.Write(ctx, "account.unlock", reason, func(tx *Tx) error { return tx.unlock(accountID) })
}

// LockOf returns the run of failed sign-ins of an account the actor may
// see, and its lock while it lasts.
func (s *AdminStore) LockOf(ctx context.Context, accountID string) (identity.Lock, error) {
	var l identity.Lock
	if _, err := s.Account(ctx, accountID); err != nil {
		return l, err
	}
	var locked sql.NullTime
	err := s.db.Read(ctx, func(tx *Tx) error {
		return tx.byID(`SELECT failed_logins, locked_until FROM accounts WHERE id = ?`, accountID,
			func(sc scanner) error { return sc.Scan(&l.FailedLogins, &locked) }, "store.no_such_account")
	})
	if err != nil {
		return identity.Lock{}, err
	}
	if locked.Valid && locked.Time.After(s.db.Now()) {
		t := locked.Time.UTC()
		l.Until = &t
	}
	return l, nil
}

// unlock ends an account's lock and its run of failed sign-ins, for an
// administrator who has checked who is asking.
func (tx *Tx) unlock(accountID string) error {
	var failed int
	var locked sql.NullTime
	err := tx.byID(`SELECT failed_logins, locked_until FROM accounts WHERE id = ?`, accountID,
		func(sc scanner) error { return sc.Scan(&failed, &locked) }, "store.no_such_account")
	if err != nil {
		return err
	}
	if failed == 0 && (!locked.Valid || !locked.Time.After(tx.now)) {
		return errs.E(errs.Conflict, "store.account_not_locked")
	}
	if _, err := tx.exec(`UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?`, accountID); err != nil {
		return err
	}
	changes := audit.Diff("account", accountID,
		[]audit.Field{audit.F("failed_logins", strconv.Itoa(failed)), audit.F("locked_until", auditNullTime(locked))},
		[]audit.Field{audit.F("failed_logins", "0"), audit.F("locked_until", "")})
	return tx.Audit(changes, "")
}

// auditTime writes a time as the audit trail shows it.
func auditAt(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func auditNullTime(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return auditAt(t.Time)
}
