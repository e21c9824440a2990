package store

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/identity"
)

// accessEntities are the entities whose trail records access rights.
const accessEntities = `('account', 'api_token')`

// AuditStore reads the audit trail.
type AuditStore struct{ db *DB }

// Audit returns the audit trail reader of the database.
func (db *DB) Audit() *AuditStore { return &AuditStore{db: db} }

// recordByCode selects the ids of the records a human code names: a batch's
// lot and its steps, a material lot, a product's, master's, room's or
// line's code, an account's username. Each "?" takes the code.
const recordByCode = `SELECT CAST(id AS TEXT) FROM batches WHERE lot = ?
	UNION SELECT CAST(s.id AS TEXT) FROM batch_steps s JOIN batches b ON b.id = s.batch_id WHERE b.lot = ?
	UNION SELECT CAST(id AS TEXT) FROM material_lots WHERE code = ?
	UNION SELECT CAST(id AS TEXT) FROM products WHERE code = ?
	UNION SELECT CAST(id AS TEXT) FROM masters WHERE code = ?
	UNION SELECT CAST(id AS TEXT) FROM rooms WHERE code = ?
	UNION SELECT CAST(id AS TEXT) FROM lines WHERE code = ?
	UNION SELECT CAST(id AS TEXT) FROM accounts WHERE username = ?`

// Entries lists audit entries matching f, oldest first (newest first with
// f.Newest). A client's user sees only the entries of its own laboratory's
// records, and never who of the site's staff made them: such an entry's
// actor is blank and marked ActorStaff, and a value or a record naming a
// person of the site is blanked and labelled audit.StaffLabel. Ids are labelled with the
// record they name, in the reader's scope.
func (s *AuditStore) Entries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	out, err := s.entries(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := s.label(ctx, actorOf(ctx), out); err != nil {
		return nil, err
	}
	return out, nil
}

// entries lists the audit entries matching f as they are stored, for the
// proof bundle (whose digests cover the stored content).
func (s *AuditStore) entries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	a := actorOf(ctx)
	staff := isStaff(a)
	cond, args := inScope("client_id", a.ClientScope())
	q := `SELECT seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason, COALESCE(client_id, ''), prev_hash, hash
		FROM audit_log WHERE seq > ? AND (` + cond
	args = append([]any{f.AfterSeq}, args...)
	// Site data's trail (no client) is for staff; the trail of accounts
	// and access rights is for those who may see accounts, whichever
	// client an account belongs to (Annex 11 §12.3): it holds no client
	// know-how.
	if staff {
		q += ` OR (client_id IS NULL AND entity NOT IN ` + accessEntities + `)`
	}
	if a.Can(identity.PermAccountsView) {
		q += ` OR entity IN ` + accessEntities
	}
	q += `)`
	if f.BeforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, f.BeforeSeq)
	}
	for _, c := range []struct{ col, val string }{{"entity", f.Entity}, {"entity_id", f.EntityID}, {"actor_id", f.Actor}, {"command", f.Command}} {
		if c.val != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.val)
		}
	}
	if f.Actor != "" && !staff {
		// A client's user filters by the accounts of its laboratories
		// only: which entries a staff member's id made is not its to
		// learn, even when the entries themselves are (unnamed).
		pc, pargs := inScope("client_id", a.ClientScope())
		q += " AND actor_id IN (SELECT CAST(id AS TEXT) FROM accounts WHERE " + pc + ")"
		args = append(args, pargs...)
	}
	if f.Person != "" {
		// A client's user finds the people of its laboratories only:
		// the names of the site's staff are not its to search.
		pc, pargs := "1 = 1", []any(nil)
		if !staff {
			pc, pargs = inScope("client_id", a.ClientScope())
		}
		q += " AND actor_id IN (SELECT CAST(id AS TEXT) FROM accounts WHERE (username = ? OR name = ?) AND " + pc + ")"
		args = append(append(args, f.Person, f.Person), pargs...)
	}
	if f.Record != "" {
		q += " AND entity_id IN (" + recordByCode + ")"
		for range strings.Count(recordByCode, "?") {
			args = append(args, f.Record)
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
	// Newest first reads back from the end, or from BeforeSeq; after
	// AfterSeq it reads forward, then turns the page round.
	reverse := f.Newest && f.AfterSeq > 0 && f.BeforeSeq == 0
	if f.Newest && !reverse {
		q += " ORDER BY seq DESC LIMIT ?"
	} else {
		q += " ORDER BY seq LIMIT ?"
	}
	args = append(args, limit)
	out, err := list(ctx, s.db, q, args, func(sc scanner, e *audit.Entry) error {
		err := sc.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorName, &e.SessionID, &e.Address, &e.Command,
			&e.Entity, &e.EntityID, &e.Field, &e.Old, &e.New, &e.Reason, &e.ClientID, &e.PrevHash, &e.Hash)
		e.At = e.At.UTC()
		return err
	})
	if err != nil {
		return nil, err
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// label names the ids of the entries (the record, an old or a new value)
// with the record they identify, in the reader's scope; for a client's
// reader it hides the site's staff (see Entries).
func (s *AuditStore) label(ctx context.Context, a identity.Actor, entries []audit.Entry) error {
	staff := isStaff(a)
	ids := map[string]bool{}
	for _, e := range entries {
		for _, v := range []string{e.EntityID, e.Old, e.New, e.ActorID} {
			if _, err := uuid.Parse(v); err == nil && len(v) == 36 {
				ids[v] = true
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names := map[string]string{}
	// people holds the accounts among the ids: true for the site's staff.
	people := map[string]bool{}
	keys := make([]string, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	scope, directory := a.ClientScope(), a.DirectoryScope()
	for start := 0; start < len(keys); start += 200 {
		chunk := keys[start:min(start+200, len(keys))]
		in := "(?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		idArgs := make([]any, len(chunk))
		for i, id := range chunk {
			idArgs[i] = id
		}
		// Client-owned records in the reader's scope (a client by its
		// own id); site records (buildings, rooms, lines, equipment,
		// the staff's shifts, teams and people) for staff alone; every account, to know the
		// site's staff from a client's users.
		// A client itself is named to whoever may see its name and code
		// (the directory scope: an administrator not assigned to it too).
		type source struct {
			sql    string
			client bool
		}
		clients := `SELECT CAST(id AS TEXT), code, CAST(id AS TEXT) FROM clients WHERE id IN ` + in
		sources := []source{
			{`SELECT CAST(id AS TEXT), lot, CAST(client_id AS TEXT) FROM batches WHERE id IN ` + in, true},
			{`SELECT CAST(s.id AS TEXT), b.lot || ' · ' || s.op_title, CAST(s.client_id AS TEXT) FROM batch_steps s JOIN batches b ON b.id = s.batch_id WHERE s.id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code, CAST(client_id AS TEXT) FROM products WHERE id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code || ' v' || CAST(version AS TEXT), CAST(client_id AS TEXT) FROM masters WHERE id IN ` + in, true},
			{clients, true},
			{`SELECT CAST(id AS TEXT), code, CAST(client_id AS TEXT) FROM orders WHERE id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code, CAST(client_id AS TEXT) FROM deviations WHERE id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code || ' v' || CAST(version AS TEXT), CAST(client_id AS TEXT) FROM specs WHERE id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code, CAST(client_id AS TEXT) FROM samples WHERE id IN ` + in, true},
			{`SELECT CAST(id AS TEXT), code, CAST(client_id AS TEXT) FROM oos_investigations WHERE id IN ` + in, true},
		}
		if staff {
			sources = append(sources,
				source{`SELECT CAST(id AS TEXT), code, '' FROM rooms WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM lines WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM material_lots WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM buildings WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM equipment WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM shifts WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), code, '' FROM teams WHERE id IN ` + in, false},
				source{`SELECT CAST(id AS TEXT), name, '' FROM people WHERE id IN ` + in, false})
		}
		err := s.db.Read(ctx, func(tx *Tx) error {
			for _, src := range sources {
				if err := scanLabels(tx, src.sql, idArgs, func(id, name, client string) {
					sc := scope
					if src.sql == clients {
						sc = directory
					}
					if !src.client || sc.All || containsStr(sc.Clients, client) {
						names[id] = name
					}
				}); err != nil {
					return err
				}
			}
			return scanLabels(tx, `SELECT CAST(id AS TEXT), name, COALESCE(CAST(client_id AS TEXT), '') FROM accounts WHERE id IN `+in, idArgs,
				func(id, name, client string) {
					people[id] = client == ""
					if staff || client != "" && (scope.All || containsStr(scope.Clients, client)) {
						names[id] = name
					}
				})
		})
		if err != nil {
			return err
		}
	}
	for i := range entries {
		e := &entries[i]
		e.EntityLabel, e.OldLabel, e.NewLabel = names[e.EntityID], names[e.Old], names[e.New]
		if staff {
			continue
		}
		// A client's reader: the site's staff stay unnamed. An actor
		// that is no account of a client (a person of the site, or
		// galenix itself) is the site's.
		if isSite, known := people[e.ActorID]; isSite || !known {
			e.ActorID, e.ActorName, e.ActorStaff = "", "", true
			e.SessionID, e.Address = "", ""
		}
		// The record is a person of the site (a staff account assigned
		// to the laboratory): the entry stays, the person unnamed.
		if people[e.EntityID] {
			e.EntityID, e.EntityLabel = "", audit.StaffLabel
		}
		// A printed name of a person (approved_name, qp_name ...) in an
		// entry of the site's staff is a person of the site.
		personName := e.ActorStaff && strings.HasSuffix(e.Field, "_name") && e.Field != "product_name"
		if people[e.Old] || personName && e.Old != "" {
			e.Old, e.OldLabel = "", audit.StaffLabel
		}
		if people[e.New] || personName && e.New != "" {
			e.New, e.NewLabel = "", audit.StaffLabel
		}
	}
	return nil
}

func scanLabels(tx *Tx, q string, args []any, fn func(id, name, client string)) error {
	rows, err := tx.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		var client *string
		if err := rows.Scan(&id, &name, &client); err != nil {
			return err
		}
		c := ""
		if client != nil {
			c = *client
		}
		fn(id, name, c)
	}
	return rows.Err()
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
