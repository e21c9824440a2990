package environment

import (
	"testing"
	"time"
)

// TestEvaluateLateBuffer: readings are stepped in time order whatever
// their order of arrival; a late buffer's hidden excursion is found by the
// replay once, and not again when it is recorded, nor when it overlaps an
// alarm recorded live.
func TestEvaluateLateBuffer(t *testing.T) {
	l := &Limits{SensorID: "s1", AtRest: Thresholds{AlertHigh: f(23), ActionHigh: f(24)}, DelayS: 20, Deadband: 0.2}
	all := series(10*time.Second, 22, 22, 25, 25.5, 25.2, 25, 22, 22, 22)
	m := NewMachine(tempSensor(), t0)
	m.SensorID = "s1"
	// Live: 1, 2 and 7 to 9, sent in reverse order; 3 to 6 held back.
	live := []Reading{all[8], all[7], all[6], all[1], all[0]}
	evs, found := Evaluate(Evaluation{Sensor: tempSensor(), Limits: l, Machine: m, StateAt: atRest, Live: live, Now: t0.Add(time.Minute)})
	if len(evs) != 0 || len(found) != 0 || !m.Last.Equal(all[8].At) || m.Level != Normal {
		t.Fatalf("live: %+v %+v %+v", evs, found, m)
	}
	// The buffer arrives: the window holds every reading.
	ev := Evaluation{Sensor: tempSensor(), Limits: l, Machine: m, StateAt: atRest, Late: true, Window: all, Now: t0.Add(2 * time.Minute)}
	evs, found = Evaluate(ev)
	if len(evs) != 0 || len(found) != 1 || found[0].Level != Action || !found[0].Start.Equal(all[2].At) || !found[0].End.Equal(all[6].At) ||
		found[0].Peak != 25.5 {
		t.Fatalf("replay: %+v %+v", evs, found)
	}
	// Recorded now: the same window finds nothing more.
	ev.Recorded = found
	if _, again := Evaluate(ev); len(again) != 0 {
		t.Errorf("found twice: %+v", again)
	}
	// An alarm recorded live over part of it counts as the same.
	ev.Recorded = []Alarm{{Kind: AlarmLimit, Start: all[5].At, End: all[6].At}}
	if _, again := Evaluate(ev); len(again) != 0 {
		t.Errorf("found over a live alarm: %+v", again)
	}
	// A silence alarm at the same time is another kind.
	ev.Recorded = []Alarm{{Kind: AlarmSilence, Start: all[2].At}}
	if _, again := Evaluate(ev); len(again) != 1 {
		t.Errorf("a silence alarm hid the excursion: %+v", again)
	}
}
