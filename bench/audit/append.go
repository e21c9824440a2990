package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// appendResult is what an append run measured.
type appendResult struct {
	entries, commands int64
	elapsed           time.Duration
	p50, p99          time.Duration
	// walSyncs and walSyncTime are PostgreSQL's WAL flushes during the
	// run, when measured.
	walSyncs    int64
	walSyncTime time.Duration
}

func (r appendResult) perSecond() float64 { return float64(r.entries) / r.elapsed.Seconds() }

// measureAppends runs writers goroutines for dur, each running write
// commands of per audit entries through db.Write and tx.Audit, as every
// write command of galenix does, and counts the entries committed.
func measureAppends(db *store.DB, writers, per int, dur time.Duration) (appendResult, error) {
	var entries, commands atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			g := newEntryGen(uint64(100 + w))
			var mine []time.Duration
			for time.Now().Before(deadline) {
				e := g.next(0)
				ctx := identity.WithActor(context.Background(), identity.Actor{UserID: e.ActorID, Username: "bench", Name: e.ActorName,
					Roles: []identity.Role{identity.RoleOperator}, SessionID: e.SessionID, Address: e.Address})
				changes := make([]audit.Change, per)
				for i := range changes {
					c := g.next(0)
					changes[i] = audit.Change{Entity: c.Entity, EntityID: c.EntityID, Field: c.Field, Old: c.Old, New: c.New}
				}
				t0 := time.Now()
				err := db.Write(ctx, e.Command, e.Reason, func(tx *store.Tx) error { return tx.Audit(changes, e.ClientID) })
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
				entries.Add(int64(per))
				commands.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r := appendResult{entries: entries.Load(), commands: commands.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		return r, firstErr
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fillTrail grows the trail to at least n entries with large commands, not
// timed: a trail long enough for VerifyAudit's figure to mean something.
func fillTrail(db *store.DB, n int64) error {
	g := newEntryGen(7)
	ctx := identity.WithActor(context.Background(), identity.System)
	for {
		have, err := db.Count(ctx, "audit_log")
		if err != nil {
			return err
		}
		if int64(have) >= n {
			return nil
		}
		changes := make([]audit.Change, min(1200, n-int64(have)))
		for i := range changes {
			c := g.next(0)
			changes[i] = audit.Change{Entity: c.Entity, EntityID: c.EntityID, Field: c.Field, Old: c.Old, New: c.New}
		}
		if err := db.Write(ctx, "bench.fill", "", func(tx *store.Tx) error { return tx.Audit(changes, g.clients[0]) }); err != nil {
			return err
		}
	}
}

// verifyResult is what a VerifyAudit run measured.
type verifyResult struct {
	entries int64
	elapsed time.Duration
}

func (r verifyResult) perSecond() float64 { return float64(r.entries) / r.elapsed.Seconds() }

// measureVerifyAudit signs a checkpoint, then times store.DB.VerifyAudit
// over the whole trail: rows read from the database included.
func measureVerifyAudit(db *store.DB) (verifyResult, error) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return verifyResult{}, err
	}
	ctx := context.Background()
	if _, err := db.Checkpoint(ctx, key); err != nil {
		return verifyResult{}, err
	}
	start := time.Now()
	rep, err := db.VerifyAudit(ctx, key.Public().(ed25519.PublicKey), nil)
	if err != nil {
		return verifyResult{}, fmt.Errorf("verify: %w", err)
	}
	return verifyResult{entries: rep.Entries, elapsed: time.Since(start)}, nil
}
