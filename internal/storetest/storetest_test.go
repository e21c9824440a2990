package storetest_test

import (
	"context"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// TestCopies: each copy is migrated (its history names every migration),
// empty, and its own: a write to one is not in the next.
func TestCopies(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  func(t *testing.T) store.Config
	}{
		{"sqlite", func(t *testing.T) store.Config { return store.Config{DataDir: storetest.DataDir(t)} }},
		{"postgres", func(t *testing.T) store.Config { return store.Config{DSN: storetest.DSN(t)} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			open := func() *store.DB {
				db, err := store.Open(ctx, tt.cfg(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			count := func(db *store.DB, table string) (n int, err error) {
				err = db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
				return n, err
			}
			first := open()
			n, err := count(first, "goose_db_version")
			if err != nil || n < 2 {
				t.Fatalf("migration history of a copy: %d rows (%v), want every migration", n, err)
			}
			if sites, err := count(first, "sites"); err != nil || sites != 0 {
				t.Fatalf("a fresh copy holds %d sites (%v)", sites, err)
			}
			sys := identity.WithActor(ctx, identity.System)
			if err := first.Site().CreateSite(sys, &site.Site{Code: "GX", Name: "Site", Timezone: "Europe/Paris"}); err != nil {
				t.Fatalf("write to the first copy: %v", err)
			}
			if sites, err := count(first, "sites"); err != nil || sites != 1 {
				t.Fatalf("the first copy holds %d sites (%v) after a write, want 1", sites, err)
			}
			second := open()
			if m, err := count(second, "goose_db_version"); err != nil || m != n {
				t.Errorf("second copy's migration history: %d rows (%v), want %d", m, err, n)
			}
			if sites, err := count(second, "sites"); err != nil || sites != 0 {
				t.Errorf("the second copy holds %d sites (%v): copies share their data", sites, err)
			}
		})
	}
}
