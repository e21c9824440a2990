package audit

import (
	"strings"
	"testing"
	"time"
)

func chain(n int) ([]Entry, []Hash) {
	es := make([]Entry, n)
	hs := make([]Hash, n)
	prev := Genesis
	for i := range es {
		es[i] = Entry{Seq: int64(i + 1), At: time.Date(2026, 11, 22, 8, 0, i, 1234000, time.UTC), ActorID: "u1", ActorName: "Anne",
			Command: "line.update", Entity: "line", EntityID: "L1", Field: "name", Old: "a", New: strings.Repeat("b", i), Reason: "r"}
		hs[i] = Link(prev, es[i].Digest())
		prev = hs[i]
	}
	return es, hs
}

func prevOf(hs []Hash, i int) Hash {
	if i == 0 {
		return Genesis
	}
	return hs[i-1]
}

func TestChainVerifies(t *testing.T) {
	es, hs := chain(50)
	v := NewVerifier()
	for i := range es {
		if err := v.Add(&es[i], prevOf(hs, i), hs[i]); err != nil {
			t.Fatalf("entry %d: %v", i+1, err)
		}
	}
	if seq, h := v.Head(); seq != 50 || h != hs[49] || v.Count != 50 {
		t.Errorf("head %d %v count %d", seq, h, v.Count)
	}
}

func TestChainFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(es []Entry, hs []Hash) ([]Entry, []Hash)
		wantSeq int64
	}{
		{"edited value", func(es []Entry, hs []Hash) ([]Entry, []Hash) { es[9].New = "forged"; return es, hs }, 10},
		{"edited time", func(es []Entry, hs []Hash) ([]Entry, []Hash) {
			es[4].At = es[4].At.Add(time.Microsecond)
			return es, hs
		}, 5},
		{"deleted", func(es []Entry, hs []Hash) ([]Entry, []Hash) {
			return append(es[:19:19], es[20:]...), append(hs[:19:19], hs[20:]...)
		}, 20},
		{"inserted", func(es []Entry, hs []Hash) ([]Entry, []Hash) {
			extra := es[29]
			return append(es[:30:30], append([]Entry{extra}, es[30:]...)...), append(hs[:30:30], append([]Hash{hs[29]}, hs[30:]...)...)
		}, 30},
		{"reordered", func(es []Entry, hs []Hash) ([]Entry, []Hash) {
			es[11], es[12] = es[12], es[11]
			es[11].Seq, es[12].Seq = 12, 13
			hs[11], hs[12] = hs[12], hs[11]
			return es, hs
		}, 12},
		{"rehashed after an edit", func(es []Entry, hs []Hash) ([]Entry, []Hash) {
			es[14].Old = "forged"
			hs[14] = Link(hs[13], es[14].Digest())
			return es, hs
		}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, hs := tt.tamper(chain(50))
			v := NewVerifier()
			var err error
			for i := range es {
				if err = v.Add(&es[i], prevOf(hs, i), hs[i]); err != nil {
					break
				}
			}
			b, ok := err.(*Broken)
			if !ok || b.Seq != tt.wantSeq {
				t.Errorf("got %v, want entry %d named", err, tt.wantSeq)
			}
		})
	}
}

func TestCanonicalBytesAreUnambiguous(t *testing.T) {
	a := Entry{Seq: 1, Field: "ab", Old: "c"}
	b := Entry{Seq: 1, Field: "a", Old: "bc"}
	if a.Digest() == b.Digest() {
		t.Error("two different entries share their canonical bytes")
	}
	if _, err := ParseHash("zz"); err == nil {
		t.Error("ParseHash accepts garbage")
	}
	h := Link(Genesis, a.Digest())
	if got, err := ParseHash(h.String()); err != nil || got != h {
		t.Errorf("ParseHash(String()) = %v, %v", got, err)
	}
}
