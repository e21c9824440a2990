package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/store"
)

// system is the context the dispatcher reads the outbox in.
func system() context.Context { return as(identity.System) }

// outboxEvents reads every event after seq as the system.
func outboxEvents(t *testing.T, db *store.DB, after int64) []outbox.Event {
	t.Helper()
	evs, err := db.Outbox().Events(system(), after, 1000)
	must(t, err)
	return evs
}

func topics(evs []outbox.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Topic
	}
	return out
}

// TestOutboxLiveWrites: the writes people watch live append their events
// in their own transaction, in commit order; a refused or rolled-back
// write appends none.
func TestOutboxLiveWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		if evs := outboxEvents(t, db, 0); len(evs) != 0 {
			t.Fatalf("events of the seed (a history load, and records nobody watches): %v", topics(evs))
		}
		svc, sup, op := db.Production(), e.actor("victor"), e.actor("olga")
		b := e.order(t, e.vial, 10000)
		_, err := svc.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		_, err = svc.MoveBatch(sup, b.ID, production.MoveRelease, "")
		must(t, err)
		rec, err := svc.Record(sup, b.ID)
		must(t, err)
		st := rec.Steps
		tail, err := db.Outbox().Tail(system())
		must(t, err)

		// Refused: out of order, then an item unticked.
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7.0"})
		if err == nil {
			t.Fatal("a step out of order was recorded")
		}
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, false}})
		if err == nil {
			t.Fatal("a clearance with an item unticked was recorded")
		}
		// Rolled back after its events were appended.
		if err := db.WriteEvents(sup, e.alpha.ID, 3, errors.New("refused at the end")); err == nil {
			t.Fatal("the failing write committed")
		}
		if got, err := db.Outbox().Tail(system()); err != nil || got != tail {
			t.Fatalf("tail after refused writes: %d, %v; want %d", got, err, tail)
		}
		if evs := outboxEvents(t, db, tail); len(evs) != 0 {
			t.Fatalf("refused writes appended %v", topics(evs))
		}

		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."}) // done at once, the batch starts
		must(t, err)
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,5", ConfirmOutOfLimits: true, Comment: "Second reading the same."}) // out of limits: a deviation
		must(t, err)
		r, err := svc.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-OK", Quantity: "10"})
		must(t, err)
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed) // its signature: done
		must(t, err)
		_, err = svc.CorrectStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,1"}, "typing error")
		must(t, err)

		evs := outboxEvents(t, db, tail)
		want := []string{
			outbox.StepRecorded, outbox.BatchMoved, // the clearance, done at once; the batch starts
			outbox.DeviationOpened, outbox.StepRecorded,
			outbox.StepRecorded,
			outbox.SignatureGiven, outbox.StepDone,
			outbox.StepCorrected,
		}
		if got := topics(evs); !slices.Equal(got, want) {
			t.Fatalf("topics:\n got %v\nwant %v", got, want)
		}
		for i, ev := range evs {
			if ev.Seq != tail+int64(i)+1 {
				t.Errorf("event %d: seq %d, want %d (in order, without gaps)", i, ev.Seq, tail+int64(i)+1)
			}
			if ev.ClientID != e.alpha.ID || ev.EntityID == "" || len(ev.Payload) == 0 || ev.Command == "" || !ev.At.Equal(now) {
				t.Errorf("event %d: %+v", i, ev)
			}
		}
		if evs[0].Command != "batch.step.record" || evs[7].Command != "batch.step.correct" || evs[5].Entity != "batch_step" {
			t.Errorf("commands: %q, %q; signature on %q", evs[0].Command, evs[7].Command, evs[5].Entity)
		}

		// Client scope: beta's user sees none of alpha's events, alpha's
		// user all of them; the site's staff assigned to alpha too.
		if got, err := db.Outbox().Events(e.actor("carla"), tail, 100); err != nil || len(got) != len(evs) {
			t.Errorf("alpha's user: %d events, %v; want %d", len(got), err, len(evs))
		}
		beta := identity.Actor{UserID: store.NewID(), Username: "b", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID}
		if got, err := db.Outbox().Events(as(beta), 0, 100); err != nil || len(got) != 0 {
			t.Errorf("beta's user: %v, %v; want none", topics(got), err)
		}
		if n, err := db.CountUnfiltered(as(beta), "outbox"); err != nil || (db.Dialect() == store.Postgres && n != 0) {
			t.Errorf("beta's user, unfiltered: %d rows, %v (row-level security)", n, err)
		}
	})
}

// TestOutboxConcurrentWritersInOrder: of writers committing at once, a
// reader following the outbox sees every event once, in sequence order,
// with no event skipped because a later number committed first.
func TestOutboxConcurrentWritersInOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		const writers, each = 6, 10
		ctx := as(alice)
		var wg sync.WaitGroup
		done := make(chan struct{})
		var seen []int64
		go func() {
			defer close(done)
			var cursor int64
			for len(seen) < writers*each {
				evs, err := db.Outbox().Events(system(), cursor, 7)
				if err != nil {
					t.Error(err)
					return
				}
				for _, ev := range evs {
					seen = append(seen, ev.Seq)
					cursor = ev.Seq
				}
			}
		}()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if err := db.WriteEvents(ctx, "", 1, nil); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("the reader saw %d events of %d", len(seen), writers*each)
		}
		for i, s := range seen {
			if s != int64(i)+1 {
				t.Fatalf("event %d read has seq %d: %v", i, s, seen)
			}
		}
	})
}
