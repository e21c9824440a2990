package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A bundle is the proof, for one record, that its audit entries are in the
// site's audit chain exactly as the site signed it. Whoever holds the file
// checks it alone, offline (VerifyBundle, `galenix audit verify --bundle`):
//
//   - the record's entries are there in full;
//   - each segment of the chain that holds some of them runs from the first
//     of them to the first signed checkpoint at or after the last of them;
//     the segment's other entries, of other records and maybe of other
//     clients, appear as their sequence and content digest only, so the
//     chain links end to end and nothing of them is revealed;
//   - each segment starts from the hash of the chain just before it, and ends
//     at its checkpoint: sequence, hash, time and the site's signature;
//   - the site's public key closes the file.
//
// The format is open: docs/audit-bundle.md specifies it, with test vectors,
// and tools/verify-bundle.sh checks it with standard tools only. What is
// verified is the bundle's parsed content (ParseBundle), not its bytes: the
// same JSON re-indented or with its keys reordered verifies, while any
// change of a value, a key's name, or a spelling the specification does not
// allow (a hash in upper case, base64 with stray bits, a time not in UTC)
// does not.

// BundleFormat names the format of a bundle and its version.
const BundleFormat = "galenix-audit-bundle/1"

// Bundle is the proof of one record's audit entries.
type Bundle struct {
	Format   string `json:"format"`
	Entity   string `json:"entity"`
	EntityID string `json:"entity_id"`
	// Entries are the record's audit entries, in full, by sequence.
	Entries []Entry `json:"entries"`
	// Segments are the stretches of the chain that hold the entries, by
	// sequence; each ends at a signed checkpoint.
	Segments []Segment `json:"segments"`
	// PublicKey is the site's Ed25519 public key, in PEM.
	PublicKey string `json:"public_key"`
}

// Segment is a stretch of the chain, from entry First to the checkpoint
// that closes it.
type Segment struct {
	// First is the sequence of the segment's first entry.
	First int64 `json:"first"`
	// PrevHash is the hash of the chain just before entry First.
	PrevHash string `json:"prev_hash"`
	// Others are the segment's entries that are not the record's, by
	// sequence: their content digests only.
	Others []Sealed `json:"others"`
	// Checkpoint is the site's signature over the hash of the chain at the
	// segment's last entry, Checkpoint.Seq.
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Sealed is an entry a bundle shows by its sequence and the SHA-256 of its
// canonical bytes only.
type Sealed struct {
	Seq    int64  `json:"seq"`
	Digest string `json:"digest"`
}

// Seal returns the entry as a bundle shows the entries of other records.
func (e *Entry) Seal() Sealed { return Sealed{Seq: e.Seq, Digest: e.Digest().String()} }

// Encode writes the bundle: indented JSON and a final newline. Any other
// JSON encoding of the same content verifies as well.
func (b *Bundle) Encode() ([]byte, error) {
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// BundleReport says what a verified bundle proves.
type BundleReport struct {
	Entity   string
	EntityID string
	// Entries is the number of the record's entries; First and Last their
	// first and last sequence.
	Entries     int
	First, Last int64
	// Linked is the number of entries of the chain the proof links,
	// the record's and the others.
	Linked int64
	// Checkpoints is the number of signed checkpoints; SignedAt the time
	// of the last.
	Checkpoints int
	SignedAt    time.Time
	// KeyFingerprint is the SHA-256 of the site's public key (its DER
	// encoding), in hexadecimal, to compare with the key the site
	// publishes: a bundle proves what the holder of that key signed.
	KeyFingerprint string
}

// ErrNotBundle is returned, wrapped, for a file that is not a bundle as
// docs/audit-bundle.md specifies it: not JSON, a member missing, unknown or
// of the wrong type, or a value not written as the specification says.
var ErrNotBundle = errors.New("not an audit bundle")

// VerifyBundle checks a bundle on its own: every entry of the record
// matches its hash, every segment links from its previous hash to the hash
// of its checkpoint, and every checkpoint carries the signature of the
// bundled key. It reads the bundle with ParseBundle, so the content counts,
// not the bytes. It returns an *Broken naming the first entry that does not
// hold, or an error wrapping ErrNotBundle for a file it cannot read as a
// bundle.
func VerifyBundle(data []byte) (BundleReport, error) {
	var rep BundleReport
	b, err := ParseBundle(data)
	if err != nil {
		return rep, err
	}
	pub, err := ParsePublicKeyPEM([]byte(b.PublicKey))
	if err != nil {
		return rep, fmt.Errorf("%w: its public key cannot be read: %v", ErrNotBundle, err)
	}
	// The key is compared as a whole string: PEM would let text follow
	// its end unnoticed.
	if want, _ := PublicKeyPEM(pub); string(want) != b.PublicKey {
		return rep, fmt.Errorf("%w: its public key is not written as one PEM block of an Ed25519 key", ErrNotBundle)
	}
	if len(b.Entries) == 0 || len(b.Segments) == 0 {
		return rep, fmt.Errorf("%w: it holds no entries or no segments", ErrNotBundle)
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Entity != b.Entity || e.EntityID != b.EntityID {
			return rep, &Broken{e.Seq, fmt.Sprintf("it is about %s %s, not about the bundle's record", e.Entity, e.EntityID)}
		}
		if i > 0 && e.Seq <= b.Entries[i-1].Seq {
			return rep, &Broken{e.Seq, "the record's entries are not in sequence order"}
		}
	}

	next := 0 // the record's next entry not yet linked
	var after int64
	for i := range b.Segments {
		s := &b.Segments[i]
		if s.First <= after {
			return rep, &Broken{s.First, "its segment overlaps the one before it"}
		}
		if next < len(b.Entries) && b.Entries[next].Seq < s.First {
			return rep, &Broken{b.Entries[next].Seq, "no segment of the bundle links it to a signed checkpoint"}
		}
		n, err := s.link(b.Entries, &next)
		if err != nil {
			return rep, err
		}
		if err := s.Checkpoint.Verify(pub); err != nil {
			return rep, err
		}
		rep.Linked += n
		after = s.Checkpoint.Seq
	}
	if next < len(b.Entries) {
		return rep, &Broken{b.Entries[next].Seq, "no segment of the bundle links it to a signed checkpoint"}
	}

	last := &b.Segments[len(b.Segments)-1].Checkpoint
	rep = BundleReport{Entity: b.Entity, EntityID: b.EntityID, Entries: len(b.Entries),
		First: b.Entries[0].Seq, Last: b.Entries[len(b.Entries)-1].Seq, Linked: rep.Linked,
		Checkpoints: len(b.Segments), SignedAt: last.At.UTC().Truncate(time.Microsecond), KeyFingerprint: KeyFingerprint(pub)}
	return rep, nil
}

// link walks the segment from its previous hash to its checkpoint, taking
// the record's entries from entries[*next:] and the others from the
// segment, and returns how many entries it linked.
func (s *Segment) link(entries []Entry, next *int) (int64, error) {
	h, err := parseHashExact(s.PrevHash)
	if err != nil {
		return 0, &Broken{s.First, "the hash before its segment is not a SHA-256 hash"}
	}
	if s.First == 1 && h != Genesis {
		return 0, &Broken{1, "the hash before the first entry of the chain is not the chain's start"}
	}
	other := 0
	seq := s.First
	// Each step consumes an entry or fails, so a forged sequence number
	// cannot make this loop long.
	for ; seq <= s.Checkpoint.Seq; seq++ {
		switch {
		case *next < len(entries) && entries[*next].Seq == seq:
			e := &entries[*next]
			*next++
			if e.PrevHash != h.String() {
				return 0, &Broken{seq, "its previous hash is not the hash of the chain before it: an entry was inserted, deleted or moved"}
			}
			h = Link(h, e.Digest())
			if e.Hash != h.String() {
				return 0, &Broken{seq, "its content does not match its hash: the entry was changed"}
			}
		case other < len(s.Others) && s.Others[other].Seq == seq:
			d, err := parseHashExact(s.Others[other].Digest)
			if err != nil {
				return 0, &Broken{seq, "its digest is not a SHA-256 hash"}
			}
			other++
			h = Link(h, d)
		default:
			return 0, &Broken{seq, "the bundle lacks it, yet its segment runs through it: an entry was deleted"}
		}
	}
	if other < len(s.Others) {
		return 0, &Broken{s.Others[other].Seq, fmt.Sprintf("it lies outside its segment, which ends at the checkpoint at entry %d", s.Checkpoint.Seq)}
	}
	if seq == s.First {
		return 0, &Broken{s.First, "its segment is empty: the checkpoint that closes it comes before it"}
	}
	if h.String() != s.Checkpoint.Hash {
		return 0, &Broken{s.Checkpoint.Seq, "the chain of the bundle does not end in the hash the signed checkpoint holds: an entry of its segment was changed, added or removed"}
	}
	return seq - s.First, nil
}

// KeyFingerprint returns the SHA-256 of a public key's DER encoding
// (SubjectPublicKeyInfo), in hexadecimal: what a person compares to be sure
// of a key, as `openssl pkey -pubin -outform DER | sha256sum` prints it.
func KeyFingerprint(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	fp := sha256.Sum256(der)
	return hex.EncodeToString(fp[:])
}

// parseHashExact reads a hash written as String writes it, in lower case:
// a bundle's hashes are compared as written, so another spelling of the
// same bytes is refused too.
func parseHashExact(s string) (Hash, error) {
	h, err := ParseHash(s)
	if err == nil && h.String() != s {
		err = fmt.Errorf("not a lower-case SHA-256 hash: %q", s)
	}
	return h, err
}
