package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
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
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("not a SHA-256 hash: %q", s)
	}
	for i := range h {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return Hash{}, fmt.Errorf("not a SHA-256 hash: %q", s)
		}
		h[i] = hi<<4 | lo
	}
	return h, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// TimeLayout is how the canonical bytes write the time: UTC, microseconds,
// the precision both databases keep.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// AppendCanonical appends the canonical bytes of the entry to b: its fields
// in a fixed order, each preceded by its length, so that no two entries
// share their bytes. The sequence is an unsigned varint; the time is
// written in TimeLayout; every length is an unsigned varint.
//
// It is the hot path of verification, so it allocates nothing when b has
// room, and writes the time by hand (appendTime) in exactly the bytes
// time.AppendFormat would.
func (e *Entry) AppendCanonical(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(e.Seq))
	b = appendTime(b, e.At)
	b = appendString(b, e.ActorID)
	b = appendString(b, e.ActorName)
	b = appendString(b, e.SessionID)
	b = appendString(b, e.Address)
	b = appendString(b, e.Command)
	b = appendString(b, e.Entity)
	b = appendString(b, e.EntityID)
	b = appendString(b, e.Field)
	b = appendString(b, e.Old)
	b = appendString(b, e.New)
	b = appendString(b, e.Reason)
	b = appendString(b, e.ClientID)
	return b
}

// appendString appends a field: its length as an unsigned varint, then its
// bytes.
func appendString(b []byte, s string) []byte {
	if len(s) < 0x80 {
		b = append(b, byte(len(s)))
	} else {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

// The range of times appendTime writes by hand: years 1 to 9999, which
// TimeLayout writes in four digits. Others go through time.AppendFormat.
const (
	firstSec = -62135596800 // 0001-01-01T00:00:00Z
	lastSec  = 253402300799 // 9999-12-31T23:59:59Z
)

// appendTime appends the time as a field, its length then its bytes in
// TimeLayout, UTC.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	sec := t.Unix()
	if sec < firstSec || sec > lastSec {
		var ts [len(TimeLayout) + 8]byte
		return appendField(b, t.AppendFormat(ts[:0], TimeLayout))
	}
	// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	us := t.Nanosecond() / 1000
	var ts [1 + len(TimeLayout)]byte
	ts[0] = byte(len(TimeLayout))
	put2(ts[1:], int(y/100))
	put2(ts[3:], int(y%100))
	ts[5] = '-'
	put2(ts[6:], int(m))
	ts[8] = '-'
	put2(ts[9:], int(d))
	ts[11] = 'T'
	put2(ts[12:], int(rem/3600))
	ts[14] = ':'
	put2(ts[15:], int(rem/60%60))
	ts[17] = ':'
	put2(ts[18:], int(rem%60))
	ts[20] = '.'
	put2(ts[21:], us/10000)
	put2(ts[23:], us/100%100)
	put2(ts[25:], us%100)
	ts[27] = 'Z'
	return append(b, ts[:]...)
}

// put2 writes a number from 0 to 99 in two digits.
func put2(b []byte, n int) {
	b[0] = byte('0' + n/10)
	b[1] = byte('0' + n%10)
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
	if err := v.check(seq, prev); err != nil {
		return err
	}
	want := Link(prev, digest)
	if hash != want {
		return &Broken{seq, "its content does not match its hash: the entry was changed"}
	}
	v.prev, v.next = hash, seq+1
	v.Count++
	return nil
}

// check verifies that the entry seq, of stored previous hash prev, comes
// next in the chain.
func (v *Verifier) check(seq int64, prev Hash) error {
	switch {
	case seq < v.next:
		return &Broken{seq, fmt.Sprintf("it comes after entry %d: an entry was inserted or moved", v.next-1)}
	case seq > v.next:
		return &Broken{v.next, fmt.Sprintf("it is missing (the next entry is %d): an entry was deleted", seq)}
	case prev != v.prev:
		return &Broken{seq, "its previous hash is not the hash of the entry before it: an entry was inserted, deleted or moved"}
	}
	return nil
}
