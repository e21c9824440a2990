package production

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/text"
)

// Slot is a batch's place in a line's schedule, as the rules see it. The
// fields a reserved slot blanks are left out of its JSON, never answered
// as "" where an id is due.
type Slot struct {
	BatchID   string       `json:"batch_id,omitempty"`
	Lot       string       `json:"lot,omitempty"`
	ClientID  string       `json:"client_id,omitempty"`
	ProductID string       `json:"product_id,omitempty"`
	Class     SpecialClass `json:"special_class,omitempty"`
	// State is the batch's state, for the chart's colours; blanked on a
	// reserved slot.
	State  BatchState `json:"state,omitempty"`
	LineID string     `json:"line_id"`
	Start  time.Time  `json:"start"`
	End    time.Time  `json:"end"`
	// Hidden: the batch belongs to a client outside the reader's scope;
	// its lot, client and product are blanked, the slot shows as reserved.
	Hidden bool `json:"reserved,omitempty"`
}

// Window is a maintenance window of a line: no batch runs in it.
type Window struct {
	ID     string    `json:"id"`
	LineID string    `json:"line_id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason"`
}

// Validate checks a window's fields.
func (w *Window) Validate() error {
	var err error
	if w.LineID == "" {
		return errs.Field("line_id", "production.choose_line_under_maintenance")
	}
	if w.Start.IsZero() || w.End.IsZero() || !w.End.After(w.Start) {
		return errs.Field("end", "production.maintenance_window_ends_after")
	}
	if w.End.Sub(w.Start) > 60*24*time.Hour {
		return errs.Field("end", "production.maintenance_window_lasts_at")
	}
	if w.Reason, err = textField("reason", w.Reason, 1, 200); err != nil {
		return err
	}
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	return nil
}

// AuditFields lists the window's fields for the audit trail.
func (w *Window) AuditFields() []audit.Field {
	return []audit.Field{audit.F("line_id", w.LineID), audit.F("start", w.Start.Format(time.RFC3339)),
		audit.F("end", w.End.Format(time.RFC3339)), audit.F("reason", w.Reason)}
}

// The changeover and cleaning times between two batches on a line.
const (
	// ChangeoverSameProduct: line clearance between two batches of one
	// product (a campaign).
	ChangeoverSameProduct = 2 * time.Hour
	// ChangeoverSameClient: product change within one client's products.
	ChangeoverSameClient = 4 * time.Hour
	// ChangeoverFull: full cleaning and its verification, between
	// different clients or when a special class (hormone, narcotic,
	// biologic, cytotoxic) comes or goes.
	ChangeoverFull = 8 * time.Hour
)

// Changeover is the time a line needs between batch a and batch b, in
// either order.
func Changeover(a, b Slot) time.Duration {
	switch {
	case a.ClientID != b.ClientID || a.Class != b.Class:
		return ChangeoverFull
	case a.ProductID != b.ProductID:
		return ChangeoverSameClient
	}
	return ChangeoverSameProduct
}

// RuleError is a refusal to schedule: a conflict naming its rule and,
// in the message of key, the batch or window in the way.
func RuleError(rule, key string, args ...any) error {
	var name any = rule
	if k, ok := ruleNames[rule]; ok {
		name = text.Msg{Key: k}
	}
	e := errs.E(errs.Conflict, "production.schedule_rule", name, text.Msg{Key: key, Args: args})
	e.Field = "rule:" + rule
	return e
}

// ruleNames are the catalogue's names of the rules, in the reader's
// language; the rule's code stays in the refusal's field.
var ruleNames = map[string]string{
	RuleLineForm:    "production.rule_name.line_form",
	RuleOverlap:     "production.rule_name.overlap",
	RuleChangeover:  "production.rule_name.changeover",
	RuleMaintenance: "production.rule_name.maintenance_window",
	RuleCalendar:    "production.rule_name.shift_calendar",
	RulePast:        "production.rule_name.past",
}

// SlotName names a slot in a refusal: by its lot, or as a reserved slot
// when its batch is outside the reader's scope.
func SlotName(o Slot) text.Msg {
	if o.Hidden {
		return text.Msg{Key: "production.slot_reserved"}
	}
	return text.Msg{Key: "production.slot_batch", Args: []any{o.Lot}}
}

// The scheduling rules, by name.
const (
	RuleLineForm    = "line_form"
	RuleOverlap     = "overlap"
	RuleChangeover  = "changeover"
	RuleMaintenance = "maintenance_window"
	RuleCalendar    = "shift_calendar"
	RulePast        = "past"
)

// CanRun refuses a line that cannot make the product: its form, and
// sterile products on sterile lines only.
func CanRun(l *site.Line, p *Product) error {
	if p.Sterile != l.Sterile {
		if p.Sterile {
			return RuleError(RuleLineForm, "production.rule.sterile_product", p.Code, l.Code)
		}
		return RuleError(RuleLineForm, "production.rule.sterile_line", p.Code, l.Code)
	}
	if !slices.Contains(l.Forms, p.Form) {
		return RuleError(RuleLineForm, "production.rule.form", l.Code, p.Form, p.Code, joined(l.Forms))
	}
	return nil
}

// CheckSlot applies the rules of the schedule to slot s on its line: no
// overlap with another batch, the changeover time kept on each side, no
// maintenance window crossed, every hour staffed by a shift of the
// calendar. others are the line's other slots; a hidden one is named as a
// reserved slot, not by its lot.
func CheckSlot(s Slot, others []Slot, windows []Window, cal Calendar, now time.Time) error {
	if err := notPast(s.Start, now); err != nil {
		return err
	}
	for _, o := range others {
		if o.BatchID == s.BatchID {
			continue
		}
		name := SlotName(o)
		if s.Start.Before(o.End) && o.Start.Before(s.End) {
			return RuleError(RuleOverlap, "production.rule.overlap", name, cal.local(o.Start), cal.local(o.End))
		}
		gap := Changeover(o, s)
		if s.Start.Before(o.End.Add(gap)) && o.Start.Before(s.End.Add(gap)) {
			return RuleError(RuleChangeover, "production.rule.changeover", int(gap.Hours()), name, cal.local(o.Start), cal.local(o.End))
		}
	}
	for _, w := range windows {
		if s.Start.Before(w.End) && w.Start.Before(s.End) {
			return RuleError(RuleMaintenance, "production.rule.maintenance", cal.local(w.Start), cal.local(w.End), w.Reason)
		}
	}
	if gap, ok := cal.Covers(s.Start, s.End); !ok {
		return RuleError(RuleCalendar, "production.rule.calendar", cal.local(gap))
	}
	return nil
}

// local writes a time in the site's zone, as the screens show it.
func (c Calendar) local(t time.Time) string { return t.In(c.Location()).Format("02/01/2006 15:04") }

// Calendar is the site's shift calendar: day and night shifts run Monday
// to Friday (a night shift starting on Friday ends on Saturday morning),
// weekend shifts on Saturday and Sunday, in the site's time zone.
type Calendar struct {
	Shifts []site.Shift
	// Zone is the site's time zone (its settings, site.Site.Location),
	// which the shifts' hours are in; nil is site.DefaultTimezone.
	Zone *time.Location
}

// Location is the calendar's time zone.
func (c Calendar) Location() *time.Location {
	if c.Zone == nil {
		return site.DefaultLocation()
	}
	return c.Zone
}

// calendarStep is the resolution at which the calendar is checked.
const calendarStep = 15 * time.Minute

// Covers reports whether every moment from start to end falls within a
// staffed shift; if not, it returns the first moment that does not.
func (c Calendar) Covers(start, end time.Time) (time.Time, bool) {
	if len(c.Shifts) == 0 {
		return time.Time{}, true // no calendar set up: the rule does not apply
	}
	for t := start; t.Before(end); t = t.Add(calendarStep) {
		if !c.Staffed(t) {
			return t, false
		}
	}
	return time.Time{}, true
}

// Staffed reports whether a shift is at work at time t.
func (c Calendar) Staffed(t time.Time) bool {
	lt := t.In(c.Location())
	mins := lt.Hour()*60 + lt.Minute()
	for _, s := range c.Shifts {
		from, ok1 := clock(s.Start)
		to, ok2 := clock(s.End)
		if !ok1 || !ok2 {
			continue
		}
		// The day the shift started: today, or yesterday for the
		// morning part of a shift that crosses midnight.
		var started time.Weekday
		switch {
		case from < to && mins >= from && mins < to:
			started = lt.Weekday()
		case from >= to && mins >= from:
			started = lt.Weekday()
		case from >= to && mins < to:
			started = lt.AddDate(0, 0, -1).Weekday()
		default:
			continue
		}
		weekend := started == time.Saturday || started == time.Sunday
		if (s.Kind == site.ShiftWeekend) == weekend {
			return true
		}
	}
	return false
}

// clock reads "HH:MM" as minutes after midnight.
func clock(s string) (int, bool) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// StaffedHours counts the staffed hours of a week starting at monday.
func (c Calendar) StaffedHours(from, to time.Time) float64 {
	n := 0
	for t := from; t.Before(to); t = t.Add(calendarStep) {
		if c.Staffed(t) {
			n++
		}
	}
	return float64(n) * calendarStep.Hours()
}
