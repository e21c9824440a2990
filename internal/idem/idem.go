// Package idem carries a request's idempotency key from the web layer to
// the store: the store claims the key in the same transaction as the
// request's write, so a write is applied once however often a client
// retries it (after a failover, a timeout, a double tap).
package idem

import (
	"context"
	"errors"
	"sync/atomic"
)

// MaxKey is the longest key accepted.
const MaxKey = 200

// Claim is a request's key, scoped by the account that sent it, with the
// hash of the request it stands for.
type Claim struct {
	Principal, Key, Hash string
	committed            atomic.Bool
	taken                atomic.Bool
}

// Committed reports whether a write committed the claim.
func (c *Claim) Committed() bool { return c.committed.Load() }

// MarkCommitted records that a write committed the claim: the store calls
// it after the commit.
func (c *Claim) MarkCommitted() { c.committed.Store(true) }

// Taken reports whether a write found the key already claimed by another
// request of the same account (committed, or committing at the same time):
// the request is then answered with that request's answer.
func (c *Claim) Taken() bool { return c.taken.Load() }

// MarkTaken records that the key was found claimed: the store calls it
// when its claim conflicts, and the write is refused.
func (c *Claim) MarkTaken() { c.taken.Store(true) }

type ctxKey struct{}

// With returns ctx carrying the claim.
func With(ctx context.Context, c *Claim) context.Context { return context.WithValue(ctx, ctxKey{}, c) }

// From returns the claim of ctx, or nil.
func From(ctx context.Context) *Claim {
	c, _ := ctx.Value(ctxKey{}).(*Claim)
	return c
}

// Answer is the first answer to a claimed request, replayed to retries.
// Status 0: the write committed but its answer was never stored (the node
// stopped between the commit and the record, or is recording it now).
type Answer struct {
	Hash        string
	Status      int
	ContentType string
	Location    string
	ETag        string
	Body        []byte
	// Withheld: the answer held a secret shown only once (a machine
	// token, a second factor's seed; the handler marked it
	// Cache-Control: no-store), so only its status is kept, never its body.
	Withheld bool
}

// ValidKey reports whether k is a key galenix takes: 1 to MaxKey
// printable ASCII characters (space included, as in a structured-field
// string of the IETF Idempotency-Key header draft).
func ValidKey(k string) bool {
	if k == "" || len(k) > MaxKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// ErrTaken is the cause of a write whose key a request of the same account
// already committed, or is committing.
var ErrTaken = errors.New("idempotency key already used")
