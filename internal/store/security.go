package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// failure is a refused sign-in to record.
type failure struct {
	// kind is the security event's kind.
	kind string
	// audit is what the audit trail says of the attempt ("wrong password").
	audit string
	// detail is the security event's detail, if more than its kind.
	detail string
	// count: the failure counts towards the account's lock.
	count bool
}

// recordFailure records a refused sign-in in one command
// ("session.login_failed"): in the audit trail, as a security event, and,
// when it counts, in the account's run of failures. The failure that ends
// the run locks the account ("account.locked", in the same transaction).
// acc is nil for a username no account has. The actor is galenix itself
// for a sign-in (nobody has proved who they are yet), with the address the
// attempt came from.
func (s *IdentityStore) recordFailure(ctx context.Context, actor identity.Actor, acc *identity.Account, username string, f failure) error {
	return s.db.Write(identity.WithActor(ctx, actor), "session.login_failed", "", func(tx *Tx) error {
		if acc == nil {
			// The audit trail keeps no username no account has: people
			// type their password there by mistake.
			if err := tx.Audit([]audit.Change{{Entity: "account", Field: "sign_in", New: f.audit}}, ""); err != nil {
				return err
			}
			return tx.raise(f.kind, username, "", f.detail)
		}
		changes := []audit.Change{{Entity: "account", EntityID: acc.ID, Field: "sign_in", New: f.audit}}
		var n int
		if f.count {
			if err := tx.queryRow(`UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins`, acc.ID).Scan(&n); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Entity: "account", EntityID: acc.ID, Field: "failed_logins", Old: strconv.Itoa(n - 1), New: strconv.Itoa(n)})
		}
		if err := tx.Audit(changes, ""); err != nil {
			return err
		}
		policy, err := tx.policyOver(s.Policy)
		if err != nil {
			return err
		}
		detail := f.detail
		if f.count && detail == "" {
			detail = fmt.Sprintf("%d/%d", n, policy.LockAfter)
		}
		if err := tx.raise(f.kind, acc.Username, acc.ID, detail); err != nil {
			return err
		}
		if !f.count || n < policy.LockAfter {
			return nil
		}
		until := tx.now.Add(policy.LockFor)
		if _, err := tx.exec(`UPDATE accounts SET locked_until = ?, failed_logins = 0 WHERE id = ?`, until, acc.ID); err != nil {
			return err
		}
		// A lock ends the account's sessions at once: whoever guessed at
		// the password may be its holder's session's too (a tablet left
		// signed in), and the holder signs in again once the lock ends.
		if _, err := tx.deleteSessions(`account_id = ?`, acc.ID); err != nil {
			return err
		}
		if err := tx.auditAs("account.locked", []audit.Change{
			{Entity: "account", EntityID: acc.ID, Field: "locked_until", New: auditAt(until)},
			{Entity: "account", EntityID: acc.ID, Field: "failed_logins", Old: strconv.Itoa(n), New: "0"},
		}, ""); err != nil {
			return err
		}
		return tx.raise(identity.EventAccountLocked, acc.Username, acc.ID,
			fmt.Sprintf("until %s, after %d failures in a row", auditAt(until), n))
	})
}

// auditAs appends audit entries under another command than the
// transaction's: one transaction that does two things (a failure that locks
// an account) records each under its own name.
func (tx *Tx) auditAs(command string, changes []audit.Change, clientID string) error {
	saved := tx.command
	tx.command = command
	defer func() { tx.command = saved }()
	return tx.Audit(changes, clientID)
}

// raise records a security event in this transaction, at its time and from
// its actor's address.
func (tx *Tx) raise(kind, username, accountID, detail string) error {
	_, err := tx.exec(`INSERT INTO security_events (id, at, kind, username, account_id, address, detail) VALUES (?,?,?,?,?,?,?)`,
		NewID(), tx.now, kind, printable(username, 64), nullable(accountID), printable(tx.actor.Address, 64), detail)
	return err
}

// printable makes text given by anyone fit to store and show: valid UTF-8,
// no control characters, at most max characters.
func printable(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

const eventCols = `id, at, kind, username, COALESCE(CAST(account_id AS TEXT), ''), address, detail, COALESCE(acknowledged_by, ''), acknowledged_at`

func scanEvent(sc scanner, e *identity.SecurityEvent) error {
	var ack sql.NullTime
	if err := sc.Scan(&e.ID, &e.At, &e.Kind, &e.Username, &e.AccountID, &e.Address, &e.Detail, &e.AcknowledgedBy, &ack); err != nil {
		return err
	}
	e.At = e.At.UTC()
	e.AcknowledgedAt = nil
	if ack.Valid {
		t := ack.Time.UTC()
		e.AcknowledgedAt = &t
	}
	return nil
}

// SecurityEvents lists the security events, those nobody acknowledged
// first, newest first.
func (s *IdentityStore) SecurityEvents(ctx context.Context, f identity.EventFilter) ([]identity.SecurityEvent, error) {
	if err := actorOf(ctx).Require(identity.PermSecurityEvents); err != nil {
		return nil, err
	}
	q := `SELECT ` + eventCols + ` FROM security_events WHERE 1=1`
	var args []any
	if f.Open {
		q += ` AND acknowledged_at IS NULL`
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, f.To.UTC())
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q += ` ORDER BY CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END, at DESC, id DESC LIMIT ?`
	return list(ctx, s.db, q, append(args, limit), scanEvent)
}

// AcknowledgeEvent records that the actor took note of a security event
// ("security.event.acknowledge", audited), with a comment, the write's
// reason: required for a badge reader's alert (what was found, what was
// done).
func (s *IdentityStore) AcknowledgeEvent(ctx context.Context, id, comment string) (*identity.SecurityEvent, error) {
	a := actorOf(ctx)
	if err := a.Require(identity.PermSecurityEvents); err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > maxReason {
		return nil, errs.Field("comment", "store.comment_must_text_most", strconv.Itoa(maxReason))
	}
	var e identity.SecurityEvent
	err := s.db.Write(ctx, "security.event.acknowledge", comment, func(tx *Tx) error {
		err := tx.byID(`SELECT `+eventCols+` FROM security_events WHERE id = ?`, id,
			func(sc scanner) error { return scanEvent(sc, &e) }, "store.no_such_security_event")
		if err != nil {
			return err
		}
		if comment == "" && strings.HasPrefix(e.Kind, "access_") {
			return errs.Field("comment", "store.alert_comment_required")
		}
		if e.AcknowledgedAt != nil {
			return errs.E(errs.Conflict, "store.security_event_already_acknowledged", e.AcknowledgedBy)
		}
		if _, err := tx.exec(`UPDATE security_events SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`, a.Username, tx.now, e.ID); err != nil {
			return err
		}
		at := tx.now
		e.AcknowledgedBy, e.AcknowledgedAt = a.Username, &at
		return tx.Audit([]audit.Change{{Entity: "security_event", EntityID: e.ID, Field: "acknowledged_by", New: a.Username}}, "")
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}
