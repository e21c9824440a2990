package environment

import (
	"slices"
	"strconv"
	"time"
)

// Gap is a range of a sensor's sequence numbers not received, From to To
// both included: a data-completeness event while it lasts.
type Gap struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Seen is when the gap was first seen (the server's clock): the
	// data-gap alarm waits Limits.GapS from then.
	Seen time.Time `json:"seen"`
}

// Missing is how many readings the gap lacks.
func (g Gap) Missing() uint64 { return g.To - g.From + 1 }

// MaxGaps bounds the gaps a tracker keeps apart; beyond it the two
// nearest merge (see Tracker).
const MaxGaps = 1024

// Tracker follows one sensor's sequence numbers: which were received,
// which are missing. It is the intake's state for the sensor, kept by the
// store between messages. Everything from Low to High not in Gaps was
// received.
//
// Duplicate is exact: a sequence reported duplicate was received before.
// The converse holds too, unless more than MaxGaps gaps were open at once:
// the two nearest then merge into one, so a few received sequences count
// as missing, and should one of them come again it is "late" rather than
// duplicate; the store's unique key on (sensor, sequence) remains the
// last word on what is stored, so nothing is stored twice.
type Tracker struct {
	Low  uint64 `json:"low"` // 0: nothing received yet
	High uint64 `json:"high"`
	// Gaps are disjoint, in increasing order, strictly between Low and
	// High.
	Gaps []Gap `json:"gaps,omitempty"`
}

// Observed is what receiving one sequence number changed.
type Observed struct {
	// Duplicate: received before; the reading is dropped, once.
	Duplicate bool `json:"duplicate,omitempty"`
	// Late: it falls in a gap (a buffered reading sent after an outage,
	// or one overtaken by the next).
	Late bool `json:"late,omitempty"`
	// Opened is the gap this reading revealed, if any.
	Opened *Gap `json:"opened,omitempty"`
	// Closed is the gap this reading filled entirely, if any.
	Closed *Gap `json:"closed,omitempty"`
}

// Observe takes sequence seq (numbers start at 1: Intake.Check refuses
// 0), received at now. Readings may come in any
// order; the first one received starts the tracking, and one below it
// later extends it downwards (a gateway's buffer emptied after the live
// readings started again).
func (t *Tracker) Observe(seq uint64, now time.Time) Observed {
	switch {
	case t.High == 0:
		t.Low, t.High = seq, seq
		return Observed{}
	case seq > t.High:
		var o Observed
		if seq > t.High+1 {
			g := Gap{From: t.High + 1, To: seq - 1, Seen: now}
			t.Gaps = append(t.Gaps, g)
			o.Opened = &g
		}
		t.High = seq
		t.bound()
		return o
	case seq < t.Low:
		var o Observed
		if seq < t.Low-1 {
			g := Gap{From: seq + 1, To: t.Low - 1, Seen: now}
			t.Gaps = slices.Insert(t.Gaps, 0, g)
			o.Opened = &g
		}
		t.Low = seq
		t.bound()
		return o
	}
	i, found := slices.BinarySearchFunc(t.Gaps, seq, func(g Gap, s uint64) int {
		switch {
		case g.To < s:
			return -1
		case g.From > s:
			return 1
		}
		return 0
	})
	if !found {
		return Observed{Duplicate: true}
	}
	g := t.Gaps[i]
	o := Observed{Late: true}
	switch {
	case g.From == g.To:
		t.Gaps = slices.Delete(t.Gaps, i, i+1)
		o.Closed = &g
	case seq == g.From:
		t.Gaps[i].From++
	case seq == g.To:
		t.Gaps[i].To--
	default:
		t.Gaps[i].To = seq - 1
		t.Gaps = slices.Insert(t.Gaps, i+1, Gap{From: seq + 1, To: g.To, Seen: g.Seen})
	}
	return o
}

// bound merges the two nearest gaps while there are more than MaxGaps.
func (t *Tracker) bound() {
	for len(t.Gaps) > MaxGaps {
		best := 0
		for i := 1; i+1 < len(t.Gaps); i++ {
			if t.Gaps[i+1].From-t.Gaps[i].To < t.Gaps[best+1].From-t.Gaps[best].To {
				best = i
			}
		}
		a, b := t.Gaps[best], t.Gaps[best+1]
		seen := a.Seen
		if b.Seen.Before(seen) {
			seen = b.Seen
		}
		t.Gaps[best] = Gap{From: a.From, To: b.To, Seen: seen}
		t.Gaps = slices.Delete(t.Gaps, best+1, best+2)
	}
}

// Missing is how many sequence numbers between Low and High are missing.
func (t *Tracker) Missing() uint64 {
	var n uint64
	for _, g := range t.Gaps {
		n += g.Missing()
	}
	return n
}

// OldestGap is when the oldest gap still open was first seen; zero when
// none is.
func (t *Tracker) OldestGap() time.Time {
	var oldest time.Time
	for _, g := range t.Gaps {
		if oldest.IsZero() || g.Seen.Before(oldest) {
			oldest = g.Seen
		}
	}
	return oldest
}

// String writes the gap as "from-to".
func (g Gap) String() string {
	return strconv.FormatUint(g.From, 10) + "-" + strconv.FormatUint(g.To, 10)
}

// Received reports whether seq was received: from Low to High and in no
// gap (see Tracker for the one case where a received number counts as
// missing).
func (t *Tracker) Received(seq uint64) bool {
	if t.High == 0 || seq < t.Low || seq > t.High {
		return false
	}
	for _, g := range t.Gaps {
		if seq >= g.From && seq <= g.To {
			return false
		}
	}
	return true
}
