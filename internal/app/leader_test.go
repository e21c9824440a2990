package app_test

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/audit"
	"galenix/internal/idem"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

// TestTwoNodesOneCheckpointSigner: two nodes on one PostgreSQL database,
// both writing, sign the trail's checkpoints from one node only (never
// both: no conflicting checkpoint, no error logged); when the leader stops,
// the other takes its work over within seconds; the trail verifies.
func TestTwoNodesOneCheckpointSigner(t *testing.T) {
	defer func(d time.Duration) { app.LeaderEvery = d }(app.LeaderEvery)
	app.LeaderEvery = 200 * time.Millisecond
	dsn := testpg.DSN(t)
	keyPath := filepath.Join(t.TempDir(), "site.pem")
	if _, err := audit.CreateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var logs [2]*syncBuffer
	var nodes [2]*app.Main
	var stops [2]context.CancelFunc
	var done [2]chan error
	for i := range nodes {
		logs[i] = &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs[i], &slog.HandlerOptions{Level: slog.LevelDebug}))
		nodes[i] = app.New(app.Config{Addr: "127.0.0.1:0", DSN: dsn, DataDir: t.TempDir(), AuditKey: keyPath,
			CheckpointEvery: 100 * time.Millisecond}, log)
		if err := nodes[i].Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer nodes[i].Close()
		var rctx context.Context
		rctx, stops[i] = context.WithCancel(ctx)
		done[i] = make(chan error, 1)
		go func() { done[i] <- nodes[i].Run(rctx) }()
	}
	write := func(db *store.DB) {
		t.Helper()
		if err := db.Write(identity.WithActor(ctx, identity.System), "test.entry", "", func(tx *store.Tx) error {
			return tx.Audit([]audit.Change{{Entity: "test", EntityID: "1", Field: "f", New: time.Now().String()}}, "")
		}); err != nil {
			t.Fatal(err)
		}
	}
	leaders := func() (n, which int) {
		for i, m := range nodes {
			if m.Leading() {
				n, which = n+1, i
			}
		}
		return n, which
	}
	var leader int
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		write(nodes[0].DB)
		write(nodes[1].DB)
		if n, w := leaders(); n > 1 {
			t.Fatal("both nodes lead at once")
		} else if n == 1 {
			leader = w
		}
		time.Sleep(20 * time.Millisecond)
	}
	follower := 1 - leader
	if strings.Contains(logs[follower].String(), "checkpoint signed") {
		t.Error("the node that does not lead signed a checkpoint")
	}
	if !strings.Contains(logs[leader].String(), "checkpoint signed") {
		t.Error("the leader signed no checkpoint")
	}

	// The leader stops; the other takes over and signs what follows.
	stops[leader]()
	if err := <-done[leader]; err != nil {
		t.Fatal(err)
	}
	took := time.Now()
	for !nodes[follower].Leading() {
		if time.Since(took) > 5*time.Second {
			t.Fatal("the remaining node did not take the lead within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	write(nodes[follower].DB)
	for !strings.Contains(logs[follower].String(), "checkpoint signed") {
		if time.Since(took) > 10*time.Second {
			t.Fatal("the new leader signed no checkpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stops[follower]()
	<-done[follower]
	for i, l := range logs {
		if strings.Contains(l.String(), "level=ERROR") {
			t.Errorf("node %d logged an error:\n%s", i, l)
		}
	}
	key, _ := audit.LoadKey(keyPath)
	if _, err := nodes[follower].DB.VerifyAudit(ctx, key.Public().(ed25519.PublicKey), nil); err != nil {
		t.Fatalf("the trail of two nodes does not verify: %v", err)
	}
}

// TestLeaderPurgesIdempotencyKeys: the leading node purges the idempotency
// keys older than a day, and keeps the younger ones.
func TestLeaderPurgesIdempotencyKeys(t *testing.T) {
	defer func(d time.Duration) { app.LeaderEvery = d }(app.LeaderEvery)
	app.LeaderEvery = 50 * time.Millisecond
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DrainTimeout: -1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sys := identity.WithActor(ctx, identity.System)
	claim := func(key string, at time.Time) {
		t.Helper()
		m.DB.Now = func() time.Time { return at }
		c := &idem.Claim{Principal: "p", Key: key, Hash: "h"}
		if err := m.DB.Write(idem.With(sys, c), "test.entry", "", func(tx *store.Tx) error { return nil }); err != nil || !c.Committed() {
			t.Fatalf("claim %s: %v", key, err)
		}
	}
	now := time.Now().UTC()
	claim("old", now.Add(-app.IdempotencyKeep-time.Minute))
	claim("young", now.Add(-app.IdempotencyKeep+time.Hour))
	m.DB.Now = func() time.Time { return time.Now().UTC() }
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	keys := m.DB.Idempotency()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if a, err := keys.Answer(sys, "p", "old"); err != nil {
			t.Fatal(err)
		} else if a == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader did not purge a key older than a day within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a, err := keys.Answer(sys, "p", "young"); err != nil || a == nil {
		t.Errorf("the leader purged a key younger than a day: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
