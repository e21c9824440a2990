package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/idem"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestRotateAuditKey hands the site's signing over to a new key: the
// rotation is in the trail and covered by the handover; the old key no
// longer signs, the new one does, and the trail verifies with the new key
// only. Bad rotations are refused and change nothing.
func TestRotateAuditKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		key := seedTrail(t, db)
		_, err := db.Checkpoint(context.Background(), key)
		must(t, err)
		_, next, _ := ed25519.GenerateKey(nil)
		_, stranger, _ := ed25519.GenerateKey(nil)
		sys := identity.WithActor(context.Background(), identity.System)

		trail := func() int { return len(auditOf(t, db)) }
		cps := func() int { c, err := db.Checkpoints(context.Background()); must(t, err); return len(c) }
		// The requests' hash key, as the nodes hold it before.
		hashKey, err := db.RequestHashKey(context.Background(), key)
		must(t, err)
		if again, err := db.RequestHashKey(context.Background(), key); err != nil || !bytes.Equal(again, hashKey) {
			t.Fatalf("a second node's hash key differs: %x %v", again, err)
		}
		n, c := trail(), cps()
		for name, try := range map[string]func() error{
			"the same key":   func() error { _, err := db.RotateAuditKey(sys, key, key, "yearly"); return err },
			"no reason":      func() error { _, err := db.RotateAuditKey(sys, key, next, " "); return err },
			"not the site's": func() error { _, err := db.RotateAuditKey(sys, stranger, next, "yearly"); return err },
			"no actor's right": func() error {
				_, err := db.RotateAuditKey(as(bruno), key, next, "yearly")
				return err
			},
		} {
			if err := try(); err == nil {
				t.Errorf("%s: rotated", name)
			} else if c := errs.CodeOf(err); c != errs.Invalid && c != errs.Forbidden {
				t.Errorf("%s: %v (%s), want a refusal in words", name, err, c)
			}
		}
		if trail() != n || cps() != c {
			t.Fatalf("refused rotations wrote: %d entries, %d checkpoints; were %d, %d", trail(), cps(), n, c)
		}

		cp, err := db.RotateAuditKey(sys, key, next, "Yearly rotation")
		must(t, err)
		if !cp.Handover() || cp.Seq != int64(n+1) {
			t.Fatalf("handover %+v; want one over the rotation's own entry %d", cp, n+1)
		}
		es := auditOf(t, db)
		last := es[len(es)-1]
		if last.Command != "audit.key.rotate" || last.Entity != "audit_key" || last.Old != audit.KeyFingerprintOf(key) ||
			last.New != audit.KeyFingerprintOf(next) || last.Reason != "Yearly rotation" {
			t.Errorf("the rotation's entry: %+v", last)
		}

		// The same hash key, now opened with the new key only: a retry
		// that straddles the rotation is recognized on a node started
		// after it.
		if after, err := db.RequestHashKey(context.Background(), next); err != nil || !bytes.Equal(after, hashKey) {
			t.Errorf("after the rotation the hash key is %x (%v), want %x", after, err, hashKey)
		}
		if _, err := db.RequestHashKey(context.Background(), key); !errors.Is(err, idem.ErrWrongSiteKey) {
			t.Errorf("the old key still opens the hash key: %v", err)
		}

		// More work: the old key no longer signs, the new one does.
		must(t, db.Site().CreatePerson(as(alice), &site.Person{Badge: "R01", Name: "Après", Job: "Opérateur"}))
		if cp, err := db.Checkpoint(context.Background(), key); err == nil || cp != nil {
			t.Fatalf("the old key signed after the handover: %+v %v", cp, err)
		}
		if cp, err := db.Checkpoint(context.Background(), next); err != nil || cp == nil {
			t.Fatalf("the new key's checkpoint: %+v %v", cp, err)
		}
		if rep, b := verify(t, db, next); b != nil || rep.Checkpoints != 3 {
			t.Fatalf("verify with the new key: %+v %v", rep, b)
		}
		if _, b := verify(t, db, key); b == nil {
			t.Fatal("the old key still verifies the trail after the handover")
		}
		// A second rotation, from the new key: the trail verifies across both.
		_, third, _ := ed25519.GenerateKey(nil)
		if _, err := db.RotateAuditKey(sys, key, third, "with the old key"); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("a rotation with the old key: %v", err)
		}
		_, err = db.RotateAuditKey(sys, next, third, "Second rotation")
		must(t, err)
		if after, err := db.RequestHashKey(context.Background(), third); err != nil || !bytes.Equal(after, hashKey) {
			t.Errorf("after two rotations the hash key is %x (%v), want %x", after, err, hashKey)
		}
		if _, b := verify(t, db, third); b != nil {
			t.Fatalf("verify across two rotations: %v", b)
		}
		last2, err := db.LastCheckpoint(context.Background())
		must(t, err)
		if !last2.Handover() || fmt.Sprint(last2.NextKey) != fmt.Sprint([]byte(third.Public().(ed25519.PublicKey))) {
			t.Fatalf("the last checkpoint is not the second handover: %+v", last2)
		}
	})
}

// auditOf is the whole audit trail, oldest first.
func auditOf(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	es, err := db.Audit().Entries(identity.WithActor(context.Background(), identity.System), audit.Filter{Limit: 1000000})
	must(t, err)
	if len(es) > 1 && es[0].Seq > es[1].Seq {
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
	}
	return es
}
