package store_test

import (
	"context"
	"errors"
	"testing"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestProductCodePerClient: a product's code is unique within its client
// (migration 00022): beta may have a product coded as one of alpha's,
// alpha may not have two. The migration keeps every product, and the
// masters, specifications and batches that refer to them, across the
// rebuild of SQLite's table, down and up again.
func TestProductCodePerClient(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		ctx := context.Background()
		count := func(table string) int {
			t.Helper()
			var n int
			must(t, db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
			return n
		}
		products, masters := count("products"), count("masters")
		must(t, db.MigrateDownTo(ctx, 21))
		must(t, db.MigrateUpTo(ctx, 22))
		// 00039 added the shelf life to products, which SQLite's rebuild
		// of the table (00022, down and up) does not know: it is applied
		// again, so that the table is the one the code writes.
		must(t, db.MigrateApply(ctx, 39))
		if got := count("products"); got != products {
			t.Fatalf("products after the migration: %d, want %d", got, products)
		}
		if got := count("masters"); got != masters {
			t.Fatalf("masters after the migration: %d, want %d", got, masters)
		}
		if db.Dialect() == store.SQLite {
			rows, err := db.SQL().QueryContext(ctx, `PRAGMA foreign_key_check`)
			must(t, err)
			if rows.Next() {
				t.Fatal("a reference broken by the rebuild of products")
			}
			must(t, rows.Close())
			if on, err := db.WriterForeignKeys(); err != nil || !on {
				t.Fatal("foreign keys left off after the migration")
			}
		}

		create := func(p *production.Product) error {
			return db.WriteHistory(as(identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
				return db.Production().CreateProduct(ctx, p)
			})
		}
		twin := production.Product{ClientID: e.beta.ID, Code: e.vial.Code, Name: "Betacaïne", Form: site.FormVial, Strength: "1 g", Presentation: "Flacon", Storage: "< 25 °C"}
		must(t, create(&twin))
		again := production.Product{ClientID: e.alpha.ID, Code: e.vial.Code, Name: "Alphacaïne bis", Form: site.FormVial, Strength: "1 g", Presentation: "Flacon", Storage: "< 25 °C"}
		err := create(&again)
		var ee *errs.Error
		if !errs.Is(err, errs.Conflict) || !errors.As(err, &ee) || ee.Key != "store.product_code_taken" || ee.Field != "code" {
			t.Fatalf("a second %s for alpha: %v, want the client's code taken", e.vial.Code, err)
		}
	})
}
