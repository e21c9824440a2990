package environment

import (
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/text"
)

// Thresholds are the alert and action limits of one sensor in one state
// of its room. A nil limit is not set: a particle counter has high limits
// only, a door contact a high alert only. Alert limits lie inside action
// limits: an alert warns before the action limit is reached.
type Thresholds struct {
	AlertLow   *float64 `json:"alert_low,omitempty"`
	AlertHigh  *float64 `json:"alert_high,omitempty"`
	ActionLow  *float64 `json:"action_low,omitempty"`
	ActionHigh *float64 `json:"action_high,omitempty"`
}

// Empty reports whether no limit is set.
func (t Thresholds) Empty() bool {
	return t.AlertLow == nil && t.AlertHigh == nil && t.ActionLow == nil && t.ActionHigh == nil
}

// Limits are a sensor's limits and the rules applied to them.
type Limits struct {
	SensorID string `json:"sensor_id"`
	// Version counts the record's changes: 1 when created.
	Version int `json:"version,omitempty"`
	// AtRest hold while the room is at rest; InOperation while a batch is
	// in progress in it. InOperation nil: AtRest hold in both states.
	AtRest      Thresholds  `json:"at_rest"`
	InOperation *Thresholds `json:"in_operation,omitempty"`
	// DelayS is how long, in seconds, a condition must persist before the
	// level rises (a door opened for a few seconds raises nothing).
	DelayS int64 `json:"delay_s"`
	// Deadband is how far inside a limit the value must come back for the
	// level to fall, so that a value hovering at the limit does not
	// raise and clear an alarm at every reading.
	Deadband float64 `json:"deadband"`
	// N and M, for particles: the level rises when N of the last M
	// samples are beyond its limit. Zero: every sample counts alone.
	N int `json:"n,omitempty"`
	M int `json:"m,omitempty"`
	// SilenceS: a silence alarm when no reading came for this many
	// seconds. Zero: no silence alarm.
	SilenceS int64 `json:"silence_s"`
	// GapS: a data-gap alarm when a sequence range has been missing for
	// this many seconds (a reading merely overtaken by the next one
	// arrives within it). Zero: at once.
	GapS int64 `json:"gap_s"`
}

// Bounds of the rules' durations and of N-of-M.
const (
	MaxDelay   = 24 * time.Hour
	MaxSilence = 7 * 24 * time.Hour
	MaxGap     = 7 * 24 * time.Hour
	MaxM       = 100
)

// Delay is the delay before a level rises.
func (l *Limits) Delay() time.Duration { return time.Duration(l.DelayS) * time.Second }

// Silence is the time without a reading that raises a silence alarm.
func (l *Limits) Silence() time.Duration { return time.Duration(l.SilenceS) * time.Second }

// GapDelay is how long a gap stays open before it raises an alarm.
func (l *Limits) GapDelay() time.Duration { return time.Duration(l.GapS) * time.Second }

// For returns the thresholds that hold in state.
func (l *Limits) For(state RoomState) Thresholds {
	if state == InOperation && l.InOperation != nil {
		return *l.InOperation
	}
	return l.AtRest
}

// Validate checks the limits of a sensor of kind k.
func (l *Limits) Validate(k Kind) error {
	if err := l.AtRest.validate("at_rest.", k); err != nil {
		return err
	}
	if l.InOperation != nil {
		if err := l.InOperation.validate("in_operation.", k); err != nil {
			return err
		}
	}
	if l.DelayS < 0 || l.Delay() > MaxDelay {
		return errs.Field("delay_s", "environment.limits.delay_range", text.Int(MaxDelay/time.Second))
	}
	if err := bounds.Number("deadband", l.Deadband); err != nil {
		return err
	}
	if l.Deadband < 0 {
		return errs.Field("deadband", "environment.limits.deadband_negative")
	}
	for _, t := range []Thresholds{l.AtRest, l.For(InOperation)} {
		for _, p := range [][2]*float64{{t.AlertLow, t.AlertHigh}, {t.ActionLow, t.ActionHigh}} {
			if p[0] != nil && p[1] != nil && 2*l.Deadband >= *p[1]-*p[0] {
				return errs.Field("deadband", "environment.limits.deadband_too_wide")
			}
		}
	}
	if l.N != 0 || l.M != 0 {
		if !k.Particles() {
			return errs.Field("n", "environment.limits.n_of_m_particles_only")
		}
		if l.N < 1 || l.M < l.N || l.M > MaxM {
			return errs.Field("n", "environment.limits.n_of_m_range", text.Int(MaxM))
		}
	}
	if l.SilenceS < 0 || l.Silence() > MaxSilence {
		return errs.Field("silence_s", "environment.limits.silence_range", text.Int(MaxSilence/time.Second))
	}
	if l.GapS < 0 || l.GapDelay() > MaxGap {
		return errs.Field("gap_s", "environment.limits.gap_range", text.Int(MaxGap/time.Second))
	}
	return nil
}

func (t Thresholds) validate(prefix string, k Kind) error {
	lo, hi, _ := k.Physical()
	for _, f := range []struct {
		name string
		v    *float64
	}{{"alert_low", t.AlertLow}, {"alert_high", t.AlertHigh}, {"action_low", t.ActionLow}, {"action_high", t.ActionHigh}} {
		if f.v == nil {
			continue
		}
		if err := bounds.Number(prefix+f.name, *f.v); err != nil {
			return err
		}
		if *f.v < lo || *f.v > hi {
			return errs.Field(prefix+f.name, "environment.limits.outside_physical", text.Decimal(lo), text.Decimal(hi), k.Unit())
		}
	}
	if t.AlertLow != nil && t.AlertHigh != nil && *t.AlertLow >= *t.AlertHigh {
		return errs.Field(prefix+"alert_low", "environment.limits.low_below_high")
	}
	if t.ActionLow != nil && t.ActionHigh != nil && *t.ActionLow >= *t.ActionHigh {
		return errs.Field(prefix+"action_low", "environment.limits.low_below_high")
	}
	// An alert limit lies inside the action limits; an alert limit on a
	// side without an action limit is allowed (a warning only).
	if t.AlertLow != nil && t.ActionLow != nil && *t.AlertLow <= *t.ActionLow {
		return errs.Field(prefix+"alert_low", "environment.limits.alert_inside_action")
	}
	if t.AlertHigh != nil && t.ActionHigh != nil && *t.AlertHigh >= *t.ActionHigh {
		return errs.Field(prefix+"alert_high", "environment.limits.alert_inside_action")
	}
	if t.AlertLow != nil && t.ActionHigh != nil && *t.AlertLow >= *t.ActionHigh {
		return errs.Field(prefix+"alert_low", "environment.limits.alert_inside_action")
	}
	if t.AlertHigh != nil && t.ActionLow != nil && *t.AlertHigh <= *t.ActionLow {
		return errs.Field(prefix+"alert_high", "environment.limits.alert_inside_action")
	}
	return nil
}

// RoomState is whether a room is at rest or in operation (Annex 1 §4.27:
// the two states in which a room is classified and monitored).
type RoomState string

// The states of a room.
const (
	AtRest      RoomState = "at_rest"
	InOperation RoomState = "in_operation"
)

// GradeLimit is the Annex 1 (2022) Table 5 maximum of airborne particles
// per m³ for grade g, state and a particle kind: ok is false when the
// Annex gives no value — grades A and B at rest set none at ≥ 5 µm
// ("not specified"), grade D in operation is set by the site, and CNC and
// unclassified rooms have none.
func GradeLimit(g site.Grade, k Kind, state RoomState) (max float64, ok bool) {
	v, ok := annex1[gradeKey{g, k, state}]
	return v, ok
}

type gradeKey struct {
	g     site.Grade
	k     Kind
	state RoomState
}

// annex1 is Table 5 of Annex 1 (2022), per m³.
var annex1 = map[gradeKey]float64{
	{site.GradeA, KindParticles05, AtRest}:      3_520,
	{site.GradeA, KindParticles05, InOperation}: 3_520,
	{site.GradeB, KindParticles05, AtRest}:      3_520,
	{site.GradeB, KindParticles05, InOperation}: 352_000,
	{site.GradeB, KindParticles5, InOperation}:  2_930,
	{site.GradeC, KindParticles05, AtRest}:      352_000,
	{site.GradeC, KindParticles5, AtRest}:       2_930,
	{site.GradeC, KindParticles05, InOperation}: 3_520_000,
	{site.GradeC, KindParticles5, InOperation}:  29_300,
	{site.GradeD, KindParticles05, AtRest}:      3_520_000,
	{site.GradeD, KindParticles5, AtRest}:       29_300,
}

// DefaultLimits proposes the limits of a particle counter in a room of
// grade g: the Annex 1 maxima as action limits, at rest and in operation;
// alert levels are the site's to set from its own trend data (Annex 1
// §9.27), so none is proposed. siteSets is true when a state has no
// default and the site must set it before the limits hold in it (grade D
// in operation): InOperation is then empty. ok is false for a kind that
// is not a particle count or a room that is not graded.
func DefaultLimits(g site.Grade, k Kind) (l Limits, siteSets bool, ok bool) {
	if !k.Particles() || !g.Graded() {
		return Limits{}, false, false
	}
	rest := Thresholds{}
	if v, ok := GradeLimit(g, k, AtRest); ok {
		rest.ActionHigh = &v
	}
	op := Thresholds{}
	if v, ok := GradeLimit(g, k, InOperation); ok {
		op.ActionHigh = &v
	}
	siteSets = g == site.GradeD
	return Limits{AtRest: rest, InOperation: &op}, siteSets, true
}

// RoomLimits proposes the limits of a temperature, humidity or
// differential pressure sensor in room r from the room's own targets: its
// ranges as action limits (a pressure without a cascade has none). ok is
// false for the other kinds.
func RoomLimits(r *site.Room, k Kind) (l Limits, ok bool) {
	switch k {
	case KindTemperature:
		lo, hi := r.TempMin, r.TempMax
		return Limits{AtRest: Thresholds{ActionLow: &lo, ActionHigh: &hi}}, true
	case KindHumidity:
		lo, hi := r.HumidityMin, r.HumidityMax
		return Limits{AtRest: Thresholds{ActionLow: &lo, ActionHigh: &hi}}, true
	case KindPressureDiff:
		if r.CascadesTo == "" {
			return Limits{}, true
		}
		lo := r.PressureDiffPa
		return Limits{AtRest: Thresholds{ActionLow: &lo}}, true
	}
	return Limits{}, false
}
