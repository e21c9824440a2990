package environment

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// sameReadings compares readings bit for bit (times as instants).
func sameReadings(t *testing.T, got, want []Reading) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d readings, want %d", len(got), len(want))
	}
	for i := range got {
		if !Same(&got[i], &want[i]) || got[i].Flags != want[i].Flags || got[i].At.Location() != time.UTC {
			t.Fatalf("reading %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// noisy is n readings every 10 s of 20 ± 2 with 2 decimals, from a fixed
// seed.
func noisy(n int) []Reading {
	rng := rand.New(rand.NewPCG(1, 2))
	rs := make([]Reading, n)
	for i := range rs {
		v := math.Round((18+rng.Float64()*4)*100) / 100
		rs[i] = Reading{SensorID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Seq: uint64(i + 1), At: t0.Add(time.Duration(i) * 10 * time.Second), Value: v}
	}
	return rs
}

func TestBlockRoundTrip(t *testing.T) {
	neg0 := math.Copysign(0, -1)
	tests := []struct {
		name string
		rs   []Reading
		mode byte
	}{
		{"empty", nil, anyMode},
		{"one reading", series(time.Second, 21.37), anyMode},
		{"noise, 2 decimals", noisy(500), valuesFOR},
		{"a slow drift", series(10*time.Second, 20.00, 20.01, 20.02, 20.04, 20.05, 20.05, 20.07, 20.08, 20.10, 20.11, 20.12, 20.12), valuesDelta},
		{"integers (particle counts)", series(time.Minute, 0, 1200, 3520, 352000, 3520000, 0, 17), anyMode},
		{"negative pressures", series(time.Second, -12.5, -12.25, 15, -0.125), anyMode},
		{"a door", series(time.Second, 0, 1, 1, 0, 0, 0, 1), anyMode},
		{"a minus zero", series(time.Second, 1.5, neg0, 2), valuesXOR},
		{"too many decimals", series(time.Second, 0.1+0.2, 1.0/3, 2), valuesXOR},
		{"huge and tiny", series(time.Second, 1e300, 5e-324, -math.MaxFloat64, math.SmallestNonzeroFloat64), valuesXOR},
		{"constant", series(time.Second, 7, 7, 7, 7), anyMode},
		{"times out of order, jittered", func() []Reading {
			rs := series(10*time.Second, 1, 2, 3, 4, 5)
			rs[1].At = rs[1].At.Add(1234567 * time.Nanosecond)
			rs[3].At, rs[4].At = rs[4].At, rs[0].At.Add(-time.Hour)
			return rs
		}(), anyMode},
		{"sequences out of order, repeated, wrapping", func() []Reading {
			rs := series(time.Millisecond, 1, 2, 3, 4, 5)
			rs[0].Seq, rs[1].Seq, rs[2].Seq, rs[3].Seq, rs[4].Seq = 9, 3, 3, math.MaxUint64, 0
			return rs
		}(), anyMode},
		{"flags", func() []Reading {
			rs := series(time.Second, 1, 2, 3)
			rs[1].Flags = FlagMoved | FlagCalibrationOverdue
			return rs
		}(), anyMode},
		{"times in another zone", func() []Reading {
			rs := series(time.Second, 1, 2)
			for i := range rs {
				rs[i].At = rs[i].At.In(time.FixedZone("CEST", 7200))
			}
			return rs
		}(), anyMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeBlock(tt.rs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeBlock(b)
			if err != nil {
				t.Fatal(err)
			}
			sameReadings(t, got, tt.rs)
			if tt.mode != anyMode {
				if m := blockValueMode(t, b); m != tt.mode {
					t.Errorf("value mode: got %d, want %d", m, tt.mode)
				}
			}
			again, _ := EncodeBlock(got)
			if !bytes.Equal(again, b) || BlockHash(again) != BlockHash(b) {
				t.Error("the decoded readings encode to other bytes")
			}
		})
	}
}

// anyMode: the test leaves the value mode to the encoder.
const anyMode = 255

// blockValueMode reads the value mode from a block's header.
func blockValueMode(t *testing.T, b []byte) byte {
	t.Helper()
	p := len(blockMagic)
	idLen, n := binary.Uvarint(b[p:])
	p += n + int(idLen)
	_, n = binary.Uvarint(b[p:]) // count
	p += n + 1                   // and the time unit
	_, n = binary.Varint(b[p:])
	p += n
	_, n = binary.Uvarint(b[p:])
	p += n
	layout := b[p]
	p++
	if layout&layoutRegular != 0 {
		_, n = binary.Varint(b[p:])
		p += n
	}
	return b[p]
}

func TestBlockRefused(t *testing.T) {
	if _, err := EncodeBlock([]Reading{{SensorID: "a", At: t0}, {SensorID: "b", At: t0}}); err == nil {
		t.Error("two sensors in one block")
	}
	if _, err := EncodeBlock([]Reading{{SensorID: "a", At: at("1999-12-31T23:59:59Z")}}); err == nil {
		t.Error("a time out of bounds")
	}
	good, err := EncodeBlock(noisy(100))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":           {},
		"other magic":     append([]byte("GXB2"), good[4:]...),
		"truncated":       good[:len(good)-1],
		"trailing byte":   append(bytes.Clone(good), 0),
		"a count too big": nil,
	}
	b := bytes.Clone(blockMagic)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, MaxBlockReadings+1)
	bad["a count too big"] = b
	for name, b := range bad {
		if _, err := DecodeBlock(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	// Any one bit changed is refused, or decodes to other readings (and
	// so to another hash): a changed reading never goes unnoticed.
	want := noisy(100)
	h := BlockHash(good)
	for i := range good {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			if BlockHash(b) == h {
				t.Fatal("a changed block has the same hash")
			}
			got, err := DecodeBlock(b)
			if err != nil {
				continue
			}
			same := len(got) == len(want)
			for j := 0; same && j < len(got); j++ {
				same = Same(&got[j], &want[j])
			}
			if same {
				t.Fatalf("byte %d bit %d changed: decodes to the same readings", i, bit)
			}
		}
	}
}

// TestBlockCompact: noisy readings of 2 decimals cost under 1.2 bytes
// each (9 bits for the value, none for regular times and sequences), a
// slow drift a quarter of that.
func TestBlockCompact(t *testing.T) {
	b, _ := EncodeBlock(noisy(2000))
	per := float64(len(b)) / 2000
	t.Logf("noise: %.3f bytes a reading", per)
	if per > 1.2 {
		t.Errorf("noise: %.3f bytes a reading", per)
	}
	rs := noisy(2000)
	v := 20.0
	for i := range rs {
		v += float64(i%3-1) * 0.01
		rs[i].Value = math.Round(v*100) / 100
	}
	b, _ = EncodeBlock(rs)
	per = float64(len(b)) / 2000
	t.Logf("drift: %.3f bytes a reading", per)
	if per > 0.3 {
		t.Errorf("drift: %.3f bytes a reading", per)
	}
}

func FuzzBlockRoundTrip(f *testing.F) {
	for _, rs := range [][]Reading{nil, series(time.Second, 1.5, -2.25), noisy(20), series(time.Second, math.Copysign(0, -1), 1e300)} {
		b, _ := EncodeBlock(rs)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The bytes as a block: refused, or canonical.
		if rs, err := DecodeBlock(data); err == nil {
			again, err := EncodeBlock(rs)
			if err != nil || !bytes.Equal(again, data) {
				t.Fatalf("decoded a non-canonical block")
			}
		}
		// The bytes as readings: they come back bit for bit.
		var rs []Reading
		for p := 0; p+17 <= len(data); p += 17 {
			ns := int64(binary.LittleEndian.Uint32(data[p:])) * int64(binary.LittleEndian.Uint16(data[p+4:])&0x3ff+1)
			rs = append(rs, Reading{SensorID: "s", Seq: uint64(data[p+6]) | uint64(data[p+7])<<56,
				At:    t0.Add(time.Duration(ns)),
				Value: math.Float64frombits(binary.LittleEndian.Uint64(data[p+8:])), Flags: Flags(data[p+16] & 3)})
			if data[p+16]&4 != 0 { // a short decimal instead
				rs[len(rs)-1].Value = float64(int32(binary.LittleEndian.Uint32(data[p+8:]))) / pow10[data[p+12]%10]
			}
		}
		b, err := EncodeBlock(rs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		sameReadings(t, got, rs)
	})
}

// BenchmarkBlockEncode: 2,000 steps of 10 s readings of 20 ± 2 with 2
// decimals, and the bytes a reading takes.
func BenchmarkBlockEncode(b *testing.B) {
	rs := noisy(2000)
	var n int
	for b.Loop() {
		enc, err := EncodeBlock(rs)
		if err != nil {
			b.Fatal(err)
		}
		n = len(enc)
	}
	b.ReportMetric(float64(n)/float64(len(rs)), "bytes/reading")
}

func BenchmarkBlockDecode(b *testing.B) {
	enc, _ := EncodeBlock(noisy(2000))
	for b.Loop() {
		if _, err := DecodeBlock(enc); err != nil {
			b.Fatal(err)
		}
	}
}
