package web

import (
	"testing"

	"galenix/internal/identity"
)

// TestNotifierClientScope: an outbox event of client A wakes the streams
// whose scope holds A, never those of client B; an event of the site's own
// wakes them all.
func TestNotifierClientScope(t *testing.T) {
	n := newNotifier()
	ofA, stopA := n.watch(identity.Scope{Clients: []string{"A"}})
	defer stopA()
	ofB, stopB := n.watch(identity.Scope{Clients: []string{"B"}})
	defer stopB()
	all, stopAll := n.watch(identity.Scope{All: true})
	woken := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	n.event("A")
	if !woken(ofA) || woken(ofB) || !woken(all) {
		t.Fatal("an event of A: A's and the site's streams woken, B's not")
	}
	n.event("")
	if !woken(ofA) || !woken(ofB) || !woken(all) {
		t.Fatal("an event of no client wakes every stream")
	}
	stopAll()
	n.event("B")
	if woken(ofA) || !woken(ofB) || woken(all) {
		t.Fatal("an event of B: B's stream only (the stopped one no more)")
	}
}
