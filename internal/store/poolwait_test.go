package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestPoolWaitBounded takes every connection a write can use: the next
// write waits PoolWait, then answers busy (503) with nothing written, and
// succeeds once a connection is free again.
func TestPoolWaitBounded(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			cfg.PoolWait = 150 * time.Millisecond
			// PostgreSQL: a pool of two connections, both held below.
			holders := 1
			if cfg.DSN != "" {
				sep := "?"
				if strings.Contains(cfg.DSN, "?") {
					sep = "&"
				}
				cfg.DSN += sep + "pool_max_conns=2"
				holders = 2
			}
			db := openDB(t, cfg)
			ctx := as(alice)
			before := patientCounts(t, db)
			release := make(chan struct{})
			let := sync.OnceFunc(func() { close(release) })
			defer let() // a failed test must not leave the holders waiting
			held := make(chan struct{}, holders)
			done := make(chan error, holders)
			for range holders {
				go func() {
					done <- db.Write(ctx, "test.hold", "", func(tx *store.Tx) error {
						held <- struct{}{}
						<-release
						return nil
					})
				}()
			}
			for range holders {
				<-held
			}
			t0 := time.Now()
			err := db.Write(ctx, "site.create", "", func(tx *store.Tx) error {
				t.Error("the write ran without a connection")
				return nil
			})
			waited := time.Since(t0)
			if errs.CodeOf(err) != errs.Unavailable || waited < 150*time.Millisecond || waited > 3*time.Second {
				t.Fatalf("a write with no connection free answered %v after %v; want unavailable after 150 ms", err, waited)
			}
			if e, _ := err.(*errs.Error); e == nil || e.Text("fr") == "" || e.Text("fr") == e.Key || e.Text("fr") == e.Text("en") {
				t.Errorf("busy answer %v has no words for a person", err)
			}
			let()
			for range holders {
				if err := <-done; err != nil {
					t.Fatalf("holding write: %v", err)
				}
			}
			after := patientCounts(t, db)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s: %d rows, then %d: the busy write changed something", k, v, after[k])
				}
			}
			if err := db.Write(identity.WithActor(context.Background(), alice), "test.after", "", func(tx *store.Tx) error { return nil }); err != nil {
				t.Fatalf("a write once a connection is free: %v", err)
			}
		})
	}
}

// patientCounts is counts on a database whose pool waits only 150 ms for a
// connection: a count that finds the pool still opening its connections
// (a busy machine) tries again, for 10 s at most.
func patientCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := make(map[string]int, len(tables))
	for _, tb := range tables {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := db.CountRows(tb)
			if err == nil {
				out[tb] = n
				break
			}
			if errs.CodeOf(err) != errs.Unavailable || time.Now().After(deadline) {
				t.Fatalf("count %s: %v", tb, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}
