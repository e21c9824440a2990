package environment

import (
	"slices"
	"time"

	"galenix/internal/text"
)

// Machine is the alarm state of one sensor: normal → alert → action and
// back. It is pure state, kept by the store between readings and fed the
// readings in time order (Step) and the passing of time (Tick).
//
// Rising: the condition of a level must hold continuously for the
// limits' delay before the level rises — the value beyond the level's
// limit, or, with an N-of-M rule, N of the last M samples beyond it.
// Falling: the level holds while its condition does or the value is
// still within the deadband inside its limit; then it falls at once to
// the highest level still held (no delay on the way down: an alarm ends as
// soon as the room is back).
type Machine struct {
	SensorID string `json:"sensor_id"`
	Kind     Kind   `json:"kind"`
	Decimals int    `json:"decimals"`
	Level    Level  `json:"level"`
	// Since holds, for alert and action, when their condition began
	// holding continuously (zero: it does not hold).
	AlertSince  time.Time `json:"alert_since,omitzero"`
	ActionSince time.Time `json:"action_since,omitzero"`
	// Window is the last M samples' raw levels, for an N-of-M rule.
	Window []Sample `json:"window,omitempty"`
	// Highest and Lowest are the extreme readings since the alert
	// condition began, before an alarm opens: its peak may come during
	// the delay.
	Highest *Sample `json:"highest,omitempty"`
	Lowest  *Sample `json:"lowest,omitempty"`
	// Last is the time of the last reading applied; Heard is when the
	// last reading arrived (the server's clock), for silence.
	Last  time.Time `json:"last,omitzero"`
	Heard time.Time `json:"heard,omitzero"`
	// The alarms open now, one of each kind at most.
	Limit   *Alarm `json:"limit,omitempty"`
	Silence *Alarm `json:"silence,omitempty"`
	Gap     *Alarm `json:"gap,omitempty"`
}

// Sample is one reading's value and raw level.
type Sample struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
	Level Level     `json:"level,omitempty"`
}

// EventKind is what happened to an alarm.
type EventKind string

// The events of an alarm's life.
const (
	Opened  EventKind = "opened"
	Raised  EventKind = "raised"  // its level rose (alert → action)
	Lowered EventKind = "lowered" // its level fell but it lasts (action → alert)
	Closed  EventKind = "closed"
)

// Event is a change of an alarm, with the alarm as it is after it.
type Event struct {
	Kind  EventKind `json:"kind"`
	Alarm Alarm     `json:"alarm"`
}

// NewMachine starts the alarm state of sensor s, at normal, heard at
// now (a sensor silent from the start raises a silence alarm too).
func NewMachine(s *Sensor, now time.Time) *Machine {
	return &Machine{SensorID: s.ID, Kind: s.Kind, Decimals: s.Decimals, Level: Normal, Heard: now}
}

func (m *Machine) since(l Level) *time.Time {
	if l == Action {
		return &m.ActionSince
	}
	return &m.AlertSince
}

// beyond reports whether v lies beyond the limits of level l, each limit
// moved inwards by db, and which limit.
func beyond(t Thresholds, l Level, v, db float64) (Side, float64, bool) {
	lo, hi := t.limits(l)
	if hi != nil && v > *hi-db {
		return High, *hi, true
	}
	if lo != nil && v < *lo+db {
		return Low, *lo, true
	}
	return "", 0, false
}

// limits are the low and high limits of level l.
func (t Thresholds) limits(l Level) (lo, hi *float64) {
	if l == Action {
		return t.ActionLow, t.ActionHigh
	}
	return t.AlertLow, t.AlertHigh
}

// Step applies reading r, received at now, under limits l in the room's
// state. A reading not later than the last one applied changes no level
// (applied false): late readings are evaluated over their series by
// Replay, so that a buffered excursion is still found.
func (m *Machine) Step(l *Limits, state RoomState, r *Reading, now time.Time) (events []Event, applied bool) {
	if now.After(m.Heard) {
		m.Heard = now
	}
	if m.Silence != nil {
		m.Silence.End = now
		events = append(events, Event{Closed, *m.Silence})
		m.Silence = nil
	}
	if !m.Last.IsZero() && !r.At.After(m.Last) {
		return events, false
	}
	m.Last = r.At
	t := l.For(state)
	v := r.Value

	raw := Normal
	for _, lv := range []Level{Action, Alert} {
		if _, _, ok := beyond(t, lv, v, 0); ok {
			raw = lv
			break
		}
	}
	nOfM := l.N > 0 && l.M > 0
	if nOfM {
		m.Window = append(m.Window, Sample{At: r.At, Value: v, Level: raw})
		if len(m.Window) > l.M {
			m.Window = slices.Delete(m.Window, 0, len(m.Window)-l.M)
		}
	} else {
		m.Window = nil
	}
	cond := func(lv Level) bool {
		if !nOfM {
			return raw.rank() >= lv.rank()
		}
		n := 0
		for _, s := range m.Window {
			if s.Level.rank() >= lv.rank() {
				n++
			}
		}
		return n >= l.N
	}
	// began is when the condition of lv began: the first sample beyond
	// its limit still in the window, with an N-of-M rule.
	began := func(lv Level) time.Time {
		if nOfM {
			for _, s := range m.Window {
				if s.Level.rank() >= lv.rank() {
					return s.At
				}
			}
		}
		return *m.since(lv)
	}
	for _, lv := range []Level{Alert, Action} {
		p := m.since(lv)
		if !cond(lv) {
			*p = time.Time{}
		} else if p.IsZero() {
			*p = r.At
		}
	}
	if nOfM {
		// The extremes since the first sample beyond the alert limit
		// still in the window.
		m.Highest, m.Lowest = nil, nil
		if first := began(Alert); !first.IsZero() {
			for _, s := range m.Window {
				if !s.At.Before(first) {
					m.extremes(s)
				}
			}
		}
	} else if m.AlertSince.IsZero() {
		m.Highest, m.Lowest = nil, nil
	} else {
		m.extremes(Sample{At: r.At, Value: v})
	}

	cur := m.Level
	if m.Limit == nil { // a state restored without its alarm starts afresh
		cur = Normal
	}
	next := Normal
	for _, lv := range []Level{Action, Alert} {
		since := *m.since(lv)
		risen := !since.IsZero() && r.At.Sub(since) >= l.Delay()
		_, _, held := beyond(t, lv, v, l.Deadband)
		kept := cur.rank() >= lv.rank() && (cond(lv) || held)
		if risen || kept {
			next = lv
			break
		}
	}
	m.Level = next

	n, mm := 0, 0
	if nOfM {
		n, mm = l.N, l.M
	}
	mark := func(a *Alarm, lv Level) {
		side, limit, ok := beyond(t, lv, v, 0)
		if !ok {
			// Raised by N of M on a sample within the limit: the
			// alarm's own side, else the side the level has a limit on.
			side = a.Side
			if side == "" {
				side = High
				if _, hi := t.limits(lv); hi == nil {
					side = Low
				}
			}
			lo, hi := t.limits(lv)
			if side == High && hi != nil {
				limit = *hi
			} else if lo != nil {
				limit = *lo
			}
		}
		a.Level, a.Side, a.Limit = lv, side, limit
		a.Message = limitMessage(m.Kind, m.Decimals, lv, side, limit, n, mm)
		if lv == Action {
			if a.ActionStart.IsZero() {
				a.ActionStart = began(Action)
			}
			a.ActionEnd = time.Time{} // back at action: one excursion goes on
		}
	}
	switch {
	case cur == Normal && next != Normal:
		start := began(Alert)
		if start.IsZero() {
			start = began(next)
		}
		a := &Alarm{SensorID: m.SensorID, Kind: AlarmLimit, State: state, Start: start, Raised: r.At, Peak: v, PeakAt: r.At}
		mark(a, next)
		if e := m.Highest; a.Side == High && e != nil && e.Value >= a.Peak { // its first time
			a.Peak, a.PeakAt = e.Value, e.At
		}
		if e := m.Lowest; a.Side == Low && e != nil && e.Value <= a.Peak {
			a.Peak, a.PeakAt = e.Value, e.At
		}
		m.Highest, m.Lowest = nil, nil
		m.Limit = a
		events = append(events, Event{Opened, *a})
	case cur != Normal && next == Normal:
		a := m.Limit
		m.peak(v, r.At)
		a.End = r.At
		if !a.ActionStart.IsZero() && a.ActionEnd.IsZero() {
			a.ActionEnd = r.At
		}
		m.Limit = nil
		events = append(events, Event{Closed, *a})
	case next.rank() > cur.rank():
		m.peak(v, r.At)
		mark(m.Limit, next)
		events = append(events, Event{Raised, *m.Limit})
	case next.rank() < cur.rank():
		m.peak(v, r.At)
		m.Limit.ActionEnd = r.At
		events = append(events, Event{Lowered, *m.Limit})
	case m.Limit != nil:
		m.peak(v, r.At)
	}
	return events, true
}

// extremes keeps the highest and lowest samples before an alarm opens.
func (m *Machine) extremes(s Sample) {
	s.Level = ""
	if m.Highest == nil || s.Value > m.Highest.Value {
		h := s
		m.Highest = &h
	}
	if m.Lowest == nil || s.Value < m.Lowest.Value {
		l := s
		m.Lowest = &l
	}
}

// peak keeps the value furthest beyond the open limit alarm's side.
func (m *Machine) peak(v float64, at time.Time) {
	a := m.Limit
	if (a.Side == High && v > a.Peak) || (a.Side == Low && v < a.Peak) {
		a.Peak, a.PeakAt = v, at
	}
}

// Tick lets time pass to now: a silence alarm opens when nothing was
// heard for the limits' silence time; a data-gap alarm opens when the
// tracker's oldest gap has been open for the gap delay, follows the most
// readings missing at once, and ends when every gap is filled.
func (m *Machine) Tick(l *Limits, t *Tracker, now time.Time) []Event {
	var events []Event
	if l.SilenceS > 0 && m.Silence == nil && !m.Heard.IsZero() && now.Sub(m.Heard) >= l.Silence() {
		a := &Alarm{SensorID: m.SensorID, Kind: AlarmSilence, Level: Alert, Start: m.Heard, Raised: now,
			Message: text.Code("stored.environment.alarm.silence", text.Num(float64(l.SilenceS)/60, 0))}
		m.Silence = a
		events = append(events, Event{Opened, *a})
	}
	missing := t.Missing()
	switch {
	case m.Gap == nil && missing > 0 && now.Sub(t.OldestGap()) >= l.GapDelay():
		a := &Alarm{SensorID: m.SensorID, Kind: AlarmGap, Level: Alert, Start: t.OldestGap(), Raised: now,
			Peak: float64(missing), PeakAt: now, Message: gapMessage(missing)}
		m.Gap = a
		events = append(events, Event{Opened, *a})
	case m.Gap != nil && missing == 0:
		m.Gap.End = now
		events = append(events, Event{Closed, *m.Gap})
		m.Gap = nil
	case m.Gap != nil && float64(missing) > m.Gap.Peak:
		m.Gap.Peak, m.Gap.PeakAt, m.Gap.Message = float64(missing), now, gapMessage(missing)
	}
	return events
}

func gapMessage(missing uint64) text.Coded {
	return text.Code("stored.environment.alarm.gap", text.Num(float64(missing), 0))
}

// Replay evaluates a whole series of one sensor afresh — readings in any
// order, sorted here by time then sequence — and returns its limit
// alarms, the last possibly still open. stateAt gives the room's state at
// each reading's time. The store replays the span a late batch of
// readings fills, so that an excursion hidden in a gateway's buffer is
// found too.
func Replay(s *Sensor, l *Limits, stateAt func(time.Time) RoomState, readings []Reading) []Alarm {
	rs := slices.Clone(readings)
	SortByTime(rs)
	m := NewMachine(s, time.Time{})
	var out []Alarm
	for i := range rs {
		evs, _ := m.Step(l, stateAt(rs[i].At), &rs[i], rs[i].At)
		for _, e := range evs {
			if e.Kind == Closed && e.Alarm.Kind == AlarmLimit {
				out = append(out, e.Alarm)
			}
		}
	}
	if m.Limit != nil {
		out = append(out, *m.Limit)
	}
	return out
}
