package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite"

	"galenix/internal/backup"
	"galenix/internal/identity"
)

// figureTables are the tables each figure of backup.FigureNames counts.
var figureTables = map[string]string{
	"audit_entries": "audit_log",
	"signatures":    "signatures",
	"accounts":      "accounts",
	"people":        "people",
	"batches":       "batches",
	"batch_steps":   "batch_steps",
	"deviations":    "deviations",
}

// figures reads the head of the audit chain and counts what the database
// holds, in one statement: on PostgreSQL one snapshot even outside a
// repeatable read. The actor must see every client's rows (the system).
func (tx *Tx) figures() (backup.Head, backup.Figures, error) {
	var h backup.Head
	q := `SELECT seq, hash`
	for _, n := range backup.FigureNames {
		q += `, (SELECT COUNT(*) FROM ` + figureTables[n] + `)`
	}
	counts := make([]int64, len(backup.FigureNames))
	dest := []any{&h.Seq, &h.Hash}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	if err := tx.queryRow(q + ` FROM audit_head WHERE id = 1`).Scan(dest...); err != nil {
		return h, nil, fmt.Errorf("counting the database's records: %w", err)
	}
	f := backup.Figures{}
	for i, n := range backup.FigureNames {
		f[n] = counts[i]
	}
	return h, f, nil
}

// Figures returns the head of the audit chain and the counts of what the
// database holds now, in one snapshot, whoever asks.
func (db *DB) Figures(ctx context.Context) (h backup.Head, f backup.Figures, err error) {
	err = db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		h, f, err = tx.figures()
		return err
	})
	return h, f, err
}

// SchemaVersion returns the database's schema version: the last migration
// applied.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, db.classify(err, "schema version")
}

// KnownSchema returns the newest schema version this galenix knows for
// the database kind.
func KnownSchema(d Dialect) (int64, error) {
	return (&DB{dialect: d}).knownVersion()
}

// SnapshotSQLite writes a consistent copy of the SQLite database, as it is
// at one instant, into the new file path, while the database keeps being
// written: VACUUM INTO reads one snapshot of the write-ahead log and never
// blocks the writer. It runs on a connection of its own, outside the
// pools: the reading pool is query-only (VACUUM INTO counts as a write
// there), and holding the one writing connection would stop every write
// while the copy is made.
func (db *DB) SnapshotSQLite(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errors.New("a SQLite snapshot of a PostgreSQL database: back PostgreSQL up with pgBackRest")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists already: a backup never overwrites a file", path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	conn, err := openSQLiteConn("file:" + filepath.Join(db.dir, SQLiteFile) + "?" + q.Encode())
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("copying the SQLite database: %w", err)
	}
	return nil
}

// openSQLiteConn opens a SQLite database outside galenix's pools.
func openSQLiteConn(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// InspectSQLite reads, without changing a byte of it, a SQLite database
// file (a backup): its schema version, the head of its audit chain and its
// figures.
func InspectSQLite(ctx context.Context, path string) (schema int64, h backup.Head, f backup.Figures, err error) {
	q := url.Values{"mode": {"ro"}, "immutable": {"1"}, "_time_format": {"sqlite"}}
	conn, err := openSQLiteConn("file:" + path + "?" + q.Encode())
	if err != nil {
		return 0, h, nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	db := &DB{dialect: SQLite, read: conn, write: conn, log: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Now().UTC() }}
	if schema, err = db.SchemaVersion(ctx); err != nil {
		return 0, h, nil, fmt.Errorf("%s is no galenix database: %w", path, err)
	}
	h, f, err = db.Figures(ctx)
	return schema, h, f, err
}

// Promoted reports, as nil, that the PostgreSQL server of dsn has ended
// its recovery and takes writes: a restore replayed to its point.
func Promoted(ctx context.Context, dsn string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var recovery bool
	if err := conn.QueryRow(cctx, `SELECT pg_is_in_recovery()`).Scan(&recovery); err != nil {
		return err
	}
	if recovery {
		return errors.New("still replaying the archived log")
	}
	return nil
}
