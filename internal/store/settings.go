package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// The sign-in policy lives in the settings table, one row per field, under
// keys "policy.<field>". A field without a row has its default value
// (identity.DefaultPolicy), so a new site needs no rows at all.
const policyPrefix = "policy."

// policyFields lists the policy's fields in the form the settings table
// and the audit trail keep them: durations as Go durations ("15m0s").
func policyFields(p identity.Policy) []audit.Field {
	return []audit.Field{
		audit.F("min_length", strconv.Itoa(p.MinLength)),
		audit.F("history", strconv.Itoa(p.History)),
		audit.F("max_age", p.MaxAge.String()),
		audit.F("lock_after", strconv.Itoa(p.LockAfter)),
		audit.F("lock_for", p.LockFor.String()),
		audit.F("idle", p.Idle.String()),
		audit.F("shopfloor_idle", p.ShopfloorIdle.String()),
		audit.F("absolute", p.Absolute.String()),
		audit.F("admin_totp", strconv.FormatBool(p.AdminTOTP)),
	}
}

// setPolicyField sets one field of p from its stored value. An unknown
// field is left alone, so that a newer galenix's settings do not stop an
// older one.
func setPolicyField(p *identity.Policy, field, value string) error {
	var err error
	num := func(dst *int) { *dst, err = strconv.Atoi(value) }
	dur := func(dst *time.Duration) { *dst, err = time.ParseDuration(value) }
	switch field {
	case "min_length":
		num(&p.MinLength)
	case "history":
		num(&p.History)
	case "max_age":
		dur(&p.MaxAge)
	case "lock_after":
		num(&p.LockAfter)
	case "lock_for":
		dur(&p.LockFor)
	case "idle":
		dur(&p.Idle)
	case "shopfloor_idle":
		dur(&p.ShopfloorIdle)
	case "absolute":
		dur(&p.Absolute)
	case "admin_totp":
		p.AdminTOTP, err = strconv.ParseBool(value)
	case "version":
		num(&p.Version)
	}
	if err != nil {
		return fmt.Errorf("setting %s%s = %q: %w", policyPrefix, field, value, err)
	}
	return nil
}

// policy returns the site's sign-in policy: the stored settings over the
// defaults.
func (tx *Tx) policy() (identity.Policy, error) {
	return tx.policyOver(identity.DefaultPolicy())
}

// policyOver returns the stored settings over the given defaults.
func (tx *Tx) policyOver(p identity.Policy) (identity.Policy, error) {
	// The pattern is written in the query: SQLite prepares a query again
	// each time a LIKE pattern is bound.
	rows, err := tx.query(`SELECT key, value FROM settings WHERE key LIKE '` + policyPrefix + `%'`)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return p, err
		}
		if err := setPolicyField(&p, strings.TrimPrefix(k, policyPrefix), v); err != nil {
			return p, err
		}
	}
	p.Version = max(p.Version, 1) // never changed: its first version
	return p, rows.Err()
}

// setPolicy stores the site's sign-in policy in this transaction and
// audits each field that changed (entity "policy", id "sign-in"). It checks
// the policy's bounds; with needReason, a change without a reason is
// refused.
func (tx *Tx) setPolicy(p identity.Policy, needReason bool) error {
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := tx.policy()
	if err != nil {
		return err
	}
	if p.Version != 0 && p.Version != old.Version {
		return errs.StaleVersion(p.Version, old.Version)
	}
	changes := audit.Diff("policy", "sign-in", policyFields(old), policyFields(p))
	if len(changes) > 0 && needReason && tx.reason == "" {
		return errReasonForPolicy()
	}
	if len(changes) == 0 {
		return nil
	}
	// The version first, counted only if it is still the one read: of two
	// concurrent changes of one version, the second finds it moved.
	res, err := tx.exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value = ?`,
		policyPrefix+"version", strconv.Itoa(old.Version+1), strconv.Itoa(old.Version))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		cur, err := tx.policy()
		if err != nil {
			return err
		}
		return errs.StaleVersion(old.Version, cur.Version)
	}
	for _, c := range changes {
		if _, err := tx.exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			policyPrefix+c.Field, c.New); err != nil {
			return err
		}
	}
	return tx.Audit(changes, "")
}

// errReasonForPolicy asks for the reason of a policy change.
func errReasonForPolicy() error {
	return errs.Field("reason", "reason.required_kept", text.Key("reason.what.policy"))
}

// SignInPolicy returns the site's sign-in policy. It is no secret: anyone may
// read it, so that a person knows what a new password must be.
func (s *IdentityStore) SignInPolicy(ctx context.Context) (identity.Policy, error) {
	var p identity.Policy
	err := s.db.Read(ctx, func(tx *Tx) (err error) { p, err = tx.policyOver(s.Policy); return err })
	return p, err
}

// SetSignInPolicy changes the site's sign-in policy ("policy.update"), audited
// field by field; only an administrator may, and a change needs a reason.
func (s *IdentityStore) SetSignInPolicy(ctx context.Context, p identity.Policy, reason string) (identity.Policy, error) {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return identity.Policy{}, err
	}
	err := s.db.Write(ctx, "policy.update", reason, func(tx *Tx) error { return tx.setPolicy(p, true) })
	if err != nil {
		return identity.Policy{}, err
	}
	return s.SignInPolicy(ctx)
}
