package environment

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VersionRef returns the address of the sensor's version.
func (s *Sensor) VersionRef() *int { return &s.Version }

// VersionRef returns the address of the limits' version.
func (l *Limits) VersionRef() *int { return &l.Version }

// SortReadings puts readings in their canonical order: by sensor, then
// sequence number.
func SortReadings(rs []Reading) {
	slices.SortFunc(rs, func(a, b Reading) int {
		return cmp.Or(strings.Compare(a.SensorID, b.SensorID), cmp.Compare(a.Seq, b.Seq))
	})
}

// CanonicalBytes appends the canonical bytes of a reading to b: its
// sensor's id (length first), sequence number, time in microseconds since
// 1970 (the resolution readings are stored at), value's IEEE 754 bits and
// flags, integers big-endian.
func (r *Reading) CanonicalBytes(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.SensorID)))
	b = append(b, r.SensorID...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.Value))
	return append(b, byte(r.Flags))
}

// Seal is what the audit trail keeps of a committed batch of readings:
// how many new readings it held and the SHA-256 of their canonical bytes
// in canonical order (SortReadings), so that a changed, added or removed
// reading is detected.
type Seal struct {
	Count  int
	Digest string // hex
}

// SealOf computes the seal of readings, which it sorts.
func SealOf(rs []Reading) Seal {
	SortReadings(rs)
	h := sha256.New()
	var buf []byte
	for i := range rs {
		buf = rs[i].CanonicalBytes(buf[:0])
		h.Write(buf)
	}
	return Seal{Count: len(rs), Digest: hex.EncodeToString(h.Sum(nil))}
}

// String writes the seal as the audit trail records it:
// "n=<count> sha256=<hex>".
func (s Seal) String() string { return "n=" + strconv.Itoa(s.Count) + " sha256=" + s.Digest }

// CompactWindow is the span of reception time whose readings are
// compacted together: the readings received in one window become one
// block per sensor, and the window's seal replaces, in the audit trail,
// the seals of the batches received in it.
const CompactWindow = time.Hour

// MinRetention is the least time readings are kept, whatever the site's
// policy says: EU GMP chapter 4.10 keeps batch documentation at least one
// year after the batch's expiry or five years after its certification,
// whichever is longer; readings of the rooms a batch was made in are part
// of it. Six years covers a shelf life of up to five years; a site making
// longer-lived products sets a longer policy.
const MinRetention = 6 * 365 * 24 * time.Hour

// WindowSeal is what the audit trail keeps of a window of readings
// compacted: the seal of all its readings (as a batch's: their count and
// the digest of their canonical bytes) and the digest of its blocks'
// hashes, in the order of their sensors, so that a block changed, removed
// or added, or a reading changed in one, is detected.
type WindowSeal struct {
	Seal
	Blocks       int
	BlocksDigest string // hex
}

// SealWindow computes the seal of a window from its blocks' readings
// (which it sorts) and their hashes, by sensor.
func SealWindow(rs []Reading, blockHashes []string) WindowSeal {
	h := sha256.New()
	for _, b := range blockHashes {
		h.Write([]byte(b))
		h.Write([]byte{'\n'})
	}
	return WindowSeal{Seal: SealOf(rs), Blocks: len(blockHashes), BlocksDigest: hex.EncodeToString(h.Sum(nil))}
}

// String writes the window's seal as the audit trail records it:
// "n=<count> sha256=<hex> blocks=<count> blocks_sha256=<hex>".
func (w WindowSeal) String() string {
	return w.Seal.String() + " blocks=" + strconv.Itoa(w.Blocks) + " blocks_sha256=" + w.BlocksDigest
}
