package store

import (
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// ProductionStore implements production.Service: products, materials and
// lots, master batch records, orders, batches, the schedule and the
// electronic batch record. Its methods live in product.go (the catalogue:
// products, materials, lots, masters) and batch.go, ebr.go (orders,
// batches, schedule, shop floor, genealogy).
type ProductionStore struct{ db *DB }

// Production returns the production service of the database.
func (db *DB) Production() *ProductionStore { return &ProductionStore{db: db} }

// The production tables, with the entity names the audit trail gives them.
var (
	productTable  = table{"products", "product", []string{"client_id", "code", "name", "form", "sterile", "strength", "presentation", "special_class", "storage", "shelf_life_months"}}
	materialTable = table{"materials", "material", []string{"code", "name", "kind", "unit"}}
	lotTable      = table{"material_lots", "lot", []string{"material_id", "code", "status", "quantity", "expires_on", "supplier", "supplier_lot", "received_on"}}
	masterTable   = table{"masters", "master", []string{"client_id", "product_id", "code", "version", "title", "status", "batch_size", "unit", "hours", "body", "steps"}}
	orderTable    = table{"orders", "order", []string{"client_id", "product_id", "master_id", "code", "quantity", "unit", "due_on", "created_at"}}
	batchTable    = table{"batches", "batch", nil}
	stepTable     = table{"batch_steps", "batch_step", nil}
	windowTable   = table{"line_windows", "line_window", []string{"line_id", "start_at", "end_at", "reason"}}
)

// nextNumber draws the next value of a named counter (lot, order and
// deviation numbers), in the command's transaction.
func (tx *Tx) nextNumber(name string) (int, error) {
	var n int
	err := tx.queryRow(`INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, name).Scan(&n)
	return n, err
}

// errNoProduction hides production data from an actor without the
// permission to see it, as if it did not exist.
func needProductionView(a identity.Actor) error {
	if !a.Can(identity.PermProductionView) {
		return errs.E(errs.Forbidden, "identity.refused.production_view")
	}
	return nil
}
