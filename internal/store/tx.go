package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/idem"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// Tx is one transaction: a named write command or a read. Now is fixed when
// the transaction starts, so every row it writes carries the same time.
type Tx struct {
	tx txConn
	// ctx is the command's context: cancelling it stops the statement
	// under way, not only the next one.
	ctx context.Context
	db  *DB
	// now is the transaction's clock, read once when it begins, and
	// actor who runs it: fixed for the transaction. Only a history load
	// (DB.WriteHistory) dates what it writes otherwise (History.Backdate).
	now     time.Time
	actor   identity.Actor
	history bool
	// signing is set while a signature's target is read to be signed,
	// not only to list its signatures (Tx.target).
	signing bool
	command string
	reason  string
	// pending are the audit entries the command appends when it commits.
	pending []audit.Entry
	// outbox are the events it appends when it commits (outbox.go).
	outbox []pendingEvent
}

// Write runs one named command in one transaction: fn applies the domain
// rules and writes the rows through tx, whose helpers append the audit
// entries in the same transaction; then it commits. If fn fails, nothing is
// written. The actor comes from ctx: a write without one is refused, so that
// every change is attributable.
func (db *DB) Write(ctx context.Context, command, reason string, fn func(tx *Tx) error) error {
	actor, ok := identity.ActorFrom(ctx)
	if !ok || actor.UserID == "" {
		return errs.Wrap(errors.New("write without an actor: "+command), "write")
	}
	if h := db.historyOf(ctx); h != nil {
		return h.nested(actor, strings.TrimSpace(reason), true, fn)
	}
	return db.run(ctx, db.write, false, actor, command, strings.TrimSpace(reason), fn)
}

// Read runs fn in a read-only transaction, so its queries see one snapshot.
// Within a history load (see WriteHistory) it reads in the load's
// transaction, which sees what the load has written so far.
func (db *DB) Read(ctx context.Context, fn func(tx *Tx) error) error {
	actor, _ := identity.ActorFrom(ctx)
	if h := db.historyOf(ctx); h != nil {
		return h.nested(actor, "", false, fn)
	}
	return db.run(ctx, db.read, true, actor, "", "", fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, readOnly bool, actor identity.Actor, command, reason string, fn func(tx *Tx) error) error {
	var conn txConn
	var end func(commit bool) error
	if db.dialect == Postgres {
		c, e, err := db.beginPostgres(ctx, readOnly, actor)
		if err != nil {
			return db.classify(err, "begin "+command)
		}
		conn, end = c, e
	} else {
		c, err := db.conn(ctx, pool)
		if err != nil {
			return db.classify(err, "begin "+command)
		}
		stx, err := c.BeginTx(ctx, nil)
		if err != nil {
			c.Close()
			return db.classify(err, "begin "+command)
		}
		conn, end = stx, func(commit bool) error {
			defer c.Close()
			if commit {
				return stx.Commit()
			}
			return stx.Rollback()
		}
	}
	tx := &Tx{tx: conn, ctx: ctx, db: db, now: db.Now().UTC().Truncate(time.Microsecond), actor: actor, command: command, reason: reason}
	// A panic in fn must not leave the transaction open: it would hold its
	// locks, and on SQLite the only writing connection, until the process ends.
	defer func() {
		if p := recover(); p != nil {
			_ = end(false)
			panic(p)
		}
	}()
	claim := idem.From(ctx)
	if readOnly || (claim != nil && claim.Committed()) {
		claim = nil
	}
	if claim != nil {
		// The key first: a second request with the same key waits here
		// for the first to end, then finds the key taken.
		if err := tx.claim(claim); err != nil {
			_ = end(false)
			return err
		}
	}
	if err := fn(tx); err != nil {
		_ = end(false)
		return db.classify(err, command)
	}
	if err := tx.flushAudit(); err != nil {
		_ = end(false)
		return db.classify(err, "audit "+command)
	}
	events := len(tx.outbox) > 0
	if err := tx.flushOutbox(); err != nil {
		_ = end(false)
		return db.classify(err, "outbox "+command)
	}
	if readOnly && db.dialect == Postgres {
		// A read has nothing to commit: the request does not wait for the
		// round trip that ends it (a rollback, the same for a read and
		// indifferent to the request being gone); the connection goes back
		// to the pool once it is done.
		db.ending.Add(1)
		go func() {
			defer db.ending.Done()
			if err := end(false); err != nil {
				db.log.Warn("ending a read transaction", "err", err)
			}
		}()
		return nil
	}
	if err := end(true); err != nil {
		return db.classify(err, "commit "+command)
	}
	if claim != nil {
		claim.MarkCommitted()
	}
	if events {
		db.outboxAppended()
	}
	return nil
}

// conn takes a connection of the pool, waiting at most poolWait: past it the
// database is busy (errBusy), and the request answers 503 at once.
func (db *DB) conn(ctx context.Context, pool *sql.DB) (*sql.Conn, error) {
	if ctx.Value(patientKey{}) != nil {
		return pool.Conn(ctx)
	}
	wait := db.poolWait
	if wait <= 0 {
		wait = DefaultPoolWait // a DB made by hand (a backup's inspection)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, err := pool.Conn(wctx)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, errBusy()
	}
	return c, err
}

type patientKey struct{}

// Patient returns a context whose transactions wait for a connection as
// long as the context allows, not DefaultPoolWait: for one-time work that
// must not give up because another holds the writer (two nodes loading the
// demo at once on one SQLite file wait for each other).
func Patient(ctx context.Context) context.Context { return context.WithValue(ctx, patientKey{}, true) }

// errBusy is a transaction that found no connection free in time.
func errBusy() error {
	return errs.E(errs.Unavailable, "store.database_busy_try_again")
}

// NewID returns a new UUIDv7, ordered by creation time.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// rebind turns the ? placeholders of a query into PostgreSQL's $n.
func (db *DB) rebind(q string) string {
	if db.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// joined is the aggregate that joins the text values of expr with the
// character sep in between (in no particular order), or NULL when there
// are none.
func (db *DB) joined(expr string, sep byte) string {
	if db.dialect == Postgres {
		return "string_agg(" + expr + ", chr(" + strconv.Itoa(int(sep)) + "))"
	}
	return "group_concat(" + expr + ", char(" + strconv.Itoa(int(sep)) + "))"
}

func (tx *Tx) exec(q string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, tx.db.rebind(q), args...)
}

func (tx *Tx) query(q string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(tx.ctx, tx.db.rebind(q), args...)
}

func (tx *Tx) queryRow(q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(tx.ctx, tx.db.rebind(q), args...)
}

// Audit appends audit entries for the changes, attributed to the
// transaction's actor, command, time and reason. clientID names the client
// owning the entity, if any. The entries join the hash chain when the
// command commits (flushAudit).
func (tx *Tx) Audit(changes []audit.Change, clientID string) error {
	if len(changes) == 0 {
		return nil
	}
	if tx.command == "" {
		return errors.New("audit entry outside a write command")
	}
	a := tx.actor
	name := a.Name
	if name == "" {
		name = a.Username
	}
	for _, c := range changes {
		tx.pending = append(tx.pending, audit.Entry{At: tx.now, ActorID: a.UserID, ActorName: name, SessionID: a.SessionID,
			Address: a.Address, Command: tx.command, Entity: c.Entity, EntityID: c.EntityID, Field: c.Field,
			Old: c.Old, New: c.New, Reason: tx.reason, ClientID: clientID})
	}
	return nil
}

// auditColumns are the columns an audit entry is written with.
const auditColumns = `seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason, client_id, prev_hash, hash`

// auditBatch is how many entries one INSERT writes.
const auditBatch = 60

// flushAudit links the command's entries into the hash chain and writes
// them, last thing before the commit: it locks the head of the chain, so
// that transactions join the chain one at a time and the lock is held for
// as short a time as possible. On SQLite the one writing connection is
// lock enough.
func (tx *Tx) flushAudit() error {
	if len(tx.pending) == 0 {
		return nil
	}
	q := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var seq int64
	var head string
	if err := tx.queryRow(q).Scan(&seq, &head); err != nil {
		return fmt.Errorf("reading the head of the audit chain: %w", err)
	}
	prev, err := audit.ParseHash(head)
	if err != nil {
		return err
	}
	insert := `INSERT INTO audit_log (` + auditColumns + `) VALUES `
	const row = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	for start := 0; start < len(tx.pending); start += auditBatch {
		batch := tx.pending[start:min(start+auditBatch, len(tx.pending))]
		args := make([]any, 0, 16*len(batch))
		for i := range batch {
			e := &batch[i]
			seq++
			e.Seq = seq
			h := audit.Link(prev, e.Digest())
			e.PrevHash, e.Hash = prev.String(), h.String()
			prev = h
			args = append(args, e.Seq, e.At, e.ActorID, e.ActorName, e.SessionID, e.Address, e.Command,
				e.Entity, e.EntityID, e.Field, e.Old, e.New, e.Reason, nullable(e.ClientID), e.PrevHash, e.Hash)
		}
		if _, err := tx.exec(insert+row+strings.Repeat(","+row, len(batch)-1), args...); err != nil {
			return err
		}
	}
	tx.pending = nil
	_, err = tx.exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, prev.String())
	return err
}

// auditable is a record whose fields the audit trail records.
type auditable interface {
	AuditFields() []audit.Field
}

// table describes how a kind of record is stored: its table, the entity
// name the audit trail gives it, and its columns other than id.
type table struct {
	name   string
	entity string
	cols   []string
}

// versionCols name the column counting a versioned record's changes where
// it is not "version": a master's version is its edition.
var versionCols = map[string]string{"masters": "revision", "specs": "revision", "qualifications": "revision"}

// row is a record's values by column name: INSERT and UPDATE write a
// table's columns by name from it, so that no value lands in another
// column.
type row map[string]any

// values are the row's values in the order of the table's columns. A column
// without a value, or a value for no column, is the code's mistake: refused
// before anything is written (and TestRowsNameTheirColumns finds it first).
func (t table) values(r row) ([]any, error) {
	if len(r) != len(t.cols) {
		return nil, fmt.Errorf("%s: a row of %d values for %d columns", t.name, len(r), len(t.cols))
	}
	vals := make([]any, len(t.cols))
	for i, c := range t.cols {
		v, ok := r[c]
		if !ok {
			return nil, fmt.Errorf("%s: the row has no value for column %s", t.name, c)
		}
		vals[i] = v
	}
	return vals, nil
}

// create inserts a record and audits each of its fields.
func create(tx *Tx, t table, id string, rec auditable, r row) error {
	return createClientRecord(tx, t, id, "", rec, r)
}

// update writes a record's new values and audits the fields that changed.
// A change to a record after its first entry needs a reason (EU GMP Annex 11
// §9, 21 CFR 11.10(e)); a change that changes nothing writes nothing.
func update(tx *Tx, t table, id string, old, new auditable, r row) error {
	return updateClientRecord(tx, t, id, "", old, new, r)
}

// createClientRecord inserts a client-owned record and audits each of its
// fields as that client's.
func createClientRecord(tx *Tx, t table, id, clientID string, rec auditable, r row) error {
	vals, err := t.values(r)
	if err != nil {
		return err
	}
	q := "INSERT INTO " + t.name + " (id, " + strings.Join(t.cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(t.cols)) + ")"
	if _, err := tx.exec(q, append([]any{id}, vals...)...); err != nil {
		return err
	}
	if v := site.VersionField(rec); v != nil {
		*v = 1 // the column's default
	}
	return tx.Audit(audit.Diff(t.entity, id, nil, rec.AuditFields()), clientID)
}

// updateClientRecord is update for a client-owned record: the fields that
// changed are audited as the client's. A change needs a reason; one that
// changes nothing writes nothing.
//
// A record with a version (site.VersionField) is updated only at the
// version the update names, if it names one (0: any): the check is in the
// UPDATE statement itself, so of two concurrent edits of one version the
// second finds none and is refused as stale. The new version is set on new.
func updateClientRecord(tx *Tx, t table, id, clientID string, old, new auditable, r row) error {
	vals, err := t.values(r)
	if err != nil {
		return err
	}
	oldVersion, newVersion := site.VersionField(old), site.VersionField(new)
	if oldVersion != nil && newVersion != nil && *newVersion != 0 && *newVersion != *oldVersion {
		return errs.StaleVersion(*newVersion, *oldVersion)
	}
	changes := audit.Diff(t.entity, id, old.AuditFields(), new.AuditFields())
	if len(changes) == 0 {
		if oldVersion != nil && newVersion != nil {
			*newVersion = *oldVersion
		}
		return nil
	}
	if tx.reason == "" {
		return errs.Field("reason", "reason.required", text.Key("reason.what.change"))
	}
	set := make([]string, len(t.cols))
	for i, c := range t.cols {
		set[i] = c + " = ?"
	}
	q, args := "UPDATE "+t.name+" SET "+strings.Join(set, ", "), append(vals, id)
	vcol := versionCols[t.name]
	if vcol == "" {
		vcol = "version"
	}
	if oldVersion != nil {
		q += ", " + vcol + " = " + vcol + " + 1 WHERE id = ? AND " + vcol + " = ?"
		args = append(args, *oldVersion)
	} else {
		q += " WHERE id = ?"
	}
	res, err := tx.exec(q, args...)
	if err != nil {
		return err
	}
	if oldVersion != nil {
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			// Changed by another transaction since it was read.
			var current int
			if err := tx.queryRow("SELECT "+vcol+" FROM "+t.name+" WHERE id = ?", id).Scan(&current); err != nil {
				return err
			}
			return errs.StaleVersion(*oldVersion, current)
		}
		if newVersion != nil {
			*newVersion = *oldVersion + 1
		}
	}
	return tx.Audit(changes, clientID)
}

// updateAtVersion updates one record of the table (set: its assignments,
// args their values) only at the version read, and counts one more: the
// check is in the UPDATE itself, so of two changes decided on one reading
// the second finds none and is refused as stale, naming the version now.
func (tx *Tx) updateAtVersion(table, set string, args []any, id string, version int) error {
	return tx.updateAtVersionCol(table, "version", set, args, id, version)
}

// updateAtVersionCol is updateAtVersion for a table whose version column
// has another name (versionCols).
func (tx *Tx) updateAtVersionCol(table, vcol, set string, args []any, id string, version int) error {
	res, err := tx.exec(`UPDATE `+table+` SET `+set+`, `+vcol+` = `+vcol+` + 1 WHERE id = ? AND `+vcol+` = ?`, append(args, id, version)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var current int
		if err := tx.queryRow(`SELECT `+vcol+` FROM `+table+` WHERE id = ?`, id).Scan(&current); err != nil {
			return err
		}
		return errs.StaleVersion(version, current)
	}
	return nil
}

// nullable stores an empty string as NULL, for optional references.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// byID runs a query for one record by its id and scans it. An id that is not
// a UUID names no record: it is not found, without asking the database.
// Arguments after the id's follow it in the query. key is the catalogue
// key of the message naming what is missing.
func (tx *Tx) byID(q, id string, scan func(scanner) error, key string, args ...any) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.E(errs.NotFound, key)
	}
	return notFound(scan(tx.queryRow(q, append([]any{id}, args...)...)), key)
}

// notFound turns sql.ErrNoRows into a not-found error naming what is
// missing by its catalogue key.
func notFound(err error, key string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, key)
	}
	return err
}
