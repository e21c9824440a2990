package production

import (
	"slices"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The batch's moves and its place on the schedule, decided here; the store
// reads what the decisions need and persists their outcome.

// movePermission is who may ask for each move but scheduling.
var movePermission = map[BatchMove]identity.Permission{
	MoveUnschedule: identity.PermProductionPlan,
	MoveRelease:    identity.PermProductionPlan,
	MoveComplete:   identity.PermBatchExecute,
	MoveReview:     identity.PermBatchReview,
}

// Moving is what a move needs to know.
type Moving struct {
	Actor identity.Actor
	Batch Batch
	// Next is the batch's first step not done, nil when every step is
	// done: a batch completes only then.
	Next *StepRecord
}

// MoveOutcome is what a move changes.
type MoveOutcome struct {
	// Batch is the batch after the move.
	Batch Batch
	// Release: the master's steps are copied into the batch's record,
	// which keeps them whatever happens to the master later.
	Release bool
	// Dirty: the equipment the batch used is left dirty.
	Dirty bool
}

// MayMove refuses a move that is not one, or that the actor may not ask
// for, whatever the batch: checked before the batch is read, so that who
// may not move batches learns nothing of one.
func MayMove(a identity.Actor, mv BatchMove) error {
	perm, ok := movePermission[mv]
	if !ok {
		return errs.Field("action", "web.action_must_unschedule_release")
	}
	return a.Require(perm)
}

// MoveBatch decides a move other than scheduling, by its rules: who may
// ask for it, from which state; release copies the master's steps;
// completion needs every step done and leaves the equipment used dirty.
func MoveBatch(c Moving, mv BatchMove) (*MoveOutcome, error) {
	if err := MayMove(c.Actor, mv); err != nil {
		return nil, err
	}
	to, err := c.Batch.State.Allowed(mv)
	if err != nil {
		return nil, err
	}
	out := &MoveOutcome{Batch: c.Batch}
	b := &out.Batch
	b.State = to
	switch mv {
	case MoveUnschedule:
		b.LineID, b.LineCode, b.Start, b.End = "", "", nil, nil
	case MoveRelease:
		out.Release = true
	case MoveComplete:
		if c.Next != nil {
			return nil, errs.E(errs.Conflict, "production.step_not_done_yet", c.Next.Label())
		}
		out.Dirty = true
	}
	return out, nil
}

// MaySchedule refuses, whatever the batch, a request to schedule that the
// actor may not make or that starts in the past (unless history, the
// demo's past).
func MaySchedule(a identity.Actor, r ScheduleRequest, now time.Time, history bool) error {
	if err := a.Require(identity.PermProductionPlan); err != nil {
		return err
	}
	if r.Start.IsZero() {
		return nil
	}
	if err := bounds.Time("start", r.Start); err != nil {
		return err
	}
	if !history {
		return notPast(r.Start, now)
	}
	return nil
}

// PlanSlot reads a request to place a batch on a line at a time: who may
// ask, a start not in the past (unless history, the demo's past), a batch
// whose state allows it, the line and the start given. It returns the slot
// asked for, for the store to read what lies around it (PlaceBatch).
func PlanSlot(a identity.Actor, b *Batch, r ScheduleRequest, now time.Time, history bool) (Slot, error) {
	if err := MaySchedule(a, r, now, history); err != nil {
		return Slot{}, err
	}
	if _, err := b.State.Allowed(MoveSchedule); err != nil {
		return Slot{}, err
	}
	if r.LineID == "" {
		return Slot{}, errs.Field("line_id", "production.choose_line_run_batch")
	}
	if r.Start.IsZero() {
		return Slot{}, errs.Field("start", "production.give_start_date_time")
	}
	start := r.Start.UTC().Truncate(time.Minute)
	end := start.Add(time.Duration(b.Hours * float64(time.Hour)))
	return Slot{BatchID: b.ID, Lot: b.Lot, ClientID: b.ClientID, ProductID: b.ProductID, Class: b.Class, LineID: r.LineID, Start: start, End: end}, nil
}

// Around is the period whose slots a slot's rules look at: the changeover
// before and after it.
func (s Slot) Around() (from, to time.Time) {
	return s.Start.Add(-ChangeoverFull), s.End.Add(ChangeoverFull)
}

// Scheduling is what placing a batch needs to know beyond its slot.
type Scheduling struct {
	Line    site.Line
	Product Product
	// Others are the line's slots around it (Slot.Around), every
	// client's; Windows its maintenance windows over the slot.
	Others   []Slot
	Windows  []Window
	Calendar Calendar
}

// PlaceBatch places the batch on its slot by the rules of the schedule: the
// line must run the product, and the slot keep clear of other batches
// (with their changeovers), of maintenance windows, and within the shift
// calendar. It returns the batch as scheduled.
func PlaceBatch(b Batch, s Slot, c Scheduling) (Batch, error) {
	if err := CanRun(&c.Line, &c.Product); err != nil {
		return b, err
	}
	if err := CheckSlot(s, c.Others, c.Windows, c.Calendar, time.Time{}); err != nil {
		return b, err
	}
	start, end := s.Start, s.End
	b.State, b.LineID, b.Start, b.End, b.LineCode = BatchScheduled, c.Line.ID, &start, &end, c.Line.Code
	return b, nil
}

// notPast refuses a start before now (a minute's grace: the form was
// filled a moment ago).
func notPast(start, now time.Time) error {
	if start.Before(now.Add(-time.Minute)) {
		return RuleError(RulePast, "production.rule.past")
	}
	return nil
}

// WeekOf is the week holding t, from Monday 00:00 in the site's zone.
func WeekOf(t time.Time, zone *time.Location) (from, to time.Time) {
	lt := t.In(zone)
	monday := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, zone).AddDate(0, 0, -((int(lt.Weekday()) + 6) % 7))
	return monday.UTC(), monday.AddDate(0, 0, 7).UTC()
}

// Load is the capacity of each line over [from, to): the hours staffed by
// the calendar's shifts (every hour when it has none), less the
// maintenance windows, and the hours and batches booked.
func Load(lines []site.Line, cal Calendar, slots []Slot, windows []Window, from, to time.Time) []LineCapacity {
	staffed := cal.StaffedHours(from, to)
	if len(cal.Shifts) == 0 {
		staffed = to.Sub(from).Hours()
	}
	out := make([]LineCapacity, 0, len(lines))
	for _, l := range lines {
		c := LineCapacity{Line: l, Available: staffed}
		for _, w := range windows {
			if w.LineID == l.ID {
				c.Maintenance += overlap(w.Start, w.End, from, to)
			}
		}
		c.Available -= c.Maintenance
		for _, sl := range slots {
			if sl.LineID == l.ID {
				c.Booked += overlap(sl.Start, sl.End, from, to)
				c.Batches++
			}
		}
		out = append(out, c)
	}
	return out
}

// overlap is how many hours [a, b) and [from, to) share.
func overlap(a, b, from, to time.Time) float64 {
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a).Hours()
}

// MayMoveMaster refuses a master move that is not one, or that the actor
// may not ask for: quality assurance rejects, makes effective and retires
// (a draft is submitted by its author's signature, SubmitMaster). Checked
// before the master is read.
func MayMoveMaster(a identity.Actor, mv MasterMove) error {
	if _, err := ParseMove(string(mv)); err != nil {
		return err
	}
	return a.Require(identity.PermMasterApprove)
}

// MoveMaster decides a move of a master's life cycle: the status it leads
// to from the master's. A move changes a record that exists: it needs a
// reason. Making a version effective supersedes the product's effective
// one: the store does it in the same transaction.
func MoveMaster(a identity.Actor, m *Master, mv MasterMove, reason string) (MasterStatus, error) {
	if err := MayMoveMaster(a, mv); err != nil {
		return m.Status, err
	}
	to, err := m.Status.Next(mv)
	if err != nil {
		return m.Status, err
	}
	if strings.TrimSpace(reason) == "" {
		return m.Status, errs.Field("reason", "production.say_why_you_move")
	}
	return to, nil
}

// SubmitMaster decides what the author's signature on a master does: one
// meaning "authored" signs a draft as written and submits it for review
// (ok), by one who writes masters; other meanings change nothing. A version
// that is not a draft is refused: its author signed it already.
func SubmitMaster(a identity.Actor, m *Master, meaning esign.Meaning) (submit bool, err error) {
	if meaning != esign.Authored {
		return false, nil
	}
	if err := a.Require(identity.PermMasterEdit); err != nil {
		return false, err
	}
	if m.Status != MasterDraft {
		return false, errs.E(errs.Conflict, "production.master_authored_draft_only", m.Code, m.Version, m.Status)
	}
	return true, nil
}

// ApproveMaster decides what a signature on a master does: one meaning
// "approved" is quality assurance's approval of a version in review, which
// it moves to approved (ok); other meanings change nothing.
func ApproveMaster(a identity.Actor, m *Master, meaning esign.Meaning) (approve bool, err error) {
	if meaning != esign.Approved {
		return false, nil
	}
	if err := a.Require(identity.PermMasterApprove); err != nil {
		return false, err
	}
	if m.Status != MasterInReview {
		return false, errs.E(errs.Conflict, "production.master_batch_record_version_2", m.Code, m.Version, text.Key("masterstatus."+string(m.Status)))
	}
	return true, nil
}

// MayReceiveLot refuses the recording of a lot the actor may not record:
// those who keep the stock record the lots received, which start in
// quarantine, whoever records them; quality assurance then releases or
// rejects a lot by its signature on it (LotDecision). A lot without a
// status is received in quarantine (Lot.Validate).
func MayReceiveLot(a identity.Actor, l *Lot) error {
	if err := a.Require(identity.PermStockEdit); err != nil {
		return err
	}
	if l.Status != "" && l.Status != LotQuarantine {
		return errs.Field("status", "production.received_lot_starts_quarantine")
	}
	return nil
}

// LotDecision is the status quality's signature on a lot decides: its
// approval releases the lot, its rejection rejects it; another meaning
// decides nothing. The status changes with the signature, in its
// transaction: a refused signature leaves the lot as it was.
func LotDecision(m esign.Meaning) (LotStatus, bool) {
	switch m {
	case esign.Approved:
		return LotReleased, true
	case esign.Rejected:
		return LotRejected, true
	}
	return "", false
}

// UnsignedLotStatus refuses, for a change of a lot's status made without a
// signature, the statuses only quality's signature on the lot gives:
// released (its approval) and rejected (its rejection), LotDecision. Unsigned,
// a lot only goes (back) to quarantine, which restricts its use.
func UnsignedLotStatus(status LotStatus) error {
	if status == LotReleased || status == LotRejected {
		return errs.Field("status", "production.lot_decision_signed")
	}
	return nil
}

// MayChangeLotStatus refuses a change of a lot's status that the actor may
// not make, to a status that is not one, or without its reason: a lot's
// status (released, quarantined, rejected) is a quality decision.
func MayChangeLotStatus(a identity.Actor, status LotStatus, reason string) error {
	if err := a.Require(identity.PermLotStatus); err != nil {
		return err
	}
	if !slices.Contains(LotStatuses, status) {
		return errs.Field("status", "production.status_must_one_quarantine")
	}
	if strings.TrimSpace(reason) == "" {
		return errs.Field("reason", "production.say_why_lot_status")
	}
	return nil
}
