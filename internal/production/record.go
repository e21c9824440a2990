package production

import (
	"fmt"
	"math"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The batch record's rules, decided here over the records they need and
// returning what changes; the store reads those records in the write's
// transaction, persists the outcome with its audit entries, and applies the
// checks that need a lock (a step claimed once, a lot's stock taken under
// its row lock) with the same rules.

// StepInputs names what an entry refers to beyond its step, for the store
// to read before the decision: the lot a material addition takes, the
// equipment a check names; "" when the step takes none.
func StepInputs(next *StepRecord, e Entry) (lotCode, equipmentCode string) {
	if next == nil {
		return "", ""
	}
	switch next.Step.Kind {
	case StepMaterial:
		return strings.TrimSpace(e.Lot), ""
	case StepEquipment:
		return "", strings.TrimSpace(e.Equipment)
	}
	return "", ""
}

// MayExecute refuses who may not execute batches on the shop floor:
// recording and correcting a step. The store asks it before it reads the
// batch too, so that who may not learns nothing of one.
func MayExecute(a identity.Actor) error { return a.Require(identity.PermBatchExecute) }

// Recording is what recording a batch's next step needs to know.
type Recording struct {
	Actor identity.Actor
	Batch Batch
	// Next is the batch's next step, the first not done; nil when every
	// step is done.
	Next *StepRecord
	// Lot and Equipment are those the entry names (StepInputs); nil when
	// none has the code entered.
	Lot       *Lot
	Equipment *site.Equipment
	// Controlled says that Lot is of a controlled substance: its
	// addition is then always witnessed (performed and verified), and
	// writes the register's dispensing.
	Controlled bool
	Now        time.Time
}

// StepOutcome is what recording (or correcting) a step changes.
type StepOutcome struct {
	// Before is the step as it was, Step as it is now.
	Before, Step StepRecord
	// Use is what a material addition takes from its lot; nil otherwise.
	Use *LotUse
	// InUse is the equipment a check puts in use; "" otherwise.
	InUse string
	// Deviation is the deviation an exception opens (its id and code are
	// the store's to give); nil when the entry opens none.
	Deviation *Deviation
	// Start says that the batch starts with this step: released to the
	// floor, now in progress.
	Start bool
}

// LotUse is a quantity a batch takes from a lot.
type LotUse struct {
	LotID    string
	Quantity float64
}

// RecordStep decides the entry of the batch's next step, in order (21 CFR
// 11.10(f)): the step named must be the next one, and pending. A value out
// of limits is recorded, flagged as an exception, and opens a deviation; a
// material added takes from its lot; an equipment checked goes in use. The
// first step, the line clearance, starts the batch.
func RecordStep(c Recording, e Entry) (*StepOutcome, error) {
	if err := MayExecute(c.Actor); err != nil {
		return nil, err
	}
	b := c.Batch
	if b.State != BatchReleased && b.State != BatchInProgress {
		return nil, errs.E(errs.Conflict, "production.batch_steps_recorded_only", b.Lot, text.Key("batchstate."+string(b.State)))
	}
	next := c.Next
	switch {
	case next == nil:
		return nil, errs.E(errs.Conflict, "floor.all_done")
	case strings.TrimSpace(e.StepID) != next.ID:
		return nil, errs.E(errs.Conflict, "production.not_batch_next_step", next.Label(), next.Step.Text)
	case next.State == StepRecorded:
		return nil, errs.E(errs.Conflict, "production.step_recorded_waits_signatures", next.Label())
	}
	if _, err := textField("reason", e.Reason, 0, 1000); err != nil {
		return nil, err
	}
	rec, err := next.Step.Check(e)
	if err != nil {
		return nil, err
	}
	if err := CheckOutOfLimits(&next.Step, rec, e); err != nil {
		return nil, err
	}
	if b.State == BatchReleased {
		if err := CheckStart(&b, c.Now, e.Reason); err != nil {
			return nil, err
		}
	}
	out := &StepOutcome{Before: *next, Step: *next, Start: b.State == BatchReleased}
	r := &out.Step
	r.Value, r.Number, r.Comment, r.Exception = rec.Value, rec.Number, rec.Comment, rec.Exception
	if rec.Exception {
		r.Why = rec.Why.String()
	}
	r.PerformedBy, r.PerformedName = c.Actor.UserID, performerName(c.Actor)
	now := c.Now
	r.PerformedAt = &now
	r.State = StepDone
	if len(r.Step.Needs()) > 0 {
		r.State = StepRecorded
	}
	r.Version++
	switch r.Step.Kind {
	case StepMaterial:
		lot := c.Lot
		if lot == nil {
			code := strings.TrimSpace(e.Lot)
			return nil, errs.Field("lot", "production.lot_unknown_check_code", code)
		}
		if err := r.Step.CheckLot(lot, *r.Number, c.Now); err != nil {
			return nil, err
		}
		r.LotID, r.LotCode = lot.ID, lot.Code
		if c.Controlled {
			r.Step.Critical = true
			r.State = StepRecorded
		}
		r.Value = text.Code("stored.step.material", text.Arg{Num: formatQty(*r.Number)}, text.Str(lot.Unit), text.Str(lot.Code)).String()
		out.Use = &LotUse{LotID: lot.ID, Quantity: *r.Number}
	case StepEquipment:
		eq := c.Equipment
		if eq == nil {
			code := strings.TrimSpace(e.Equipment)
			return nil, errs.Field("equipment", "production.equipment_unknown_check_code", code)
		}
		if err := r.Step.CheckEquipment(eq, b.LineID, c.Now); err != nil {
			return nil, err
		}
		r.EquipmentID, r.Equipment = eq.ID, eq.Code
		r.Value = equipmentValue(eq.Code)
		out.InUse = eq.ID
	}
	if r.Exception {
		out.Deviation = deviationFor(&b, r, rec, c.Now)
	}
	return out, nil
}

// CheckOutOfLimits refuses to record a numeric value outside its limits,
// or a material quantity outside its tolerance, that the operator has not
// confirmed and explained (Annex 11 §5: a value entered is checked before
// it is kept; a deviation then opens on the operator's word): the
// confirmation first, then a comment, each refusal naming its field with
// the limits. A correction that leads to such a value is checked the same
// way. Other entries, and a value within its limits, pass.
func CheckOutOfLimits(s *Step, rec *Recorded, e Entry) error {
	if !rec.Exception {
		return nil
	}
	key, low, high := "production.out_of_limits_confirm", text.Decimal(0), text.Decimal(0)
	switch s.Kind {
	case StepNumeric:
		if s.Low == nil || s.High == nil {
			return nil
		}
		low, high = text.Decimal(*s.Low), text.Decimal(*s.High)
	case StepMaterial:
		key, low, high = "production.out_of_tolerance_confirm", text.Decimal(s.Quantity), text.Decimal(s.Tolerance)
	default:
		return nil
	}
	switch {
	case !e.ConfirmOutOfLimits:
		return errs.Field("confirm_out_of_limits", key, low, high)
	case strings.TrimSpace(rec.Comment) == "":
		return errs.Field("comment", key, low, high)
	}
	return nil
}

// Correcting is what correcting a step's entry needs to know.
type Correcting struct {
	Actor identity.Actor
	Batch Batch
	// Step is the step named, nil when the batch has no such step.
	Step *StepRecord
	// Reason is why the entry is corrected.
	Reason string
	Now    time.Time
}

// CorrectStep decides the change of a step's entry after it was made: with
// a reason, only while the batch is in progress, only for numeric entries
// and sample labels, at the version the correction names. The step counts
// a correction; it needs its signatures again; an exception that appears
// opens a deviation.
func CorrectStep(c Correcting, e Entry) (*StepOutcome, error) {
	if err := MayExecute(c.Actor); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Reason) == "" {
		return nil, errs.Field("reason", "production.say_why_you_correct")
	}
	b := c.Batch
	if b.State != BatchInProgress {
		return nil, errs.E(errs.Conflict, "production.batch_entries_corrected_only", b.Lot, text.Key("batchstate."+string(b.State)))
	}
	old := c.Step
	if old == nil || old.BatchID != b.ID {
		return nil, errs.E(errs.NotFound, "production.no_such_step_batch")
	}
	if old.State == StepPending {
		return nil, errs.E(errs.Conflict, "production.step_has_no_entry", old.Label())
	}
	if old.Step.Kind != StepNumeric && old.Step.Kind != StepSampling {
		return nil, errs.E(errs.Conflict, "production.only_numeric_entries_sample")
	}
	if e.Version != 0 && e.Version != old.Version {
		return nil, errs.StaleVersion(e.Version, old.Version)
	}
	rec, err := old.Step.Check(e)
	if err != nil {
		return nil, err
	}
	if err := CheckOutOfLimits(&old.Step, rec, e); err != nil {
		return nil, err
	}
	out := &StepOutcome{Before: *old, Step: *old}
	n := &out.Step
	n.Value, n.Number, n.Exception, n.Why, n.Corrections = rec.Value, rec.Number, rec.Exception, "", old.Corrections+1
	if rec.Exception {
		n.Why = rec.Why.String()
	}
	if rec.Comment != "" {
		n.Comment = rec.Comment
	}
	if len(n.Step.Needs()) > 0 {
		n.State = StepRecorded
	}
	n.Version = old.Version + 1
	if n.Exception && old.DeviationID == "" {
		out.Deviation = deviationFor(&b, n, rec, c.Now)
	}
	return out, nil
}

// deviationFor is the deviation an exception opens, linked to its step;
// its investigation belongs to quality. Its title is a coded text: the
// batch, the step and why, in the reader's language.
func deviationFor(b *Batch, r *StepRecord, rec *Recorded, now time.Time) *Deviation {
	title := text.Code("stored.deviation.title", text.Str(b.Lot), text.Str(r.Label()), rec.Why.Arg())
	return &Deviation{ClientID: b.ClientID, BatchID: b.ID, StepID: r.ID, Title: title.String(), Description: r.Comment, Status: "open", OpenedAt: now}
}

// Signing is what a signature just given on a step needs to be checked
// against.
type Signing struct {
	Actor identity.Actor
	Step  StepRecord
	// Signature is the one just given; Signatures the step's valid ones,
	// that one included.
	Signature  esign.Signature
	Signatures []esign.Signature
	// CheckSigner applies the rules of who signs (the demo's loader,
	// writing a history, does not).
	CheckSigner bool
	// CorrectedBy is the account that entered the value now recorded by
	// correcting the step (the last correction's author); "" when the
	// entry was never corrected (then its performer entered it).
	CorrectedBy string
}

// SignStep decides a signature given on a step: the step must need that
// meaning and be recorded; the performer signs as performed; the verifier
// is another person than whoever entered the value now recorded: its
// performer, and the author of its last correction (a second person
// checks the value, Annex 11 §6, 21 CFR 211.101(d)). It reports whether
// the step is now done: every signature it needs given and valid.
func SignStep(c Signing) (done bool, err error) {
	r, sig := &c.Step, c.Signature
	wanted := false
	for _, m := range r.Step.Needs() {
		wanted = wanted || m == sig.Meaning
	}
	if !wanted {
		return false, errs.Field("meaning", "production.step_not_signed_as", r.Label(), text.Key(sig.Meaning.Key()))
	}
	if r.State != StepRecorded {
		return false, errs.E(errs.Conflict, "production.step_there_nothing_sign", r.Label(), text.Key("stepstate."+string(r.State)))
	}
	if c.CheckSigner {
		a := c.Actor
		if !a.Can(identity.PermBatchExecute) && !a.Can(identity.PermBatchReview) {
			return false, a.Require(identity.PermBatchExecute)
		}
		switch {
		case sig.Meaning == esign.Performed && sig.SignerID != r.PerformedBy:
			return false, errs.E(errs.Forbidden, "production.only_person_who_recorded")
		case sig.Meaning == esign.Verified && sig.SignerID == r.PerformedBy:
			return false, errs.E(errs.Forbidden, "production.you_performed_step_verification")
		case sig.Meaning == esign.Verified && c.CorrectedBy != "" && sig.SignerID == c.CorrectedBy:
			return false, errs.E(errs.Forbidden, "production.you_corrected_step_verification")
		}
	}
	return r.Step.Complete(c.Signatures), nil
}

// Remaining is what is left of the lot once qty is taken from it, kept to
// a millionth of its unit so that repeated takes do not drift; ok is false
// when the lot holds less than qty. It is the one stock rule: applied when
// an addition is decided (CheckLot), and again under the lot's lock when
// its stock goes down.
func (l *Lot) Remaining(qty float64) (left float64, ok bool) {
	left = math.Round((l.Quantity-qty)*1e6) / 1e6
	if left == 0 {
		left = 0 // not -0
	}
	return left, left >= 0
}

// performerName is how a step's performer is named in the record.
func performerName(a identity.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}

// formatQty writes a quantity to a millionth, without trailing zeros.
func formatQty(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", f), "0"), ".")
}

// StartDrift is how far from its scheduled start a batch may start (its
// line clearance recorded) without a reason: two hours before or after.
// Further, the start is a change of the plan that someone must explain.
const StartDrift = 2 * time.Hour

// CheckStart refuses to start a batch at now further than StartDrift from
// its scheduled start without a reason; the reason given goes to the audit
// trail with the entry. A batch without a scheduled start starts freely.
func CheckStart(b *Batch, now time.Time, reason string) error {
	if b.Start == nil || strings.TrimSpace(reason) != "" {
		return nil
	}
	d := now.Sub(*b.Start)
	early := d < 0
	if early {
		d = -d
	}
	if d <= StartDrift {
		return nil
	}
	h := int(d / time.Hour)
	if early {
		return errs.Field("reason", "production.start_early_reason", b.Lot, h, int(StartDrift/time.Hour))
	}
	return errs.Field("reason", "production.start_late_reason", b.Lot, h, int(StartDrift/time.Hour))
}
