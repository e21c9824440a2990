// Package simulate models the readings of a site's environmental sensors:
// a deterministic, seeded model that the demo loads a history from and
// that `galenix simulate sensors` publishes live. It is pure: every
// reading is a function of the seed, the sensor and its step, so two runs
// give the same series and any reading can be computed on its own.
//
// What it models, per sensor kind:
//
//   - temperature and humidity swing through a daily cycle inside their
//     band (warmest mid-afternoon, the air driest then), with a little
//     noise;
//   - door contacts read 1 for a minute when a door opens: often while
//     the room is in operation, seldom at rest, never two minutes running;
//   - the differential pressure of a room holds above its target and
//     drops below it for the minute its door is open;
//   - particle counts stay low at rest, higher in operation, with short
//     bursts while people work;
//   - one excursion a simulated day (Model.Start + k·24 h onwards): one
//     sensor goes beyond its band for Model.ExcursionLength, by default a
//     sensor and a moment drawn from the seed, or as Model.Pinned says;
//   - drifts (Model.Drifts): a value held just inside the edge of its
//     band, the alert-level event of a demo;
//   - a sensor going silent (Model.Silent): no reading from then on.
//
// Each sensor numbers its readings 1, 2, 3 ... one a Model.Step from
// Model.Start: the seq of the reading at Start + n·Step is n+1.
package simulate

import (
	"hash/fnv"
	"math"
	"sync"
	"time"

	"galenix/internal/environment"
)

// Spec is one sensor of the model.
type Spec struct {
	Code string
	// Room groups the sensors that share a room's doors and state.
	Room     string
	Kind     environment.Kind
	Decimals int
	// Low and High bound the values in normal running: temperature and
	// humidity swing inside them; the differential pressure stays above
	// Low (a door open excepted); particle counts stay below High at rest
	// and below OpHigh in operation (0: High). Excursions go beyond them.
	Low, High, OpHigh float64
}

// Excursion is a span during which one sensor reads beyond its band.
type Excursion struct {
	Sensor     int
	Start, End time.Time
}

// In reports whether t falls in the excursion.
func (e Excursion) In(t time.Time) bool { return !t.Before(e.Start) && t.Before(e.End) }

// Model is a site's sensors and what happens to them.
type Model struct {
	Seed  uint64
	Specs []Spec
	// Start is the time of every sensor's first reading, Step the time
	// between two readings of a sensor.
	Start time.Time
	Step  time.Duration
	// InOperation says whether a room is in operation at t; nil: rooms
	// are in operation from 06:00 to 22:00 UTC on weekdays, one in two
	// (DefaultOperation).
	InOperation func(room string, t time.Time) bool
	// ExcursionLength is how long an excursion lasts (0: 25 minutes).
	ExcursionLength time.Duration
	// Pinned sets the excursion of a simulated day (by index from Start)
	// instead of drawing it.
	Pinned map[int64]Excursion
	// Drifts hold a sensor just inside the edge of its band.
	Drifts []Excursion
	// Silent: the sensor, by index, sends nothing from that time on.
	Silent map[int]time.Time

	once     sync.Once
	eligible []int // the sensors an excursion may fall on
}

// Reading is one reading the model makes.
type Reading struct {
	Sensor int
	Seq    uint64
	At     time.Time
	Value  float64
}

// Day is a simulated day's length: excursions are one per Day from Start.
const Day = 24 * time.Hour

func (m *Model) step() time.Duration {
	if m.Step <= 0 {
		return time.Minute
	}
	return m.Step
}

func (m *Model) excursionLength() time.Duration {
	if m.ExcursionLength <= 0 {
		return 25 * time.Minute
	}
	return m.ExcursionLength
}

// Steps is the number of readings of a sensor from Start to t included
// (0 before Start).
func (m *Model) Steps(t time.Time) int64 {
	if t.Before(m.Start) {
		return 0
	}
	return int64(t.Sub(m.Start)/m.step()) + 1
}

// At returns the n-th reading (n from 0) of sensor i; ok is false when
// the sensor is silent by then.
func (m *Model) At(i int, n int64) (Reading, bool) {
	t := m.Start.Add(time.Duration(n) * m.step())
	if s, ok := m.Silent[i]; ok && !t.Before(s) {
		return Reading{}, false
	}
	sp := &m.Specs[i]
	v := m.value(i, sp, n, t)
	return Reading{Sensor: i, Seq: uint64(n) + 1, At: t, Value: round(v, sp.Decimals)}, true
}

// Excursion is the excursion of simulated day d (from 0 at Start); ok is
// false when no sensor can have one (doors only, or none).
func (m *Model) Excursion(d int64) (Excursion, bool) {
	if e, ok := m.Pinned[d]; ok {
		return e, true
	}
	m.once.Do(func() {
		for i := range m.Specs {
			if m.Specs[i].Kind != environment.KindDoor {
				m.eligible = append(m.eligible, i)
			}
		}
	})
	eligible := m.eligible
	if len(eligible) == 0 {
		return Excursion{}, false
	}
	h := m.hash("excursion", "", d)
	l := m.excursionLength()
	start := m.Start.Add(time.Duration(d)*Day + time.Duration(h>>20%uint64((Day-l)/time.Minute))*time.Minute)
	return Excursion{Sensor: eligible[h%uint64(len(eligible))], Start: start, End: start.Add(l)}, true
}

// DefaultOperation: a room is in operation from 06:00 to 22:00 UTC on
// weekdays when its name hashes even.
func DefaultOperation(room string, t time.Time) bool {
	h := fnv.New64a()
	h.Write([]byte(room))
	if h.Sum64()%2 == 1 {
		return false
	}
	wd := t.UTC().Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.UTC().Hour() >= 6 && t.UTC().Hour() < 22
}

func (m *Model) operating(room string, t time.Time) bool {
	if m.InOperation == nil {
		return DefaultOperation(room, t)
	}
	return m.InOperation(room, t)
}

// DoorOpen reports whether a door of the room is open at t: at most one
// minute in each ten, never two running.
func (m *Model) DoorOpen(room string, t time.Time) bool {
	minute := t.Unix() / 60
	slot := minute / 10
	h := m.hash("door", room, slot)
	p := 0.05
	if m.operating(room, t) {
		p = 0.6
	}
	return unit(h) < p && int64(h>>40%9) == minute-slot*10
}

func (m *Model) value(i int, sp *Spec, n int64, t time.Time) float64 {
	noise := 2*unit(m.hash("noise", sp.Code, n)) - 1 // -1 .. 1
	mid, half := (sp.Low+sp.High)/2, (sp.High-sp.Low)/2
	// The daily cycle: 1 at 15:00 UTC, -1 at 03:00.
	hours := float64(t.Unix()%86400) / 3600
	cycle := math.Cos(2 * math.Pi * (hours - 15) / 24)
	exc := false
	if d := int64(t.Sub(m.Start) / Day); t.Sub(m.Start) >= 0 {
		if e, ok := m.Excursion(d); ok && e.Sensor == i && e.In(t) {
			exc = true
		}
	}
	drift := false
	for _, e := range m.Drifts {
		if e.Sensor == i && e.In(t) {
			drift = true
		}
	}
	op := m.operating(sp.Room, t)
	switch sp.Kind {
	case environment.KindTemperature, environment.KindHumidity:
		sign := 1.0
		if sp.Kind == environment.KindHumidity {
			sign = -1
		}
		switch {
		case exc:
			return sp.High + half*(0.3+0.05*noise)
		case drift:
			return sp.High - half*(0.08+0.02*noise)
		}
		return mid + half*(0.4*sign*cycle+0.08*noise)
	case environment.KindPressureDiff:
		switch {
		case exc:
			return sp.Low * (0.35 + 0.05*noise)
		case m.DoorOpen(sp.Room, t):
			return sp.Low * (0.3 + 0.1*noise)
		case drift:
			return sp.Low + 0.5 + 0.3*noise
		}
		return sp.Low + 5 + 1.5*noise + 0.5*cycle
	case environment.KindParticles05, environment.KindParticles5:
		ceil := sp.High
		if op && sp.OpHigh > 0 {
			ceil = sp.OpHigh
		}
		switch {
		case exc:
			return ceil * (1.6 + 0.3*noise)
		case drift:
			return ceil * (0.85 + 0.05*noise)
		}
		base := 0.02 * (1.5 + noise)
		if op {
			base = 0.12 * (1.5 + noise)
			if unit(m.hash("burst", sp.Room, t.Unix()/300)) < 0.1 {
				base += 0.3
			}
		}
		return ceil * base
	case environment.KindDoor:
		if m.DoorOpen(sp.Room, t) {
			return 1
		}
		return 0
	}
	return 0
}

// hash mixes the seed, a stream name, a key and a number (splitmix64).
func (m *Model) hash(stream, key string, n int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(stream))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64() ^ m.Seed ^ uint64(n)*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
