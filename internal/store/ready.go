package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"galenix/internal/errs"
)

// minFreeDisk is the free space under which a SQLite node says it is not
// ready: writes would soon fail on a full disk.
const minFreeDisk = 64 << 20

// Writable checks that the database takes writes now: on PostgreSQL, that
// it is the primary (a standby, or a primary being demoted, is read-only);
// on SQLite, that its disk has room.
func (db *DB) Writable(ctx context.Context) error {
	if db.dialect == Postgres {
		var recovery bool
		var readOnly string
		if err := db.write.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), current_setting('transaction_read_only')`).Scan(&recovery, &readOnly); err != nil {
			return db.classify(err, "writable")
		}
		if recovery || readOnly == "on" {
			return errs.Unavailability(errors.New("the database is a standby (read-only)"))
		}
		return nil
	}
	free, err := freeSpace(db.dir)
	if err != nil {
		return errs.Unavailability(fmt.Errorf("reading the data directory's free space: %w", err))
	}
	if free < minFreeDisk {
		return errs.Unavailability(fmt.Errorf("the data directory's disk is full (%d MiB free)", free>>20))
	}
	return nil
}

// SchemaCurrent checks that every migration this binary carries is
// applied, and none beyond them.
func (db *DB) SchemaCurrent(ctx context.Context) error {
	var current int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current); err != nil {
		return db.classify(err, "schema version")
	}
	known, err := db.knownVersion()
	if err != nil {
		return err
	}
	if current != known {
		return fmt.Errorf("the database is at schema version %d, this node at %d", current, known)
	}
	return nil
}

// knownVersion is the newest migration this binary carries.
func (db *DB) knownVersion() (int64, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return 0, err
	}
	var v int64
	for _, e := range entries {
		var n int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &n); err == nil && n > v {
			v = n
		}
	}
	return v, nil
}
