package site

import (
	"regexp"

	"galenix/internal/errs"
)

// ShiftKind distinguishes day, night and weekend shifts.
type ShiftKind string

// The shift kinds.
const (
	ShiftDay     ShiftKind = "day"
	ShiftNight   ShiftKind = "night"
	ShiftWeekend ShiftKind = "weekend"
)

// ShiftKinds lists the kinds in display order.
var ShiftKinds = []ShiftKind{ShiftDay, ShiftNight, ShiftWeekend}

// Shift is a working period; End before Start means it runs past midnight.
type Shift struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version int       `json:"version,omitempty"`
	Code    string    `json:"code"`
	Name    string    `json:"name"`
	Kind    ShiftKind `json:"kind"`
	Start   string    `json:"start"`
	End     string    `json:"end"`
}

var clock = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Validate checks a shift's fields.
func (s *Shift) Validate() error {
	var err error
	if s.Code, err = code("code", s.Code); err != nil {
		return err
	}
	if s.Name, err = name("name", s.Name); err != nil {
		return err
	}
	if !oneOf(s.Kind, ShiftKinds) {
		return errs.Field("kind", "site.shift_kind_must", joined(ShiftKinds))
	}
	for _, v := range []struct{ field, val string }{{"start", s.Start}, {"end", s.End}} {
		if !clock.MatchString(v.val) {
			return errs.Field(v.field, "site.times_written_hh_mm", v.val)
		}
	}
	if s.Start == s.End {
		return errs.Field("end", "site.shift_must_end_another")
	}
	return nil
}

// Team is a group of people working the same shift, in a building.
type Team struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version    int    `json:"version,omitempty"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	BuildingID string `json:"building_id"`
	ShiftID    string `json:"shift_id"`
}

// Validate checks a team's fields.
func (t *Team) Validate() error {
	var err error
	if t.Code, err = code("code", t.Code); err != nil {
		return err
	}
	if t.Name, err = name("name", t.Name); err != nil {
		return err
	}
	if t.ShiftID == "" {
		return errs.Field("shift_id", "site.choose_team_shift")
	}
	return nil
}

// Person is a member of staff.
type Person struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version int `json:"version,omitempty"`
	// Badge is the staff number printed on the access badge.
	Badge  string `json:"badge"`
	Name   string `json:"name"`
	Job    string `json:"job"`
	TeamID string `json:"team_id,omitempty"`
	// AccountID is the galenix account the person signs in with, if any:
	// the shop floor checks the qualifications of the person behind it.
	AccountID string `json:"account_id,omitempty"`
}

// StaffAccount is an account of the site's staff as the staff's editors
// choose it for a person: its id, username and name.
type StaffAccount struct{ ID, Username, Name string }

// Validate checks a person's fields.
func (p *Person) Validate() error {
	var err error
	if p.Badge, err = code("badge", p.Badge); err != nil {
		return err
	}
	if p.Name, err = name("name", p.Name); err != nil {
		return err
	}
	if p.Job, err = name("job", p.Job); err != nil {
		return errs.Field("job", "site.person_job_title_required")
	}
	return nil
}
