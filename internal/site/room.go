package site

import (
	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Grade is a clean-room grade of EU GMP Annex 1, or a lesser class.
type Grade string

// The grades, cleanest first. CNC is "controlled not classified".
const (
	GradeA            Grade = "A"
	GradeB            Grade = "B"
	GradeC            Grade = "C"
	GradeD            Grade = "D"
	GradeCNC          Grade = "CNC"
	GradeUnclassified Grade = "U"
)

// Grades lists the grades, cleanest first.
var Grades = []Grade{GradeA, GradeB, GradeC, GradeD, GradeCNC, GradeUnclassified}

// Graded reports whether g is one of the Annex 1 grades A to D.
func (g Grade) Graded() bool { return g == GradeA || g == GradeB || g == GradeC || g == GradeD }

// SterileCapable reports whether a sterile line may stand in a room of this
// grade: aseptic filling under grade A in a grade B background, or the
// filling of terminally sterilised products in grade C (Annex 1 §8).
func (g Grade) SterileCapable() bool { return g == GradeA || g == GradeB || g == GradeC }

// Room is a room of a building, with its environmental targets.
type Room struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version     int     `json:"version,omitempty"`
	BuildingID  string  `json:"building_id"`
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Grade       Grade   `json:"grade"`
	TempMin     float64 `json:"temp_min"`
	TempMax     float64 `json:"temp_max"`
	HumidityMin float64 `json:"humidity_min"`
	HumidityMax float64 `json:"humidity_max"`
	// CascadesTo is the room this one keeps a higher pressure than, the
	// next step down the pressure cascade; empty at the end of a cascade.
	CascadesTo string `json:"cascades_to,omitempty"`
	// PressureDiffPa is the target differential pressure to CascadesTo.
	PressureDiffPa float64 `json:"pressure_diff_pa"`
}

// Validate checks a room's own fields.
func (r *Room) Validate() error {
	var err error
	if r.BuildingID == "" {
		return errs.Field("building_id", "site.choose_building_room")
	}
	if r.Code, err = code("code", r.Code); err != nil {
		return err
	}
	if r.Name, err = name("name", r.Name); err != nil {
		return err
	}
	if !oneOf(r.Grade, Grades) {
		return errs.Field("grade", "site.grade_must", joined(Grades))
	}
	for _, n := range []struct {
		field string
		v     float64
	}{{"temp_min", r.TempMin}, {"temp_max", r.TempMax}, {"humidity_min", r.HumidityMin}, {"humidity_max", r.HumidityMax}, {"pressure_diff_pa", r.PressureDiffPa}} {
		if err := bounds.Number(n.field, n.v); err != nil {
			return err
		}
	}
	if r.TempMin < -80 || r.TempMax > 80 {
		return errs.Field(outOfRange("temp_min", r.TempMin < -80, "temp_max"), "site.temperatures_must_lie_between")
	}
	if r.TempMin >= r.TempMax {
		return errs.Field("temp_min", "site.minimum_temperature_c_must", r.TempMin, r.TempMax)
	}
	if r.HumidityMin < 0 || r.HumidityMax > 100 {
		return errs.Field(outOfRange("humidity_min", r.HumidityMin < 0, "humidity_max"), "site.relative_humidity_must_lie")
	}
	if r.HumidityMin >= r.HumidityMax {
		return errs.Field("humidity_min", "site.minimum_humidity_must_below", r.HumidityMin, r.HumidityMax)
	}
	if r.CascadesTo == "" && r.PressureDiffPa != 0 {
		return errs.Field("pressure_diff_pa", "site.pressure_differential_needs_room")
	}
	if r.PressureDiffPa < 0 || r.PressureDiffPa > 100 {
		return errs.Field("pressure_diff_pa", "site.pressure_differential_must_lie")
	}
	if r.ID != "" && r.CascadesTo == r.ID {
		return errs.Field("cascades_to", "site.room_cannot_cascade_pressure")
	}
	return nil
}

// CheckCascade checks the room's place in the pressure cascade: the room it
// cascades to is in the same building and not cleaner than it, and following
// the cascade never comes back to the room. next returns the room a room
// cascades to.
func CheckCascade(r *Room, to *Room, next func(id string) (*Room, error)) error {
	if to.BuildingID != r.BuildingID {
		return errs.Field("cascades_to", "site.room_can_only_cascade")
	}
	if rank(to.Grade) < rank(r.Grade) {
		return errs.Field("cascades_to", "site.pressure_must_fall_from", r.Grade, to.Grade)
	}
	seen := map[string]bool{r.ID: true}
	for cur := to; cur != nil; {
		if seen[cur.ID] || cur.CascadesTo == r.ID {
			return errs.Field("cascades_to", "site.cascade_would_come_back")
		}
		if cur.CascadesTo == "" {
			break
		}
		seen[cur.ID] = true
		n, err := next(cur.CascadesTo)
		if err != nil {
			return err
		}
		cur = n
	}
	return nil
}

// outOfRange names the field at fault of a min/max pair: the minimum when
// it is the one out of range, else the maximum.
func outOfRange(min string, minBad bool, max string) string {
	if minBad {
		return min
	}
	return max
}

func rank(g Grade) int {
	for i, k := range Grades {
		if k == g {
			return i
		}
	}
	return len(Grades)
}
