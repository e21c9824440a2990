package environment

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// Kind is what a sensor measures.
type Kind string

// The kinds of sensor. Particle counts are per cubic metre of air, as
// Annex 1 (2022) Table 5 gives its limits; a door contact reads 1 when the
// door is open and 0 when it is closed.
const (
	KindTemperature  Kind = "temperature"   // °C
	KindHumidity     Kind = "humidity"      // % relative humidity
	KindPressureDiff Kind = "pressure_diff" // Pa, to the next room down the cascade
	KindParticles05  Kind = "particles_0_5" // particles ≥ 0.5 µm per m³
	KindParticles5   Kind = "particles_5"   // particles ≥ 5 µm per m³
	KindDoor         Kind = "door"          // 1 open, 0 closed
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{KindTemperature, KindHumidity, KindPressureDiff, KindParticles05, KindParticles5, KindDoor}

// Particles reports whether the kind counts particles: the kinds whose
// limits may use an N-of-M rule and whose defaults come from the grade.
func (k Kind) Particles() bool { return k == KindParticles05 || k == KindParticles5 }

// Unit is the unit readings of the kind are in, as written in every
// language.
func (k Kind) Unit() string {
	switch k {
	case KindTemperature:
		return "°C"
	case KindHumidity:
		return "%RH"
	case KindPressureDiff:
		return "Pa"
	case KindParticles05, KindParticles5:
		return "/m³"
	}
	return ""
}

// Physical is the range a reading of the kind can hold at all, both ends
// included: a value outside it comes from a broken sensor or a garbled
// message, never from the air of a room. Temperature reaches the
// depyrogenation tunnels and ultra-low freezers a sensor may be mounted on.
func (k Kind) Physical() (lo, hi float64, ok bool) {
	switch k {
	case KindTemperature:
		return -200, 400, true
	case KindHumidity:
		return 0, 100, true
	case KindPressureDiff:
		return -5000, 5000, true
	case KindParticles05, KindParticles5:
		return 0, 1e10, true
	case KindDoor:
		return 0, 1, true
	}
	return 0, 0, false
}

// PlaceKind says what a sensor is placed in or on.
type PlaceKind string

// The places a sensor may be in.
const (
	PlaceRoom      PlaceKind = "room"
	PlaceColdRoom  PlaceKind = "cold_room"
	PlaceEquipment PlaceKind = "equipment"
	PlaceLine      PlaceKind = "line"
)

// PlaceKinds lists the places in display order.
var PlaceKinds = []PlaceKind{PlaceRoom, PlaceColdRoom, PlaceEquipment, PlaceLine}

// MaxDecimals bounds the decimals a sensor reports with.
const MaxDecimals = 6

// Sensor is one sensor of the site, placed in a room, cold room, piece of
// equipment or line, mounted at a location within it. Its calibration
// holds until CalibrationDue (that day included) and for the location it
// was calibrated at: a reading taken after the due day, or after the
// sensor was moved from where it was calibrated, is flagged.
type Sensor struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version int    `json:"version,omitempty"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	// Place and PlaceID name the room, cold room, equipment or line.
	Place   PlaceKind `json:"place"`
	PlaceID string    `json:"place_id"`
	// Location is where the sensor is mounted within its place, as
	// people find it ("north wall, 1.5 m, beside the filler").
	Location string `json:"location"`
	// LocationSince is when it was mounted at Location.
	LocationSince time.Time `json:"location_since"`
	// CalibratedOn is the day of its last calibration, at the location it
	// was mounted at then; zero when not known (a new record of a sensor
	// calibrated before galenix knew it: its due date still holds).
	CalibratedOn   time.Time `json:"calibrated_on,omitzero"`
	CalibrationDue time.Time `json:"calibration_due"`
	// Decimals is the resolution readings are reported with.
	Decimals int `json:"decimals"`
}

// Validate checks a sensor's own fields; that its place exists is the
// store's to check.
func (s *Sensor) Validate() error {
	s.Code = strings.TrimSpace(s.Code)
	if s.Code == "" || utf8.RuneCountInString(s.Code) > 32 || strings.ContainsAny(s.Code, " \t\r\n") || !bounds.Text(s.Code) {
		return errs.Field("code", "client.code_1_32_characters")
	}
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 120 || !bounds.Text(s.Name) {
		return errs.Field("name", "client.name_1_120_characters")
	}
	if !slices.Contains(Kinds, s.Kind) {
		return errs.Field("kind", "environment.sensor.kind_must", joined(Kinds))
	}
	if !slices.Contains(PlaceKinds, s.Place) {
		return errs.Field("place", "environment.sensor.place_must", joined(PlaceKinds))
	}
	if strings.TrimSpace(s.PlaceID) == "" {
		return errs.Field("place_id", "environment.sensor.place_required")
	}
	s.Location = strings.TrimSpace(s.Location)
	if s.Location == "" || utf8.RuneCountInString(s.Location) > 120 || !bounds.Text(s.Location) {
		return errs.Field("location", "environment.sensor.location_1_120")
	}
	if s.LocationSince.IsZero() {
		return errs.Field("location_since", "environment.sensor.location_since_required")
	}
	if err := bounds.Time("location_since", s.LocationSince); err != nil {
		return err
	}
	if s.CalibrationDue.IsZero() {
		return errs.Field("calibration_due", "environment.sensor.calibration_due_required")
	}
	if err := bounds.Time("calibration_due", s.CalibrationDue); err != nil {
		return err
	}
	if !s.CalibratedOn.IsZero() {
		if err := bounds.Time("calibrated_on", s.CalibratedOn); err != nil {
			return err
		}
		if !s.CalibratedOn.Before(s.CalibrationDue) {
			return errs.Field("calibrated_on", "environment.sensor.calibrated_before_due")
		}
	}
	if s.Decimals < 0 || s.Decimals > MaxDecimals {
		return errs.Field("decimals", "environment.sensor.decimals_range", text.Int(0), text.Int(MaxDecimals))
	}
	return nil
}

// Flags mark a reading whose trust is reduced; they are kept with the
// reading, never hide it.
type Flags uint8

// The flags of a reading.
const (
	// FlagCalibrationOverdue: taken after the sensor's calibration due day.
	FlagCalibrationOverdue Flags = 1 << iota
	// FlagMoved: taken after the sensor was moved from the location it
	// was calibrated at.
	FlagMoved
)

var flagNames = []struct {
	f    Flags
	name string
}{{FlagCalibrationOverdue, "calibration_overdue"}, {FlagMoved, "moved"}}

// Has reports whether every flag of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Names lists the flags set, by their names ("calibration_overdue",
// "moved"), which pages label through the catalogue.
func (f Flags) Names() []string {
	out := []string{}
	for _, n := range flagNames {
		if f.Has(n.f) {
			out = append(out, n.name)
		}
	}
	return out
}

// MarshalJSON writes the flags as the list of their names.
func (f Flags) MarshalJSON() ([]byte, error) { return json.Marshal(f.Names()) }

// UnmarshalJSON reads the list of flag names; an unknown name is refused.
func (f *Flags) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return errs.Field("flags", "environment.reading.flags_invalid")
	}
	var out Flags
next:
	for _, s := range names {
		for _, n := range flagNames {
			if n.name == s {
				out |= n.f
				continue next
			}
		}
		return errs.Field("flags", "environment.reading.flags_invalid")
	}
	*f = out
	return nil
}

// FlagsAt returns the flags of a reading the sensor took at t: overdue
// for calibration when t is after the due day (which is included, as for
// equipment qualification), moved when the sensor was mounted at its
// present location after its last calibration and t is from then on.
func (s *Sensor) FlagsAt(t time.Time) Flags {
	var f Flags
	if t.After(s.CalibrationDue.Add(24*time.Hour - 1)) {
		f |= FlagCalibrationOverdue
	}
	if !s.CalibratedOn.IsZero() && s.LocationSince.After(s.CalibratedOn.Add(24*time.Hour-1)) && !t.Before(s.LocationSince) {
		f |= FlagMoved
	}
	return f
}

func joined[T ~string](set []T) string {
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
