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
