package environment

import (
	"testing"
	"time"
)

func TestSealOf(t *testing.T) {
	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	a := []Reading{{SensorID: "b", Seq: 1, At: at, Value: 20.5}, {SensorID: "a", Seq: 2, At: at, Value: 21}, {SensorID: "a", Seq: 1, At: at, Value: 21}}
	b := []Reading{a[2], a[0], a[1]}
	sa, sb := SealOf(a), SealOf(b)
	if sa != sb || sa.Count != 3 || len(sa.Digest) != 64 {
		t.Fatalf("the order of a batch changed its seal: %v %v", sa, sb)
	}
	c := []Reading{a[0], a[1], a[2]}
	c[1].Value = 21.000001
	if SealOf(c) == sa {
		t.Error("a changed value left the seal as it was")
	}
	if SealOf(a[:2]) == sa {
		t.Error("a removed reading left the seal as it was")
	}
	if got := sa.String(); got != "n=3 sha256="+sa.Digest {
		t.Errorf("String: %q", got)
	}
}
