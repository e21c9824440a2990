package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// MachineTokenPrefix starts every machine (API) token, so that a token says
// what it is before any lookup.
const MachineTokenPrefix = "gxm_"

// machineTokenBytes is how many random bytes a machine token carries.
const machineTokenBytes = 32

func errBadMachineToken() error {
	return errs.E(errs.Unauthorized, "store.api_token_not_valid")
}

func errNoToken() error {
	return errs.E(errs.NotFound, "store.no_such_api_token")
}

// wellFormedMachineToken reports whether s has the shape of a machine token:
// the prefix, then 32 bytes in unpadded base64url. Anything else is refused
// without a lookup.
func wellFormedMachineToken(s string) bool {
	rest, ok := strings.CutPrefix(s, MachineTokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(machineTokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil && len(b) == machineTokenBytes
}

// newMachineToken returns a new machine token and the hash stored for it.
func newMachineToken() (token, sum string, err error) {
	t, _, err := newToken()
	if err != nil {
		return "", "", err
	}
	token = MachineTokenPrefix + t
	return token, tokenHash(token), nil
}

const tokenCols = `t.id, t.name, t.scopes, t.created_by, COALESCE(a.name, ''), t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

// tokenFrom joins each token to the account that created it, for its name.
const tokenFrom = ` FROM api_tokens t LEFT JOIN accounts a ON CAST(a.id AS TEXT) = t.created_by`

func scanToken(sc scanner, t *identity.Token) error {
	var scopes string
	var expires, revoked, used sql.NullTime
	err := sc.Scan(&t.ID, &t.Name, &scopes, &t.CreatedBy, &t.CreatedByName, &t.CreatedAt, &expires, &revoked, &used)
	t.Scopes = identity.ParseScopes(scopes)
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = nullTime(expires), nullTime(revoked), nullTime(used)
	return err
}

func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullableTime stores the zero time as NULL.
func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// authenticateMachine returns the actor of a machine token: a token that is
// unknown, revoked or expired is not valid, and the answer does not say
// which. The token's last use is recorded at most once a minute.
func (s *IdentityStore) authenticateMachine(ctx context.Context, token string) (identity.Actor, error) {
	if !wellFormedMachineToken(token) {
		return identity.Actor{}, errBadMachineToken()
	}
	var t identity.Token
	creatorActive := true
	var locked sql.NullTime
	err := s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		if err := notFound(scanToken(tx.queryRow(`SELECT `+tokenCols+tokenFrom+` WHERE t.token_hash = ?`, tokenHash(token)), &t), "store.no_token"); err != nil {
			return err
		}
		// The tokens of a withdrawn or locked account stop with it.
		err := tx.queryRow(`SELECT active, locked_until FROM accounts WHERE CAST(id AS TEXT) = ?`, t.CreatedBy).Scan(&creatorActive, &locked)
		if errors.Is(err, sql.ErrNoRows) {
			creatorActive = true
			return nil
		}
		return err
	})
	if errs.Is(err, errs.NotFound) {
		return identity.Actor{}, errBadMachineToken()
	}
	if err != nil {
		return identity.Actor{}, err
	}
	now := s.db.Now().UTC()
	if !t.Live(now) || !creatorActive || (locked.Valid && now.Before(locked.Time)) {
		return identity.Actor{}, errBadMachineToken()
	}
	actor := t.MachineActor()
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) > time.Minute {
		err := s.db.Write(identity.WithActor(ctx, actor), "token.touch", "", func(tx *Tx) error {
			_, err := tx.exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, tx.now, t.ID)
			return err
		})
		if err != nil {
			return identity.Actor{}, err
		}
	}
	return actor, nil
}

// Tokens lists the machine tokens, newest first, to those who may see
// accounts; never their secrets.
func (s *AdminStore) Tokens(ctx context.Context) ([]identity.Token, error) {
	if err := actorOf(ctx).Require(identity.PermAccountsView); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT `+tokenCols+tokenFrom+` ORDER BY t.created_at DESC, t.id DESC`, nil, scanToken)
}

// Token returns one machine token; to those who may not see accounts it is
// not found.
func (s *AdminStore) Token(ctx context.Context, id string) (*identity.Token, error) {
	var t identity.Token
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.token(id, &t) })
	return &t, err
}

func (tx *Tx) token(id string, t *identity.Token) error {
	if _, err := uuid.Parse(id); err != nil || !tx.actor.Can(identity.PermAccountsView) {
		return errNoToken()
	}
	err := scanToken(tx.queryRow(`SELECT `+tokenCols+tokenFrom+` WHERE t.id = ?`, id), t)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoToken()
	}
	return err
}

// CreateToken records a machine token and returns its secret: shown this
// once, then kept only as its SHA-256.
func (s *AdminStore) CreateToken(ctx context.Context, t *identity.Token, reason string) (string, error) {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return "", err
	}
	secret, sum, err := newMachineToken()
	if err != nil {
		return "", errs.Wrap(err, "machine token")
	}
	err = s.db.Write(ctx, "token.create", reason, func(tx *Tx) error {
		if err := t.Validate(tx.now); err != nil {
			return err
		}
		t.ID = NewID()
		t.CreatedBy, t.CreatedByName, t.CreatedAt = tx.actor.UserID, tx.actor.Name, tx.now
		t.RevokedAt, t.LastUsedAt = time.Time{}, time.Time{}
		if !t.ExpiresAt.IsZero() {
			t.ExpiresAt = t.ExpiresAt.UTC()
		}
		if _, err := tx.exec(`INSERT INTO api_tokens (id, name, token_hash, scopes, created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?)`,
			t.ID, t.Name, sum, identity.ScopesText(t.Scopes), t.CreatedBy, t.CreatedAt, nullableTime(t.ExpiresAt)); err != nil {
			return err
		}
		return tx.Audit(audit.Diff("api_token", t.ID, nil, t.AuditFields()), "")
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RevokeToken withdraws a machine token: it stops working at once. The
// token stays listed, revoked, with its trail.
func (s *AdminStore) RevokeToken(ctx context.Context, id, reason string) (*identity.Token, error) {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return nil, err
	}
	var t identity.Token
	err := s.db.Write(ctx, "token.revoke", reason, func(tx *Tx) error {
		if err := tx.token(id, &t); err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return errs.E(errs.Conflict, "store.api_token_already_revoked")
		}
		if tx.reason == "" {
			return errReasonRequired()
		}
		old := t
		t.RevokedAt = tx.now
		if _, err := tx.exec(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, t.RevokedAt, t.ID); err != nil {
			return err
		}
		return tx.Audit(audit.Diff("api_token", t.ID, old.AuditFields(), t.AuditFields()), "")
	})
	return &t, err
}
