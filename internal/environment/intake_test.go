package environment

import (
	"math"
	"testing"
	"time"

	"galenix/internal/errs"
)

func TestIntakeCheck(t *testing.T) {
	now := at("2026-06-01T12:00:00Z")
	good := func() Reading { return Reading{SensorID: "s1", Seq: 7, At: now.Add(-time.Minute), Value: 20.5} }
	tests := []struct {
		name string
		kind Kind
		edit func(r *Reading)
		want Refusal
	}{
		{"valid", KindTemperature, func(r *Reading) {}, ""},
		{"within the skew", KindTemperature, func(r *Reading) { r.At = now.Add(DefaultIntake.Skew) }, ""},
		{"oldest taken", KindTemperature, func(r *Reading) { r.At = now.Add(-DefaultIntake.MaxAge) }, ""},
		{"no sensor", KindTemperature, func(r *Reading) { r.SensorID = "" }, RefusedSensorUnknown},
		{"kind unknown", "radiation", func(r *Reading) {}, RefusedSensorUnknown},
		{"no sequence", KindTemperature, func(r *Reading) { r.Seq = 0 }, RefusedSeqMissing},
		{"no time", KindTemperature, func(r *Reading) { r.At = time.Time{} }, RefusedTimeMissing},
		{"beyond the skew", KindTemperature, func(r *Reading) { r.At = now.Add(DefaultIntake.Skew + time.Nanosecond) }, RefusedTimeFuture},
		{"year 9999", KindTemperature, func(r *Reading) { r.At = at("9999-01-01T00:00:00Z") }, RefusedTimeFuture},
		{"too old", KindTemperature, func(r *Reading) { r.At = now.Add(-DefaultIntake.MaxAge - time.Nanosecond) }, RefusedTimeTooOld},
		{"NaN", KindTemperature, func(r *Reading) { r.Value = math.NaN() }, RefusedValueNotFinite},
		{"infinite", KindTemperature, func(r *Reading) { r.Value = math.Inf(-1) }, RefusedValueNotFinite},
		{"below absolute zero", KindTemperature, func(r *Reading) { r.Value = -274 }, RefusedValuePhysical},
		{"humidity over 100", KindHumidity, func(r *Reading) { r.Value = 100.01 }, RefusedValuePhysical},
		{"negative particles", KindParticles05, func(r *Reading) { r.Value = -1 }, RefusedValuePhysical},
		{"door half open", KindDoor, func(r *Reading) { r.Value = 0.5 }, RefusedValueNotBinary},
		{"door open", KindDoor, func(r *Reading) { r.Value = 1 }, ""},
	}
	counts := Counts{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.edit(&r)
			got := DefaultIntake.Check(&r, tt.kind, now)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			counts.Add(got)
			if got == "" {
				return
			}
			wantErr(t, got.Err(), errs.Invalid, got.Field(), "environment.reading."+string(got))
			if got.Key() == "" {
				t.Errorf("%s has no message", got)
			}
			if got.Field() == "" {
				t.Errorf("%s names no field", got)
			}
		})
	}
	if counts[RefusedValueNotFinite] != 2 || counts[RefusedTimeFuture] != 2 || counts[""] != 0 {
		t.Errorf("counts: got %v", counts)
	}
	for _, r := range Refusals {
		if r.Key() != "environment.reading."+string(r) || (r != RefusedMessageMalformed && r.Field() == "") {
			t.Errorf("%s: key %q field %q", r, r.Key(), r.Field())
		}
	}
	if (Refusal("")).Err() != nil || Refusal("").Key() != "" {
		t.Error("an accepted reading has an error")
	}
}

func TestSame(t *testing.T) {
	a := Reading{SensorID: "s1", Seq: 1, At: at("2026-06-01T12:00:00Z"), Value: 20}
	b := a
	b.At = b.At.In(time.FixedZone("CEST", 7200))
	if !Same(&a, &b) {
		t.Error("the same reading in another zone is not the same")
	}
	for _, edit := range []func(r *Reading){
		func(r *Reading) { r.Value = 20.01 },
		func(r *Reading) { r.At = r.At.Add(time.Millisecond) },
		func(r *Reading) { r.Seq = 2 },
		func(r *Reading) { r.Value = math.Copysign(0, -1); a.Value = 0 },
	} {
		c := a
		edit(&c)
		if Same(&a, &c) {
			t.Errorf("%+v and %+v are the same", a, c)
		}
	}
}

// TestTracker feeds a sensor's sequence numbers as an outage and its
// gateway's buffer deliver them, and checks each step's verdict.
func TestTracker(t *testing.T) {
	t0 := at("2026-06-01T12:00:00Z")
	type step struct {
		seq     uint64
		dup     bool
		late    bool
		opened  string // "from-to"
		closed  string
		missing uint64
	}
	g := func(from, to uint64) string { return Gap{From: from, To: to}.String() }
	tests := []struct {
		name  string
		steps []step
		gaps  []string
	}{
		{"in order", []step{{seq: 1}, {seq: 2}, {seq: 3}, {seq: 3, dup: true}}, nil},
		{"first reading mid-life", []step{{seq: 500}, {seq: 501}, {seq: 500, dup: true}}, nil},
		{"overtaken by the next", []step{{seq: 1}, {seq: 3, opened: g(2, 2), missing: 1}, {seq: 2, late: true, closed: g(2, 2)}, {seq: 2, dup: true}}, nil},
		{"outage then buffer", []step{
			{seq: 10}, {seq: 15, opened: g(11, 14), missing: 4}, {seq: 16, missing: 4},
			{seq: 12, late: true, missing: 3}, {seq: 12, dup: true, missing: 3}, {seq: 11, late: true, closed: g(11, 11), missing: 2},
			{seq: 14, late: true, missing: 1}, {seq: 13, late: true, closed: g(13, 13)}, {seq: 13, dup: true}, {seq: 16, dup: true},
		}, nil},
		{"two gaps, partly filled", []step{
			{seq: 1}, {seq: 5, opened: g(2, 4), missing: 3}, {seq: 9, opened: g(6, 8), missing: 6}, {seq: 7, late: true, missing: 5},
		}, []string{g(2, 4), g(6, 6), g(8, 8)}},
		{"below the first one received", []step{{seq: 10}, {seq: 11}, {seq: 7, opened: g(8, 9), missing: 2}, {seq: 6, missing: 2}, {seq: 8, late: true, missing: 1}, {seq: 6, dup: true, missing: 1}},
			[]string{g(9, 9)}},
		{"the largest sequence", []step{{seq: math.MaxUint64 - 1}, {seq: math.MaxUint64}, {seq: math.MaxUint64, dup: true}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr Tracker
			for i, s := range tt.steps {
				o := tr.Observe(s.seq, t0.Add(time.Duration(i)*time.Second))
				var opened, closed string
				if o.Opened != nil {
					opened = o.Opened.String()
				}
				if o.Closed != nil {
					closed = o.Closed.String()
				}
				if o.Duplicate != s.dup || o.Late != s.late || opened != s.opened || closed != s.closed || tr.Missing() != s.missing {
					t.Fatalf("step %d (seq %d): got dup %v late %v opened %q closed %q missing %d, want %+v",
						i, s.seq, o.Duplicate, o.Late, opened, closed, tr.Missing(), s)
				}
			}
			if len(tr.Gaps) != len(tt.gaps) {
				t.Fatalf("gaps: got %v, want %v", tr.Gaps, tt.gaps)
			}
			for i, g := range tr.Gaps {
				if g.String() != tt.gaps[i] {
					t.Fatalf("gaps: got %v, want %v", tr.Gaps, tt.gaps)
				}
			}
		})
	}
}

func TestTrackerGapSeen(t *testing.T) {
	t0 := at("2026-06-01T12:00:00Z")
	var tr Tracker
	tr.Observe(1, t0)
	tr.Observe(5, t0.Add(time.Minute))
	tr.Observe(9, t0.Add(2*time.Minute))
	if got := tr.OldestGap(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("oldest gap: got %v", got)
	}
	tr.Observe(3, t0.Add(3*time.Minute)) // splits 2-4: both halves keep when the gap was seen
	if len(tr.Gaps) != 3 || !tr.Gaps[1].Seen.Equal(t0.Add(time.Minute)) || !tr.OldestGap().Equal(t0.Add(time.Minute)) {
		t.Errorf("after a split: got %+v", tr.Gaps)
	}
	for _, s := range []uint64{2, 4} {
		tr.Observe(s, t0.Add(4*time.Minute))
	}
	if got := tr.OldestGap(); !got.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("oldest gap once the first is filled: got %v", got)
	}
	tr.Observe(6, t0)
	tr.Observe(7, t0)
	tr.Observe(8, t0)
	if !tr.OldestGap().IsZero() || tr.Missing() != 0 {
		t.Errorf("all filled: got %+v", tr.Gaps)
	}
}

// TestTrackerBound: a sender skipping every other number keeps at most
// MaxGaps gaps; the merged ones count as missing, so a reading of them
// sent again is late, never a false duplicate, and nothing received is
// ever lost from the count of what is missing.
func TestTrackerBound(t *testing.T) {
	var tr Tracker
	now := at("2026-06-01T12:00:00Z")
	n := uint64(2*MaxGaps + 11) // odd: the last number is sent first
	for s := uint64(1); s <= n; s += 2 {
		tr.Observe(s, now)
	}
	if len(tr.Gaps) > MaxGaps {
		t.Fatalf("got %d gaps, want at most %d", len(tr.Gaps), MaxGaps)
	}
	if tr.Missing() < n/2 {
		t.Errorf("missing: got %d, want at least the %d never sent", tr.Missing(), n/2)
	}
	for s := uint64(2); s < n; s += 2 {
		if o := tr.Observe(s, now); o.Duplicate {
			t.Fatalf("seq %d never sent is called a duplicate", s)
		}
	}
	// What is still missing are received numbers the merges covered:
	// sent again, each is late once, then a duplicate.
	before, late := tr.Missing(), uint64(0)
	for s := uint64(1); s <= n; s++ {
		if o := tr.Observe(s, now); o.Late {
			late++
		} else if !o.Duplicate {
			t.Fatalf("seq %d: neither late nor duplicate", s)
		}
	}
	if late != before || tr.Missing() != 0 {
		t.Errorf("got %d late of %d missing, %d still missing", late, before, tr.Missing())
	}
	for s := uint64(1); s <= n; s++ {
		if o := tr.Observe(s, now); !o.Duplicate {
			t.Fatalf("seq %d: sent a third time, not a duplicate", s)
		}
	}
}
