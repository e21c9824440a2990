package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
)

// Replay protection: a signature carries a one-time challenge, issued to
// the signer's session for one record and one meaning, good for one attempt
// within esign.ChallengeTTL.

// Challenge issues a one-time challenge for the actor's session to sign a
// record with a meaning, once the record is found and the rules allow it.
// Only the SHA-256 of the challenge is kept. Challenges are not GMP data:
// issuing one writes no audit entry; the signature, or its refusal, does.
func (s *SignatureStore) Challenge(ctx context.Context, r esign.ChallengeRequest) (*esign.Challenge, error) {
	a, entity, entityID, m, err := signRequestOf(ctx, r.Entity, r.EntityID, r.Meaning)
	if err != nil {
		return nil, err
	}
	var c *esign.Challenge
	err = s.db.Write(ctx, challengeCommand, "", func(tx *Tx) error {
		if _, err := tx.signerAccount(a.UserID); err != nil {
			return err
		}
		t, err := tx.target(entity, entityID, m, true)
		if err != nil {
			return err
		}
		// A second person's signature on this session is checked when they
		// sign, once known.
		if r.SecondPerson {
			err = esign.SecondPerson(a, t.entity, m)
		} else {
			err = esign.Check(a, t.entity, m, t.existing)
		}
		if err != nil {
			return err
		}
		// The content the signer saw, when they say which, must be the
		// record's still; the challenge binds it either way.
		if seen := strings.TrimSpace(r.ContentHash); seen != "" && seen != t.hash {
			return errStale()
		}
		token, sum, err := newToken()
		if err != nil {
			return err
		}
		// Challenges long past are of no use to anyone.
		if _, err := tx.exec(`DELETE FROM signature_challenges WHERE expires_at < ?`, tx.now.Add(-time.Hour)); err != nil {
			return err
		}
		c = &esign.Challenge{Challenge: token, Entity: t.entity, EntityID: t.entityID, Meaning: m, ContentHash: t.hash, ExpiresAt: tx.now.Add(esign.ChallengeTTL)}
		_, err = tx.exec(`INSERT INTO signature_challenges (id, token_hash, session_id, account_id, entity, entity_id, meaning, content_hash, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			NewID(), sum, a.SessionID, a.UserID, c.Entity, c.EntityID, string(m), t.hash, tx.now, c.ExpiresAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// issued is a challenge as stored.
type issued struct {
	id, sessionID, accountID, entity, entityID, meaning string
	// hash is the record's content hash when the challenge was issued.
	hash    string
	expires time.Time
	used    sql.NullTime
}

// challenge finds a challenge by its token; nil when there is none.
func (tx *Tx) challenge(token string) (*issued, error) {
	var c issued
	err := tx.queryRow(`SELECT id, session_id, account_id, entity, entity_id, meaning, content_hash, expires_at, used_at FROM signature_challenges WHERE token_hash = ?`,
		tokenHash(token)).Scan(&c.id, &c.sessionID, &c.accountID, &c.entity, &c.entityID, &c.meaning, &c.hash, &c.expires, &c.used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &c, err
}

func errChallenge(key string) error {
	return &errs.Error{Code: errs.Forbidden, Field: "challenge", Key: key}
}

// errStale refuses a signature on a record whose content is no longer the
// one the signer was shown (21 CFR 11.50, 11.70): nothing is signed.
func errStale() error {
	return errs.E(errs.Conflict, "store.record_changed_since_signing_asked")
}

func errReplayed() error {
	return errChallenge("store.challenge_already_used_signature")
}

// ownedBy returns the challenge if it was issued to the actor's session,
// nil otherwise: only one's own challenge is spent by a failed attempt.
func (c *issued) ownedBy(a identity.Actor) *issued {
	if c == nil || c.sessionID != a.SessionID || c.accountID != a.UserID {
		return nil
	}
	return c
}

// refusal says why the challenge c (nil when unknown) does not admit the
// actor's signature of t at now, in words for the audit trail and as an
// error for the signer; "" and nil when it does.
func (c *issued) refusal(a identity.Actor, t *signTarget, now time.Time) (string, error) {
	switch {
	case c == nil:
		return "unknown challenge", errChallenge("store.challenge_unknown_ask_challenge")
	case c.sessionID != a.SessionID || c.accountID != a.UserID:
		return "challenge of another session", errChallenge("store.challenge_issued_another_session")
	case c.entity != t.entity || c.entityID != t.entityID || c.meaning != string(t.meaning):
		return "challenge issued for another record or meaning", errChallenge("store.challenge_issued_sign_another")
	case c.used.Valid:
		return "challenge already used (replayed signature)", errReplayed()
	case !now.Before(c.expires):
		return "challenge expired", errChallenge("store.challenge_expired_challenge_lasts")
	case c.hash != t.hash:
		return "record changed since the challenge", errStale()
	}
	return "", nil
}

// spend marks a challenge used. One spent meanwhile by another request
// is refused: a challenge signs once.
func (tx *Tx) spend(c *issued) error {
	res, err := tx.exec(`UPDATE signature_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL`, tx.now, c.id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n != 1 {
		err = errReplayed()
	}
	return err
}
