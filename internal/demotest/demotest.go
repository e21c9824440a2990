// Package demotest hands tests copies of a database holding the demo site,
// on SQLite and on PostgreSQL.
//
// Loading the demo takes a minute under the race detector: each test
// binary loads it once per kind of database and every test gets a copy.
// The demo is dated from the moment it was loaded, which within one run of
// a suite is minutes at most.
package demotest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"galenix/internal/demo"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/testpg"
)

// DataDir returns a new data directory, removed when the test ends,
// holding the demo on SQLite (the database and the keys beside it).
func DataDir(t testing.TB) string {
	t.Helper()
	files, err := sqliteImage(t)
	if err != nil {
		t.Fatalf("demotest: the demo on SQLite: %v", err)
	}
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("demotest: %v", err)
		}
	}
	return dir
}

var (
	imageOnce  sync.Once
	imageFiles map[string][]byte
	imageErr   error
)

// sqliteImage is the data directory's files of a loaded demo, closed (its
// write-ahead log checkpointed into the database), made once per binary.
func sqliteImage(t testing.TB) (map[string][]byte, error) {
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "demotest-")
		if err != nil {
			imageErr = err
			return
		}
		defer os.RemoveAll(dir)
		// A migrated database to start from, as storetest's.
		src := storetest.DataDir(t)
		b, err := os.ReadFile(filepath.Join(src, store.SQLiteFile))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, store.SQLiteFile), b, 0o600)
		}
		if err == nil {
			err = load(store.Config{DataDir: dir, MasterKey: MasterKey})
		}
		if err != nil {
			imageErr = err
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			imageErr = err
			return
		}
		imageFiles = map[string][]byte{}
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == store.LockFile {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				imageErr = err
				return
			}
			imageFiles[e.Name()] = b
		}
	})
	return imageFiles, imageErr
}

// DSN returns the DSN of a new PostgreSQL database holding the demo,
// dropped when the test ends. Without PostgreSQL the test is skipped, or
// fails if CI is set (testpg.Need).
func DSN(t testing.TB) string {
	t.Helper()
	return testpg.DSNFrom(t, "demo", func(dsn string) error { return load(store.Config{DSN: dsn, MasterKey: MasterKey}) })
}

// load opens the database of cfg and loads the demo into it, then closes it.
func load(cfg store.Config) error {
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := demo.Load(ctx, db, nil); err != nil {
		db.Close()
		return fmt.Errorf("loading the demo: %w", err)
	}
	return db.Close()
}

// MasterKey is the master key of documents the demo databases are loaded
// with: a test opens one with it to read the demo's documents.
var MasterKey = []byte("demo-test-master-key-of-document")
