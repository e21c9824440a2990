package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// The audit trail is a hash chain. Each entry's hash is
//
//	hash = SHA-256(previous hash ‖ SHA-256(canonical bytes of the entry))
//
// The content is hashed on its own first so that a proof about one record
// can carry the other entries of its chain segment as their content digests
// only: the chain still links end to end, and nothing of other clients'
// records is revealed.

// HashSize is the size of a hash of the chain.
const HashSize = sha256.Size

// Hash is a link of the chain.
type Hash [HashSize]byte

// Genesis is the hash before the first entry.
var Genesis Hash

// String returns the hash in hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hash written in hexadecimal.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("not a SHA-256 hash: %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// TimeLayout is how the canonical bytes write the time: UTC, microseconds,
// the precision both databases keep.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// AppendCanonical appends the canonical bytes of the entry to b: its fields
// in a fixed order, each preceded by its length, so that no two entries
// share their bytes.
func (e *Entry) AppendCanonical(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(e.Seq))
	var ts [len(TimeLayout)]byte
	b = appendField(b, e.At.UTC().AppendFormat(ts[:0], TimeLayout))
	for _, f := range [...]string{e.ActorID, e.ActorName, e.SessionID, e.Address, e.Command,
		e.Entity, e.EntityID, e.Field, e.Old, e.New, e.Reason, e.ClientID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func appendField(b, f []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

// Digest returns the SHA-256 of the entry's canonical bytes.
func (e *Entry) Digest() Hash {
	var buf [512]byte
	return sha256.Sum256(e.AppendCanonical(buf[:0]))
}

// Link returns the hash that follows prev for an entry of the given digest.
func Link(prev, digest Hash) Hash {
	var b [2 * HashSize]byte
	copy(b[:HashSize], prev[:])
	copy(b[HashSize:], digest[:])
	return sha256.Sum256(b[:])
}

// Broken says where the chain does not hold and why.
type Broken struct {
	Seq    int64
	Reason string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit entry %d does not hold: %s", b.Seq, b.Reason)
}

// Verifier walks the chain in sequence order and finds the first entry
// that does not hold: an edited entry (its hash no longer matches its
// content), a deleted one (a gap in the sequence), an inserted or moved one
// (its previous hash is not the hash before it).
type Verifier struct {
	prev Hash
	next int64
	// Count is the number of entries verified.
	Count int64
}

// NewVerifier starts a walk at the beginning of the chain.
func NewVerifier() *Verifier { return &Verifier{next: 1} }

// Resume starts a walk after entry seq whose hash is known to be h, for
// example at a signed checkpoint.
func Resume(seq int64, h Hash) *Verifier { return &Verifier{prev: h, next: seq + 1} }

// Head returns the sequence and hash of the last entry verified.
func (v *Verifier) Head() (int64, Hash) { return v.next - 1, v.prev }

// Add verifies the next entry against its stored previous hash and hash.
func (v *Verifier) Add(e *Entry, prev, hash Hash) error {
	return v.AddDigest(e.Seq, e.Digest(), prev, hash)
}

// AddDigest verifies the next entry known by its content digest only.
func (v *Verifier) AddDigest(seq int64, digest, prev, hash Hash) error {
	switch {
	case seq < v.next:
		return &Broken{seq, fmt.Sprintf("it comes after entry %d: an entry was inserted or moved", v.next-1)}
	case seq > v.next:
		return &Broken{v.next, fmt.Sprintf("it is missing (the next entry is %d): an entry was deleted", seq)}
	case prev != v.prev:
		return &Broken{seq, "its previous hash is not the hash of the entry before it: an entry was inserted, deleted or moved"}
	}
	want := Link(prev, digest)
	if hash != want {
		return &Broken{seq, "its content does not match its hash: the entry was changed"}
	}
	v.prev, v.next = hash, seq+1
	v.Count++
	return nil
}
