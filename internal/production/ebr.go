package production

import (
	"math"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/site"
	"galenix/internal/text"
)

// StepState is where a step of a batch record is.
type StepState string

// The states of a batch step: pending, then recorded when its entry is
// made, then done once the signatures it needs are given (at once, for a
// step that needs none).
const (
	StepPending  StepState = "pending"
	StepRecorded StepState = "recorded"
	StepDone     StepState = "done"
)

// StepRecord is one step of a batch's record: the master's step, copied
// when the batch is released to the floor, and what was entered.
type StepRecord struct {
	ID       string `json:"id"`
	BatchID  string `json:"batch_id"`
	ClientID string `json:"client_id"`
	// Seq orders the steps of the batch, from 1; Op and Step.No number it
	// within the master ("3.2").
	Seq     int       `json:"seq"`
	Op      int       `json:"op"`
	OpTitle string    `json:"op_title"`
	Step    Step      `json:"step"`
	State   StepState `json:"state"`
	// Value is the entry as recorded: a coded text (text.Coded's stored
	// form), written in the reader's language when read, or a sample's
	// label as typed; Number the numeric value or the material quantity.
	// A row recorded before texts were coded holds English words, shown
	// as they are.
	Value       string   `json:"value,omitempty"`
	Number      *float64 `json:"number,omitempty"`
	LotID       string   `json:"lot_id,omitempty"`
	LotCode     string   `json:"lot_code,omitempty"`
	EquipmentID string   `json:"equipment_id,omitempty"`
	Equipment   string   `json:"equipment_code,omitempty"`
	Comment     string   `json:"comment,omitempty"`
	// Exception is set when the value is outside its limits (or the
	// quantity outside its tolerance); Why says how, as a coded text (an
	// older row: in English words).
	Exception   bool   `json:"exception"`
	Why         string `json:"exception_text,omitempty"`
	DeviationID string `json:"deviation_id,omitempty"`
	// PerformedBy is the account that recorded the step; the client's
	// users never see it (the API blanks it for them).
	PerformedBy   string     `json:"performed_by,omitempty"`
	PerformedName string     `json:"performed_name,omitempty"`
	PerformedAt   *time.Time `json:"performed_at,omitempty"`
	// Corrections counts changes of the entry after it was first made.
	Corrections int `json:"corrections"`
	// Version counts the changes of the entry (1: none yet; its first
	// entry, then each correction): a correction names the version it
	// corrected (If-Match) and applies only to it.
	Version int `json:"version"`
	// Signatures are the step's signatures, when read with them.
	Signatures []esign.Signature `json:"signatures,omitempty"`
}

// VersionRef returns the address of the step's version.
func (r *StepRecord) VersionRef() *int { return &r.Version }

// Label numbers the step as the master does: "3.2".
func (r *StepRecord) Label() string { return strconv.Itoa(r.Op) + "." + strconv.Itoa(r.Step.No) }

// Needs lists the signatures the step needs before it is done.
func (s *Step) Needs() []esign.Meaning {
	switch {
	case s.Critical:
		return []esign.Meaning{esign.Performed, esign.Verified}
	case s.Sign:
		return []esign.Meaning{esign.Performed}
	}
	return nil
}

// Complete reports whether the signatures cover what the step needs:
// valid ones only, since a change of the entry breaks them.
func (s *Step) Complete(sigs []esign.Signature) bool {
	for _, m := range s.Needs() {
		ok := false
		for _, g := range sigs {
			if g.Meaning == m && g.Status == esign.Valid {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// SignedFields is the step's content as a signature binds it: what was
// entered, by whom and when; never its state, which a signature changes.
func (r *StepRecord) SignedFields() []audit.Field {
	num := ""
	if r.Number != nil {
		num = formatNumber(*r.Number)
	}
	at := ""
	if r.PerformedAt != nil {
		at = r.PerformedAt.UTC().Format(time.RFC3339Nano)
	}
	return []audit.Field{audit.F("batch_id", r.BatchID), audit.F("seq", strconv.Itoa(r.Seq)), audit.F("step", r.Label()),
		audit.F("text", r.Step.Text), audit.F("value", r.Value), audit.F("number", num), audit.F("lot_id", r.LotID),
		audit.F("equipment_id", r.EquipmentID), audit.F("comment", r.Comment), audit.F("exception", strconv.FormatBool(r.Exception)),
		audit.F("performed_by", r.PerformedBy), audit.F("performed_at", at)}
}

// AuditFields lists the step's fields for the audit trail.
func (r *StepRecord) AuditFields() []audit.Field {
	return append(r.SignedFields(), audit.F("state", string(r.State)), audit.F("corrections", strconv.Itoa(r.Corrections)))
}

// Entry is what an operator enters for a step. Which fields count depends
// on the step's kind.
type Entry struct {
	// StepID names the step the operator sees as next; it must be the
	// batch's next step.
	StepID string `json:"step_id"`
	// Value: a numeric entry as typed ("7,42" or "7.42"), or a sample's
	// identifier.
	Value string `json:"value,omitempty"`
	// Confirm: an instruction confirmed.
	Confirm bool `json:"confirm,omitempty"`
	// Checked: the clearance checklist's items, each ticked or not.
	Checked []bool `json:"checked,omitempty"`
	// Lot and Quantity: a material addition's lot code and quantity.
	Lot      string `json:"lot,omitempty"`
	Quantity string `json:"quantity,omitempty"`
	// Equipment: the code of the piece of equipment checked.
	Equipment string `json:"equipment,omitempty"`
	// Scale is the reading of the scale that weighed a material added,
	// when one did (its identification and the weight it printed): a
	// controlled lot's dispensing keeps it in the register.
	Scale   string `json:"scale,omitempty"`
	Comment string `json:"comment,omitempty"`
	// ConfirmOutOfLimits: the operator confirms a numeric value outside
	// its limits, or a material quantity outside its tolerance, and says
	// why in Comment; without both such a value is refused
	// (CheckOutOfLimits), in a correction too.
	ConfirmOutOfLimits bool `json:"confirm_out_of_limits,omitempty"`
	// Reason, for the line clearance that starts a batch further than
	// StartDrift from its scheduled start, says why (CheckStart); the
	// audit trail keeps it with the entry.
	Reason string `json:"reason,omitempty"`
	// Version, in a correction, is the version of the entry corrected
	// (0: any); If-Match says it too.
	Version int `json:"version,omitempty"`
}

// VersionRef returns the address of the version a correction names.
func (e *Entry) VersionRef() *int { return &e.Version }

// Recorded is an entry checked against its step: what to record.
type Recorded struct {
	// Value is the entry as stored (see StepRecord.Value).
	Value     string
	Number    *float64
	Exception bool
	// Why says how the value is out of limits, in no language yet.
	Why     text.Coded
	Comment string
}

// ParseNumber reads a number as typed on a French or English keyboard.
func ParseNumber(field, s string) (float64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", "."))
	f, err := strconv.ParseFloat(s, 64)
	if s == "" || err != nil || !finite(f) {
		return 0, errs.Field(field, "production.enter_number_example_7")
	}
	return f, nil
}

// Check reads an entry for the step: a malformed entry is refused; a value
// outside its limits is recorded, flagged as an exception.
func (s *Step) Check(e Entry) (*Recorded, error) {
	comment, err := textField("comment", e.Comment, 0, 1000)
	if err != nil {
		return nil, err
	}
	r, err := s.check(e)
	if r != nil {
		r.Comment = comment
	}
	return r, err
}

func (s *Step) check(e Entry) (*Recorded, error) {
	switch s.Kind {
	case StepInstruction:
		if !e.Confirm {
			return nil, errs.Field("confirm", "production.confirm_that_instruction_was")
		}
		return &Recorded{Value: text.Code("stored.step.confirmed").String()}, nil
	case StepClearance:
		if len(e.Checked) != len(s.Checklist) {
			return nil, errs.Field("checked", "production.line_clearance_has_items", len(s.Checklist))
		}
		for i, ok := range e.Checked {
			if !ok {
				return nil, errs.Field("checked", "production.item_line_clearance_not", i+1, s.Checklist[i])
			}
		}
		n := strconv.Itoa(len(s.Checklist))
		return &Recorded{Value: text.Code("stored.step.checked", text.Str(n), text.Str(n)).String()}, nil
	case StepNumeric:
		v, err := ParseNumber("value", e.Value)
		if err != nil {
			return nil, err
		}
		v, ok := bounds.Round(v, s.Decimals)
		if !ok {
			return nil, errs.Field("value", "bounds.number_not_finite")
		}
		num := text.Num(v, s.Decimals)
		r := &Recorded{Value: text.Code("stored.step.numeric", num, text.Str(s.Unit)).String(), Number: &v}
		if v < *s.Low || v > *s.High {
			r.Exception = true
			r.Why = text.Code("stored.why.outside_limits", num, text.Str(s.Unit), text.Num(*s.Low, s.Decimals), text.Num(*s.High, s.Decimals))
		}
		return r, nil
	case StepMaterial:
		if strings.TrimSpace(e.Lot) == "" {
			return nil, errs.Field("lot", "production.enter_scan_lot_material")
		}
		q, err := ParseNumber("quantity", e.Quantity)
		if err != nil {
			return nil, err
		}
		if q <= 0 {
			return nil, errs.Field("quantity", "production.quantity_added_must_positive")
		}
		r := &Recorded{Number: &q}
		tol := s.Quantity * s.Tolerance / 100
		if math.Abs(q-s.Quantity) > tol+1e-9 {
			r.Exception = true
			r.Why = text.Code("stored.why.outside_tolerance", text.Num(q, -1), text.Num(s.Quantity, -1), text.Num(s.Tolerance, -1))
		}
		return r, nil
	case StepEquipment:
		if strings.TrimSpace(e.Equipment) == "" {
			return nil, errs.Field("equipment", "production.enter_scan_code_equipment")
		}
		return &Recorded{Value: equipmentValue(strings.TrimSpace(e.Equipment))}, nil
	case StepSampling:
		v, err := textField("value", e.Value, 1, 60)
		if err != nil {
			return nil, errs.Field("value", "production.enter_sample_label_1")
		}
		// The label is stored as typed; one that would read as a coded
		// text would be shown as another text than the one typed.
		if _, coded := text.ParseCoded(v); coded {
			return nil, errs.Field("value", "production.sample_label_coded")
		}
		return &Recorded{Value: v}, nil
	}
	return nil, errs.E(errs.Internal, "production.unknown_step_kind")
}

// equipmentValue is the entry of an equipment check, as stored: the
// equipment's code, clean and qualified.
func equipmentValue(code string) string {
	return text.Code("stored.step.equipment", text.Str(code)).String()
}

// CheckLot refuses a lot that is not of the step's material, not usable,
// or without the stock for the quantity.
func (s *Step) CheckLot(l *Lot, qty float64, now time.Time) error {
	if l.MaterialID != s.MaterialID {
		return errs.Field("lot", "production.lot_not_material_step", l.Code, l.Material)
	}
	if err := l.Usable(now); err != nil {
		return err
	}
	if _, ok := l.Remaining(qty); !ok {
		return errs.Field("quantity", "production.lot_holds_stock_less", l.Code, text.Decimal(l.Quantity), l.Unit, text.Decimal(qty))
	}
	return nil
}

// CheckEquipment refuses a piece of equipment of another class, of another
// line, not clean, or past its qualification.
func (s *Step) CheckEquipment(eq *site.Equipment, lineID string, now time.Time) error {
	switch {
	case eq.Kind != s.EquipmentKind:
		return errs.Field("equipment", "production.step_checks", eq.Code, eq.Kind, s.EquipmentKind)
	case eq.LineID != lineID:
		return errs.Field("equipment", "production.belongs_another_line", eq.Code)
	case eq.Status != site.EquipmentClean:
		return errs.E(errs.Conflict, "production.not_clean_may_not", eq.Code, text.Key("eqstatus."+string(eq.Status)))
	case !now.Before(eq.QualificationDue.AddDate(0, 0, 1)):
		return errs.E(errs.Conflict, "production.past_qualification_due_may", eq.Code, eq.QualificationDue.Format("02/01/2006"))
	}
	return nil
}

// Deviation is a deviation record opened by an exception; its workflow
// (investigation, CAPA, closure) belongs to quality.
type Deviation struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
	BatchID  string `json:"batch_id"`
	StepID   string `json:"step_id"`
	// Title says what deviated, as a coded text (an older row: in French
	// words), written in the reader's language when read.
	Title string `json:"title"`
	// Description is the operator's comment on the exception, as typed.
	Description string    `json:"description,omitempty"`
	Status      string    `json:"status"`
	OpenedAt    time.Time `json:"opened_at"`
}

// AuditFields lists the deviation's fields for the audit trail.
func (d *Deviation) AuditFields() []audit.Field {
	return []audit.Field{audit.F("client_id", d.ClientID), audit.F("code", d.Code), audit.F("batch_id", d.BatchID),
		audit.F("step_id", d.StepID), audit.F("title", d.Title), audit.F("description", d.Description), audit.F("status", d.Status)}
}

// Consumption is a material lot consumed by a batch: a link of the
// genealogy.
type Consumption struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	BatchID    string    `json:"batch_id"`
	BatchLot   string    `json:"batch_lot"`
	StepID     string    `json:"step_id"`
	LotID      string    `json:"lot_id"`
	LotCode    string    `json:"lot_code"`
	MaterialID string    `json:"material_id"`
	Material   string    `json:"material"`
	Quantity   float64   `json:"quantity"`
	Unit       string    `json:"unit"`
	At         time.Time `json:"at"`
}
