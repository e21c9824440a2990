package site

import (
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// EquipmentStatus is the state of a piece of equipment.
type EquipmentStatus string

// The equipment statuses.
const (
	EquipmentClean       EquipmentStatus = "clean"
	EquipmentInUse       EquipmentStatus = "in_use"
	EquipmentDirty       EquipmentStatus = "dirty"
	EquipmentMaintenance EquipmentStatus = "maintenance"
)

// EquipmentStatuses lists the statuses in display order.
var EquipmentStatuses = []EquipmentStatus{EquipmentClean, EquipmentInUse, EquipmentDirty, EquipmentMaintenance}

// Equipment is a piece of equipment on a line.
type Equipment struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version int             `json:"version,omitempty"`
	Code    string          `json:"code"`
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	LineID  string          `json:"line_id"`
	Status  EquipmentStatus `json:"status"`
	// QualificationDue is the date the equipment's qualification lapses.
	QualificationDue time.Time `json:"qualification_due"`
	// QualificationReport is the reference of the report of the last
	// renewed qualification; empty before one.
	QualificationReport string `json:"qualification_report,omitempty"`
}

// Validate checks a piece of equipment's own fields.
func (e *Equipment) Validate() error {
	var err error
	if e.Code, err = code("code", e.Code); err != nil {
		return err
	}
	if e.Name, err = name("name", e.Name); err != nil {
		return err
	}
	if e.Kind, err = name("kind", e.Kind); err != nil {
		return errs.Field("kind", "site.say_what_kind_equipment")
	}
	if e.LineID == "" {
		return errs.Field("line_id", "site.choose_line_equipment_belongs")
	}
	if e.Status == "" {
		e.Status = EquipmentClean
	}
	if !oneOf(e.Status, EquipmentStatuses) {
		return errs.Field("status", "site.status_must", joined(EquipmentStatuses))
	}
	if e.QualificationDue.IsZero() {
		return errs.Field("qualification_due", "site.date_qualification_due_required")
	}
	if err := bounds.Time("qualification_due", e.QualificationDue); err != nil {
		return err
	}
	e.QualificationDue = e.QualificationDue.UTC().Truncate(24 * time.Hour)
	return nil
}

// QualifiedOn reports whether the equipment's qualification holds on day t.
func (e *Equipment) QualifiedOn(t time.Time) bool {
	return !t.After(e.QualificationDue.Add(24*time.Hour - 1))
}
