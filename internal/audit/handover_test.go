package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// chainOf signs checkpoints at 10, 20, ... with the keys given, one per
// checkpoint; a pair (key, next) makes a handover.
type step struct{ key, next ed25519.PrivateKey }

func chainOf(steps ...step) []Checkpoint {
	var cps []Checkpoint
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	for i, s := range steps {
		c := Checkpoint{Seq: int64(10 * (i + 1)), Hash: "h" + string(rune('a'+i)), At: at.Add(time.Duration(i) * time.Minute)}
		if s.next != nil {
			c.SignHandover(s.key, s.next)
		} else {
			c.Sign(s.key)
		}
		cps = append(cps, c)
	}
	return cps
}

func brokenAt(t *testing.T, err error, seq int64) {
	t.Helper()
	var b *Broken
	if !errors.As(err, &b) || b.Seq != seq {
		t.Fatalf("got %v; want the break at checkpoint %d", err, seq)
	}
}

// TestVerifyCheckpointsAcrossHandovers: a trail signed by one key, handed
// over to a second and then a third, verifies with the third alone; the
// rules refuse what a forger or a node left behind would produce.
func TestVerifyCheckpointsAcrossHandovers(t *testing.T) {
	k0, k1, k2, x := newKey(t), newKey(t), newKey(t), newKey(t)
	good := chainOf(step{key: k0}, step{key: k0}, step{key: k0, next: k1}, step{key: k1}, step{key: k1, next: k2}, step{key: k2})
	if err := VerifyCheckpoints(good, pub(k2)); err != nil {
		t.Fatalf("two rotations: %v", err)
	}
	if err := VerifyCheckpoints(good[:4], pub(k1)); err != nil {
		t.Fatalf("up to the first rotation, with its new key: %v", err)
	}
	if err := VerifyCheckpoints(chainOf(step{key: k0}, step{key: k0}), pub(k0)); err != nil {
		t.Fatalf("no rotation: %v", err)
	}
	// The key of yesterday no longer verifies the trail of today.
	brokenAt(t, VerifyCheckpoints(good, pub(k1)), 60)
	brokenAt(t, VerifyCheckpoints(good, pub(k0)), 60)

	// A checkpoint signed with the old key after the handover.
	late := chainOf(step{key: k0}, step{key: k0, next: k1}, step{key: k0})
	brokenAt(t, VerifyCheckpoints(late, pub(k1)), 30)
	// A checkpoint signed by a key no handover introduced.
	stranger := chainOf(step{key: k0}, step{key: x}, step{key: k0})
	brokenAt(t, VerifyCheckpoints(stranger, pub(k0)), 20)
	// A forged handover: not signed by the key of its time (x hands over
	// to k1, yet k0 signed the checkpoints before).
	forged := chainOf(step{key: k0}, step{key: x, next: k1}, step{key: k1})
	brokenAt(t, VerifyCheckpoints(forged, pub(k1)), 10)
	// A handover its new key did not co-sign.
	half := chainOf(step{key: k0}, step{key: k0, next: k1}, step{key: k1})
	half[1].NextSignature = ed25519.Sign(x, half[1].signed())
	brokenAt(t, VerifyCheckpoints(half, pub(k1)), 20)
	// A handover whose named keys were swapped after signing.
	swapped := chainOf(step{key: k0}, step{key: k0, next: k1}, step{key: k1})
	swapped[1].NextKey = pub(x)
	brokenAt(t, VerifyCheckpoints(swapped, pub(k1)), 20)
	// A handover rewritten as a plain checkpoint (its next key dropped).
	dropped := chainOf(step{key: k0}, step{key: k0, next: k1}, step{key: k1})
	dropped[1].NextKey, dropped[1].NextSignature, dropped[1].Key = nil, nil, nil
	brokenAt(t, VerifyCheckpoints(dropped, pub(k1)), 20)
}

// TestSignsNext: after a handover only the new key signs the next
// checkpoint; before it, the key that signed the last one.
func TestSignsNext(t *testing.T) {
	k0, k1 := newKey(t), newKey(t)
	cps := chainOf(step{key: k0}, step{key: k0, next: k1})
	if err := cps[0].SignsNext(pub(k0)); err != nil {
		t.Errorf("the key of a plain checkpoint: %v", err)
	}
	if err := cps[0].SignsNext(pub(k1)); err == nil {
		t.Error("another key may sign after a plain checkpoint")
	}
	if err := cps[1].SignsNext(pub(k1)); err != nil {
		t.Errorf("the new key after a handover: %v", err)
	}
	if err := cps[1].SignsNext(pub(k0)); err == nil {
		t.Error("the old key may still sign after the handover")
	}
	// A handover verifies with either key (a bundle carries the new one).
	if cps[1].Verify(pub(k0)) != nil || cps[1].Verify(pub(k1)) != nil {
		t.Error("a handover does not verify with its own keys")
	}
}
