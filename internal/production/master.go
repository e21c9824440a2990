package production

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// StepKind is what a step of a master batch record asks of the operator.
type StepKind string

// The kinds of step.
const (
	// StepInstruction: read an instruction and confirm it was done.
	StepInstruction StepKind = "instruction"
	// StepNumeric: enter a measured value, checked against its limits.
	StepNumeric StepKind = "numeric"
	// StepMaterial: add a quantity of a material from a lot entered or
	// scanned, checked against stock and status.
	StepMaterial StepKind = "material"
	// StepEquipment: check a piece of equipment of a class: clean and
	// within qualification. It is in use from then on.
	StepEquipment StepKind = "equipment"
	// StepClearance: line clearance, a checklist; the first step of
	// every batch.
	StepClearance StepKind = "line_clearance"
	// StepSampling: take a sample at a sampling point.
	StepSampling StepKind = "sampling"
)

// StepKinds lists the kinds in display order.
var StepKinds = []StepKind{StepInstruction, StepNumeric, StepMaterial, StepEquipment, StepClearance, StepSampling}

// Step is one step of a master batch record: what to do and how it is
// checked. The fields used depend on the kind.
type Step struct {
	// No is the step's number within its operation, from 1.
	No   int      `json:"no"`
	Kind StepKind `json:"kind"`
	// Text is the instruction shown to the operator.
	Text string `json:"text"`
	// Numeric: unit, target, limits and decimals of the value.
	Unit     string   `json:"unit,omitempty"`
	Target   *float64 `json:"target,omitempty"`
	Low      *float64 `json:"low,omitempty"`
	High     *float64 `json:"high,omitempty"`
	Decimals int      `json:"decimals,omitempty"`
	// Material: which material, how much (in the material's unit), and
	// the tolerance in percent of that quantity.
	MaterialID string  `json:"material_id,omitempty"`
	Quantity   float64 `json:"quantity,omitempty"`
	Tolerance  float64 `json:"tolerance_pct,omitempty"`
	// Equipment: the class (kind) of equipment to check.
	EquipmentKind string `json:"equipment_kind,omitempty"`
	// Clearance: the checklist, every item to be ticked.
	Checklist []string `json:"checklist,omitempty"`
	// Sampling: the sampling point's name.
	SamplePoint string `json:"sample_point,omitempty"`
	// Sign: the performer signs the step electronically.
	Sign bool `json:"sign,omitempty"`
	// Critical: a second person verifies the step and signs it; it is
	// signed by its performer too.
	Critical bool `json:"critical,omitempty"`
}

// Operation is a group of steps: weighing, mixing, filling ...
type Operation struct {
	No    int    `json:"no"`
	Title string `json:"title"`
	Steps []Step `json:"steps"`
}

// MasterStatus is where a master batch record is in its life cycle.
type MasterStatus string

// The life cycle: draft → in review → approved (QA signature) → effective →
// superseded or retired. A draft may be changed; nothing after.
const (
	MasterDraft      MasterStatus = "draft"
	MasterInReview   MasterStatus = "in_review"
	MasterApproved   MasterStatus = "approved"
	MasterEffective  MasterStatus = "effective"
	MasterSuperseded MasterStatus = "superseded"
	MasterRetired    MasterStatus = "retired"
)

// MasterStatuses lists the statuses in life-cycle order.
var MasterStatuses = []MasterStatus{MasterDraft, MasterInReview, MasterApproved, MasterEffective, MasterSuperseded, MasterRetired}

// Master is one version of a master batch record: how a batch of a product
// is made, as operations of steps. A batch keeps the version it started
// with.
type Master struct {
	ID        string `json:"id"`
	ClientID  string `json:"client_id"`
	ProductID string `json:"product_id"`
	Code      string `json:"code"`
	Version   int    `json:"version"`
	// Revision counts the changes of this version of the master (its
	// edition is Version): an update names the revision it edited
	// (If-Match) and applies only to it.
	Revision int          `json:"revision"`
	Title    string       `json:"title"`
	Status   MasterStatus `json:"status"`
	// BatchSize is the quantity of one batch, in Unit.
	BatchSize float64 `json:"batch_size"`
	Unit      string  `json:"unit"`
	// Hours is how long a batch occupies its line, cleaning excluded.
	Hours      float64     `json:"hours"`
	Operations []Operation `json:"operations,omitempty"`
	// Steps counts the steps of every operation.
	Steps int `json:"steps"`
}

// MaxSteps bounds a master batch record's length.
const MaxSteps = 400

// Validate checks a master's fields and its operations: numbered in order,
// each step valid for its kind, the first step a line clearance.
func (m *Master) Validate() error {
	var err error
	if m.ProductID == "" {
		return errs.Field("product_id", "production.choose_product_master_batch")
	}
	if m.Code, err = codeField("code", m.Code); err != nil {
		return err
	}
	if m.Title, err = textField("title", m.Title, 1, 160); err != nil {
		return err
	}
	if !finite(m.BatchSize) || m.BatchSize <= 0 || m.BatchSize > 1e9 {
		return errs.Field("batch_size", "production.batch_size_must_positive")
	}
	if m.Unit, err = textField("unit", m.Unit, 1, 12); err != nil {
		return err
	}
	if !finite(m.Hours) || m.Hours < 0.5 || m.Hours > 24*14 {
		return errs.Field("hours", "production.batch_lasts_between_half")
	}
	if len(m.Operations) == 0 {
		return errs.Field("operations", "production.master_batch_record_needs")
	}
	n := 0
	for i := range m.Operations {
		op := &m.Operations[i]
		op.No = i + 1
		if op.Title, err = textField("operations", op.Title, 1, 120); err != nil {
			return errs.Field("operations", "production.operation_needs_title_1", op.No)
		}
		if len(op.Steps) == 0 {
			return errs.Field("operations", "production.operation_has_no_step", op.No, op.Title)
		}
		for j := range op.Steps {
			st := &op.Steps[j]
			st.No = j + 1
			if e := st.validate(); e != nil {
				return errs.Field("operations", "production.step_invalid", op.No, st.No, e)
			}
			if n == 0 && st.Kind != StepClearance {
				return errs.Field("operations", "production.first_step_must_line")
			}
			n++
		}
	}
	if n > MaxSteps {
		return errs.Field("operations", "production.at_most_steps", MaxSteps)
	}
	m.Steps = n
	return nil
}

func (st *Step) validate() *errs.Error {
	var err error
	if st.Text, err = textField("text", st.Text, 1, 500); err != nil {
		return errs.E(errs.Invalid, "production.instruction_needs_1_500")
	}
	switch st.Kind {
	case StepInstruction:
	case StepNumeric:
		if st.Unit, err = textField("unit", st.Unit, 1, 12); err != nil {
			return errs.E(errs.Invalid, "production.numeric_entry_needs_unit")
		}
		if st.Low == nil || st.High == nil || st.Target == nil || !finite(*st.Low) || !finite(*st.High) || !finite(*st.Target) {
			return errs.E(errs.Invalid, "production.numeric_entry_needs_target")
		}
		if !(*st.Low <= *st.Target && *st.Target <= *st.High) {
			return errs.E(errs.Invalid, "production.limits_must_frame_target")
		}
		if st.Decimals < 0 || st.Decimals > 6 {
			return errs.E(errs.Invalid, "production.between_0_6_decimals")
		}
	case StepMaterial:
		if st.MaterialID == "" {
			return errs.E(errs.Invalid, "production.material_addition_names_material")
		}
		if !finite(st.Quantity) || st.Quantity <= 0 {
			return errs.E(errs.Invalid, "production.material_addition_needs_positive")
		}
		if !finite(st.Tolerance) || st.Tolerance < 0 || st.Tolerance > 50 {
			return errs.E(errs.Invalid, "production.tolerance_lies_between_0")
		}
	case StepEquipment:
		if st.EquipmentKind, err = textField("equipment_kind", st.EquipmentKind, 1, 60); err != nil {
			return errs.E(errs.Invalid, "production.equipment_check_names_class")
		}
	case StepClearance:
		if len(st.Checklist) == 0 {
			return errs.E(errs.Invalid, "production.line_clearance_needs_checklist")
		}
		for i, c := range st.Checklist {
			if st.Checklist[i], err = textField("checklist", c, 1, 200); err != nil {
				return errs.E(errs.Invalid, "production.each_checklist_item_needs")
			}
		}
	case StepSampling:
		if st.SamplePoint, err = textField("sample_point", st.SamplePoint, 1, 80); err != nil {
			return errs.E(errs.Invalid, "production.sampling_step_names_sampling")
		}
	default:
		return errs.E(errs.Invalid, "production.step_kind_one_of", joined(StepKinds))
	}
	if st.Critical {
		st.Sign = true
	}
	return nil
}

// VersionRef returns the address of the master's revision: the counter of
// its changes (site.Versioned).
func (m *Master) VersionRef() *int { return &m.Revision }

// Body is the master's operations as stored and signed: canonical JSON.
func (m *Master) Body() string {
	b, err := json.Marshal(m.Operations)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return string(b)
}

// AuditFields lists the master's fields for the audit trail; its body is
// recorded whole, so that the trail shows every change of a draft.
func (m *Master) AuditFields() []audit.Field {
	sum := sha256.Sum256([]byte(m.Body()))
	return []audit.Field{audit.F("client_id", m.ClientID), audit.F("product_id", m.ProductID), audit.F("code", m.Code),
		audit.F("version", strconv.Itoa(m.Version)), audit.F("title", m.Title), audit.F("status", string(m.Status)),
		audit.F("batch_size", formatNumber(m.BatchSize)), audit.F("unit", m.Unit), audit.F("hours", formatNumber(m.Hours)),
		audit.F("body_sha256", hex.EncodeToString(sum[:])), audit.F("body", m.Body())}
}

// SignedFields is the content an approval signs: everything but the
// status, which the approval itself changes.
func (m *Master) SignedFields() []audit.Field {
	var out []audit.Field
	for _, f := range m.AuditFields() {
		if f.Name != "status" {
			out = append(out, f)
		}
	}
	return out
}

// StepAt returns the step numbered op.no, if any.
func (m *Master) StepAt(op, no int) (*Step, bool) {
	if op < 1 || op > len(m.Operations) || no < 1 || no > len(m.Operations[op-1].Steps) {
		return nil, false
	}
	return &m.Operations[op-1].Steps[no-1], true
}

// MasterMove is a change of a master's status, asked by a person.
type MasterMove string

// The moves of the life cycle. Submission is the author's signature
// (meaning "authored"), approval a QA signature (meaning "approved"): not
// moves a person asks for.
const (
	MoveSubmit   MasterMove = "submit"    // draft → in review: by the author's signature only
	MoveReject   MasterMove = "reject"    // in review → draft
	MoveEffect   MasterMove = "effective" // approved → effective (the previous effective one is superseded)
	MoveRetire   MasterMove = "retire"    // effective or approved → retired
	MoveApproved MasterMove = "approve"   // in review → approved: by the QA signature only
)

// Next returns the status a move leads to from the current one, or a
// conflict naming what is allowed.
func (s MasterStatus) Next(mv MasterMove) (MasterStatus, error) {
	to := map[MasterStatus]map[MasterMove]MasterStatus{
		MasterDraft:     {MoveSubmit: MasterInReview},
		MasterInReview:  {MoveReject: MasterDraft, MoveApproved: MasterApproved},
		MasterApproved:  {MoveEffect: MasterEffective, MoveRetire: MasterRetired},
		MasterEffective: {MoveRetire: MasterRetired},
	}[s][mv]
	if to == "" {
		return s, errs.E(errs.Conflict, "production.master_batch_record_that", s, mv)
	}
	return to, nil
}

// ParseMove reads a move's name.
func ParseMove(s string) (MasterMove, error) {
	mv := MasterMove(strings.TrimSpace(s))
	switch mv {
	case MoveReject, MoveEffect, MoveRetire:
		return mv, nil
	case MoveSubmit:
		return mv, errs.Field("action", "production.master_submitted_by_author")
	case MoveApproved:
		return mv, errs.Field("action", "production.master_batch_record_approved")
	}
	return mv, errs.Field("action", "production.action_must_one_submit")
}

// NotEffective refuses a master that is not effective for a new order.
func (m *Master) NotEffective() error {
	if m.Status == MasterEffective {
		return nil
	}
	return errs.E(errs.Conflict, "production.master_batch_record_version", m.Code, m.Version, text.Key("masterstatus."+string(m.Status)))
}
