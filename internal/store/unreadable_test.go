package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/production"
	"galenix/internal/store"
)

// TestUnreadableBatchIsFlagged: a batch whose stored end lies in year
// 10000 (stored before times were bounded) breaks neither the lists nor
// its own reading: it is answered flagged unreadable, its times left out,
// the other batches as they are; rescheduling it writes its times again.
func TestUnreadableBatchIsFlagged(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		svc, sup, client := db.Production(), e.actor("victor"), e.actor("carla")
		bad := e.order(t, e.vial, 10000)
		good := e.order(t, e.vial, 10000)
		_, err := svc.ScheduleBatch(sup, bad.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		must(t, db.ExecRaw(`UPDATE batches SET end_at = ? WHERE id = ?`, time.Date(10000, 1, 1, 2, 0, 0, 0, time.UTC), bad.ID))

		for who, ctx := range map[string]context.Context{"the supervisor": sup, "the client": client} {
			list, err := svc.Batches(ctx, production.BatchFilter{})
			if err != nil || len(list) != 2 {
				t.Fatalf("%s's list: %d batches, %v", who, len(list), err)
			}
			for _, b := range list {
				switch b.ID {
				case bad.ID:
					if !b.Unreadable || b.End != nil || b.Lot != bad.Lot {
						t.Errorf("%s's list: the bad batch %+v, want it flagged, without its end", who, b)
					}
				case good.ID:
					if b.Unreadable {
						t.Errorf("%s's list: the good batch flagged", who)
					}
				}
			}
		}
		one, err := svc.Batch(sup, bad.ID)
		if err != nil || !one.Unreadable || one.Start == nil || one.End != nil {
			t.Fatalf("the batch alone: %+v, %v", one, err)
		}
		// Rescheduled, it is readable again.
		again, err := svc.ScheduleBatch(sup, bad.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(4, 6)}, "Its end could not be read")
		must(t, err)
		if again.Unreadable || again.End == nil {
			t.Fatalf("rescheduled: %+v", again)
		}
		if one, err = svc.Batch(sup, bad.ID); err != nil || one.Unreadable || one.End == nil || one.End.Year() != 2026 {
			t.Fatalf("read after its reschedule: %+v, %v", one, err)
		}
	})
}
