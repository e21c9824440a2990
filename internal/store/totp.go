package store

import (
	"context"
	"database/sql"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// EnrollTOTP starts setting up the actor's second factor
// ("account.totp.enroll"): a new secret is kept, not yet asked for at
// sign-in. Asked again before confirming, it answers the same secret, so
// that an app already set up with it keeps working. The audit trail records
// that a secret was made, never the secret.
func (s *IdentityStore) EnrollTOTP(ctx context.Context) (identity.TOTPEnrollment, error) {
	a, err := signedInPerson(ctx)
	if err != nil {
		return identity.TOTPEnrollment{}, err
	}
	var out identity.TOTPEnrollment
	err = s.db.Write(ctx, "account.totp.enroll", "", func(tx *Tx) error {
		username, secret, enabled, _, err := tx.totpState(a.UserID, s.db.secretKey)
		if err != nil {
			return err
		}
		if enabled {
			return errs.E(errs.Conflict, "store.your_second_factor_already")
		}
		if secret != "" {
			out, err = identity.TOTPFor(username, secret)
			return errs.Wrap(err, "second-factor address")
		}
		if out, err = identity.NewTOTP(username); err != nil {
			return errs.Wrap(err, "second-factor secret")
		}
		sealed, err := sealSecret(s.db.secretKey, a.UserID, out.Secret)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE accounts SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, sealed, a.UserID); err != nil {
			return err
		}
		return tx.Audit([]audit.Change{{Entity: "account", EntityID: a.UserID, Field: "totp_secret", New: "***"}}, "")
	})
	return out, err
}

// ConfirmTOTP turns the actor's second factor on ("account.totp.confirm"),
// given a code of the secret that EnrollTOTP made: proof that their app
// holds it. From then on every sign-in asks for a code; the code given here
// is used, and no sign-in accepts it again.
func (s *IdentityStore) ConfirmTOTP(ctx context.Context, code string) error {
	a, err := signedInPerson(ctx)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, "account.totp.confirm", "", func(tx *Tx) error {
		_, secret, enabled, last, err := tx.totpState(a.UserID, s.db.secretKey)
		step, ok := identity.MatchTOTP(secret, code, tx.now)
		switch {
		case err != nil:
			return err
		case enabled:
			return errs.E(errs.Conflict, "store.totp_already_set_up")
		case secret == "":
			return errs.Field("code", "store.start_setting_up_second")
		case !ok:
			return errs.Field("code", "store.code_wrong_expired_enter")
		case step <= last:
			return errs.Field("code", "store.totp_code_used")
		}
		if err := tx.useTOTPStep(a.UserID, step); err != nil {
			if errs.Is(err, errs.Unauthorized) {
				return errs.Field("code", "store.totp_code_used") // a confirmation at the same time
			}
			return err
		}
		if _, err := tx.exec(`UPDATE accounts SET totp_enabled = ? WHERE id = ?`, true, a.UserID); err != nil {
			return err
		}
		return tx.Audit([]audit.Change{{Entity: "account", EntityID: a.UserID, Field: "totp_enabled", Old: "false", New: "true"}}, "")
	})
}

// resetTOTP removes an account's second factor in this transaction, for an
// administrator helping someone who lost theirs: the person sets up a new
// one (an administrator must, before doing anything else).
func (tx *Tx) resetTOTP(accountID string) error {
	var secret string
	var enabled bool
	err := tx.byID(`SELECT totp_secret, totp_enabled FROM accounts WHERE id = ?`, accountID,
		func(sc scanner) error { return sc.Scan(&secret, &enabled) }, "store.no_such_account")
	if err != nil || (secret == "" && !enabled) {
		return err
	}
	if _, err := tx.exec(`UPDATE accounts SET totp_secret = '', totp_enabled = ?, totp_last_step = 0 WHERE id = ?`, false, accountID); err != nil {
		return err
	}
	changes := []audit.Change{{Entity: "account", EntityID: accountID, Field: "totp_secret", Old: "***"}}
	if enabled {
		changes = append(changes, audit.Change{Entity: "account", EntityID: accountID, Field: "totp_enabled", Old: "true", New: "false"})
	}
	return tx.Audit(changes, "")
}

// totpState returns an account's username and second factor: its secret,
// opened with the key, whether it is on, and the time step of the last code
// used.
func (tx *Tx) totpState(accountID string, key []byte) (username, secret string, enabled bool, lastStep int64, err error) {
	var stored string
	err = tx.byID(`SELECT username, totp_secret, totp_enabled, totp_last_step FROM accounts WHERE id = ?`, accountID,
		func(sc scanner) error { return sc.Scan(&username, &stored, &enabled, &lastStep) }, "store.no_such_account")
	if err != nil {
		return "", "", false, 0, err
	}
	secret, err = openSecret(key, accountID, stored)
	return
}

// useTOTPStep records, in this transaction, that an account used the code
// of a time step, and refuses it if a code of that step or a later one was
// used already: the check and the write are one conditional UPDATE, so of
// two sign-ins with the same code, one wins (RFC 6238 §5.2).
func (tx *Tx) useTOTPStep(accountID string, step int64) error {
	res, err := tx.exec(`UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, accountID, step)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errTOTPUsed()
	}
	return nil
}

// MyAccount returns what the actor sees of their own sign-in: password age,
// second factor, and the sessions still open.
func (s *IdentityStore) MyAccount(ctx context.Context) (identity.AccountSecurity, error) {
	a, err := signedInPerson(ctx)
	if err != nil {
		return identity.AccountSecurity{}, err
	}
	var out identity.AccountSecurity
	err = s.db.Read(ctx, func(tx *Tx) error {
		policy, err := tx.policyOver(s.Policy)
		if err != nil {
			return err
		}
		var source string
		var created time.Time
		var changed sql.NullTime
		err = tx.byID(`SELECT source, created_at, password_changed_at, totp_enabled FROM accounts WHERE id = ?`, a.UserID,
			func(sc scanner) error { return sc.Scan(&source, &created, &changed, &out.TOTPEnabled) }, "store.no_such_account")
		if err != nil {
			return err
		}
		out.Local = source != SourceLDAP
		out.PasswordChangedAt = created.UTC()
		if changed.Valid {
			out.PasswordChangedAt = changed.Time.UTC()
		}
		if out.Local {
			out.PasswordExpiresAt = policy.PasswordExpires(out.PasswordChangedAt)
		}
		out.TOTPRequired = policy.AdminTOTP && a.Has(identity.RoleAdmin)
		sessions, err := tx.liveSessions(a.UserID, s.Policy)
		for _, si := range sessions {
			si.Current = si.ID == a.SessionID
			out.Sessions = append(out.Sessions, si)
		}
		return err
	})
	return out, err
}
