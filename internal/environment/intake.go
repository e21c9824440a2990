package environment

import (
	"errors"
	"math"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Reading is one value a sensor took, with its own sequence number: the
// sensor (or its gateway) numbers its readings 1, 2, 3 ... so that a
// missing one is seen, and a reading sent twice is one reading.
type Reading struct {
	SensorID string    `json:"sensor_id"`
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Value    float64   `json:"value"`
	Flags    Flags     `json:"flags,omitzero"`
}

// Refusal is why a reading was refused: a code counted per reason (the
// intake's counters) and named to the sender. Empty: accepted.
type Refusal string

// The reasons a reading is refused.
const (
	RefusedSensorUnknown    Refusal = "sensor_unknown"
	RefusedSeqMissing       Refusal = "seq_missing"
	RefusedTimeMissing      Refusal = "time_missing"
	RefusedTimeFuture       Refusal = "time_future"
	RefusedTimeTooOld       Refusal = "time_too_old"
	RefusedValueNotFinite   Refusal = "value_not_finite"
	RefusedValuePhysical    Refusal = "value_out_of_physical_range"
	RefusedValueNotBinary   Refusal = "value_not_binary"
	RefusedSeqConflict      Refusal = "seq_conflict"
	RefusedMessageMalformed Refusal = "message_malformed"
)

// Refusals lists every reason, in the order the counters show them.
var Refusals = []Refusal{RefusedMessageMalformed, RefusedSensorUnknown, RefusedSeqMissing, RefusedSeqConflict, RefusedTimeMissing,
	RefusedTimeFuture, RefusedTimeTooOld, RefusedValueNotFinite, RefusedValuePhysical, RefusedValueNotBinary}

// Err is the refusal as the error a sender reads: invalid input naming
// the field at fault, with the reason's message; nil for an accepted
// reading.
func (r Refusal) Err() error {
	switch r {
	case "":
		return nil
	case RefusedSensorUnknown:
		return errs.Field("sensor_id", "environment.reading.sensor_unknown")
	case RefusedSeqMissing:
		return errs.Field("seq", "environment.reading.seq_missing")
	case RefusedSeqConflict:
		return errs.Field("seq", "environment.reading.seq_conflict")
	case RefusedTimeMissing:
		return errs.Field("at", "environment.reading.time_missing")
	case RefusedTimeFuture:
		return errs.Field("at", "environment.reading.time_future")
	case RefusedTimeTooOld:
		return errs.Field("at", "environment.reading.time_too_old")
	case RefusedValueNotFinite:
		return errs.Field("value", "environment.reading.value_not_finite")
	case RefusedValuePhysical:
		return errs.Field("value", "environment.reading.value_out_of_physical_range")
	case RefusedValueNotBinary:
		return errs.Field("value", "environment.reading.value_not_binary")
	}
	return errs.Field("", "environment.reading.message_malformed")
}

// Field is the field of the reading at fault.
func (r Refusal) Field() string { return errs.FieldOf(r.Err()) }

// Key is the reason's catalogue key: its message, and the label of its
// counter.
func (r Refusal) Key() string {
	var e *errs.Error
	if errors.As(r.Err(), &e) {
		return e.Key
	}
	return ""
}

// Counts counts refusals per reason.
type Counts map[Refusal]int64

// Add counts one refusal; an empty one (accepted) is not counted.
func (c Counts) Add(r Refusal) {
	if r != "" {
		c[r]++
	}
}

// Intake are the time rules a reading meets.
type Intake struct {
	// Skew is how far ahead of the server's clock a reading's time may
	// be (a sensor's clock runs a little fast).
	Skew time.Duration
	// MaxAge is how old a reading may be when it arrives: a gateway's
	// buffer holds days, not years; older is a clock gone wrong.
	MaxAge time.Duration
}

// DefaultIntake: two minutes of skew, readings up to 35 days old (a
// gateway's buffer through a long weekend and more).
var DefaultIntake = Intake{Skew: 2 * time.Minute, MaxAge: 35 * 24 * time.Hour}

// Check decides whether a reading of a sensor of kind k, arriving at now,
// is taken; the first fault found is the reason. A reading outside
// galenix's time bounds is too old or in the future whatever the rules.
func (in Intake) Check(r *Reading, k Kind, now time.Time) Refusal {
	if r.SensorID == "" {
		return RefusedSensorUnknown
	}
	if r.Seq == 0 {
		return RefusedSeqMissing
	}
	if r.At.IsZero() {
		return RefusedTimeMissing
	}
	if r.At.After(now.Add(in.Skew)) || r.At.Year() > bounds.MaxYear {
		return RefusedTimeFuture
	}
	if r.At.Before(now.Add(-in.MaxAge)) || r.At.Year() < bounds.MinYear {
		return RefusedTimeTooOld
	}
	if !bounds.Finite(r.Value) {
		return RefusedValueNotFinite
	}
	lo, hi, ok := k.Physical()
	if !ok {
		return RefusedSensorUnknown
	}
	if r.Value < lo || r.Value > hi {
		return RefusedValuePhysical
	}
	if k == KindDoor && r.Value != 0 && r.Value != 1 {
		return RefusedValueNotBinary
	}
	return ""
}

// Same reports whether two readings of one (sensor, sequence) are the
// same reading sent twice: a duplicate is dropped; a different reading
// under a number already taken is a conflict (RefusedSeqConflict).
func Same(a, b *Reading) bool {
	return a.SensorID == b.SensorID && a.Seq == b.Seq && a.At.Equal(b.At) && math.Float64bits(a.Value) == math.Float64bits(b.Value)
}
