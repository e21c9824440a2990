package demo

import (
	"context"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/production"
)

func TestControlledScratch(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	prod := db.Production()
	mats, _ := prod.Materials(ctx)
	for _, m := range mats {
		if m.Code != "MP-MORPH" && m.Code != "MP-PROG" {
			continue
		}
		lots, _ := prod.Lots(ctx, production.LotFilter{MaterialID: m.ID})
		for _, l := range lots {
			t.Logf("%s lot %s %s %v %v %s %s", m.Code, l.Code, l.Status, l.Quantity, l.Unit, l.Supplier, l.SupplierLot)
			uses, _ := prod.LotUses(ctx, l.ID)
			for _, u := range uses {
				t.Logf("  use %s %v %v %s", u.BatchLot, u.Quantity, u.Unit, u.At)
			}
		}
	}
	bs, _ := prod.Batches(ctx, production.BatchFilter{Query: "MORPH"})
	for _, b := range bs {
		t.Logf("morph batch %s %s %v %d/%d", b.Lot, b.State, b.Start, b.StepsDone, b.StepsTotal)
	}
	bs, _ = prod.Batches(ctx, production.BatchFilter{Query: "PROG"})
	for _, b := range bs {
		t.Logf("prog batch %s %s %v %d/%d", b.Lot, b.State, b.Start, b.StepsDone, b.StepsTotal)
	}
}
