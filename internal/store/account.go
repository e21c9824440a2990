package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// IdentityStore implements identity.Service.
type IdentityStore struct {
	db *DB
	// Policy is the sign-in policy.
	Policy identity.Policy
	// Directory, when set, signs people in against Active Directory/LDAP.
	Directory identity.Directory
}

// Identity returns the identity service of the database, with the default
// policy and no directory.
func (db *DB) Identity() *IdentityStore { return &IdentityStore{db: db, Policy: identity.DefaultPolicy()} }

var _ identity.Service = (*IdentityStore)(nil)

// dummyHash is checked against when the username is unknown, so that a
// wrong username takes as long as a wrong password. It is the hash of a
// password no account has, made once with identity.HashPassword.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$9bunxaL1koFdlL/M7yly2A$q33h+hR1rl+akY6LO5sldxuhGpJsW+wXaQiubX8Bqq0"

func errBadCredentials() error {
	return errs.E(errs.Unauthorized, "Wrong username or password.", "Identifiant ou mot de passe incorrect.")
}

const accountCols = `id, username, name, roles, COALESCE(CAST(client_id AS TEXT), ''), active, created_at, source`

func scanAccount(sc scanner, a *identity.Account, extra ...any) error {
	var roles string
	err := sc.Scan(append([]any{&a.ID, &a.Username, &a.Name, &roles, &a.ClientID, &a.Active, &a.CreatedAt, &a.Source}, extra...)...)
	a.Roles = nil
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			a.Roles = append(a.Roles, identity.Role(r))
		}
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return err
}

// Login checks the credentials and opens a session.
func (s *IdentityStore) Login(ctx context.Context, username, password, address string) (string, *identity.Account, error) {
	var a identity.Account
	var hash string
	err := s.db.Read(ctx, func(tx *Tx) error {
		return notFound(scanAccount(tx.queryRow(`SELECT `+accountCols+`, password_hash FROM accounts WHERE username = ?`,
			strings.TrimSpace(username)), &a, &hash), "no account", "")
	})
	if err != nil && !errs.Is(err, errs.NotFound) {
		return "", nil, err
	}
	// People of the directory sign in against it: those it knows already,
	// and those it has not seen yet.
	if s.Directory != nil && (err != nil || a.Source == SourceLDAP) {
		return s.directoryLogin(ctx, username, password, address)
	}
	if err != nil {
		identity.CheckPassword(dummyHash, password)
		return "", nil, errBadCredentials()
	}
	if !identity.CheckPassword(hash, password) || !a.Active {
		return "", nil, errBadCredentials()
	}
	token, sum, err := newToken()
	if err != nil {
		return "", nil, errs.Wrap(err, "session token")
	}
	actor := a.Actor()
	actor.Address = address
	err = s.db.Write(identity.WithActor(ctx, actor), "session.open", "", func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO sessions (id, token_hash, account_id, address, created_at, last_seen, expires_at) VALUES (?,?,?,?,?,?,?)`,
			NewID(), sum, a.ID, address, tx.Now, tx.Now, tx.Now.Add(identity.SessionAbsolute))
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, &a, nil
}

// Authenticate returns the actor of a live session, and marks it seen.
func (s *IdentityStore) Authenticate(ctx context.Context, token string) (identity.Actor, error) {
	if strings.HasPrefix(token, MachineTokenPrefix) {
		return s.authenticateMachine(ctx, token)
	}
	sum := tokenHash(token)
	var a identity.Account
	var sessionID, address string
	var lastSeen, expires time.Time
	var assigned []string
	// Finding who a token belongs to is galenix's own work, before there
	// is an actor: it reads as the system.
	err := s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		err := notFound(scanAccount(tx.queryRow(`SELECT a.id, a.username, a.name, a.roles, COALESCE(CAST(a.client_id AS TEXT), ''), a.active, a.created_at, a.source,
			s.id, s.address, s.last_seen, s.expires_at
			FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, sum), &a, &sessionID, &address, &lastSeen, &expires), "no session", "")
		if err != nil {
			return err
		}
		assigned, err = tx.assignments(a.ID)
		return err
	})
	expired := errs.E(errs.Unauthorized, "Your session has ended; sign in again.", "Votre session a pris fin ; reconnectez-vous.")
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return identity.Actor{}, expired
		}
		return identity.Actor{}, err
	}
	now := s.db.Now().UTC()
	if !a.Active || now.After(expires) || now.Sub(lastSeen) > identity.SessionIdle {
		return identity.Actor{}, expired
	}
	actor := a.Actor()
	actor.Assigned = assigned
	actor.SessionID = sessionID
	actor.Address = address
	// Mark the session seen at most once a minute, not on every request.
	if now.Sub(lastSeen) > time.Minute {
		err := s.db.Write(identity.WithActor(ctx, actor), "session.touch", "", func(tx *Tx) error {
			_, err := tx.exec(`UPDATE sessions SET last_seen = ? WHERE id = ?`, tx.Now, sessionID)
			return err
		})
		if err != nil {
			return identity.Actor{}, err
		}
	}
	return actor, nil
}

// Logout ends the session of the token.
func (s *IdentityStore) Logout(ctx context.Context, token string) error {
	return s.db.Write(ctx, "session.close", "", func(tx *Tx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash(token))
		return err
	})
}

// Accounts lists the accounts by username.
func (s *IdentityStore) Accounts(ctx context.Context) ([]identity.Account, error) {
	return list(ctx, s.db, `SELECT `+accountCols+` FROM accounts ORDER BY username`, nil,
		func(sc scanner, a *identity.Account) error { return scanAccount(sc, a) })
}

// CreateAccount records an account with its password hash in this
// transaction; the hash itself never enters the audit trail.
func (tx *Tx) CreateAccount(a *identity.Account, passwordHash string) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.ID = NewID()
	a.Active = true
	a.CreatedAt = tx.Now
	if a.Source == "" {
		a.Source = SourceLocal
	}
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	if _, err := tx.exec(`INSERT INTO accounts (id, username, name, password_hash, roles, client_id, active, created_at, source) VALUES (?,?,?,?,?,?,?,?,?)`,
		a.ID, a.Username, a.Name, passwordHash, strings.Join(roles, ","), nullable(a.ClientID), a.Active, a.CreatedAt, a.Source); err != nil {
		return err
	}
	return tx.Audit(audit.Diff("account", a.ID, nil, []audit.Field{
		audit.F("username", a.Username), audit.F("name", a.Name), audit.F("roles", strings.Join(roles, ",")),
		audit.F("client_id", a.ClientID), audit.F("active", "true")}), a.ClientID)
}

// newToken returns a random session token and the hash stored for it.
func newToken() (token, sum string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token), nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
