package quality

import (
	"slices"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// The deviations, opened by the batch record's exceptions (and later by the
// environment's alarms) or by hand, all through one workflow: assessment
// (classification with its reason, impact, recurrence), QA's approval of it,
// the investigation (root cause, CAPA actions with owners and due dates),
// closure signed by QA, and for a major or critical one the check of the
// actions' effectiveness at a later date.

// DeviationState is where a deviation is.
type DeviationState string

// The states of a deviation.
const (
	DeviationOpen         DeviationState = "open"
	DeviationAssessed     DeviationState = "assessed"
	DeviationApproved     DeviationState = "approved"
	DeviationInvestigated DeviationState = "investigated"
	DeviationClosed       DeviationState = "closed"
	// DeviationVerified: closed, and its actions' effectiveness checked.
	DeviationVerified DeviationState = "verified"
)

// DeviationStates lists the states in workflow order.
var DeviationStates = []DeviationState{DeviationOpen, DeviationAssessed, DeviationApproved, DeviationInvestigated, DeviationClosed, DeviationVerified}

// Class is a deviation's classification by its risk to the product.
type Class string

// The classes.
const (
	Minor    Class = "minor"
	Major    Class = "major"
	Critical Class = "critical"
)

// Classes lists the classes in order of gravity.
var Classes = []Class{Minor, Major, Critical}

// Impact is what a deviation means for one batch: whether it affects it,
// and when it does not, why (the qualified person reads it).
type Impact struct {
	BatchID string `json:"batch_id"`
	Lot     string `json:"lot,omitempty"`
	// Affects is nil until assessed for this batch.
	Affects       *bool  `json:"affects,omitempty"`
	Justification string `json:"justification,omitempty"`
}

// Action is a corrective or preventive action (CAPA).
type Action struct {
	ID          string     `json:"id"`
	Preventive  bool       `json:"preventive"`
	Description string     `json:"description"`
	OwnerID     string     `json:"owner_id"`
	OwnerName   string     `json:"owner_name"`
	Due         time.Time  `json:"due"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	DoneBy      string     `json:"done_by,omitempty"`
	Evidence    string     `json:"evidence,omitempty"`
}

// Overdue reports whether the action is not done past its due day.
func (a Action) Overdue(now time.Time) bool {
	return a.DoneAt == nil && now.After(a.Due.AddDate(0, 0, 1))
}

// Deviation is a departure from an approved instruction or standard, and
// its handling.
type Deviation struct {
	ID       string         `json:"id"`
	ClientID string         `json:"client_id"`
	Code     string         `json:"code"`
	BatchID  string         `json:"batch_id,omitempty"`
	StepID   string         `json:"step_id,omitempty"`
	State    DeviationState `json:"state"`
	OpenedAt time.Time      `json:"opened_at"`
	// Assessment.
	Class        Class      `json:"class,omitempty"`
	ClassReason  string     `json:"class_reason,omitempty"`
	RecurrenceOf string     `json:"recurrence_of,omitempty"`
	Impacts      []Impact   `json:"impacts"`
	AssessedBy   string     `json:"assessed_by,omitempty"`
	AssessedAt   *time.Time `json:"assessed_at,omitempty"`
	ApprovedBy   string     `json:"approved_by,omitempty"`
	ApprovedAt   *time.Time `json:"approved_at,omitempty"`
	// Investigation.
	RootCause      string     `json:"root_cause,omitempty"`
	Investigator   string     `json:"investigator,omitempty"`
	InvestigatedAt *time.Time `json:"investigated_at,omitempty"`
	Actions        []Action   `json:"actions"`
	// Closure and the effectiveness check.
	ClosedBy          string     `json:"closed_by,omitempty"`
	ClosedAt          *time.Time `json:"closed_at,omitempty"`
	EffectivenessDue  *time.Time `json:"effectiveness_due,omitempty"`
	Effective         *bool      `json:"effective,omitempty"`
	EffectivenessNote string     `json:"effectiveness_note,omitempty"`
	CheckedBy         string     `json:"checked_by,omitempty"`
	CheckedAt         *time.Time `json:"checked_at,omitempty"`
}

// Assessment is what the assessor decides.
type Assessment struct {
	Class        Class    `json:"class"`
	Reason       string   `json:"reason"`
	RecurrenceOf string   `json:"recurrence_of,omitempty"`
	Impacts      []Impact `json:"impacts"`
}

// Assess classifies an open deviation with its reason, says whether it
// recurs, and its impact on each batch. The batch that opened it is always
// among the batches assessed.
func Assess(a identity.Actor, d Deviation, as Assessment, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermDeviationWork); err != nil {
		return nil, err
	}
	if d.State != DeviationOpen && d.State != DeviationAssessed {
		return nil, errs.E(errs.Conflict, "quality.deviation.state", d.Code, text.Key("deviationstate."+string(d.State)))
	}
	if !slices.Contains(Classes, as.Class) {
		return nil, errs.Field("class", "quality.deviation.class")
	}
	reason, err := words("reason", as.Reason, 10, 2000)
	if err != nil {
		return nil, err
	}
	if as.RecurrenceOf == d.Code && d.Code != "" {
		return nil, errs.Field("recurrence_of", "quality.deviation.recurs_itself")
	}
	seen := map[string]bool{}
	for i := range as.Impacts {
		im := &as.Impacts[i]
		if im.BatchID == "" || seen[im.BatchID] {
			return nil, errs.Field("impacts", "quality.deviation.impact_batch")
		}
		seen[im.BatchID] = true
		if im.Justification, err = words("justification", im.Justification, 0, 2000); err != nil {
			return nil, err
		}
		if im.Affects != nil && !*im.Affects && len([]rune(im.Justification)) < 10 {
			return nil, errs.Field("impacts", "quality.deviation.justify", im.Lot)
		}
	}
	if d.BatchID != "" && !seen[d.BatchID] {
		as.Impacts = append([]Impact{{BatchID: d.BatchID}}, as.Impacts...)
	}
	d.Class, d.ClassReason, d.RecurrenceOf, d.Impacts = as.Class, reason, as.RecurrenceOf, as.Impacts
	d.State, d.AssessedBy, d.AssessedAt = DeviationAssessed, a.UserID, &now
	return &d, nil
}

// ApproveAssessment is quality assurance's approval of the assessment, by
// someone other than the assessor.
func ApproveAssessment(a identity.Actor, d Deviation, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if d.State != DeviationAssessed {
		return nil, errs.E(errs.Conflict, "quality.deviation.state", d.Code, text.Key("deviationstate."+string(d.State)))
	}
	if d.AssessedBy == a.UserID {
		return nil, errs.E(errs.Forbidden, "quality.deviation.approve_own", d.Code)
	}
	d.State, d.ApprovedBy, d.ApprovedAt = DeviationApproved, a.UserID, &now
	return &d, nil
}

// Investigation is what the investigator records: the root cause and the
// actions.
type Findings struct {
	RootCause string   `json:"root_cause"`
	Actions   []Action `json:"actions"`
}

// Investigate records the root cause and the CAPA actions, each with its
// owner and a due day not past. A major or critical deviation needs at
// least one action.
func Investigate(a identity.Actor, d Deviation, f Findings, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermDeviationWork); err != nil {
		return nil, err
	}
	if d.State != DeviationApproved && d.State != DeviationInvestigated {
		return nil, errs.E(errs.Conflict, "quality.deviation.state", d.Code, text.Key("deviationstate."+string(d.State)))
	}
	cause, err := words("root_cause", f.RootCause, 10, 4000)
	if err != nil {
		return nil, err
	}
	if d.Class != Minor && len(f.Actions) == 0 {
		return nil, errs.Field("actions", "quality.deviation.capa_required", text.Key("deviationclass."+string(d.Class)))
	}
	today := now.Truncate(24 * time.Hour)
	for i := range f.Actions {
		ac := &f.Actions[i]
		if ac.Description, err = words("description", ac.Description, 5, 1000); err != nil {
			return nil, err
		}
		if ac.OwnerID == "" {
			return nil, errs.Field("owner_id", "quality.deviation.capa_owner")
		}
		if ac.Due.Before(today) {
			return nil, errs.Field("due", "quality.deviation.capa_due")
		}
	}
	d.RootCause, d.Actions = cause, f.Actions
	d.State, d.Investigator, d.InvestigatedAt = DeviationInvestigated, a.UserID, &now
	return &d, nil
}

// CompleteAction records an action done, with its evidence: by its owner
// or by quality assurance.
func CompleteAction(a identity.Actor, d Deviation, actionID, evidence string, now time.Time) (*Deviation, error) {
	i := slices.IndexFunc(d.Actions, func(x Action) bool { return x.ID == actionID })
	if i < 0 {
		return nil, errs.E(errs.NotFound, "quality.deviation.no_such_action")
	}
	ac := d.Actions[i]
	if ac.OwnerID != a.UserID && !a.Can(identity.PermQualityDecide) {
		return nil, errs.E(errs.Forbidden, "quality.deviation.action_owner", ac.OwnerName)
	}
	if ac.DoneAt != nil {
		return nil, errs.E(errs.Conflict, "quality.deviation.action_done")
	}
	ev, err := words("evidence", evidence, 5, 2000)
	if err != nil {
		return nil, err
	}
	ac.DoneAt, ac.DoneBy, ac.Evidence = &now, a.UserID, ev
	d.Actions = slices.Clone(d.Actions)
	d.Actions[i] = ac
	return &d, nil
}

// CloseDeviation is quality assurance's closure, signed: the investigation
// recorded, every batch's impact decided (affected, or not with its
// justification). A major or critical deviation gets the day its actions'
// effectiveness is to be checked, after the closure.
func CloseDeviation(a identity.Actor, d Deviation, effectivenessDue *time.Time, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if d.State != DeviationInvestigated {
		return nil, errs.E(errs.Conflict, "quality.deviation.state", d.Code, text.Key("deviationstate."+string(d.State)))
	}
	for _, im := range d.Impacts {
		if im.Affects == nil {
			return nil, errs.E(errs.Conflict, "quality.deviation.impact_open", d.Code, im.Lot)
		}
	}
	if d.Class != Minor {
		if effectivenessDue == nil || !effectivenessDue.After(now) {
			return nil, errs.Field("effectiveness_due", "quality.deviation.effectiveness_due")
		}
		d.EffectivenessDue = effectivenessDue
	}
	d.State, d.ClosedBy, d.ClosedAt = DeviationClosed, a.UserID, &now
	return &d, nil
}

// CheckEffectiveness records, on or after its day, whether the actions
// were effective: by quality assurance, never by the deviation's
// investigator.
func CheckEffectiveness(a identity.Actor, d Deviation, effective bool, note string, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if d.State != DeviationClosed || d.EffectivenessDue == nil {
		return nil, errs.E(errs.Conflict, "quality.deviation.no_check", d.Code)
	}
	if a.UserID == d.Investigator {
		return nil, errs.E(errs.Forbidden, "quality.deviation.check_own", d.Code)
	}
	if now.Before(*d.EffectivenessDue) {
		return nil, errs.E(errs.Conflict, "quality.deviation.check_early", d.Code, text.Date{T: *d.EffectivenessDue})
	}
	n, err := words("note", note, 10, 2000)
	if err != nil {
		return nil, err
	}
	d.Effective, d.EffectivenessNote = &effective, n
	d.State, d.CheckedBy, d.CheckedAt = DeviationVerified, a.UserID, &now
	return &d, nil
}

// Settled reports whether a deviation no longer holds a batch back: closed
// (or verified), or assessed as not affecting it, with its justification.
func (d *Deviation) Settled(batchID string) bool {
	if d.State == DeviationClosed || d.State == DeviationVerified {
		return true
	}
	if d.State == DeviationOpen {
		return false
	}
	for _, im := range d.Impacts {
		if im.BatchID == batchID {
			return im.Affects != nil && !*im.Affects && im.Justification != "" && d.ApprovedBy != ""
		}
	}
	return false
}
