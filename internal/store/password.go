package store

import (
	"context"
	"errors"
	"strconv"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// keptPasswords is how many past password hashes each account keeps: more
// than any policy's history may ask for, so that raising the history
// takes effect at once; fewer than all, since old hashes help nobody.
const keptPasswords = 24

// setPassword gives the account a new password in this transaction. The
// password must meet the policy (length, common passwords, username) and
// not be one of the account's last policy.History passwords; its argon2id
// hash replaces the old one and joins the history, and the password's age
// starts again. The audit trail records that the password changed, never
// the password nor its hash. The account's other sessions end: whoever
// held the old password holds nothing now.
//
// A password set by anyone but the account's owner (an administrator's
// creation or reset) is known to them: the account is marked so that its
// owner must change it before any other request and any signature (21 CFR
// 11.300, Annex 11 §14); the owner's own change clears the mark. The mark's
// change is audited ("password_must_change").
func (tx *Tx) setPassword(accountID, password string, policy identity.Policy) error {
	var username, source, clientID, current string
	var mustChange bool
	err := tx.byID(`SELECT username, source, COALESCE(CAST(client_id AS TEXT), ''), password_hash, password_must_change FROM accounts WHERE id = ?`, accountID,
		func(sc scanner) error { return sc.Scan(&username, &source, &clientID, &current, &mustChange) }, "store.no_such_account")
	if err != nil {
		return err
	}
	if source == SourceLDAP {
		return errs.Field("password", "store.account_signs_site_directory")
	}
	if err := policy.CheckPassword(password, username); err != nil {
		return err
	}
	if policy.History > 0 {
		used, err := tx.passwordHistory(accountID, policy.History)
		if err != nil {
			return err
		}
		// The current password is among the last used, whether or not
		// the history has it (an account older than the history). Each
		// hash is checked once: argon2id is slow on purpose.
		seen := map[string]bool{}
		for _, h := range append(used, current) {
			if seen[h] {
				continue
			}
			seen[h] = true
			if tx.db.passwords.Check(h, password) {
				return identity.ErrPasswordReused(policy.History)
			}
		}
	}
	hash, err := tx.db.passwords.Hash(password)
	if err != nil {
		return errs.Wrap(err, "hashing a password")
	}
	adminSet := accountID != tx.actor.UserID
	if _, err := tx.exec(`UPDATE accounts SET password_hash = ?, password_changed_at = ?, password_must_change = ? WHERE id = ?`, hash, tx.now, adminSet, accountID); err != nil {
		return err
	}
	if _, err := tx.exec(`INSERT INTO password_history (account_id, password_hash, created_at) VALUES (?,?,?)`, accountID, hash, tx.now); err != nil {
		return err
	}
	if _, err := tx.exec(`DELETE FROM password_history WHERE account_id = ? AND created_at < (SELECT MIN(created_at) FROM
		(SELECT created_at FROM password_history WHERE account_id = ? ORDER BY created_at DESC LIMIT ?) AS kept)`, accountID, accountID, keptPasswords); err != nil {
		return err
	}
	if _, err := tx.deleteSessions(`account_id = ? AND CAST(id AS TEXT) <> ?`, accountID, tx.actor.SessionID); err != nil {
		return err
	}
	changes := []audit.Change{{Entity: "account", EntityID: accountID, Field: "password", Old: "***", New: "***"}}
	if adminSet != mustChange {
		changes = append(changes, audit.Change{Entity: "account", EntityID: accountID, Field: "password_must_change",
			Old: strconv.FormatBool(mustChange), New: strconv.FormatBool(adminSet)})
	}
	return tx.Audit(changes, clientID)
}

// passwordHistory returns the hashes of the account's last n passwords,
// newest first.
func (tx *Tx) passwordHistory(accountID string, n int) ([]string, error) {
	rows, err := tx.query(`SELECT password_hash FROM password_history WHERE account_id = ? ORDER BY created_at DESC LIMIT ?`, accountID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ChangePassword changes the actor's own password ("account.password.change"),
// given the current one. A wrong current password counts as a failed
// sign-in, towards the account's lock: a session left open must not become
// a way to guess the password.
func (s *IdentityStore) ChangePassword(ctx context.Context, current, next string) error {
	a, err := signedInPerson(ctx)
	if err != nil {
		return err
	}
	var acc identity.Account
	var hash string
	err = s.db.Read(ctx, func(tx *Tx) error {
		return tx.byID(`SELECT `+accountCols+`, password_hash FROM accounts WHERE id = ?`, a.UserID,
			func(sc scanner) error { return scanAccount(sc, &acc, &hash) }, "store.no_such_account")
	})
	if err != nil {
		return err
	}
	if acc.Source == SourceLDAP {
		return errs.Field("current", "store.account_signs_site_directory")
	}
	ok, err := s.db.passwords.Verify(ctx, hash, current)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(ctx, a, &acc, acc.Username, failure{kind: identity.EventLoginFailed,
			audit: "wrong current password when changing it", count: true}); err != nil {
			return err
		}
		return errs.Field("current", "store.current_password_wrong")
	}
	err = s.db.Write(ctx, "account.password.change", "", func(tx *Tx) error {
		policy, err := tx.policyOver(s.Policy)
		if err != nil {
			return err
		}
		return tx.setPassword(a.UserID, next, policy)
	})
	// The request names the new password "new".
	var e *errs.Error
	if errors.As(err, &e) && e.Field == "password" {
		moved := *e
		moved.Field = "new"
		return &moved
	}
	return err
}
