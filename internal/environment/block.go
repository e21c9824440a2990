package environment

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/bits"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// A block holds a run of one sensor's readings, compacted losslessly:
// decoding gives back every reading bit for bit (its sequence, its time
// to the nanosecond, in UTC, its value and its flags), so that compacting
// old readings loses nothing a reviewer could ask for. Its encoding is
// canonical — the same readings, in the same order, always give the same
// bytes, and Decode refuses any other bytes — so a block's SHA-256, kept
// in the audit trail, detects a changed reading.
//
// Layout (version 1), integers as varints unless said:
//
//	"GXB" 1                  magic and version
//	sensor id                length and bytes
//	count                    readings in the block
//	time unit, first time    unit 10^e ns (e = 0, 3, 6 or 9: the coarsest
//	                         dividing every time), the first time in it
//	first sequence
//	layout                   bits: 1 times regular (every step the same,
//	                         given next, in the unit), 2 sequences
//	                         consecutive, 4 flags (one byte a reading, at
//	                         the end); a regular stream takes no bits
//	[time step]
//	value mode and header    0 scaled, frame of reference: decimals, base
//	                         (the least scaled value), width in bits;
//	                         1 scaled, deltas: decimals, first value, width;
//	                         2 float bits, XOR with the previous value
//	bit stream               per reading after the first: the time's
//	                         delta-of-delta and the sequence's step beyond
//	                         1, in Gorilla-style prefix buckets (unless
//	                         regular); then the values; zero bits pad the
//	                         last byte
//	flags                    with layout bit 4
//
// A value is scaled when the block's decimals d (the most any value
// needs, up to 9) make every value an integer below 2^53 that divided by
// 10^d gives the value back exactly; otherwise (a -0, a value with more
// decimals) the block keeps the float's bits, XORed.
const blockVersion = 1

var blockMagic = []byte{'G', 'X', 'B', blockVersion}

// The layout bits of a block.
const (
	layoutRegular     = 1
	layoutConsecutive = 2
	layoutFlags       = 4
)

// MaxBlockReadings bounds the readings of one block.
const MaxBlockReadings = 1 << 17

// The value modes of a block.
const (
	valuesFOR   = 0
	valuesDelta = 1
	valuesXOR   = 2
)

const maxBlockDecimals = 9

var pow10 = [maxBlockDecimals + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// scaled returns v times 10^d as an integer when dividing it back by 10^d
// gives v bit for bit.
func scaled(v float64, d int) (int64, bool) {
	s := math.Round(v * pow10[d])
	if math.IsNaN(s) || math.Abs(s) >= 1<<53 {
		return 0, false
	}
	i := int64(s)
	return i, math.Float64bits(float64(i)/pow10[d]) == math.Float64bits(v)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// The prefix buckets of a delta-of-delta (zigzagged): '0' for 0, then
// '10', '110', '1110' with so many bits, '1111' with 64.
var buckets = []int{7, 12, 20}

func writeBucketed(w *bitWriter, z uint64) {
	if z == 0 {
		w.write(0, 1)
		return
	}
	for i, n := range buckets {
		if z < 1<<n {
			w.write(1<<(i+2)-2, i+2) // i+1 ones then a zero
			w.write(z, n)
			return
		}
	}
	w.write(0xF, 4)
	w.write(z, 64)
}

func readBucketed(r *bitReader) uint64 {
	for i := 0; i < len(buckets); i++ {
		if !r.bit() {
			if i == 0 {
				return 0
			}
			return r.read(buckets[i-1])
		}
	}
	if !r.bit() {
		return r.read(buckets[len(buckets)-1])
	}
	return r.read(64)
}

// EncodeBlock compacts readings of one sensor, in the order given.
func EncodeBlock(rs []Reading) ([]byte, error) {
	if len(rs) > MaxBlockReadings {
		return nil, errs.E(errs.TooLarge, "environment.block.too_many", text.Int(MaxBlockReadings))
	}
	out := bytes.Clone(blockMagic)
	id := ""
	if len(rs) > 0 {
		id = rs[0].SensorID
	}
	out = binary.AppendUvarint(out, uint64(len(id)))
	out = append(out, id...)
	out = binary.AppendUvarint(out, uint64(len(rs)))
	if len(rs) == 0 {
		return out, nil
	}
	ns := make([]int64, len(rs))
	flags := false
	for i := range rs {
		if rs[i].SensorID != id {
			return nil, errs.E(errs.Invalid, "environment.block.mixed_sensors")
		}
		if !bounds.InRange(rs[i].At.UTC()) {
			return nil, errs.E(errs.Invalid, "environment.block.time_out_of_range")
		}
		ns[i] = rs[i].At.UnixNano()
		flags = flags || rs[i].Flags != 0
	}
	// The coarsest unit dividing every time.
	e := 9
	for e > 0 {
		u := int64(math.Pow10(e))
		ok := true
		for _, t := range ns {
			if t%u != 0 {
				ok = false
				break
			}
		}
		if ok {
			break
		}
		e -= 3
	}
	unit := int64(math.Pow10(e))
	out = append(out, byte(e))
	out = binary.AppendVarint(out, ns[0]/unit)
	out = binary.AppendUvarint(out, rs[0].Seq)
	regular, consecutive := len(rs) > 1, true
	for i := 1; i < len(rs); i++ {
		regular = regular && (i == 1 || ns[i]/unit-ns[i-1]/unit == ns[1]/unit-ns[0]/unit)
		consecutive = consecutive && rs[i].Seq == rs[i-1].Seq+1
	}
	var layout byte
	if regular {
		layout |= layoutRegular
	}
	if consecutive {
		layout |= layoutConsecutive
	}
	if flags {
		layout |= layoutFlags
	}
	out = append(out, layout)
	if regular {
		out = binary.AppendVarint(out, ns[1]/unit-ns[0]/unit)
	}

	// Values: scaled integers when every value is a short decimal.
	d, ints := 0, make([]int64, len(rs))
	for i := range rs {
		for d <= maxBlockDecimals {
			if _, ok := scaled(rs[i].Value, d); ok {
				break
			}
			d++
		}
	}
	mode := valuesXOR
	var base int64
	var width int
	if d <= maxBlockDecimals {
		ok := true
		for i := range rs {
			if ints[i], ok = scaled(rs[i].Value, d); !ok {
				break
			}
		}
		if ok {
			lo, hi := slices64(ints)
			var maxDelta uint64
			for i := 1; i < len(ints); i++ {
				maxDelta = max(maxDelta, zigzag(ints[i]-ints[i-1]))
			}
			wFOR, wDelta := bits.Len64(uint64(hi-lo)), bits.Len64(maxDelta)
			if wDelta*(len(ints)-1) < wFOR*len(ints) {
				mode, base, width = valuesDelta, ints[0], wDelta
			} else {
				mode, base, width = valuesFOR, lo, wFOR
			}
		}
	}
	out = append(out, byte(mode))
	if mode == valuesXOR {
		out = binary.BigEndian.AppendUint64(out, math.Float64bits(rs[0].Value))
	} else {
		out = append(out, byte(d))
		out = binary.AppendVarint(out, base)
		out = append(out, byte(width))
	}

	w := bitWriter{out: out}
	var prevDelta int64
	for i := 1; i < len(rs); i++ {
		if !regular {
			delta := ns[i]/unit - ns[i-1]/unit
			writeBucketed(&w, zigzag(delta-prevDelta))
			prevDelta = delta
		}
		if !consecutive {
			writeBucketed(&w, zigzag(int64(rs[i].Seq-rs[i-1].Seq-1)))
		}
	}
	switch mode {
	case valuesFOR:
		for _, v := range ints {
			w.write(uint64(v-base), width)
		}
	case valuesDelta:
		for i := 1; i < len(ints); i++ {
			w.write(zigzag(ints[i]-ints[i-1]), width)
		}
	case valuesXOR:
		for i := 1; i < len(rs); i++ {
			x := math.Float64bits(rs[i].Value) ^ math.Float64bits(rs[i-1].Value)
			if x == 0 {
				w.write(0, 1)
				continue
			}
			lz, tz := bits.LeadingZeros64(x), bits.TrailingZeros64(x)
			sig := 64 - lz - tz
			w.write(1, 1)
			w.write(uint64(lz), 6)
			w.write(uint64(sig-1), 6)
			w.write(x>>tz, sig)
		}
	}
	out = w.flush()
	if flags {
		for i := range rs {
			out = append(out, byte(rs[i].Flags))
		}
	}
	return out, nil
}

func slices64(v []int64) (lo, hi int64) {
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// corrupt is the error of bytes that are no block.
func corrupt() error { return errs.E(errs.Invalid, "environment.block.corrupt") }

// DecodeBlock gives back the readings of a block, times in UTC. Bytes
// that are not the canonical encoding of what they decode to are refused.
func DecodeBlock(b []byte) ([]Reading, error) {
	rs, err := decodeBlock(b)
	if err != nil {
		return nil, err
	}
	again, err := EncodeBlock(rs)
	if err != nil || !bytes.Equal(again, b) {
		return nil, corrupt()
	}
	return rs, nil
}

func decodeBlock(b []byte) ([]Reading, error) {
	if !bytes.HasPrefix(b, blockMagic) {
		return nil, corrupt()
	}
	p := len(blockMagic)
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	varint := func() (int64, bool) {
		v, n := binary.Varint(b[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	byteAt := func() (byte, bool) {
		if p >= len(b) {
			return 0, false
		}
		p++
		return b[p-1], true
	}
	idLen, ok := uvarint()
	if !ok || idLen > uint64(len(b)-p) {
		return nil, corrupt()
	}
	id := string(b[p : p+int(idLen)])
	p += int(idLen)
	n, ok := uvarint()
	if !ok || n > MaxBlockReadings {
		return nil, corrupt()
	}
	if n == 0 {
		return []Reading{}, nil
	}
	e, ok1 := byteAt()
	t0, ok2 := varint()
	seq0, ok3 := uvarint()
	layout, ok4 := byteAt()
	if !ok1 || !ok2 || !ok3 || !ok4 || e > 9 || e%3 != 0 || layout > layoutRegular|layoutConsecutive|layoutFlags {
		return nil, corrupt()
	}
	var step int64
	if layout&layoutRegular != 0 {
		if step, ok = varint(); !ok {
			return nil, corrupt()
		}
	}
	mode, ok5 := byteAt()
	if !ok5 || mode > valuesXOR {
		return nil, corrupt()
	}
	var d, width byte
	var base int64
	var first uint64
	if mode == valuesXOR {
		if len(b)-p < 8 {
			return nil, corrupt()
		}
		first = binary.BigEndian.Uint64(b[p:])
		p += 8
	} else {
		var ok6, ok7, ok8 bool
		d, ok6 = byteAt()
		base, ok7 = varint()
		width, ok8 = byteAt()
		if !ok6 || !ok7 || !ok8 || d > maxBlockDecimals || width > 64 {
			return nil, corrupt()
		}
	}
	// Each reading after the first takes a bit at least, but in a
	// block of regular times, consecutive sequences and constant values.
	if (layout&(layoutRegular|layoutConsecutive) != layoutRegular|layoutConsecutive || width > 0 || mode == valuesXOR) && n-1 > uint64(len(b)-p)*8 {
		return nil, corrupt()
	}
	unit := int64(math.Pow10(int(e)))
	rs := make([]Reading, n)
	r := bitReader{in: b[p:]}
	t, seq := t0, seq0
	var delta int64
	for i := range rs {
		if i > 0 {
			if layout&layoutRegular != 0 {
				delta = step
			} else {
				delta += unzigzag(readBucketed(&r))
			}
			t += delta
			seq++
			if layout&layoutConsecutive == 0 {
				seq += uint64(unzigzag(readBucketed(&r)))
			}
		}
		rs[i] = Reading{SensorID: id, Seq: seq, At: time.Unix(0, t*unit).UTC()}
	}
	switch mode {
	case valuesFOR, valuesDelta:
		v := base
		for i := range rs {
			switch {
			case mode == valuesFOR:
				v = base + int64(r.read(int(width)))
			case i > 0:
				v += unzigzag(r.read(int(width)))
			}
			rs[i].Value = float64(v) / pow10[d]
		}
	case valuesXOR:
		v := first
		for i := range rs {
			if i > 0 && r.bit() {
				lz, sig := int(r.read(6)), int(r.read(6))+1
				if lz+sig > 64 {
					return nil, corrupt()
				}
				v ^= r.read(sig) << (64 - lz - sig)
			}
			rs[i].Value = math.Float64frombits(v)
		}
	}
	if r.err {
		return nil, corrupt()
	}
	p += (r.pos + 7) / 8
	if layout&layoutFlags != 0 {
		if uint64(len(b)-p) < n {
			return nil, corrupt()
		}
		for i := range rs {
			rs[i].Flags = Flags(b[p+i])
		}
		p += int(n)
	}
	if p != len(b) {
		return nil, corrupt()
	}
	return rs, nil
}

// BlockHash is the SHA-256 of a block's encoding, in hexadecimal: what
// the audit trail records of it.
func BlockHash(block []byte) string {
	h := sha256.Sum256(block)
	return hex.EncodeToString(h[:])
}
