package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// openSession opens a session of the kind for the account, which has just
// proved who it is, and returns its token. A sign-in ends the run of
// failures and any lock; the account's sessions past their time go. A
// sign-in with a second-factor code gives its time step: the code is
// refused there if it was used already, in the transaction that opens the
// session.
func (s *IdentityStore) openSession(ctx context.Context, a *identity.Account, address, kind string, totpStep int64) (string, error) {
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
		if totpStep != 0 {
			if err := tx.useTOTPStep(a.ID, totpStep); err != nil {
				return err
			}
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
		if _, err := tx.deleteSessions(`account_id = ? AND expires_at < ?`, a.ID, tx.now); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO sessions (id, token_hash, account_id, address, created_at, last_seen, expires_at, kind) VALUES (?,?,?,?,?,?,?,?)`,
			NewID(), sum, a.ID, address, tx.now, tx.now, tx.now.Add(policy.Absolute), kind)
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
	var changed, locked sql.NullTime
	var totpEnabled, mustChange bool
	var assigned []string
	var policy identity.Policy
	// A time seen still to be written is read first: written since, the
	// query finds it.
	seen := s.db.seen.latest(sum)
	// Finding who a token belongs to is galenix's own work, before there
	// is an actor: it reads as the system. Every request asks this, so it
	// is one query: the session, its account, the account's assignments
	// and the site's policy settings.
	err := s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		var clients, settings sql.NullString
		err := notFound(scanAccount(tx.queryRow(`SELECT a.id, a.username, a.name, a.roles, COALESCE(CAST(a.client_id AS TEXT), ''), a.active, a.created_at, a.source, a.version,
			a.totp_enabled, a.password_must_change, a.password_changed_at, a.locked_until, s.id, s.address, s.kind, s.created_at, s.last_seen, s.expires_at,
			(SELECT `+tx.db.joined("CAST(c.client_id AS TEXT)", ',')+` FROM client_assignments c WHERE c.account_id = a.id),
			(SELECT `+tx.db.joined("p.key || '=' || p.value", '\n')+` FROM settings p WHERE p.key LIKE '`+policyPrefix+`%')
			FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, sum),
			&a, &totpEnabled, &mustChange, &changed, &locked, &sessionID, &address, &kind, &created, &lastSeen, &expires, &clients, &settings), "store.no_session")
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
	if seen.After(lastSeen) {
		lastSeen = seen
	}
	// A withdrawn or locked account has no live session.
	if !a.Active || (locked.Valid && now.Before(locked.Time)) || now.After(expires) || now.Sub(created) > policy.Absolute || now.Sub(lastSeen) > idle {
		return identity.Actor{}, errSessionEnded()
	}
	if !changed.Valid {
		changed.Time = a.CreatedAt
	}
	actor := a.Actor()
	actor.Assigned = assigned
	actor.SessionID = sessionID
	actor.Device = kind
	actor.Address = address
	actor.Pending = policy.PendingFor(a.Roles, a.Source != SourceLDAP, totpEnabled, mustChange, changed.Time, now)
	// Mark the session seen at most once a minute (more often for a short
	// idle timeout), not on every request.
	if now.Sub(lastSeen) > min(time.Minute, idle/5) {
		s.db.seen.mark(s.db, sum, sessionID, now)
		lastSeen = now
	}
	ends := lastSeen.Add(idle)
	for _, end := range []time.Time{expires, created.Add(policy.Absolute)} {
		if end.Before(ends) {
			ends = end
		}
	}
	actor.Idle, actor.SessionLeft = idle, ends.Sub(now)
	return actor, nil
}

// seenSessions holds the times sessions were last seen until they are
// written: a request does not wait for that write, which on SQLite queues
// behind every other write. Authenticate reads these times over the
// table's. One goroutine at a time writes those pending, all in one
// command.
type seenSessions struct {
	mu sync.Mutex
	// pending are the times to write, by the sessions' token hashes.
	pending map[string]seenAt
	writing sync.WaitGroup
	active  bool
}

type seenAt struct {
	id string
	at time.Time
}

// latest returns the time the session of the token hash was seen, if that
// is still to be written.
func (s *seenSessions) latest(tokenHash string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[tokenHash].at
}

// mark records the session seen at the time, and starts the writer if it
// is not running.
func (s *seenSessions) mark(db *DB, tokenHash, sessionID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[string]seenAt{}
	}
	if at.After(s.pending[tokenHash].at) {
		s.pending[tokenHash] = seenAt{id: sessionID, at: at}
	}
	if s.active {
		return
	}
	s.active = true
	s.writing.Add(1)
	go s.write(db)
}

// write writes the pending times until none is left. A time that does not
// get written (the database failing) is dropped after being logged: the
// session then ends at its idle timeout from the time written before.
func (s *seenSessions) write(db *DB) {
	defer s.writing.Done()
	for {
		// The times stay pending until written, so that Authenticate
		// finds each in one place or the other.
		s.mu.Lock()
		if len(s.pending) == 0 {
			s.active = false
			s.mu.Unlock()
			return
		}
		batch := maps.Clone(s.pending)
		s.mu.Unlock()
		// In the order of the sessions' ids, the order in which every
		// write of several sessions locks them (deleteSessions): two
		// such writes never wait for each other in a circle.
		seen := slices.SortedFunc(maps.Values(batch), func(a, b seenAt) int { return strings.Compare(a.id, b.id) })
		err := db.Write(identity.WithActor(context.Background(), identity.System), "session.touch", "", func(tx *Tx) error {
			for _, p := range seen {
				if _, err := tx.exec(`UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen < ?`, p.at, p.id, p.at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.log.Warn("marking sessions seen", "sessions", len(batch), "err", err)
		}
		s.mu.Lock()
		for h, p := range batch {
			if s.pending[h] == p {
				delete(s.pending, h)
			}
		}
		s.mu.Unlock()
	}
}

// deleteSessions deletes the sessions of the condition. On PostgreSQL it
// locks them first in the order of their ids, as the writer of the times
// seen updates them: a sign-in clearing an account's ended sessions while
// the writer marks them seen would otherwise deadlock, and the database
// would refuse one of the two (a sign-in answered 500).
func (tx *Tx) deleteSessions(cond string, args ...any) (sql.Result, error) {
	if tx.db.dialect == Postgres {
		return tx.exec(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE `+cond+` ORDER BY id FOR UPDATE)`, args...)
	}
	return tx.exec(`DELETE FROM sessions WHERE `+cond, args...)
}

// wait waits for the pending times to be written.
func (s *seenSessions) wait() { s.writing.Wait() }

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
		if _, err := tx.deleteSessions(`account_id = ?`, a.UserID); err != nil || n == 0 {
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
	rows, err := tx.query(`SELECT id, kind, address, created_at, last_seen, expires_at, token_hash FROM sessions WHERE account_id = ? ORDER BY created_at DESC`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.SessionInfo
	for rows.Next() {
		var si identity.SessionInfo
		var expires time.Time
		var sum string
		if err := rows.Scan(&si.ID, &si.Kind, &si.Address, &si.CreatedAt, &si.LastSeen, &expires, &sum); err != nil {
			return nil, err
		}
		if seen := tx.db.seen.latest(sum); seen.After(si.LastSeen) {
			si.LastSeen = seen
		}
		si.CreatedAt, si.LastSeen = si.CreatedAt.UTC(), si.LastSeen.UTC()
		if tx.now.After(expires) || tx.now.Sub(si.CreatedAt) > policy.Absolute || tx.now.Sub(si.LastSeen) > policy.IdleFor(si.Kind) {
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
		return a, errs.E(errs.Unauthorized, "store.sign_first")
	case a.IsSystem() || a.IsMachine():
		return a, errs.E(errs.Forbidden, "store.only_person_signed_password")
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
