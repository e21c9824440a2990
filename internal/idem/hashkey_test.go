package idem

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestHashKeyWrapping: the hash key wrapped under one audit key opens with
// that key only, the same key after a rewrap under the next; a damaged or
// foreign wrapping is refused; the first key is the derivation nodes used
// before, stable for a site key.
func TestHashKeyWrapping(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	first, err := FirstHashKey(k1)
	if err != nil || len(first) != HashKeySize {
		t.Fatalf("first hash key: %x %v", first, err)
	}
	again, _ := FirstHashKey(k1)
	other, _ := FirstHashKey(k2)
	if !bytes.Equal(first, again) || bytes.Equal(first, other) {
		t.Fatal("the first hash key is not a function of the site key alone")
	}
	w1, err := WrapHashKey(k1, first)
	if err != nil || !strings.HasPrefix(w1, "v1:") || strings.Contains(w1, string(first)) {
		t.Fatalf("wrapped: %q %v", w1, err)
	}
	if w1b, _ := WrapHashKey(k1, first); w1b == w1 {
		t.Error("two wrappings of one key are equal: the nonce is not fresh")
	}
	got, err := UnwrapHashKey(k1, w1)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("unwrapped %x %v", got, err)
	}
	if _, err := UnwrapHashKey(k2, w1); !errors.Is(err, ErrWrongSiteKey) {
		t.Errorf("another key opened it: %v", err)
	}
	// The rotation: the same hash key, now under k2.
	w2, err := WrapHashKey(k2, got)
	if err != nil {
		t.Fatal(err)
	}
	if got2, err := UnwrapHashKey(k2, w2); err != nil || !bytes.Equal(got2, first) {
		t.Errorf("after the rewrap: %x %v", got2, err)
	}
	for _, bad := range []string{"", "v2:abc", "v1:***", "v1:AAAA", w1[:len(w1)-4] + "AAAA"} {
		if _, err := UnwrapHashKey(k1, bad); err == nil {
			t.Errorf("the damaged wrapping %q opened", bad)
		}
	}
	if _, err := WrapHashKey(k1, first[:16]); err == nil {
		t.Error("a short hash key was wrapped")
	}
	if _, err := FirstHashKey(nil); err == nil {
		t.Error("no site key gave a hash key")
	}
}
