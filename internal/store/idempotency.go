package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"galenix/internal/errs"
	"galenix/internal/idem"
)

// claim records the request's key in the write's transaction. A key taken
// gives idem.ErrTaken (as a conflict), which the web layer turns into the
// first request's answer.
func (tx *Tx) claim(c *idem.Claim) error {
	_, err := tx.exec(`INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES (?, ?, ?, ?)`,
		c.Principal, c.Key, c.Hash, tx.now)
	if err == nil {
		return nil
	}
	if e := tx.db.classify(err, "idempotency key"); errs.CodeOf(e) == errs.Conflict {
		c.MarkTaken()
		return &errs.Error{Code: errs.Conflict, Cause: idem.ErrTaken,
			Key: "store.request_idempotency_key_already"}
	} else {
		return e
	}
}

// IdempotencyStore keeps the first answers of claimed requests.
type IdempotencyStore struct{ db *DB }

// Idempotency returns the database's idempotency keys.
func (db *DB) Idempotency() *IdempotencyStore { return &IdempotencyStore{db} }

// Answer returns the answer recorded for an account's key, or nil when the
// key was never committed. It reads through the reading pool: on SQLite a
// retry waiting for an answer does not hold the one writing connection.
func (s *IdempotencyStore) Answer(ctx context.Context, principal, key string) (*idem.Answer, error) {
	var a idem.Answer
	err := s.db.read.QueryRowContext(ctx, s.db.rebind(`SELECT request_hash, status, content_type, location, etag, withheld, body FROM idempotency_keys WHERE principal = ? AND key = ?`),
		principal, key).Scan(&a.Hash, &a.Status, &a.ContentType, &a.Location, &a.ETag, &a.Withheld, &a.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.db.classify(err, "reading an idempotency key")
	}
	return &a, nil
}

// Record stores the first answer of a committed claim; a withheld answer
// keeps its status and headers, never its body.
func (s *IdempotencyStore) Record(ctx context.Context, principal, key string, a idem.Answer) error {
	if a.Withheld {
		a.Body = nil
	}
	_, err := s.db.write.ExecContext(ctx, s.db.rebind(`UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, etag = ?, withheld = ?, body = ? WHERE principal = ? AND key = ?`),
		a.Status, a.ContentType, a.Location, a.ETag, a.Withheld, a.Body, principal, key)
	if err != nil {
		return s.db.classify(err, "recording an idempotent answer")
	}
	return nil
}

// Purge deletes the keys older than before; it returns how many.
func (s *IdempotencyStore) Purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, s.db.rebind(`DELETE FROM idempotency_keys WHERE created_at < ?`), before.UTC())
	if err != nil {
		return 0, s.db.classify(err, "purging idempotency keys")
	}
	return res.RowsAffected()
}

// hashKeySetting is the settings' row holding the requests' hash key,
// wrapped under the site's audit key (idem.WrapHashKey).
const hashKeySetting = "idempotency.hash_key"

// RequestHashKey returns the key of the hashes that recognize a request
// sent again, opened with the site's audit key. A site without one keeps
// the one its nodes derived from the key so far (idem.FirstHashKey), so
// that the hashes stored before still match; nodes starting together
// keep the same.
func (db *DB) RequestHashKey(ctx context.Context, siteKey ed25519.PrivateKey) ([]byte, error) {
	wrapped, err := db.setting(ctx, hashKeySetting)
	if err != nil {
		return nil, err
	}
	if wrapped == "" {
		first, err := idem.FirstHashKey(siteKey)
		if err != nil {
			return nil, err
		}
		w, err := idem.WrapHashKey(siteKey, first)
		if err != nil {
			return nil, err
		}
		if _, err := db.write.ExecContext(ctx, db.rebind(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`),
			hashKeySetting, w); err != nil {
			return nil, db.classify(err, "keeping the idempotency hash key")
		}
		// Another node may have kept its own first: the one kept counts.
		if wrapped, err = db.setting(ctx, hashKeySetting); err != nil {
			return nil, err
		}
	}
	return idem.UnwrapHashKey(siteKey, wrapped)
}

// setting reads one row of the settings, "" when there is none.
func (db *DB) setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, db.rebind(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", db.classify(err, "reading a setting")
	}
	return v, nil
}

// rewrapHashKey wraps the requests' hash key again under the next audit
// key, in the rotation's transaction: retries that straddle the rotation
// are still recognized.
func (tx *Tx) rewrapHashKey(key, next ed25519.PrivateKey) error {
	var wrapped string
	err := tx.queryRow(`SELECT value FROM settings WHERE key = ?`, hashKeySetting).Scan(&wrapped)
	var hashKey []byte
	switch {
	case errors.Is(err, sql.ErrNoRows):
		hashKey, err = idem.FirstHashKey(key)
	case err == nil:
		hashKey, err = idem.UnwrapHashKey(key, wrapped)
	}
	if err != nil {
		return fmt.Errorf("opening the idempotency hash key with the site's key: %w", err)
	}
	w, err := idem.WrapHashKey(next, hashKey)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, hashKeySetting, w)
	return err
}
