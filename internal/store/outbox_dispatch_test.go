package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"galenix/internal/outbox"
	"galenix/internal/store"
)

// received collects what a subscriber was delivered.
type received struct {
	mu   sync.Mutex
	seqs []int64
}

func (r *received) add(seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, seq)
}

func (r *received) get() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs)
}

// waitFor waits until cond holds, at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dispatcher returns a started dispatcher of db with fast timings, stopped
// when the test ends.
func dispatcher(t *testing.T, db *store.DB, subs ...outbox.Subscriber) *outbox.Dispatcher {
	t.Helper()
	d := outbox.New(db.Outbox(), nil)
	d.Poll, d.MinBackoff, d.MaxBackoff = 20*time.Millisecond, 5*time.Millisecond, 40*time.Millisecond
	for _, s := range subs {
		d.Subscribe(s)
	}
	must(t, d.Start(system()))
	db.Outbox().OnAppend(d.Nudge)
	t.Cleanup(d.Stop)
	return d
}

func upTo(n int64) []int64 {
	var out []int64
	for i := int64(1); i <= n; i++ {
		out = append(out, i)
	}
	return out
}

// TestOutboxFailingSubscriberRetried: a subscriber that fails is given the
// same event again after a backoff until it succeeds, and meanwhile
// another subscriber gets every event.
func TestOutboxFailingSubscriberRetried(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var good, flaky received
		var mu sync.Mutex
		failures := 0
		dispatcher(t, db,
			outbox.Subscriber{Name: "flaky", Deliver: func(_ context.Context, ev outbox.Event) error {
				flaky.add(ev.Seq)
				mu.Lock()
				defer mu.Unlock()
				if ev.Seq == 2 && failures < 3 {
					failures++
					return errors.New("not now")
				}
				return nil
			}},
			outbox.Subscriber{Name: "good", Deliver: func(_ context.Context, ev outbox.Event) error {
				good.add(ev.Seq)
				return nil
			}})
		must(t, db.WriteEvents(as(alice), "", 4, nil))
		waitFor(t, "the good subscriber", func() bool { return len(good.get()) == 4 })
		if got := good.get(); !slices.Equal(got, upTo(4)) {
			t.Errorf("good subscriber: %v", got)
		}
		waitFor(t, "the flaky subscriber", func() bool { return len(flaky.get()) == 7 })
		if got, want := flaky.get(), []int64{1, 2, 2, 2, 2, 3, 4}; !slices.Equal(got, want) {
			t.Errorf("flaky subscriber: %v, want %v", got, want)
		}
	})
}

// TestOutboxDurableCursor: a durable consumer's cursor is stored; a node
// stopped between a delivery and its acknowledgement delivers that event
// again when it starts again (at least once), and nothing before it. A
// node-local consumer starts at the tail: it is not given the past.
func TestOutboxDurableCursor(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			db := openDB(t, cfg)
			must(t, db.WriteEvents(as(alice), "", 3, nil))

			var first received
			ctx, kill := context.WithCancel(system())
			d1 := outbox.New(db.Outbox(), nil)
			d1.Poll = 20 * time.Millisecond
			d1.Subscribe(outbox.Subscriber{Name: "notify", Durable: true, Deliver: func(_ context.Context, ev outbox.Event) error {
				first.add(ev.Seq)
				if ev.Seq == 2 {
					kill() // the node dies before the cursor moves past 2
				}
				return nil
			}})
			var local received
			d1.Subscribe(outbox.Subscriber{Name: "local", Deliver: func(_ context.Context, ev outbox.Event) error {
				local.add(ev.Seq)
				return nil
			}})
			must(t, d1.Start(ctx))
			waitFor(t, "the first node's deliveries", func() bool { return len(first.get()) == 2 })
			d1.Stop()
			if got := local.get(); len(got) != 0 {
				t.Errorf("a node-local consumer was given the past: %v", got)
			}
			if c, err := db.Outbox().Register(system(), "notify"); err != nil || c != 1 {
				t.Fatalf("stored cursor: %d, %v; want 1", c, err)
			}

			// The node starts again, on a new handle of the database.
			db2 := openDB(t, cfg)
			var second received
			dispatcher(t, db2, outbox.Subscriber{Name: "notify", Durable: true, Deliver: func(_ context.Context, ev outbox.Event) error {
				second.add(ev.Seq)
				return nil
			}})
			waitFor(t, "the redelivery", func() bool { return len(second.get()) == 2 })
			must(t, db2.WriteEvents(as(alice), "", 1, nil))
			waitFor(t, "the new event", func() bool { return len(second.get()) == 3 })
			if got, want := second.get(), []int64{2, 3, 4}; !slices.Equal(got, want) {
				t.Errorf("after the restart: %v, want %v", got, want)
			}
			// The cursor moves once the delivery returned.
			waitFor(t, "the cursor at 4", func() bool {
				c, err := db2.Outbox().Register(system(), "notify")
				return err == nil && c == 4
			})
			// The cursor never moves back.
			must(t, db2.Outbox().Advance(system(), "notify", 2))
			if c, _ := db2.Outbox().Register(system(), "notify"); c != 4 {
				t.Errorf("cursor moved back to %d", c)
			}
			// Only the system keeps cursors.
			if err := db2.Outbox().Advance(as(alice), "notify", 9); err == nil {
				t.Error("a person moved a consumer's cursor")
			}
		})
	}
}

// TestOutboxDurableLeaderOnly: a durable consumer is delivered only while
// its node leads; the node's own consumers always are.
func TestOutboxDurableLeaderOnly(t *testing.T) {
	db := openDB(t, store.Config{DataDir: t.TempDir()})
	var leading sync.Mutex
	lead := false
	var durable, local received
	d := outbox.New(db.Outbox(), nil)
	d.Poll = 10 * time.Millisecond
	d.Leading = func() bool { leading.Lock(); defer leading.Unlock(); return lead }
	d.Subscribe(outbox.Subscriber{Name: "notify", Durable: true, Deliver: func(_ context.Context, ev outbox.Event) error { durable.add(ev.Seq); return nil }})
	d.Subscribe(outbox.Subscriber{Name: "local", Deliver: func(_ context.Context, ev outbox.Event) error { local.add(ev.Seq); return nil }})
	must(t, d.Start(system()))
	t.Cleanup(d.Stop)
	must(t, db.WriteEvents(as(alice), "", 2, nil))
	waitFor(t, "the local consumer", func() bool { return len(local.get()) == 2 })
	time.Sleep(50 * time.Millisecond)
	if got := durable.get(); len(got) != 0 {
		t.Fatalf("delivered by a node that does not lead: %v", got)
	}
	leading.Lock()
	lead = true
	leading.Unlock()
	waitFor(t, "the durable consumer once leading", func() bool { return len(durable.get()) == 2 })
}

// TestOutboxTwoNodes: two galenix nodes on one database (two handles): a
// write through one reaches the consumers of the other.
func TestOutboxTwoNodes(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			a, b := openDB(t, cfg), openDB(t, cfg)
			var onB received
			dispatcher(t, b, outbox.Subscriber{Name: "live", Deliver: func(_ context.Context, ev outbox.Event) error {
				onB.add(ev.Seq)
				return nil
			}})
			must(t, a.WriteEvents(as(alice), "", 2, nil))
			waitFor(t, "node B's consumer", func() bool { return len(onB.get()) == 2 })
		})
	}
}

// TestOutboxPrune: pruning deletes the old events every durable consumer
// has had, and keeps the others, however old; the numbering goes on after
// the outbox is emptied.
func TestOutboxPrune(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		old := now.Add(-48 * time.Hour)
		db.Now = func() time.Time { return old }
		must(t, db.WriteEvents(as(alice), "", 5, nil))
		db.Now = func() time.Time { return now }
		must(t, db.WriteEvents(as(alice), "", 1, nil)) // 6: recent
		_, err := db.Outbox().Register(system(), "notify")
		must(t, err)
		must(t, db.Outbox().Advance(system(), "notify", 3))
		if _, err := db.Outbox().Prune(as(alice), now); err == nil {
			t.Error("a person pruned the outbox")
		}
		n, err := db.Outbox().Prune(system(), now.Add(-24*time.Hour))
		must(t, err)
		if got := outboxEvents(t, db, 0); n != 3 || len(got) != 3 || got[0].Seq != 4 {
			t.Fatalf("pruned %d, left %v", n, got)
		}
		must(t, db.Outbox().Advance(system(), "notify", 6))
		n, err = db.Outbox().Prune(system(), now.Add(time.Hour))
		must(t, err)
		if got := outboxEvents(t, db, 0); n != 3 || len(got) != 0 {
			t.Fatalf("pruned %d, left %v", n, got)
		}
		must(t, db.WriteEvents(as(alice), "", 1, nil))
		if got := outboxEvents(t, db, 0); len(got) != 1 || got[0].Seq != 7 {
			t.Fatalf("after emptying: %v", got)
		}
	})
}
