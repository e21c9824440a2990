package store_test

import (
	"context"
	"strings"
	"testing"

	"galenix/internal/site"
	"galenix/internal/store"
)

func TestOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.empty(t)
			ctx := context.Background()

			first, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("first open: %v", err)
			}
			if got, want := string(first.Dialect()), d.name; got != want {
				t.Errorf("dialect: got %q, want %q", got, want)
			}
			if err := first.Ping(ctx); err != nil {
				t.Errorf("ping: %v", err)
			}
			// Every table of the schema is there, and empty.
			for tb, n := range counts(t, first) {
				if n != 0 {
					t.Errorf("fresh table %s has %d rows", tb, n)
				}
			}
			versions, err := first.CountRows("goose_db_version")
			if err != nil {
				t.Fatalf("migration history: %v", err)
			}
			if versions < 2 { // goose's own row 0, then ours
				t.Fatalf("migration history has %d rows; no migration was applied", versions)
			}
			if desc := first.Describe(); desc == "" || strings.Contains(desc, "postgres://") {
				t.Errorf("describe: got %q, want the database named without its DSN", desc)
			}
			hasSite := func(db *store.DB) (has bool) {
				t.Helper()
				must(t, db.Read(ctx, func(tx *store.Tx) (err error) { has, err = tx.HasSite(); return err }))
				return has
			}
			if hasSite(first) {
				t.Error("a fresh database says it has a site")
			}
			st := site.Site{Code: "LYO", Name: "Lyon", Timezone: "Europe/Paris"}
			must(t, first.Write(as(alice), "site.create", "", func(tx *store.Tx) error { return tx.CreateSite(&st) }))
			if !hasSite(first) {
				t.Error("the site is set up, yet the database says it has none")
			}
			before := counts(t, first)

			if err := first.Migrate(ctx); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}

			again := openDB(t, cfg)
			if n, err := again.CountRows("goose_db_version"); err != nil || n != versions {
				t.Errorf("migration history after reopening: got %d rows (%v), want %d", n, err, versions)
			}
			sameCounts(t, again, before)
			got, err := again.Site().Site(ctx)
			if err != nil {
				t.Fatalf("site after reopening: %v", err)
			}
			if *got != st {
				t.Errorf("site after reopening: got %+v, want %+v", *got, st)
			}
			if err := again.Migrate(ctx); err != nil {
				t.Errorf("migrate after reopening: %v", err)
			}
		})
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []store.Config{{}, {DSN: "mysql://localhost/galenix"}} {
		if db, err := store.Open(context.Background(), cfg); err == nil {
			db.Close()
			t.Errorf("Open(%+v): got no error", cfg)
		}
	}
}
