package environment

import (
	"slices"
	"time"
)

// Evaluation is what evaluating one sensor's new readings needs: its
// machine as last recorded, its limits, the room's state at any time (from
// the batch record), and the readings. The store reads it under the
// machine's lock, so that one writer at a time evaluates a sensor.
type Evaluation struct {
	Sensor  *Sensor
	Limits  *Limits
	Machine *Machine
	StateAt func(time.Time) RoomState
	// Live are the readings later than the machine's last one, stepped in
	// time order.
	Live []Reading
	// Late is set when readings not later than the machine's last one
	// arrived (a gateway's buffer filling a gap): Window holds the stored
	// readings around them, late ones included, and Recorded the limit
	// alarms recorded over that window, so that Replay finds what the
	// buffer hid without counting an alarm twice.
	Late     bool
	Window   []Reading
	Recorded []Alarm
	Now      time.Time
}

// Evaluate steps the machine through the live readings in time order and,
// when late readings came, replays their window: it returns the events of
// the live readings, and the limit alarms the replay found that no alarm
// recorded (nor the one open now) overlaps — an excursion hidden in a
// gateway's buffer, recorded once, never a second time.
func Evaluate(ev Evaluation) (events []Event, found []Alarm) {
	live := slices.Clone(ev.Live)
	SortByTime(live)
	for i := range live {
		evs, _ := ev.Machine.Step(ev.Limits, ev.StateAt(live[i].At), &live[i], ev.Now)
		events = append(events, evs...)
	}
	if !ev.Late {
		return events, nil
	}
	taken := slices.Clone(ev.Recorded)
	if m := ev.Machine.Limit; m != nil {
		taken = append(taken, *m)
	}
	for _, e := range events {
		if e.Alarm.Kind == AlarmLimit {
			taken = append(taken, e.Alarm)
		}
	}
	for _, a := range Replay(ev.Sensor, ev.Limits, ev.StateAt, ev.Window) {
		if a.Open() {
			// Still beyond at the window's end: the live machine follows
			// it from there.
			continue
		}
		if slices.ContainsFunc(taken, func(t Alarm) bool { return overlaps(a, t) }) {
			continue
		}
		taken = append(taken, a)
		found = append(found, a)
	}
	return events, found
}

// overlaps reports whether two limit alarms share an instant: an alarm
// still open reaches every later time.
func overlaps(a, b Alarm) bool {
	if b.Kind != AlarmLimit {
		return false
	}
	if !a.End.IsZero() && b.Start.After(a.End) {
		return false
	}
	return b.End.IsZero() || !b.End.Before(a.Start)
}

// SortByTime sorts readings by time, then sequence.
func SortByTime(rs []Reading) {
	slices.SortStableFunc(rs, func(a, b Reading) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
}

// ReplayFrom is how far before the earliest late reading a replay starts:
// the limits' delay, and M samples of an N-of-M rule at one a minute, so
// that a condition that began before the gap is seen whole.
func ReplayFrom(l *Limits, earliest time.Time) time.Time {
	back := l.Delay() + 10*time.Minute + time.Duration(l.M)*time.Minute
	return earliest.Add(-back)
}
