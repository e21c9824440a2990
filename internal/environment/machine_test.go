package environment

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/site"
)

var t0 = at("2026-06-01T08:00:00Z")

// series is a sensor's readings every step from t0, numbered from 1.
func series(step time.Duration, values ...float64) []Reading {
	rs := make([]Reading, len(values))
	for i, v := range values {
		rs[i] = Reading{SensorID: "s1", Seq: uint64(i + 1), At: t0.Add(time.Duration(i) * step), Value: v}
	}
	return rs
}

// run feeds the readings, each received at its own time, and returns the
// level after each one ("N", "A", "X" for action) and the events.
func run(t *testing.T, m *Machine, l *Limits, state func(time.Time) RoomState, rs []Reading) (string, []Event) {
	t.Helper()
	var levels strings.Builder
	var events []Event
	for i := range rs {
		evs, applied := m.Step(l, state(rs[i].At), &rs[i], rs[i].At)
		if !applied {
			t.Fatalf("reading %d not applied", i)
		}
		events = append(events, evs...)
		levels.WriteString(map[Level]string{Normal: "N", Alert: "A", Action: "X"}[m.Level])
	}
	return levels.String(), events
}

func atRest(time.Time) RoomState { return AtRest }

func kinds(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Kind))
	}
	return strings.Join(s, ",")
}

func tempSensor() *Sensor { s := goodSensor(); return &s }

// TestMachineLevels: constructed series through the state machine, with
// and without delay and deadband, on both sides.
func TestMachineLevels(t *testing.T) {
	base := Thresholds{AlertLow: f(19), AlertHigh: f(23), ActionLow: f(18), ActionHigh: f(25)}
	tests := []struct {
		name     string
		delay    int64
		deadband float64
		values   []float64
		levels   string
		events   string
	}{
		{"up and down at once", 0, 0, []float64{20, 23.5, 26, 24, 22}, "NAXAN", "opened,raised,lowered,closed"},
		{"a limit itself is within", 0, 0, []float64{23, 25, 18, 19}, "NAAN", "opened,closed"},
		{"straight to action and back", 0, 0, []float64{20, 30, 20}, "NXN", "opened,closed"},
		{"low side", 0, 0, []float64{20, 18.5, 17, 20}, "NAXN", "opened,raised,closed"},
		{"delay: rises once it held 30 s", 30, 0, []float64{20, 24, 24, 24, 24, 20}, "NNNNAN", "opened,closed"},
		{"delay: blips never rise", 30, 0, []float64{20, 24, 24, 20, 24, 24, 20, 26, 26, 22}, "NNNNNNNNNN", ""},
		{"delay: action waits its own 30 s", 30, 0, []float64{24, 24, 24, 24, 26, 26, 26, 26, 24}, "NNNAAAAXA", "opened,raised,lowered"},
		{"delay: no wait on the way down", 30, 0, []float64{26, 26, 26, 26, 20}, "NNNXN", "opened,closed"},
		{"deadband: hovering at the limit", 0, 0.5, []float64{23.1, 22.9, 23.1, 22.8, 22.6, 22.5}, "AAAAAN", "opened,closed"},
		{"deadband: inside by exactly the deadband falls", 0, 0.5, []float64{23.1, 22.5}, "AN", "opened,closed"},
		{"deadband: at the limit from normal", 0, 0.5, []float64{22.9, 23, 22.6}, "NNN", ""},
		{"deadband: action to alert to normal", 0, 0.5, []float64{26, 24.8, 24.6, 24.4, 22.6, 22.4}, "XXXAAN", "opened,lowered,closed"},
		{"deadband: low side", 0, 0.5, []float64{17.9, 18.3, 18.5, 19.4, 19.5}, "XXAAN", "opened,lowered,closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Limits{AtRest: base, DelayS: tt.delay, Deadband: tt.deadband}
			if err := l.Validate(KindTemperature); err != nil {
				t.Fatal(err)
			}
			levels, evs := run(t, NewMachine(tempSensor(), t0), l, atRest, series(10*time.Second, tt.values...))
			if levels != tt.levels || kinds(evs) != tt.events {
				t.Errorf("got %s %q, want %s %q", levels, kinds(evs), tt.levels, tt.events)
			}
		})
	}
}

// TestMachineAlarmRecord: the record an excursion leaves, with its
// start, end, peak, action part and coded message.
func TestMachineAlarmRecord(t *testing.T) {
	l := &Limits{AtRest: Thresholds{AlertHigh: f(23), ActionHigh: f(25)}, DelayS: 10}
	rs := series(10*time.Second, 20, 24, 24, 26, 27.5, 26, 24, 26, 26, 22, 20)
	m := NewMachine(tempSensor(), t0)
	levels, evs := run(t, m, l, atRest, rs)
	if levels != "NNAAXXAAXNN" {
		t.Fatalf("levels: got %s", levels)
	}
	if kinds(evs) != "opened,raised,lowered,raised,closed" {
		t.Fatalf("events: got %s", kinds(evs))
	}
	a := evs[len(evs)-1].Alarm
	want := Alarm{SensorID: "s1", Kind: AlarmLimit, Level: Action, Side: High, Limit: 25, State: AtRest,
		Start: rs[1].At, Raised: rs[2].At, End: rs[9].At, ActionStart: rs[3].At, ActionEnd: rs[9].At, Peak: 27.5, PeakAt: rs[4].At}
	want.Message = a.Message
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	if a.Message.Key != "stored.environment.alarm.above" || len(a.Message.Args) != 3 || a.Message.Args[1].Num != "25.00" || a.Message.Args[2].Str != "°C" ||
		a.Message.Args[0].Text == nil || a.Message.Args[0].Text.Key != "stored.environment.level.action" {
		t.Errorf("message: got %+v", a.Message)
	}
	if m.Limit != nil || m.Level != Normal {
		t.Errorf("the machine still holds an alarm: %+v", m)
	}
	// The first lowering had set an action end; rising again cleared it.
	if e := evs[2].Alarm; e.ActionEnd != rs[6].At {
		t.Errorf("lowered: action end %v, want %v", e.ActionEnd, rs[6].At)
	}
	if e := evs[3].Alarm; !e.ActionEnd.IsZero() {
		t.Errorf("raised again: action end %v, want none", e.ActionEnd)
	}
	ex, ok := a.Excursion(PlaceRoom, "R1")
	if !ok || ex.Start != rs[3].At || ex.End != rs[9].At || ex.PlaceID != "R1" {
		t.Errorf("excursion: got %+v %v", ex, ok)
	}
	// An alert that never reached action is no excursion.
	if _, ok := (&Alarm{Level: Alert}).Excursion(PlaceRoom, "R1"); ok {
		t.Error("an alert is an excursion")
	}
	// The low side's message and peak.
	l = &Limits{AtRest: Thresholds{ActionLow: f(18)}}
	_, evs = run(t, NewMachine(tempSensor(), t0), l, atRest, series(time.Minute, 17.5, 16.25, 17, 19))
	a = evs[len(evs)-1].Alarm
	if a.Side != Low || a.Peak != 16.25 || a.Message.Key != "stored.environment.alarm.below" || a.Limit != 18 {
		t.Errorf("low side: got %+v", a)
	}
}

// TestMachineNOfM: a particle counter raises when N of the last M samples
// are beyond the limit; a single burst does not.
func TestMachineNOfM(t *testing.T) {
	s := &Sensor{ID: "p1", Kind: KindParticles05}
	l := &Limits{AtRest: Thresholds{AlertHigh: f(2000), ActionHigh: f(3520)}, N: 2, M: 3}
	if err := l.Validate(KindParticles05); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values []float64
		levels string
	}{
		{"single bursts", []float64{100, 4000, 100, 100, 4000, 100, 100}, "NNNNNNN"},
		{"two of three", []float64{100, 4000, 100, 4000, 100, 100, 100}, "NNNXNNN"},
		{"two of three, held while it holds", []float64{100, 4000, 100, 4000, 4000, 100, 100}, "NNNXXXN"},
		{"alert and action counted apart", []float64{2500, 100, 4000, 2500, 100, 100}, "NNAAAN"},
		{"sustained", []float64{4000, 4000, 4000, 4000, 100, 100}, "NXXXXN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			levels, _ := run(t, NewMachine(s, t0), l, atRest, series(time.Minute, tt.values...))
			if levels != tt.levels {
				t.Errorf("got %s, want %s", levels, tt.levels)
			}
		})
	}
	rs := series(time.Minute, 100, 4000, 100, 4000, 100, 100)
	_, evs := run(t, NewMachine(s, t0), l, atRest, rs)
	if kinds(evs) != "opened,closed" {
		t.Fatalf("events: got %s", kinds(evs))
	}
	a := evs[1].Alarm
	if a.Start != rs[1].At || a.ActionStart != rs[1].At || a.Raised != rs[3].At || a.End != rs[4].At || a.Peak != 4000 {
		t.Errorf("got %+v, want the excursion from the first sample beyond", a)
	}
	if a.Message.Key != "stored.environment.alarm.above_n_of_m" || a.Message.Args[3].Num != "2" || a.Message.Args[4].Num != "3" {
		t.Errorf("message: got %+v", a.Message)
	}
}

// TestMachineRoomState: a grade B room's count of ≥ 0.5 µm particles is
// within its limits in operation and beyond them at rest; the batch
// record decides which.
func TestMachineRoomState(t *testing.T) {
	l, _, _ := DefaultLimits(site.GradeB, KindParticles05)
	batches := []BatchSpan{{BatchID: "b1", LineID: "L1", Start: t0, End: t0.Add(3 * time.Minute)}}
	lineRoom := map[string]string{"L1": "R1"}
	state := func(t time.Time) RoomState { return RoomStateAt("R1", t, batches, lineRoom) }
	rs := series(time.Minute, 10_000, 10_000, 10_000, 10_000, 10_000, 2_000)
	levels, evs := run(t, NewMachine(&Sensor{ID: "p1", Kind: KindParticles05}, t0), &l, state, rs)
	if levels != "NNNXXN" {
		t.Errorf("levels: got %s, want in operation until the batch completes", levels)
	}
	if len(evs) != 2 || evs[0].Alarm.State != AtRest || evs[0].Alarm.Limit != 3_520 {
		t.Errorf("events: got %+v", evs)
	}
}

func TestMachineDoor(t *testing.T) {
	s := &Sensor{ID: "d1", Kind: KindDoor}
	l := &Limits{AtRest: Thresholds{AlertHigh: f(0.5)}, DelayS: 60}
	levels, evs := run(t, NewMachine(s, t0), l, atRest, series(15*time.Second, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0))
	if levels != "NNNNNNNNNAAN" {
		t.Errorf("levels: got %s, want an alert only once open a full minute", levels)
	}
	if len(evs) != 2 || evs[0].Alarm.Message.Key != "stored.environment.alarm.door_open" {
		t.Errorf("events: got %+v", evs)
	}
}

func TestMachineLateReading(t *testing.T) {
	l := &Limits{AtRest: Thresholds{ActionHigh: f(25)}}
	m := NewMachine(tempSensor(), t0)
	rs := series(time.Minute, 20, 21)
	run(t, m, l, atRest, rs)
	late := Reading{SensorID: "s1", Seq: 9, At: rs[0].At, Value: 30}
	evs, applied := m.Step(l, AtRest, &late, rs[1].At.Add(time.Minute))
	if applied || len(evs) != 0 || m.Level != Normal || !m.Last.Equal(rs[1].At) {
		t.Errorf("a late reading changed the state: applied %v, %+v, %+v", applied, evs, m)
	}
	if !m.Heard.Equal(rs[1].At.Add(time.Minute)) {
		t.Errorf("a late reading is still a sign of life: heard %v", m.Heard)
	}
}

// TestReplay: a gateway's buffer delivers, out of order, an excursion
// that happened during an outage; replaying the series finds it whole.
func TestReplay(t *testing.T) {
	l := &Limits{AtRest: Thresholds{AlertHigh: f(23), ActionHigh: f(25)}, DelayS: 60}
	rs := series(30*time.Second, 20, 24, 24, 26, 26, 26, 26, 21, 20, 26, 26, 26)
	scrambled := []Reading{rs[5], rs[0], rs[10], rs[3], rs[11], rs[9], rs[1], rs[7], rs[2], rs[8], rs[4], rs[6]}
	got := Replay(tempSensor(), l, atRest, scrambled)
	if len(got) != 2 {
		t.Fatalf("got %d alarms, want a closed one and an open one: %+v", len(got), got)
	}
	a := got[0]
	if a.Start != rs[1].At || a.Raised != rs[3].At || a.ActionStart != rs[3].At || a.End != rs[7].At || a.Level != Action {
		t.Errorf("closed: got %+v", a)
	}
	if !got[1].Open() || got[1].Start != rs[9].At || got[1].Raised != rs[11].At || got[1].Level != Action {
		t.Errorf("open: got %+v", got[1])
	}
}

func TestMachineSilence(t *testing.T) {
	l := &Limits{SilenceS: 60}
	m := NewMachine(tempSensor(), t0)
	var tr Tracker
	if evs := m.Tick(l, &tr, t0.Add(59*time.Second)); len(evs) != 0 {
		t.Fatalf("silent 59 s: got %+v", evs)
	}
	evs := m.Tick(l, &tr, t0.Add(60*time.Second))
	if len(evs) != 1 || evs[0].Kind != Opened || evs[0].Alarm.Kind != AlarmSilence || !evs[0].Alarm.Start.Equal(t0) ||
		evs[0].Alarm.Message.Key != "stored.environment.alarm.silence" || evs[0].Alarm.Message.Args[0].Num != "1" {
		t.Fatalf("silent 60 s: got %+v", evs)
	}
	if evs := m.Tick(l, &tr, t0.Add(10*time.Minute)); len(evs) != 0 {
		t.Fatalf("still silent: got %+v, want the one alarm open", evs)
	}
	r := Reading{SensorID: "s1", Seq: 1, At: t0.Add(11 * time.Minute), Value: 20}
	evs, _ = m.Step(l, AtRest, &r, t0.Add(11*time.Minute))
	if len(evs) != 1 || evs[0].Kind != Closed || evs[0].Alarm.Kind != AlarmSilence || !evs[0].Alarm.End.Equal(t0.Add(11*time.Minute)) || m.Silence != nil {
		t.Fatalf("heard again: got %+v", evs)
	}
	if evs := m.Tick(&Limits{}, &tr, t0.Add(time.Hour)); len(evs) != 0 {
		t.Errorf("no silence time set: got %+v", evs)
	}
}

func TestMachineGap(t *testing.T) {
	l := &Limits{GapS: 30}
	m := NewMachine(tempSensor(), t0)
	var tr Tracker
	tr.Observe(1, t0)
	tr.Observe(5, t0) // 2-4 missing
	if evs := m.Tick(l, &tr, t0.Add(29*time.Second)); len(evs) != 0 {
		t.Fatalf("gap 29 s old: got %+v", evs)
	}
	evs := m.Tick(l, &tr, t0.Add(30*time.Second))
	if len(evs) != 1 || evs[0].Alarm.Kind != AlarmGap || evs[0].Alarm.Peak != 3 || evs[0].Alarm.Message.Args[0].Num != "3" {
		t.Fatalf("gap 30 s old: got %+v", evs)
	}
	tr.Observe(10, t0.Add(40*time.Second)) // 6-9 missing too
	tr.Observe(2, t0.Add(40*time.Second))
	if evs := m.Tick(l, &tr, t0.Add(41*time.Second)); len(evs) != 0 || m.Gap.Peak != 6 || m.Gap.Message.Args[0].Num != "6" {
		t.Fatalf("more missing: got %+v, peak %v", evs, m.Gap.Peak)
	}
	for _, s := range []uint64{3, 4, 6, 7, 8} {
		tr.Observe(s, t0.Add(50*time.Second))
	}
	if evs := m.Tick(l, &tr, t0.Add(51*time.Second)); len(evs) != 0 {
		t.Fatalf("one still missing: got %+v", evs)
	}
	tr.Observe(9, t0.Add(55*time.Second))
	evs = m.Tick(l, &tr, t0.Add(56*time.Second))
	if len(evs) != 1 || evs[0].Kind != Closed || !evs[0].Alarm.End.Equal(t0.Add(56*time.Second)) || evs[0].Alarm.Peak != 6 || m.Gap != nil {
		t.Fatalf("all filled: got %+v", evs)
	}
}

func TestMayAcknowledge(t *testing.T) {
	raised := t0.Add(time.Minute)
	acked := Alarm{Raised: raised, AckAt: raised, AckBy: "u1", AckComment: "done", AckSignatureID: "sig"}
	tests := []struct {
		name    string
		a       Alarm
		comment string
		sig     string
		now     time.Time
		code    errs.Code
		field   string
		key     string
	}{
		{"open alarm", Alarm{Raised: raised}, "door closed, room checked", "sig1", raised, "", "", ""},
		{"ended alarm", Alarm{Raised: raised, End: raised.Add(time.Hour)}, "ok", "sig1", raised.Add(2 * time.Hour), "", "", ""},
		{"twice", acked, "again", "sig2", raised.Add(time.Hour), errs.Conflict, "", "environment.alarm.already_acknowledged"},
		{"no comment", Alarm{Raised: raised}, "   ", "sig1", raised, errs.Invalid, "comment", "environment.alarm.comment_required"},
		{"comment too long", Alarm{Raised: raised}, strings.Repeat("a", MaxComment+1), "sig1", raised, errs.Invalid, "comment", "environment.alarm.comment_long"},
		{"comment not UTF-8", Alarm{Raised: raised}, "a\xff", "sig1", raised, errs.Invalid, "comment", "environment.alarm.comment_long"},
		{"no signature", Alarm{Raised: raised}, "ok", "", raised, errs.Invalid, "signature_id", "environment.alarm.signature_required"},
		{"before it was raised", Alarm{Raised: raised}, "ok", "sig1", raised.Add(-time.Second), errs.Conflict, "", "environment.alarm.ack_before_raised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			err := a.Acknowledge("u2", tt.comment, tt.sig, tt.now)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				if a.AckBy != "u2" || !a.AckAt.Equal(tt.now) || a.AckComment != strings.TrimSpace(tt.comment) || a.AckSignatureID != tt.sig || !a.Acknowledged() {
					t.Errorf("got %+v", a)
				}
				return
			}
			wantErr(t, err, tt.code, tt.field, tt.key)
			if !reflect.DeepEqual(a, tt.a) {
				t.Errorf("a refused acknowledgement changed the alarm: %+v", a)
			}
		})
	}
}

// TestMachinePeakDuringDelay: the peak of an excursion may come while
// the delay runs, before the alarm opens; it is kept, on either side.
func TestMachinePeakDuringDelay(t *testing.T) {
	l := &Limits{AtRest: Thresholds{AlertLow: f(19), AlertHigh: f(23)}, DelayS: 20}
	tests := []struct {
		name   string
		values []float64
		peak   float64
		at     int
	}{
		{"high", []float64{20, 24, 24.5, 24, 23.5, 20}, 24.5, 2},
		{"low", []float64{20, 18, 17.5, 18.5, 18.75, 20}, 17.5, 2},
		{"after opening", []float64{24, 24, 24, 25, 20}, 25, 3},
		{"an earlier run does not count", []float64{26, 20, 24, 24, 24, 20}, 24, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := series(10*time.Second, tt.values...)
			_, evs := run(t, NewMachine(tempSensor(), t0), l, atRest, rs)
			if len(evs) != 2 {
				t.Fatalf("events: got %s", kinds(evs))
			}
			if a := evs[1].Alarm; a.Peak != tt.peak || a.PeakAt != rs[tt.at].At {
				t.Errorf("got peak %v at %v, want %v at %v", a.Peak, a.PeakAt, tt.peak, rs[tt.at].At)
			}
		})
	}
	// With N of M, raised on a sample within the limit: the limit and
	// side are the level's, the peak the window's.
	p := &Limits{AtRest: Thresholds{ActionHigh: f(3520)}, N: 2, M: 4, DelayS: 60}
	rs := series(time.Minute, 100, 9000, 5000, 100, 100, 100, 100)
	_, evs := run(t, NewMachine(&Sensor{ID: "p1", Kind: KindParticles05}, t0), p, atRest, rs)
	if len(evs) != 2 {
		t.Fatalf("N of M events: got %s", kinds(evs))
	}
	if a := evs[0].Alarm; a.Raised != rs[3].At || a.Side != High || a.Limit != 3520 || a.Peak != 9000 || a.PeakAt != rs[1].At || a.Start != rs[1].At {
		t.Errorf("N of M: got %+v", a)
	}
}

// TestExcursionToBatches: an action-level excursion found by the machine
// names the batches in progress in the room while it lasted.
func TestExcursionToBatches(t *testing.T) {
	l := &Limits{AtRest: Thresholds{AlertHigh: f(23), ActionHigh: f(25)}}
	rs := series(10*time.Minute, 20, 24, 26, 27, 24, 20) // action from rs[2] to rs[4]
	_, evs := run(t, NewMachine(tempSensor(), t0), l, atRest, rs)
	a := evs[len(evs)-1].Alarm
	ex, ok := a.Excursion(PlaceRoom, "R1")
	if !ok {
		t.Fatalf("no excursion in %+v", a)
	}
	batches := []BatchSpan{
		{BatchID: "before", LineID: "L1", Start: t0.Add(-time.Hour), End: rs[2].At.Add(-time.Second)},
		{BatchID: "during alert only", LineID: "L1", Start: rs[1].At, End: rs[1].At.Add(5 * time.Minute)},
		{BatchID: "until the excursion began", LineID: "L1", Start: t0, End: rs[2].At},
		{BatchID: "during", LineID: "L2", Start: rs[3].At},
		{BatchID: "other room", LineID: "L3", Start: t0},
	}
	got := BatchesConcerned(ex, batches, map[string]string{"L1": "R1", "L2": "R1", "L3": "R2"})
	if len(got) != 2 || got[0].BatchID != "until the excursion began" || got[1].BatchID != "during" {
		t.Errorf("got %+v", got)
	}
}

// TestMachinePersisted: the store keeps the machine between readings as
// JSON; a machine written and read back mid-excursion goes on exactly as
// one that was never stopped, N-of-M window and pending peak included.
func TestMachinePersisted(t *testing.T) {
	s := &Sensor{ID: "p1", Kind: KindParticles05}
	l := &Limits{AtRest: Thresholds{AlertHigh: f(2000), ActionHigh: f(3520)}, N: 2, M: 3, DelayS: 60}
	rs := series(time.Minute, 100, 5000, 2500, 9000, 4000, 100, 100, 100)
	_, want := run(t, NewMachine(s, t0), l, atRest, rs)
	for cut := 1; cut < len(rs); cut++ {
		m := NewMachine(s, t0)
		_, got := run(t, m, l, atRest, rs[:cut])
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Machine
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		_, rest := run(t, &back, l, atRest, rs[cut:])
		got = append(got, rest...)
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if string(wb) != string(gb) {
			t.Fatalf("stopped after %d readings:\ngot  %s\nwant %s", cut, gb, wb)
		}
	}
	if len(want) != 3 {
		t.Errorf("events: got %s", kinds(want))
	}
	// A level restored without its alarm starts afresh rather than fail.
	m := NewMachine(s, t0)
	m.Level = Action
	r := Reading{SensorID: "p1", Seq: 1, At: t0, Value: 100}
	if evs, _ := m.Step(l, AtRest, &r, t0); len(evs) != 0 || m.Level != Normal {
		t.Errorf("got %+v, level %s", evs, m.Level)
	}
}
