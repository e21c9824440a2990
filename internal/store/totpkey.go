package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// SecretKeyFile is the name of the key of the second-factor secrets in the
// data directory, beside the audit signing key.
const SecretKeyFile = "totp-secret.key"

// SecretKeySize is the size of that key: AES-256.
const SecretKeySize = 32

// sealedV1 starts a second-factor secret as the accounts table keeps it:
// AES-256-GCM under the site's secret key, with a random nonce and the
// account's id as additional data, so that a secret copied onto another
// account's row does not open. A clear secret (base32, from before) never
// holds a colon.
const sealedV1 = "v1:"

// errSecretKey is the error of a second-factor secret that cannot be
// opened: no key, or another key than the one that sealed it. The check
// fails closed: no code is accepted. It is the server's fault, not the
// person's: it answers 503 with words that say so, its cause logged.
func errSecretKey(cause error) error {
	return &errs.Error{Code: errs.Unavailable, Key: "store.totp_key_unusable", Cause: cause}
}

// LoadSecretKey reads the key of the second-factor secrets: 32 random bytes
// in base64 on one line. The error wraps os.ErrNotExist when there is no
// such file.
func LoadSecretKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != SecretKeySize {
		return nil, fmt.Errorf("%s holds no key of second-factor secrets (%d random bytes in base64)", path, SecretKeySize)
	}
	return key, nil
}

// CreateSecretKey makes a new key of the second-factor secrets and writes
// it to path, mode 0600 in a directory made 0700 if missing; it never
// replaces an existing file.
func CreateSecretKey(path string) ([]byte, error) {
	key := make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

func secretAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != SecretKeySize {
		return nil, errors.New("no key of second-factor secrets")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealSecret returns the stored form of an account's second-factor secret.
func sealSecret(key []byte, accountID, secret string) (string, error) {
	aead, err := secretAEAD(key)
	if err != nil {
		return "", errSecretKey(err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", errs.Wrap(err, "second-factor nonce")
	}
	return sealedV1 + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), []byte(accountID))), nil
}

// openSecret returns the secret of an account's stored form: sealed, or
// clear as databases from before kept it ("" stays ""). A sealed secret
// that does not open, with no key or another key or on another account's
// row, is an error: never a secret that would accept a code.
func openSecret(key []byte, accountID, stored string) (string, error) {
	if stored == "" || !strings.Contains(stored, ":") {
		return stored, nil
	}
	body, ok := strings.CutPrefix(stored, sealedV1)
	if !ok {
		return "", errSecretKey(fmt.Errorf("account %s: a second-factor secret of an unknown form", accountID))
	}
	aead, err := secretAEAD(key)
	if err != nil {
		return "", errSecretKey(err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errSecretKey(fmt.Errorf("account %s: a damaged second-factor secret", accountID))
	}
	secret, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(accountID))
	if err != nil {
		return "", errSecretKey(fmt.Errorf("account %s: the second-factor secret does not open with this key: %w", accountID, err))
	}
	return string(secret), nil
}

// SecretKeyState says what the database holds of second-factor secrets:
// whether any is sealed, and whether the database's key opens one of them
// (nil: it does, or none is sealed).
func (db *DB) SecretKeyState(ctx context.Context) (sealed bool, err error) {
	var id, stored string
	err = db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		return tx.queryRow(`SELECT id, totp_secret FROM accounts WHERE totp_secret LIKE 'v1:%' ORDER BY id LIMIT 1`).Scan(&id, &stored)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = openSecret(db.secretKey, id, stored)
	return true, err
}

// sealClearSecrets seals, in one audited transaction
// ("account.totp.seal"), the second-factor secrets an older galenix kept
// in clear. It runs when the database opens with a key; with none, the
// clear secrets stay as they are.
func (db *DB) sealClearSecrets(ctx context.Context) error {
	if db.secretKey == nil {
		return nil
	}
	if _, err := db.SecretKeyState(ctx); err != nil {
		// Another key sealed the secrets there: sealing more with this
		// one would mix two keys. Nothing is sealed; checks fail closed,
		// and a serving node refuses to start (internal/app).
		db.log.Error("the key of second-factor secrets does not open this database's secrets: none sealed", "err", err)
		return nil
	}
	var n int
	err := db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		return tx.queryRow(`SELECT COUNT(*) FROM accounts WHERE totp_secret <> '' AND totp_secret NOT LIKE 'v1:%'`).Scan(&n)
	})
	if err != nil || n == 0 {
		return err
	}
	return db.Write(identity.WithActor(ctx, identity.System), "account.totp.seal", "", func(tx *Tx) error {
		type row struct{ id, secret string }
		var clear []row
		rows, err := tx.query(`SELECT id, totp_secret FROM accounts WHERE totp_secret <> '' AND totp_secret NOT LIKE 'v1:%' ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.secret); err != nil {
				rows.Close()
				return err
			}
			clear = append(clear, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var changes []audit.Change
		for _, r := range clear {
			sealed, err := sealSecret(db.secretKey, r.id, r.secret)
			if err != nil {
				return err
			}
			// Only if still clear: a node starting at the same time may
			// have sealed it first.
			res, err := tx.exec(`UPDATE accounts SET totp_secret = ? WHERE id = ? AND totp_secret = ?`, sealed, r.id, r.secret)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			changes = append(changes, audit.Change{Entity: "account", EntityID: r.id, Field: "totp_secret", Old: "***", New: "*** (encrypted)"})
		}
		if len(changes) == 0 {
			return nil
		}
		return tx.Audit(changes, "")
	})
}

// ResetLostTOTP removes the second factor of every account whose secret
// the database's key does not open ("account.totp.reset", with the
// reason), for a site whose key of second-factor secrets is lost: those
// people set their second factor up again, as after an administrator's
// reset. Secrets the key opens, and clear ones, are left as they are. It
// returns how many it removed.
func (db *DB) ResetLostTOTP(ctx context.Context, reason string) (int, error) {
	if strings.TrimSpace(reason) == "" {
		return 0, errs.Field("reason", "reason.required_access")
	}
	n := 0
	err := db.Write(ctx, "account.totp.reset", reason, func(tx *Tx) error {
		var lost []string
		rows, err := tx.query(`SELECT id, totp_secret FROM accounts WHERE totp_secret LIKE 'v1:%' ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, stored string
			if err := rows.Scan(&id, &stored); err != nil {
				rows.Close()
				return err
			}
			if _, err := openSecret(db.secretKey, id, stored); err != nil {
				lost = append(lost, id)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range lost {
			if err := tx.resetTOTP(id); err != nil {
				return err
			}
		}
		n = len(lost)
		return nil
	})
	return n, err
}
