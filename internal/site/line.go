package site

import (
	"strings"

	"galenix/internal/errs"
)

// Form is a galenic form a line can produce.
type Form string

// The galenic forms; the first three are sterile.
const (
	FormAmpoule Form = "ampoule"
	FormVial    Form = "vial"
	FormSyringe Form = "prefilled_syringe"
	FormTablet  Form = "tablet"
	FormCapsule Form = "capsule"
	FormDrops   Form = "drops"
	FormLotion  Form = "lotion"
	FormPaste   Form = "paste"
	FormSyrup   Form = "syrup"
)

// Forms lists every galenic form, sterile ones first.
var Forms = []Form{FormAmpoule, FormVial, FormSyringe, FormTablet, FormCapsule, FormDrops, FormLotion, FormPaste, FormSyrup}

// Sterile reports whether the form is a sterile one.
func (f Form) Sterile() bool { return f == FormAmpoule || f == FormVial || f == FormSyringe }

// LineStatus is the line's service status as people set it: available for
// production, in maintenance or stopped (out of service). What the line is
// doing is not stored: it is its State, derived from the batches and the
// equipment (LineStateOf). The values "running" and "cleaning" are those of
// earlier records; the state ignores them.
type LineStatus string

// The statuses of a line.
const (
	LineAvailable   LineStatus = "available"
	LineRunning     LineStatus = "running"
	LineCleaning    LineStatus = "cleaning"
	LineMaintenance LineStatus = "maintenance"
	LineStopped     LineStatus = "stopped"
)

// LineStatuses lists the statuses in display order.
var LineStatuses = []LineStatus{LineAvailable, LineRunning, LineCleaning, LineMaintenance, LineStopped}

// LineServiceStatuses are the statuses people set (forms offer these).
var LineServiceStatuses = []LineStatus{LineAvailable, LineMaintenance, LineStopped}

// Line is a production line.
type Line struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version    int        `json:"version,omitempty"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	BuildingID string     `json:"building_id"`
	RoomID     string     `json:"room_id"`
	Sterile    bool       `json:"sterile"`
	Forms      []Form     `json:"forms"`
	Status     LineStatus `json:"status"`
	// State is what the line is doing, derived when it is read
	// (LineStateOf): never stored, never contradicting its batches.
	State LineState `json:"state,omitempty"`
	// CapacityPerHour is the nominal output in units per hour.
	CapacityPerHour int `json:"capacity_per_hour"`
}

// Validate checks a line's own fields.
func (l *Line) Validate() error {
	var err error
	if l.Code, err = code("code", l.Code); err != nil {
		return err
	}
	if l.Name, err = name("name", l.Name); err != nil {
		return err
	}
	if l.RoomID == "" {
		return errs.Field("room_id", "site.choose_room_line_stands")
	}
	if l.Status == "" {
		l.Status = LineAvailable
	}
	if !oneOf(l.Status, LineStatuses) {
		return errs.Field("status", "site.status_must", joined(LineStatuses))
	}
	if len(l.Forms) == 0 {
		return errs.Field("forms", "site.line_must_able_run")
	}
	seen := map[Form]bool{}
	for _, f := range l.Forms {
		if !oneOf(f, Forms) {
			return errs.Field("forms", "site.unknown_galenic_form_forms", f, joined(Forms))
		}
		if seen[f] {
			return errs.Field("forms", "site.form_listed_twice", f)
		}
		seen[f] = true
		if f.Sterile() != l.Sterile {
			if l.Sterile {
				return errs.Field("forms", "site.sterile_line_cannot_run", f)
			}
			return errs.Field("forms", "site.non_sterile_line_cannot", f)
		}
	}
	if l.CapacityPerHour < 0 || l.CapacityPerHour > 1_000_000 {
		return errs.Field("capacity_per_hour", "site.capacity_must_lie_between")
	}
	return nil
}

// CheckRoom checks that the line may stand in the room: a sterile line only
// in a room of grade A, B or C. It also takes the line's building from the
// room's.
func (l *Line) CheckRoom(r *Room) error {
	if l.Sterile && !r.Grade.SterileCapable() {
		return errs.Field("room_id", "site.sterile_line_must_stand", r.Code, r.Grade)
	}
	l.BuildingID = r.BuildingID
	return nil
}

// FormsText is the comma-separated list of forms, as stored and audited.
func FormsText(forms []Form) string {
	s := make([]string, len(forms))
	for i, f := range forms {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// ParseForms reads a comma-separated list of forms.
func ParseForms(s string) []Form {
	var out []Form
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, Form(p))
		}
	}
	return out
}
