// Package storetest hands tests fresh databases with galenix's schema
// already in place, on SQLite and on PostgreSQL.
//
// Migrating a database takes seconds under the race detector, and a suite
// opens hundreds: each binary migrates one database of each kind once and
// every test gets a copy of it, which store.Open then finds up to date.
// Tests of migrating itself open an empty database instead (a fresh
// t.TempDir, testpg.DSN).
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"galenix/internal/store"
	"galenix/internal/testpg"
)

// DataDir returns a new data directory, removed when the test ends,
// holding a migrated, empty SQLite database.
func DataDir(t testing.TB) string {
	t.Helper()
	b, err := sqliteImage()
	if err != nil {
		t.Fatalf("storetest: the migrated SQLite database: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.SQLiteFile), b, 0o600); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return dir
}

// sqliteImage is the file of a migrated SQLite database, closed (its
// write-ahead log checkpointed into it), made once per test binary.
var sqliteImage = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := migrate(store.Config{DataDir: dir}); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, store.SQLiteFile))
})

// DSN returns the DSN of a new PostgreSQL database on the test cluster,
// dropped when the test ends, migrated and empty. Without PostgreSQL the
// test is skipped, or fails if CI is set (testpg.Need).
func DSN(t testing.TB) string {
	t.Helper()
	return testpg.DSNFrom(t, "migrated", func(dsn string) error { return migrate(store.Config{DSN: dsn}) })
}

// migrate opens the database of cfg, which migrates it, and closes it.
func migrate(cfg store.Config) error {
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return db.Close()
}
