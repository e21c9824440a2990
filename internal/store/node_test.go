package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"galenix/internal/store"
	"galenix/internal/testpg"
)

// TestNodesStartingTogetherMigrateOnce: several nodes opening one fresh
// PostgreSQL database at once never race on its migrations: every one
// opens, and the history holds each migration once.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	t.Parallel()
	dsn := testpg.DSN(t)
	const nodes = 4
	var wg sync.WaitGroup
	dbs := make([]*store.DB, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = store.Open(context.Background(), store.Config{DSN: dsn})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
			continue
		}
		defer dbs[i].Close()
	}
	if t.Failed() {
		return
	}
	var applied, distinct int
	must(t, dbs[0].Read(as(alice), func(tx *store.Tx) error {
		return tx.QueryRowForTest(`SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE is_applied`).Scan(&applied, &distinct)
	}))
	if applied != distinct {
		t.Errorf("migration history: %d applied rows for %d versions; a migration ran twice", applied, distinct)
	}
}

// TestNodeRefusesANewerSchema: a node refuses a database that a newer
// galenix migrated past what it knows, on both databases.
func TestNodeRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			db, err := store.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			must(t, db.ExecRaw(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`))
			must(t, db.Close())
			_, err = store.Open(context.Background(), cfg)
			var tooNew *store.SchemaTooNew
			if !errors.As(err, &tooNew) || tooNew.Database != 99999 {
				t.Fatalf("a node opened a database migrated past it: %v", err)
			}
		})
	}
}

// TestSQLiteCommitsAreDurable: SQLite's writing connection syncs every
// commit to disk (synchronous=FULL, 2) in WAL mode, so that an acknowledged
// write survives a power loss, not only a process crash.
func TestSQLiteCommitsAreDurable(t *testing.T) {
	db := openDB(t, store.Config{DataDir: t.TempDir()})
	for pragma, want := range map[string]string{"synchronous": "2", "journal_mode": "wal"} {
		got, err := db.WritePragma(pragma)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// TestPostgresStatementsAreBounded: a statement that would run longer than
// the statement timeout is cut, so a frozen database never holds a request
// without end; a DSN may name its own bound.
func TestPostgresStatementsAreBounded(t *testing.T) {
	t.Parallel()
	// Migrated first without the bound: on a busy machine a migration
	// may take longer than 300 ms.
	dsn := testpg.DSN(t)
	openDB(t, store.Config{DSN: dsn})
	db := openDB(t, store.Config{DSN: dsn + "&statement_timeout=300"})
	start := time.Now()
	err := db.Read(as(alice), func(tx *store.Tx) error {
		var v any
		return tx.QueryRowForTest(`SELECT pg_sleep(5)`).Scan(&v)
	})
	if err == nil {
		t.Fatal("a 5 s statement ran to its end under a 300 ms bound")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the statement was cut after %v", took)
	}
	for k := range store.PostgresTimeouts {
		var v string
		must(t, db.Read(as(alice), func(tx *store.Tx) error { return tx.QueryRowForTest(`SELECT current_setting('` + k + `')`).Scan(&v) }))
		if v == "0" || v == "" {
			t.Errorf("%s is not set on the connections", k)
		}
	}
}
