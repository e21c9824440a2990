package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// openSession opens a session of the kind for the account, which has just
// proved who it is, and returns its token. A sign-in ends the run of
// failures and any lock; the account's sessions past their time go.
func (s *IdentityStore) openSession(ctx context.Context, a *identity.Account, address, kind string) (string, error) {
	token, sum, err := newToken()
	if err != nil {
		return "", errs.Wrap(err, "session token")
	}
	actor := a.Actor()
	actor.Address = address
	err = s.db.Write(identity.WithActor(ctx, actor), "session.open", "", func(tx *Tx) error {
		policy, err := tx.policyOver(s.Policy)
		if err != nil {
			return err
		}
		var failed int
		var locked sql.NullTime
		if err := tx.queryRow(`SELECT failed_logins, locked_until FROM accounts WHERE id = ?`, a.ID).Scan(&failed, &locked); err != nil {
			return err
		}
		if failed > 0 || locked.Valid {
			if _, err := tx.exec(`UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?`, a.ID); err != nil {
				return err
			}
			var changes []audit.Change
			if failed > 0 {
				changes = append(changes, audit.Change{Entity: "account", EntityID: a.ID, Field: "failed_logins", Old: strconv.Itoa(failed), New: "0"})
			}
			if locked.Valid {
				changes = append(changes, audit.Change{Entity: "account", EntityID: a.ID, Field: "locked_until", Old: auditAt(locked.Time)})
			}
			if err := tx.Audit(changes, ""); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`DELETE FROM sessions WHERE account_id = ? AND expires_at < ?`, a.ID, tx.Now); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO sessions (id, token_hash, account_id, address, created_at, last_seen, expires_at, kind) VALUES (?,?,?,?,?,?,?,?)`,
			NewID(), sum, a.ID, address, tx.Now, tx.Now, tx.Now.Add(policy.Absolute), kind)
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Authenticate returns the actor of a live session, and marks it seen. A
// session ends after the policy's idle timeout for its kind (short on a
// shop-floor device) and after its absolute timeout in any case. The actor
// carries the step the policy makes them take first, if any.
func (s *IdentityStore) Authenticate(ctx context.Context, token string) (identity.Actor, error) {
	if strings.HasPrefix(token, MachineTokenPrefix) {
		return s.authenticateMachine(ctx, token)
	}
	sum := tokenHash(token)
	var a identity.Account
	var sessionID, address, kind string
	var created, lastSeen, expires time.Time
	var changed sql.NullTime
	var totpEnabled bool
	var assigned []string
	var policy identity.Policy
	// Finding who a token belongs to is galenix's own work, before there
	// is an actor: it reads as the system.
	// Every request asks this, so it is one query: the session, its
	// account, the account's assignments and the site's policy settings.
	err := s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		var clients, settings sql.NullString
		err := notFound(scanAccount(tx.queryRow(`SELECT a.id, a.username, a.name, a.roles, COALESCE(CAST(a.client_id AS TEXT), ''), a.active, a.created_at, a.source,
			a.totp_enabled, a.password_changed_at, s.id, s.address, s.kind, s.created_at, s.last_seen, s.expires_at,
			(SELECT `+tx.db.joined("CAST(c.client_id AS TEXT)", ',')+` FROM client_assignments c WHERE c.account_id = a.id),
			(SELECT `+tx.db.joined("p.key || '=' || p.value", '\n')+` FROM settings p WHERE p.key LIKE '`+policyPrefix+`%')
			FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, sum),
			&a, &totpEnabled, &changed, &sessionID, &address, &kind, &created, &lastSeen, &expires, &clients, &settings), "no session", "")
		if err != nil {
			return err
		}
		if clients.String != "" {
			assigned = strings.Split(clients.String, ",")
			slices.Sort(assigned)
		}
		policy = s.Policy
		for _, kv := range strings.Split(settings.String, "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				if err := setPolicyField(&policy, strings.TrimPrefix(k, policyPrefix), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return identity.Actor{}, errSessionEnded()
		}
		return identity.Actor{}, err
	}
	now := s.db.Now().UTC()
	idle := policy.IdleFor(kind)
	if !a.Active || now.After(expires) || now.Sub(created) > policy.Absolute || now.Sub(lastSeen) > idle {
		return identity.Actor{}, errSessionEnded()
	}
	if !changed.Valid {
		changed.Time = a.CreatedAt
	}
	actor := a.Actor()
	actor.Assigned = assigned
	actor.SessionID = sessionID
	actor.Address = address
	actor.Pending = policy.PendingFor(a.Roles, a.Source != SourceLDAP, totpEnabled, changed.Time, now)
	// Mark the session seen at most once a minute (more often for a short
	// idle timeout), not on every request.
	if now.Sub(lastSeen) > min(time.Minute, idle/5) {
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

// RevokeSessions ends every session of the actor: "sign out everywhere".
func (s *IdentityStore) RevokeSessions(ctx context.Context) (int, error) {
	a, err := signedInPerson(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.Write(ctx, "session.revoke_all", "", func(tx *Tx) error {
		live, err := tx.liveSessions(a.UserID, s.Policy)
		if err != nil {
			return err
		}
		n = len(live)
		if _, err := tx.exec(`DELETE FROM sessions WHERE account_id = ?`, a.UserID); err != nil || n == 0 {
			return err
		}
		return tx.Audit([]audit.Change{{Entity: "account", EntityID: a.UserID, Field: "sessions", Old: strconv.Itoa(n), New: "0"}}, "")
	})
	return n, err
}

// liveSessions lists the account's sessions that have not ended, newest
// first: a session's row stays after its idle or absolute timeout until
// the next sign-in clears it.
func (tx *Tx) liveSessions(accountID string, defaults identity.Policy) ([]identity.SessionInfo, error) {
	policy, err := tx.policyOver(defaults)
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT id, kind, address, created_at, last_seen, expires_at FROM sessions WHERE account_id = ? ORDER BY created_at DESC`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.SessionInfo
	for rows.Next() {
		var si identity.SessionInfo
		var expires time.Time
		if err := rows.Scan(&si.ID, &si.Kind, &si.Address, &si.CreatedAt, &si.LastSeen, &expires); err != nil {
			return nil, err
		}
		si.CreatedAt, si.LastSeen = si.CreatedAt.UTC(), si.LastSeen.UTC()
		if tx.Now.After(expires) || tx.Now.Sub(si.CreatedAt) > policy.Absolute || tx.Now.Sub(si.LastSeen) > policy.IdleFor(si.Kind) {
			continue
		}
		out = append(out, si)
	}
	return out, rows.Err()
}

// signedInPerson returns the actor in the context when it is a person signed in:
// not nobody, not galenix itself, not a machine.
func signedInPerson(ctx context.Context) (identity.Actor, error) {
	a, ok := identity.ActorFrom(ctx)
	switch {
	case !ok || a.UserID == "":
		return a, errs.E(errs.Unauthorized, "Sign in first.", "Connectez-vous d'abord.")
	case a.IsSystem() || a.IsMachine():
		return a, errs.E(errs.Forbidden, "Only a person signed in has a password, a second factor and sessions.",
			"Seule une personne connectée a un mot de passe, un second facteur et des sessions.")
	}
	return a, nil
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
