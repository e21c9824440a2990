package audit

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// referenceCanonical is the canonical encoding written the plain way, as it
// was first written: the hand-made fast path must give the same bytes.
func referenceCanonical(e *Entry) []byte {
	b := binary.AppendUvarint(nil, uint64(e.Seq))
	ts := e.At.UTC().Format(TimeLayout)
	b = binary.AppendUvarint(b, uint64(len(ts)))
	b = append(b, ts...)
	for _, f := range [...]string{e.ActorID, e.ActorName, e.SessionID, e.Address, e.Command,
		e.Entity, e.EntityID, e.Field, e.Old, e.New, e.Reason, e.ClientID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func TestCanonicalBytes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	times := []time.Time{
		{}, time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(-86400, 0), time.Unix(-86401, 1000),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 29, 12, 0, 0, 1, time.UTC),
		time.Date(1900, 2, 28, 23, 59, 59, 999, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 123_456_789, paris), time.Date(1600, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		times = append(times, time.Unix(r.Int64N(lastSec-firstSec+2*86400*366)+firstSec-86400*366, r.Int64N(1e9)))
	}
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(paris))
	}
	long := strings.Repeat("é", 200)
	for i, at := range times {
		e := Entry{Seq: int64(i) * 7919, At: at, ActorID: "u", ActorName: "Anne", Command: "c", Entity: "e", EntityID: "id",
			Field: "f", Old: long[:i%len(long)], New: "n", Reason: long[:(i*13)%len(long)], ClientID: "cl"}
		if got, want := e.AppendCanonical(nil), referenceCanonical(&e); !bytes.Equal(got, want) {
			t.Fatalf("time %v: canonical bytes\n%q\nwant\n%q", at, got, want)
		}
	}
}

func TestCanonicalAllocates(t *testing.T) {
	e := Entry{Seq: 123456, At: time.Date(2026, 3, 2, 6, 0, 0, 123456000, time.UTC), ActorID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f",
		ActorName: "Sophie Marchand", Command: "batch.step.complete", Entity: "batch_step", EntityID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f",
		Field: "status", Old: "in_progress", New: "completed"}
	e.Seq = 1
	prev, hash := Genesis, Link(Genesis, e.Digest())
	if n := testing.AllocsPerRun(100, func() {
		v := NewVerifier()
		if err := v.Add(&e, prev, hash); err != nil {
			t.Fatal(err)
		}
	}); n > 1 { // the Verifier itself
		t.Errorf("verifying an entry allocates %v times", n)
	}
}

func BenchmarkVerifyEntry(b *testing.B) {
	e := Entry{Seq: 1, At: time.Date(2026, 3, 2, 6, 0, 0, 123456000, time.UTC), ActorID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f",
		ActorName: "Sophie Marchand", SessionID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f", Address: "10.30.1.23",
		Command: "batch.step.complete", Entity: "batch_step", EntityID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f",
		Field: "status", Old: "in_progress", New: "completed", Reason: "Correction d'une erreur de saisie", ClientID: "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f"}
	hash := Link(Genesis, e.Digest())
	b.SetBytes(int64(len(e.AppendCanonical(nil))))
	for b.Loop() {
		v := Verifier{next: 1}
		if err := v.Add(&e, Genesis, hash); err != nil {
			b.Fatal(err)
		}
	}
}
