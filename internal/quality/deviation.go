package quality

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"galenix/internal/audit"
	"galenix/internal/bounds"
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
	OwnerID     string     `json:"owner_id,omitempty"`
	OwnerName   string     `json:"owner_name,omitempty"`
	Due         time.Time  `json:"due"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	DoneBy      string     `json:"done_by,omitempty"`
	DoneName    string     `json:"done_name,omitempty"`
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
	// Source says who opened it: the batch record (an exception) or a
	// person (SourceManual).
	Source string `json:"source"`
	// Title says what deviated: for the batch record's, its stored
	// (coded) title; for one opened by hand, as its author typed it, with
	// the Description.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// BatchLot is the lot of BatchID, for the reader.
	BatchLot   string `json:"lot,omitempty"`
	OpenedBy   string `json:"opened_by,omitempty"`
	OpenedName string `json:"opened_name,omitempty"`
	// Assessment.
	Class        Class      `json:"class,omitempty"`
	ClassReason  string     `json:"class_reason,omitempty"`
	RecurrenceOf string     `json:"recurrence_of,omitempty"`
	Impacts      []Impact   `json:"impacts"`
	AssessedBy   string     `json:"assessed_by,omitempty"`
	AssessedName string     `json:"assessed_name,omitempty"`
	AssessedAt   *time.Time `json:"assessed_at,omitempty"`
	ApprovedBy   string     `json:"approved_by,omitempty"`
	ApprovedName string     `json:"approved_name,omitempty"`
	ApprovedAt   *time.Time `json:"approved_at,omitempty"`
	// Investigation.
	RootCause        string     `json:"root_cause,omitempty"`
	Investigator     string     `json:"investigator,omitempty"`
	InvestigatorName string     `json:"investigator_name,omitempty"`
	InvestigatedAt   *time.Time `json:"investigated_at,omitempty"`
	Actions          []Action   `json:"actions"`
	// Closure and the effectiveness check.
	ClosedBy          string     `json:"closed_by,omitempty"`
	ClosedName        string     `json:"closed_name,omitempty"`
	ClosedAt          *time.Time `json:"closed_at,omitempty"`
	EffectivenessDue  *time.Time `json:"effectiveness_due,omitempty"`
	Effective         *bool      `json:"effective,omitempty"`
	EffectivenessNote string     `json:"effectiveness_note,omitempty"`
	CheckedBy         string     `json:"checked_by,omitempty"`
	CheckedName       string     `json:"checked_name,omitempty"`
	CheckedAt         *time.Time `json:"checked_at,omitempty"`
	// Version counts the deviation's changes: a step of the workflow names
	// the version it was decided on (412 stale otherwise).
	Version int `json:"version"`
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
		if err := bounds.Time("due", ac.Due); err != nil {
			return nil, err
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
		if err := bounds.Time("effectiveness_due", *effectivenessDue); err != nil {
			return nil, err
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

// The sources of a deviation.
const (
	SourceBatchRecord = "batch_record"
	SourceManual      = "manual"
	// SourceEnvironment: an action-level excursion of environmental
	// monitoring (environment.Alarm), opened by galenix itself.
	SourceEnvironment = "environment"
	// SourceControlled: a discrepancy the controlled-substance register's
	// inventory found (controlled.Count).
	SourceControlled = "controlled_register"
)

// RegisterDeviation is the deviation an inventory's discrepancy in the
// controlled-substance register opens, for the client the substance is
// held for: its title a coded text, its description the counter's note.
func RegisterDeviation(clientID string, title text.Coded, description, openedBy string, now time.Time) *Deviation {
	return &Deviation{ClientID: clientID, State: DeviationOpen, OpenedAt: now, Source: SourceControlled, Title: title.String(),
		Description: description, OpenedBy: openedBy, Impacts: []Impact{}, Actions: []Action{}}
}

// ExcursionDeviation is the deviation an action-level excursion in a room
// or on a line opens for one client: its title a coded text (what, where,
// when), its impacts that client's batches in progress there during the
// excursion, each to be assessed. A client's deviation names only its own
// batches: another client's batches in the room get their own deviation.
func ExcursionDeviation(clientID string, title text.Coded, impacts []Impact, now time.Time) *Deviation {
	return &Deviation{ClientID: clientID, State: DeviationOpen, OpenedAt: now, Source: SourceEnvironment, Title: title.String(),
		Impacts: slices.Clone(impacts), Actions: []Action{}}
}

// AddImpacts adds to an excursion's deviation the batches found concerned
// since it opened (one that started while the excursion lasted), while it
// is still open, before anyone assessed it; false when nothing changed.
func AddImpacts(d Deviation, more []Impact) (*Deviation, bool) {
	if d.State != DeviationOpen {
		return &d, false
	}
	d.Impacts = slices.Clone(d.Impacts)
	changed := false
	for _, im := range more {
		if !slices.ContainsFunc(d.Impacts, func(x Impact) bool { return x.BatchID == im.BatchID }) {
			d.Impacts, changed = append(d.Impacts, im), true
		}
	}
	return &d, changed
}

// NewDeviation is a deviation a person reports by hand: what deviated, in
// their words, for a client, about one of its batches or none.
type NewDeviation struct {
	ClientID    string `json:"client_id"`
	BatchID     string `json:"batch_id,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// OpenDeviation opens a deviation reported by hand: by any member of
// staff who sees production (whoever notices a departure reports it, EU
// GMP chapter 1.4(xiv)); never by a client's user. The store numbers it
// and checks the client and the batch are in the reporter's scope.
func OpenDeviation(a identity.Actor, n NewDeviation, now time.Time) (*Deviation, error) {
	if a.IsClient() {
		return nil, errs.E(errs.Forbidden, "quality.deviation.open_staff")
	}
	if err := a.Require(identity.PermProductionView); err != nil {
		return nil, err
	}
	title, err := words("title", n.Title, 5, 200)
	if err != nil {
		return nil, err
	}
	desc, err := words("description", n.Description, 10, 4000)
	if err != nil {
		return nil, err
	}
	if n.ClientID == "" {
		return nil, errs.Field("client_id", "quality.deviation.client")
	}
	return &Deviation{ClientID: n.ClientID, BatchID: n.BatchID, State: DeviationOpen, OpenedAt: now, Source: SourceManual,
		Title: title, Description: desc, OpenedBy: a.UserID, Impacts: []Impact{}, Actions: []Action{}}, nil
}

// PlanEffectivenessCheck sets, before QA signs the closure, the day the
// actions' effectiveness is to be checked: the closure signs it with the
// rest (CloseDeviation requires it of a major or critical deviation).
func PlanEffectivenessCheck(a identity.Actor, d Deviation, due time.Time, now time.Time) (*Deviation, error) {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if d.State != DeviationInvestigated {
		return nil, errs.E(errs.Conflict, "quality.deviation.state", d.Code, text.Key("deviationstate."+string(d.State)))
	}
	if !due.After(now) {
		return nil, errs.Field("effectiveness_due", "quality.deviation.effectiveness_due")
	}
	if err := bounds.Time("effectiveness_due", due); err != nil {
		return nil, err
	}
	d.EffectivenessDue = &due
	return &d, nil
}

// VersionRef is the deviation's version, which a step of its workflow
// names.
func (d *Deviation) VersionRef() *int { return &d.Version }

// Closable reports whether the deviation awaits QA's signed closure.
func (d *Deviation) Closable() bool { return d.State == DeviationInvestigated }

// auditTime writes an optional time for the audit trail.
func auditTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// auditBool writes an optional yes or no for the audit trail.
func auditBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// AuditFields lists the deviation's fields for the audit trail; its
// actions are audited as records of their own (Action.AuditFields).
func (d *Deviation) AuditFields() []audit.Field {
	impacts, _ := json.Marshal(d.Impacts)
	return []audit.Field{audit.F("client_id", d.ClientID), audit.F("code", d.Code), audit.F("batch_id", d.BatchID),
		audit.F("step_id", d.StepID), audit.F("source", d.Source), audit.F("title", d.Title), audit.F("description", d.Description),
		audit.F("status", string(d.State)), audit.F("class", string(d.Class)), audit.F("class_reason", d.ClassReason),
		audit.F("recurrence_of", d.RecurrenceOf), audit.F("impacts", string(impacts)), audit.F("assessed_by", d.AssessedBy),
		audit.F("approved_by", d.ApprovedBy), audit.F("root_cause", d.RootCause), audit.F("investigator", d.Investigator),
		audit.F("closed_by", d.ClosedBy), audit.F("effectiveness_due", auditTime(d.EffectivenessDue)),
		audit.F("effective", auditBool(d.Effective)), audit.F("effectiveness_note", d.EffectivenessNote), audit.F("checked_by", d.CheckedBy)}
}

// SignedFields is the content QA's closure signs: what deviated, its
// assessment, its investigation and its actions as planned, and the day of
// the effectiveness check; not what the closure itself and the later
// check change (status, closed_by, the check's outcome), nor an action's
// completion, which may come after the closure.
func (d *Deviation) SignedFields() []audit.Field {
	var out []audit.Field
	for _, f := range d.AuditFields() {
		switch f.Name {
		case "status", "closed_by", "effective", "effectiveness_note", "checked_by":
			continue
		}
		out = append(out, f)
	}
	for _, ac := range d.Actions {
		out = append(out, audit.F("action."+ac.ID, ac.Description+"|"+ac.OwnerID+"|"+ac.Due.UTC().Format(time.DateOnly)+"|"+strconv.FormatBool(ac.Preventive)))
	}
	return out
}

// AuditFields lists an action's fields for the audit trail.
func (a *Action) AuditFields() []audit.Field {
	return []audit.Field{audit.F("preventive", strconv.FormatBool(a.Preventive)), audit.F("description", a.Description),
		audit.F("owner_id", a.OwnerID), audit.F("due_on", a.Due.UTC().Format(time.DateOnly)), audit.F("done_at", auditTime(a.DoneAt)),
		audit.F("done_by", a.DoneBy), audit.F("evidence", a.Evidence)}
}

// ClientView is what a client laboratory's user sees of a deviation of
// its own batches: its code, batch, state, class and dates; never the
// staff's names nor the investigation's words.
//
// With shareCAPA (the client's quality agreement shares them), its CAPA
// actions too: what each does, corrective or preventive, its due day and
// when done; never who owns or did it, nor the evidence.
func (d *Deviation) ClientView(shareCAPA bool) Deviation {
	v := Deviation{ID: d.ID, ClientID: d.ClientID, Code: d.Code, BatchID: d.BatchID, BatchLot: d.BatchLot, State: d.State,
		Class: d.Class, OpenedAt: d.OpenedAt, Source: d.Source, ClosedAt: d.ClosedAt, Impacts: []Impact{}, Actions: []Action{}}
	if shareCAPA {
		for _, a := range d.Actions {
			v.Actions = append(v.Actions, Action{ID: a.ID, Preventive: a.Preventive, Description: a.Description, Due: a.Due, DoneAt: a.DoneAt})
		}
	}
	return v
}
