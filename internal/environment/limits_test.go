package environment

import (
	"math"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/site"
)

func f(v float64) *float64 { return &v }

func goodLimits() Limits {
	return Limits{SensorID: "s1", AtRest: Thresholds{AlertLow: f(19), AlertHigh: f(23), ActionLow: f(18), ActionHigh: f(25)},
		DelayS: 60, Deadband: 0.2, SilenceS: 300, GapS: 120}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name  string
		kind  Kind
		edit  func(l *Limits)
		field string
		key   string
	}{
		{"valid", KindTemperature, func(l *Limits) {}, "", ""},
		{"no limit at all", KindTemperature, func(l *Limits) { l.AtRest = Thresholds{} }, "", ""},
		{"alert on a side without action", KindTemperature, func(l *Limits) { l.AtRest.ActionHigh = nil }, "", ""},
		{"particles with N of M", KindParticles05, func(l *Limits) {
			l.AtRest = Thresholds{AlertHigh: f(2000), ActionHigh: f(3520)}
			l.Deadband, l.N, l.M = 0, 2, 3
		}, "", ""},
		{"in operation checked too", KindTemperature, func(l *Limits) { l.InOperation = &Thresholds{AlertHigh: f(30), ActionHigh: f(26)} },
			"in_operation.alert_high", "environment.limits.alert_inside_action"},
		{"alert high beyond action high", KindTemperature, func(l *Limits) { l.AtRest.AlertHigh = f(25) }, "at_rest.alert_high", "environment.limits.alert_inside_action"},
		{"alert low beyond action low", KindTemperature, func(l *Limits) { l.AtRest.AlertLow = f(18) }, "at_rest.alert_low", "environment.limits.alert_inside_action"},
		{"alert low above action high", KindTemperature, func(l *Limits) { l.AtRest.AlertLow, l.AtRest.AlertHigh = f(26), nil }, "at_rest.alert_low", "environment.limits.alert_inside_action"},
		{"alert high below action low", KindTemperature, func(l *Limits) { l.AtRest.AlertHigh, l.AtRest.AlertLow = f(17), nil }, "at_rest.alert_high", "environment.limits.alert_inside_action"},
		{"alert low above alert high", KindTemperature, func(l *Limits) { l.AtRest.AlertLow, l.AtRest.AlertHigh = f(23), f(19) }, "at_rest.alert_low", "environment.limits.low_below_high"},
		{"action low above action high", KindTemperature, func(l *Limits) {
			l.AtRest = Thresholds{ActionLow: f(25), ActionHigh: f(18)}
		}, "at_rest.action_low", "environment.limits.low_below_high"},
		{"limit not finite", KindTemperature, func(l *Limits) { l.AtRest.ActionHigh = f(math.Inf(1)) }, "at_rest.action_high", "bounds.number_not_finite"},
		{"limit beyond physics", KindHumidity, func(l *Limits) { l.AtRest = Thresholds{ActionHigh: f(101)} }, "at_rest.action_high", "environment.limits.outside_physical"},
		{"negative particle limit", KindParticles5, func(l *Limits) { l.AtRest = Thresholds{ActionHigh: f(-1)}; l.Deadband = 0 }, "at_rest.action_high", "environment.limits.outside_physical"},
		{"delay negative", KindTemperature, func(l *Limits) { l.DelayS = -1 }, "delay_s", "environment.limits.delay_range"},
		{"delay over a day", KindTemperature, func(l *Limits) { l.DelayS = 86401 }, "delay_s", "environment.limits.delay_range"},
		{"deadband negative", KindTemperature, func(l *Limits) { l.Deadband = -0.1 }, "deadband", "environment.limits.deadband_negative"},
		{"deadband not finite", KindTemperature, func(l *Limits) { l.Deadband = math.NaN() }, "deadband", "bounds.number_not_finite"},
		{"deadband covering the alert band", KindTemperature, func(l *Limits) { l.Deadband = 2 }, "deadband", "environment.limits.deadband_too_wide"},
		{"deadband covering the band in operation", KindTemperature, func(l *Limits) {
			l.InOperation = &Thresholds{AlertLow: f(20), AlertHigh: f(20.3)}
		}, "deadband", "environment.limits.deadband_too_wide"},
		{"N of M on temperature", KindTemperature, func(l *Limits) { l.N, l.M = 1, 2 }, "n", "environment.limits.n_of_m_particles_only"},
		{"N above M", KindParticles05, func(l *Limits) { l.AtRest, l.Deadband, l.N, l.M = Thresholds{}, 0, 3, 2 }, "n", "environment.limits.n_of_m_range"},
		{"M without N", KindParticles05, func(l *Limits) { l.AtRest, l.Deadband, l.N, l.M = Thresholds{}, 0, 0, 2 }, "n", "environment.limits.n_of_m_range"},
		{"M too large", KindParticles05, func(l *Limits) { l.AtRest, l.Deadband, l.N, l.M = Thresholds{}, 0, 1, MaxM+1 }, "n", "environment.limits.n_of_m_range"},
		{"silence negative", KindTemperature, func(l *Limits) { l.SilenceS = -5 }, "silence_s", "environment.limits.silence_range"},
		{"silence over a week", KindTemperature, func(l *Limits) { l.SilenceS = 7*86400 + 1 }, "silence_s", "environment.limits.silence_range"},
		{"gap delay negative", KindTemperature, func(l *Limits) { l.GapS = -1 }, "gap_s", "environment.limits.gap_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := goodLimits()
			tt.edit(&l)
			err := l.Validate(tt.kind)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			wantErr(t, err, errs.Invalid, tt.field, tt.key)
		})
	}
}

// TestGradeLimit: Annex 1 (2022) Table 5, every grade, kind and state.
func TestGradeLimit(t *testing.T) {
	none := -1.0
	tests := []struct {
		g                                  site.Grade
		restSmall, restBig, opSmall, opBig float64
	}{
		{site.GradeA, 3_520, none, 3_520, none},
		{site.GradeB, 3_520, none, 352_000, 2_930},
		{site.GradeC, 352_000, 2_930, 3_520_000, 29_300},
		{site.GradeD, 3_520_000, 29_300, none, none},
		{site.GradeCNC, none, none, none, none},
		{site.GradeUnclassified, none, none, none, none},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			k     Kind
			state RoomState
			want  float64
		}{{KindParticles05, AtRest, tt.restSmall}, {KindParticles5, AtRest, tt.restBig},
			{KindParticles05, InOperation, tt.opSmall}, {KindParticles5, InOperation, tt.opBig}, {KindTemperature, AtRest, none}} {
			got, ok := GradeLimit(tt.g, c.k, c.state)
			if !ok {
				got = none
			}
			if got != c.want {
				t.Errorf("grade %s %s %s: got %v, want %v", tt.g, c.k, c.state, got, c.want)
			}
		}
	}
}

func TestDefaultLimits(t *testing.T) {
	l, siteSets, ok := DefaultLimits(site.GradeB, KindParticles5)
	if !ok || siteSets || l.AtRest.ActionHigh != nil || l.InOperation == nil || l.InOperation.ActionHigh == nil || *l.InOperation.ActionHigh != 2_930 {
		t.Errorf("grade B ≥5 µm: got %+v %v %v, want none at rest, 2,930 in operation", l, siteSets, ok)
	}
	if err := l.Validate(KindParticles5); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	l, siteSets, ok = DefaultLimits(site.GradeD, KindParticles05)
	if !ok || !siteSets || *l.AtRest.ActionHigh != 3_520_000 || !l.InOperation.Empty() {
		t.Errorf("grade D: got %+v %v %v, want 3,520,000 at rest, in operation for the site to set", l, siteSets, ok)
	}
	// The state chooses the thresholds: grade C at rest and in operation.
	l, _, _ = DefaultLimits(site.GradeC, KindParticles05)
	if got := *l.For(AtRest).ActionHigh; got != 352_000 {
		t.Errorf("grade C at rest: got %v", got)
	}
	if got := *l.For(InOperation).ActionHigh; got != 3_520_000 {
		t.Errorf("grade C in operation: got %v", got)
	}
	for _, c := range []struct {
		g site.Grade
		k Kind
	}{{site.GradeCNC, KindParticles05}, {site.GradeA, KindTemperature}} {
		if _, _, ok := DefaultLimits(c.g, c.k); ok {
			t.Errorf("%s %s: got defaults, want none", c.g, c.k)
		}
	}
}

func TestRoomLimits(t *testing.T) {
	r := &site.Room{Grade: site.GradeC, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60, CascadesTo: "corridor", PressureDiffPa: 15}
	tests := []struct {
		k      Kind
		lo, hi *float64
		ok     bool
	}{
		{KindTemperature, f(18), f(24), true},
		{KindHumidity, f(30), f(60), true},
		{KindPressureDiff, f(15), nil, true},
		{KindDoor, nil, nil, false},
	}
	for _, tt := range tests {
		l, ok := RoomLimits(r, tt.k)
		if ok != tt.ok || !same(l.AtRest.ActionLow, tt.lo) || !same(l.AtRest.ActionHigh, tt.hi) {
			t.Errorf("%s: got %+v %v", tt.k, l.AtRest, ok)
		}
		if ok {
			if err := l.Validate(tt.k); err != nil {
				t.Errorf("%s: the room's limits are refused: %v", tt.k, err)
			}
		}
	}
	r.CascadesTo = ""
	if l, _ := RoomLimits(r, KindPressureDiff); !l.AtRest.Empty() {
		t.Errorf("a room without cascade: got %+v, want no pressure limit", l.AtRest)
	}
}

func same(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func TestRoomStateAt(t *testing.T) {
	t0 := at("2026-06-01T08:00:00Z")
	lineRoom := map[string]string{"L1": "R1", "L2": "R1", "L3": "R2"}
	batches := []BatchSpan{
		{BatchID: "b1", LineID: "L1", Start: t0, End: t0.Add(2 * time.Hour)},
		{BatchID: "b2", LineID: "L3", Start: t0.Add(time.Hour)}, // still in progress, other room
		{BatchID: "b3", LineID: "L9", RoomID: "R1", Start: t0.Add(5 * time.Hour), End: t0.Add(6 * time.Hour)},
		{BatchID: "b4", LineID: "L2"}, // not started
	}
	tests := []struct {
		name string
		room string
		t    time.Time
		want RoomState
	}{
		{"before any batch", "R1", t0.Add(-time.Second), AtRest},
		{"the instant a batch starts", "R1", t0, InOperation},
		{"during it", "R1", t0.Add(time.Hour), InOperation},
		{"the instant it completes", "R1", t0.Add(2 * time.Hour), AtRest},
		{"between batches", "R1", t0.Add(3 * time.Hour), AtRest},
		{"a batch whose room is given", "R1", t0.Add(5 * time.Hour), InOperation},
		{"another room's batch in progress", "R2", t0.Add(30 * time.Hour), InOperation},
		{"a room without lines", "R3", t0.Add(time.Hour), AtRest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoomStateAt(tt.room, tt.t, batches, lineRoom); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBatchesConcerned(t *testing.T) {
	t0 := at("2026-06-01T08:00:00Z")
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	lineRoom := map[string]string{"L1": "R1", "L2": "R1", "L3": "R2"}
	batches := []BatchSpan{
		{BatchID: "ends-at-start", LineID: "L1", Start: h(0), End: h(2)},
		{BatchID: "ends-just-before", LineID: "L1", Start: h(0), End: h(2).Add(-time.Nanosecond)},
		{BatchID: "starts-at-end", LineID: "L2", Start: h(3)},
		{BatchID: "starts-just-after", LineID: "L2", Start: h(3).Add(time.Nanosecond), End: h(4)},
		{BatchID: "inside", LineID: "L2", Start: h(2.5), End: h(2.75)},
		{BatchID: "spanning", LineID: "L1", Start: h(1), End: h(5)},
		{BatchID: "other-room", LineID: "L3", Start: h(1), End: h(5)},
		{BatchID: "room-given", LineID: "L7", RoomID: "R1", Start: h(2.2), End: h(2.3)},
		{BatchID: "never-started", LineID: "L1"},
	}
	ids := func(bs []BatchSpan) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.BatchID)
		}
		return out
	}
	tests := []struct {
		name string
		e    Excursion
		want []string
	}{
		{"room, closed", Excursion{PlaceRoom, "R1", Interval{h(2), h(3)}},
			[]string{"ends-at-start", "starts-at-end", "inside", "spanning", "room-given"}},
		{"line, closed", Excursion{PlaceLine, "L1", Interval{h(2), h(3)}}, []string{"ends-at-start", "spanning"}},
		{"room, still open", Excursion{PlaceRoom, "R1", Interval{Start: h(2.6)}},
			[]string{"starts-at-end", "starts-just-after", "inside", "spanning"}},
		{"an instant", Excursion{PlaceRoom, "R2", Interval{h(5), h(5)}}, []string{"other-room"}},
		{"nobody there", Excursion{PlaceRoom, "R3", Interval{h(0), h(9)}}, nil},
		{"equipment is mapped by the store", Excursion{PlaceEquipment, "L1", Interval{h(0), h(9)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(BatchesConcerned(tt.e, batches, lineRoom))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
