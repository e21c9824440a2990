package site

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// EquipmentAction is what maintenance does to a piece of equipment in its
// daily work: clean it, take it out of service, put it back in service.
type EquipmentAction string

// The equipment actions.
const (
	// ActionClean records a cleaning: dirty equipment becomes clean.
	ActionClean EquipmentAction = "clean"
	// ActionOutOfService takes the equipment out of service (status
	// maintenance), with the reason why.
	ActionOutOfService EquipmentAction = "out_of_service"
	// ActionInService puts it back in service, with what was done; it is
	// then to be cleaned before it is used again (status dirty).
	ActionInService EquipmentAction = "in_service"
)

// EquipmentActions lists the actions in display order.
var EquipmentActions = []EquipmentAction{ActionClean, ActionOutOfService, ActionInService}

// MaxCommentRunes bounds the comment of an equipment action and the
// reference of a qualification report.
const (
	MaxCommentRunes = 500
	MaxReportRunes  = 100
	// MaxQualificationYears bounds how far a renewed qualification runs.
	MaxQualificationYears = 5
)

// CanMaintain says whether the actor may clean equipment, take it out of
// and back in service and renew its qualification.
func CanMaintain(a identity.Actor) error { return a.Require(identity.PermEquipmentMaintain) }

// ParseEquipmentAction reads an action, refusing an unknown one.
func ParseEquipmentAction(s string) (EquipmentAction, error) {
	act := EquipmentAction(strings.TrimSpace(s))
	if oneOf(act, EquipmentActions) {
		return act, nil
	}
	return "", errs.Field("action", "site.equipment_action_must", joined(EquipmentActions))
}

// commentKeys ask for each action's comment.
var commentKeys = map[EquipmentAction]string{
	ActionClean:        "site.equipment_comment_clean",
	ActionOutOfService: "site.equipment_comment_out_of_service",
	ActionInService:    "site.equipment_comment_in_service",
}

// CheckActionComment refuses an action without its comment: what was
// cleaned and how, why the equipment goes out of service, what was done
// before it comes back.
func CheckActionComment(act EquipmentAction, comment string) error {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return errs.Field("reason", commentKeys[act])
	}
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxCommentRunes {
		return errs.Field("reason", "site.equipment_comment_long", strconv.Itoa(MaxCommentRunes))
	}
	return nil
}

// Apply moves the equipment's status as the action says, or refuses in
// words when its status does not allow it.
func (e *Equipment) Apply(act EquipmentAction) error {
	switch act {
	case ActionClean:
		switch e.Status {
		case EquipmentInUse:
			return errs.E(errs.Conflict, "site.equipment_in_use_clean", e.Code)
		case EquipmentMaintenance:
			return errs.E(errs.Conflict, "site.equipment_out_clean", e.Code)
		case EquipmentClean:
			return errs.E(errs.Conflict, "site.equipment_already_clean", e.Code)
		}
		e.Status = EquipmentClean
	case ActionOutOfService:
		switch e.Status {
		case EquipmentInUse:
			return errs.E(errs.Conflict, "site.equipment_in_use_out", e.Code)
		case EquipmentMaintenance:
			return errs.E(errs.Conflict, "site.equipment_already_out", e.Code)
		}
		e.Status = EquipmentMaintenance
	case ActionInService:
		if e.Status != EquipmentMaintenance {
			return errs.E(errs.Conflict, "site.equipment_not_out", e.Code)
		}
		e.Status = EquipmentDirty
	default:
		_, err := ParseEquipmentAction(string(act))
		return err
	}
	return nil
}

// Renewal is a renewed qualification: the day it now lapses and the
// reference of the report that qualified the equipment.
type Renewal struct {
	Due    time.Time `json:"qualification_due"`
	Report string    `json:"qualification_report"`
}

// Renew applies a renewal on day today (in the site's zone): the new due
// date must be later than today and than the current one, within
// MaxQualificationYears, and the report named.
func (e *Equipment) Renew(r Renewal, today time.Time) error {
	report := strings.TrimSpace(r.Report)
	if report == "" {
		return errs.Field("qualification_report", "site.renewal_report_required")
	}
	if !utf8.ValidString(report) || utf8.RuneCountInString(report) > MaxReportRunes {
		return errs.Field("qualification_report", "site.renewal_report_long", strconv.Itoa(MaxReportRunes))
	}
	if r.Due.IsZero() {
		return errs.Field("qualification_due", "site.date_qualification_due_required")
	}
	due := time.Date(r.Due.Year(), r.Due.Month(), r.Due.Day(), 0, 0, 0, 0, time.UTC)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case !due.After(day):
		return errs.Field("qualification_due", "site.renewal_due_after_today")
	case !due.After(e.QualificationDue):
		return errs.Field("qualification_due", "site.renewal_due_after_current", e.QualificationDue.Format("2006-01-02"))
	case due.After(day.AddDate(MaxQualificationYears, 0, 0)):
		return errs.Field("qualification_due", "site.renewal_due_within", strconv.Itoa(MaxQualificationYears))
	}
	e.QualificationDue, e.QualificationReport = due, report
	return nil
}

type renewalKey struct{}

// WithRenewal carries a renewal to the signature that approves it: the
// renewal is recorded in the signature's own transaction, so that a
// qualification is never renewed without its signature, nor signed
// without its renewal.
func WithRenewal(ctx context.Context, r Renewal) context.Context {
	return context.WithValue(ctx, renewalKey{}, r)
}

// RenewalFrom returns the renewal WithRenewal carries.
func RenewalFrom(ctx context.Context) (Renewal, bool) {
	r, ok := ctx.Value(renewalKey{}).(Renewal)
	return r, ok
}
