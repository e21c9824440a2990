package site

import (
	"fmt"

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
		return errs.Field("building_id", "Choose the building the room is in.", "Choisissez le bâtiment de la salle.")
	}
	if r.Code, err = code("code", r.Code); err != nil {
		return err
	}
	if r.Name, err = name("name", r.Name); err != nil {
		return err
	}
	if !oneOf(r.Grade, Grades) {
		return errs.Field("grade", "The grade must be one of: "+joined(Grades)+".",
			"La classe doit être l'une de : "+joined(Grades)+".")
	}
	if r.TempMin < -80 || r.TempMax > 80 {
		return errs.Field(outOfRange("temp_min", r.TempMin < -80, "temp_max"), "Temperatures must lie between -80 °C and 80 °C.",
			"Les températures doivent être comprises entre -80 °C et 80 °C.")
	}
	if r.TempMin >= r.TempMax {
		return errs.Field("temp_min", fmt.Sprintf("The minimum temperature (%g °C) must be below the maximum (%g °C).", r.TempMin, r.TempMax),
			fmt.Sprintf("La température minimale (%g °C) doit être inférieure à la maximale (%g °C).", r.TempMin, r.TempMax))
	}
	if r.HumidityMin < 0 || r.HumidityMax > 100 {
		return errs.Field(outOfRange("humidity_min", r.HumidityMin < 0, "humidity_max"), "Relative humidity must lie between 0 % and 100 %.",
			"L'humidité relative doit être comprise entre 0 % et 100 %.")
	}
	if r.HumidityMin >= r.HumidityMax {
		return errs.Field("humidity_min", fmt.Sprintf("The minimum humidity (%g %%) must be below the maximum (%g %%).", r.HumidityMin, r.HumidityMax),
			fmt.Sprintf("L'humidité minimale (%g %%) doit être inférieure à la maximale (%g %%).", r.HumidityMin, r.HumidityMax))
	}
	if r.CascadesTo == "" && r.PressureDiffPa != 0 {
		return errs.Field("pressure_diff_pa", "A pressure differential needs the room it cascades to.",
			"Un différentiel de pression exige la salle vers laquelle elle cascade.")
	}
	if r.PressureDiffPa < 0 || r.PressureDiffPa > 100 {
		return errs.Field("pressure_diff_pa", "The pressure differential must lie between 0 and 100 Pa.",
			"Le différentiel de pression doit être compris entre 0 et 100 Pa.")
	}
	if r.ID != "" && r.CascadesTo == r.ID {
		return errs.Field("cascades_to", "A room cannot cascade pressure to itself.",
			"Une salle ne peut pas cascader sa pression vers elle-même.")
	}
	return nil
}

// CheckCascade checks the room's place in the pressure cascade: the room it
// cascades to is in the same building and not cleaner than it, and following
// the cascade never comes back to the room. next returns the room a room
// cascades to.
func CheckCascade(r *Room, to *Room, next func(id string) (*Room, error)) error {
	if to.BuildingID != r.BuildingID {
		return errs.Field("cascades_to", "A room can only cascade pressure to a room of the same building.",
			"Une salle ne peut cascader sa pression que vers une salle du même bâtiment.")
	}
	if rank(to.Grade) < rank(r.Grade) {
		return errs.Field("cascades_to", fmt.Sprintf("Pressure must fall from cleaner to less clean rooms: grade %s cannot cascade to grade %s.", r.Grade, to.Grade),
			fmt.Sprintf("La pression doit décroître des salles les plus propres vers les moins propres : une classe %s ne peut pas cascader vers une classe %s.", r.Grade, to.Grade))
	}
	seen := map[string]bool{r.ID: true}
	for cur := to; cur != nil; {
		if seen[cur.ID] || cur.CascadesTo == r.ID {
			return errs.Field("cascades_to", "This cascade would come back to the room itself.",
				"Cette cascade reviendrait à la salle elle-même.")
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
