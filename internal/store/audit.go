package store

import (
	"context"

	"galenix/internal/audit"
	"galenix/internal/identity"
)

// accessEntities are the entities whose trail records access rights.
const accessEntities = `('account', 'api_token')`

// AuditStore reads the audit trail.
type AuditStore struct{ db *DB }

// Audit returns the audit trail reader of the database.
func (db *DB) Audit() *AuditStore { return &AuditStore{db: db} }

// Entries lists audit entries matching f, oldest first. A client's user sees
// only the entries of its own laboratory's records.
func (s *AuditStore) Entries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	a := actorOf(ctx)
	cond, args := inScope("client_id", a.ClientScope())
	q := `SELECT seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason, COALESCE(client_id, ''), prev_hash, hash
		FROM audit_log WHERE seq > ? AND (` + cond
	args = append([]any{f.AfterSeq}, args...)
	// Site data's trail (no client) is for staff; the trail of accounts
	// and access rights is for those who may see accounts, whichever
	// client an account belongs to (Annex 11 §12.3): it holds no client
	// know-how.
	if isStaff(a) {
		q += ` OR (client_id IS NULL AND entity NOT IN ` + accessEntities + `)`
	}
	if a.Can(identity.PermAccountsView) {
		q += ` OR entity IN ` + accessEntities
	}
	q += `)`
	for _, c := range []struct{ col, val string }{{"entity", f.Entity}, {"entity_id", f.EntityID}, {"actor_id", f.Actor}} {
		if c.val != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.val)
		}
	}
	if !f.From.IsZero() {
		q += " AND at >= ?"
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		q += " AND at < ?"
		args = append(args, f.To.UTC())
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q += " ORDER BY seq LIMIT ?"
	args = append(args, limit)
	return list(ctx, s.db, q, args, func(sc scanner, e *audit.Entry) error {
		err := sc.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorName, &e.SessionID, &e.Address, &e.Command,
			&e.Entity, &e.EntityID, &e.Field, &e.Old, &e.New, &e.Reason, &e.ClientID, &e.PrevHash, &e.Hash)
		e.At = e.At.UTC()
		return err
	})
}
