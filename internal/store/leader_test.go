package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/store"
	"galenix/internal/testpg"
)

// TestOneLeader: of two nodes on one PostgreSQL database exactly one leads;
// when the leader's database connection ends (its node died), the other
// takes the lead at its next try. On SQLite the only node leads.
func TestOneLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testpg.DSN(t)
	a, b := openDB(t, store.Config{DSN: dsn}), openDB(t, store.Config{DSN: dsn})
	if first, again := a.Leader(), a.Leader(); first != again {
		t.Fatal("a node has two leaderships")
	}
	la, lb := a.Leader(), b.Leader()
	if got, err := la.Try(ctx); err != nil || !got {
		t.Fatalf("the first node did not take the free lead: %v %v", got, err)
	}
	for range 3 {
		if got, err := lb.Try(ctx); err != nil || got {
			t.Fatalf("a second node took a lead already held: %v %v", got, err)
		}
		if got, err := la.Try(ctx); err != nil || !got {
			t.Fatalf("the leader lost a lead nobody took: %v %v", got, err)
		}
	}
	// The leading node dies: its connections end with it.
	must(t, a.TerminateLeaderForTest(la))
	// The server ends the backend a moment after the signal; nodes try
	// every LeaderEvery (2 s).
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := lb.Try(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lead of a dead node was not taken over within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, _ := la.Try(ctx); got {
		t.Fatal("a node whose lock connection ended still says it leads, beside the new leader")
	}
	lb.Release()
	if got, err := la.Try(ctx); err != nil || !got {
		t.Fatalf("a released lead was not taken: %v %v", got, err)
	}

	lite := openDB(t, store.Config{DataDir: t.TempDir()})
	if got, err := lite.Leader().Try(ctx); err != nil || !got {
		t.Fatalf("the SQLite node does not lead: %v %v", got, err)
	}
}
