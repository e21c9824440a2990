package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"galenix/internal/idem"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestIdempotencyClaimAndPurge: a key is claimed with its write and only
// if the write commits; a second write with the key is refused and
// applies nothing; the purge deletes the keys older than its bound only.
func TestIdempotencyClaimAndPurge(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := identity.WithActor(context.Background(), identity.System)
		keys := db.Idempotency()
		claim := &idem.Claim{Principal: "p1", Key: "k1", Hash: "h1"}
		cctx := idem.With(ctx, claim)

		// A write that fails leaves no key.
		failed := errors.New("refused")
		if err := db.Write(cctx, "test.fail", "", func(tx *store.Tx) error { return failed }); !errors.Is(err, failed) {
			t.Fatalf("failing write: %v", err)
		}
		if a, err := keys.Answer(ctx, "p1", "k1"); a != nil || err != nil || claim.Committed() {
			t.Fatalf("a failed write claimed its key: %+v, %v", a, err)
		}
		if err := db.Write(cctx, "test.ok", "", func(tx *store.Tx) error { return nil }); err != nil || !claim.Committed() {
			t.Fatalf("write: %v, committed %v", err, claim.Committed())
		}
		if err := keys.Record(ctx, "p1", "k1", idem.Answer{Status: 201, ContentType: "application/json", Body: []byte(`{"id":"x"}`)}); err != nil {
			t.Fatal(err)
		}
		a, err := keys.Answer(ctx, "p1", "k1")
		if err != nil || a == nil || a.Status != 201 || a.Hash != "h1" || string(a.Body) != `{"id":"x"}` {
			t.Fatalf("answer = %+v, %v", a, err)
		}
		again := &idem.Claim{Principal: "p1", Key: "k1", Hash: "h1"}
		ran := false
		err = db.Write(idem.With(ctx, again), "test.again", "", func(tx *store.Tx) error { ran = true; return nil })
		if !errors.Is(err, idem.ErrTaken) || ran || again.Committed() || !again.Taken() {
			t.Fatalf("second write with the key: %v, ran %v, taken %v", err, ran, again.Taken())
		}
		// Another principal's same key is its own.
		other := &idem.Claim{Principal: "p2", Key: "k1", Hash: "h9"}
		if err := db.Write(idem.With(ctx, other), "test.other", "", func(tx *store.Tx) error { return nil }); err != nil || other.Taken() {
			t.Fatalf("another principal's key: %v", err)
		}
		// An answer that held a secret keeps its status and headers, never
		// its body; an ETag is kept.
		if err := keys.Record(ctx, "p2", "k1", idem.Answer{Status: 201, ContentType: "application/json", ETag: `"v1"`,
			Body: []byte(`{"secret":"s"}`), Withheld: true}); err != nil {
			t.Fatal(err)
		}
		if a, err := keys.Answer(ctx, "p2", "k1"); err != nil || !a.Withheld || a.Body != nil || a.ETag != `"v1"` || a.Status != 201 {
			t.Fatalf("withheld answer = %+v, %v", a, err)
		}

		if n, err := keys.Purge(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("purge of keys older than an hour ago = %d, %v; want 0", n, err)
		}
		if n, err := keys.Purge(ctx, now.Add(time.Second)); err != nil || n != 2 {
			t.Errorf("purge of keys older than now = %d, %v; want 2", n, err)
		}
		if a, _ := keys.Answer(ctx, "p1", "k1"); a != nil {
			t.Error("a purged key still answers")
		}
	})
}
