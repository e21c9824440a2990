package store

import (
	"context"
	"database/sql"
	"time"

	"galenix/internal/identity"
)

// MigrateDownTo and MigrateUpTo move the schema to a version, as an
// upgrade or a roll-back would: tests of a migration run it on rows.
func (db *DB) MigrateDownTo(ctx context.Context, v int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}

func (db *DB) MigrateUpTo(ctx context.Context, v int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v)
	return err
}

// MigrateApply applies the migration v alone, up, whatever the schema's
// version.
func (db *DB) MigrateApply(ctx context.Context, v int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.ApplyVersion(ctx, v, true)
	return err
}

// WriterForeignKeys tells whether SQLite's writing connection checks
// foreign keys.
func (db *DB) WriterForeignKeys() (bool, error) {
	var on int
	err := db.write.QueryRow(`PRAGMA foreign_keys`).Scan(&on)
	return on == 1, err
}

// ExecRaw runs one statement outside the write path, as the database owner
// could: on PostgreSQL with the row-level security scope of galenix itself,
// so that the statement reaches every row and only the triggers stand in its
// way. Tests use it to try to tamper with the audit trail.
func (db *DB) ExecRaw(q string, args ...any) error {
	tx, err := db.write.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		if _, err := tx.Exec(`SELECT set_config('galenix.all', 'on', true)`); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(db.rebind(q), args...); err != nil {
		return err
	}
	return tx.Commit()
}

// CountRows returns the number of rows in a table, all of them.
func (db *DB) CountRows(table string) (int, error) {
	return db.Count(identity.WithActor(context.Background(), identity.System), table)
}

// CountUnfiltered counts a table's rows in a read transaction of the actor
// in ctx with a query written WITHOUT the client filter: on PostgreSQL,
// row-level security still keeps the rows out of the actor's scope away.
func (db *DB) CountUnfiltered(ctx context.Context, table string) (int, error) {
	var n int
	err := db.Read(ctx, func(tx *Tx) error { return tx.queryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n) })
	return n, err
}

// ReadExec runs a statement inside a read transaction, as a mistaken store
// method would.
func (db *DB) ReadExec(ctx context.Context, q string) error {
	return db.Read(ctx, func(tx *Tx) error {
		_, err := tx.exec(q)
		return err
	})
}

// DummyHash is the hash a sign-in with an unknown username is checked
// against.
const DummyHash = dummyHash

// LastSeen reads the time the token's session was last seen, as written in
// the table, once the times pending are written.
func (db *DB) LastSeen(token string) (time.Time, error) {
	db.seen.wait()
	var t time.Time
	err := db.read.QueryRow(db.rebind(`SELECT last_seen FROM sessions WHERE token_hash = ?`), tokenHash(token)).Scan(&t)
	return t.UTC(), err
}

// Count counts a table's rows within the transaction.
func (tx *Tx) Count(table string) (int, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
	return n, err
}

// Policies returns the row-level security policies of PostgreSQL's
// catalogue, by "table.policy", each as its conditions' text.
func (db *DB) Policies() (map[string]string, error) {
	rows, err := db.read.Query(`SELECT tablename || '.' || policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, cond string
		if err := rows.Scan(&name, &cond); err != nil {
			return nil, err
		}
		out[name] = cond
	}
	return out, rows.Err()
}

// NewConnections returns how many connections PostgreSQL's pool has opened,
// once the reads under way have ended.
func (db *DB) NewConnections() int64 {
	db.ending.Wait()
	return db.pool.Stat().NewConnsCount()
}

// QueryRowForTest runs one query in the transaction, for tests that look
// at tables no store method reads.
func (tx *Tx) QueryRowForTest(q string, args ...any) *sql.Row { return tx.queryRow(q, args...) }

// WritePragma reads one SQLite pragma on the writing connection.
func (db *DB) WritePragma(name string) (v string, err error) {
	err = db.write.QueryRow(`PRAGMA ` + name).Scan(&v)
	return v, err
}

// TerminateLeaderForTest ends, from another connection, the connection that
// holds l's advisory lock, as the death of its node would.
func (db *DB) TerminateLeaderForTest(l *Leader) error {
	l.mu.Lock()
	var pid int
	err := l.conn.QueryRowContext(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = db.write.Exec(`SELECT pg_terminate_backend($1)`, pid)
	return err
}

// WriteEvents runs a write command that appends n outbox events of the
// client named (topic "test.event"), then fails with fail if it is not
// nil: the command rolls back.
func (db *DB) WriteEvents(ctx context.Context, clientID string, n int, fail error) error {
	return db.Write(ctx, "test.event", "", func(tx *Tx) error {
		for i := range n {
			tx.enqueue("test.event", "test", NewID(), clientID, map[string]any{"i": i})
		}
		return fail
	})
}

// SetRollupChunk sets how many readings one transaction of db's roll-up
// job takes.
func (db *DB) SetRollupChunk(n int) { db.rollupChunk = n }

// RollUpOnce runs one transaction of the roll-up job: done says whether it
// found nothing more.
func (e *EnvironmentStore) RollUpOnce(ctx context.Context) (run *RollupRun, done bool, err error) {
	run = &RollupRun{}
	done, err = e.rollUpChunk(ctx, run, RollupLag, e.chunk())
	return run, done, err
}

// RollupMark reads the roll-up job's mark: reception time, sensor,
// sequence.
func (db *DB) RollupMark(ctx context.Context) (at time.Time, sensor string, seq int64, err error) {
	err = db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT mark, mark_sensor, mark_seq FROM environment_rollup_mark WHERE id = 1`).Scan(&at, &sensor, &seq)
	})
	return at.UTC(), sensor, seq, err
}

// SetMasterKeyForTest replaces the master key of documents the database
// opens its clients' keys with.
func (db *DB) SetMasterKeyForTest(k []byte) { db.masterKey = k }
