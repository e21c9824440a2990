package production

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// Order is a client's order for a product: a quantity due on a date. It
// becomes as many batches as the effective master's batch size needs.
type Order struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	ProductID string    `json:"product_id"`
	MasterID  string    `json:"master_id"`
	Code      string    `json:"code"`
	Quantity  float64   `json:"quantity"`
	Unit      string    `json:"unit"`
	DueOn     time.Time `json:"due_on"`
	// Batches lists the order's batches, when read with them.
	Batches []Batch `json:"batches,omitempty"`
}

// MaxBatchesPerOrder bounds how many batches one order may make.
const MaxBatchesPerOrder = 50

// Validate checks an order's own fields.
func (o *Order) Validate(now time.Time) error {
	if o.ProductID == "" {
		return errs.Field("product_id", "production.choose_product_ordered")
	}
	if !finite(o.Quantity) || o.Quantity <= 0 || o.Quantity > 1e12 {
		return errs.Field("quantity", "production.quantity_ordered_must_positive")
	}
	if o.DueOn.IsZero() {
		return errs.Field("due_on", "production.give_due_date_yyyy")
	}
	if err := bounds.Time("due_on", o.DueOn); err != nil {
		return err
	}
	o.DueOn = day(o.DueOn)
	if o.DueOn.Before(day(now)) {
		return errs.Field("due_on", "production.due_date_cannot_past")
	}
	return nil
}

// BatchCount is how many batches of the master's size make the quantity.
func (o *Order) BatchCount(m *Master) (int, error) {
	n := int(math.Ceil(o.Quantity/m.BatchSize - 1e-9))
	if n < 1 {
		n = 1
	}
	if n > MaxBatchesPerOrder {
		return 0, errs.Field("quantity", "production.quantity_needs_batches_one", n, text.Decimal(m.BatchSize), m.Unit, MaxBatchesPerOrder)
	}
	return n, nil
}

// AuditFields lists the order's fields for the audit trail.
func (o *Order) AuditFields() []audit.Field {
	return []audit.Field{audit.F("client_id", o.ClientID), audit.F("product_id", o.ProductID), audit.F("master_id", o.MasterID),
		audit.F("code", o.Code), audit.F("quantity", formatNumber(o.Quantity)), audit.F("unit", o.Unit), audit.F("due_on", o.DueOn.Format(time.DateOnly))}
}

// BatchState is where a batch is in its life.
type BatchState string

// The states of a batch, in order. From completion to the qualified
// person's decision the batch is in quarantine: in QA review, then QA
// reviewed (QA signed the review by exception), then certified (released)
// or rejected by the qualified person (internal/quality decides those).
const (
	BatchPlanned    BatchState = "planned"
	BatchScheduled  BatchState = "scheduled"
	BatchReleased   BatchState = "released" // released to the floor
	BatchInProgress BatchState = "in_progress"
	BatchCompleted  BatchState = "completed"
	BatchInReview   BatchState = "in_review"
	BatchQAReviewed BatchState = "qa_reviewed"
	BatchCertified  BatchState = "certified"
	BatchRejected   BatchState = "rejected"
)

// BatchStates lists the states in order.
var BatchStates = []BatchState{BatchPlanned, BatchScheduled, BatchReleased, BatchInProgress, BatchCompleted, BatchInReview, BatchQAReviewed, BatchCertified, BatchRejected}

// Batch is one batch of an order, made on one line from one version of the
// master batch record, which it keeps whatever happens to the master later.
// It names no person: a client's users see it whole.
type Batch struct {
	ID        string     `json:"id"`
	ClientID  string     `json:"client_id"`
	OrderID   string     `json:"order_id"`
	ProductID string     `json:"product_id"`
	MasterID  string     `json:"master_id"`
	Lot       string     `json:"lot"`
	Quantity  float64    `json:"quantity"`
	Unit      string     `json:"unit"`
	State     BatchState `json:"state"`
	LineID    string     `json:"line_id,omitempty"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"`
	// StepsTotal and StepsDone give the progress; Exceptions counts the
	// steps flagged out of limits.
	StepsTotal int `json:"steps_total"`
	StepsDone  int `json:"steps_done"`
	Exceptions int `json:"exceptions"`
	// Read with the batch, for display.
	Product     string       `json:"product"`
	ProductCode string       `json:"product_code"`
	Form        string       `json:"form"`
	Class       SpecialClass `json:"special_class"`
	MasterCode  string       `json:"master_code"`
	Version     int          `json:"master_version"`
	LineCode    string       `json:"line_code,omitempty"`
	DueOn       time.Time    `json:"due_on"`
	Hours       float64      `json:"hours"`
	Sterile     bool         `json:"sterile"`
	Updated     time.Time    `json:"updated_at"`
	// Unreadable flags a batch whose stored row holds a value that cannot
	// be read back (a time past year 9999, stored before times were
	// bounded): the batch is answered with what could be read, flagged,
	// rather than hidden or failing its whole list; the fault is logged.
	Unreadable bool `json:"unreadable,omitempty"`
}

// AuditFields lists the batch's own fields for the audit trail.
func (b *Batch) AuditFields() []audit.Field {
	return []audit.Field{audit.F("client_id", b.ClientID), audit.F("order_id", b.OrderID), audit.F("product_id", b.ProductID),
		audit.F("master_id", b.MasterID), audit.F("lot", b.Lot), audit.F("quantity", formatNumber(b.Quantity)), audit.F("unit", b.Unit),
		audit.F("state", string(b.State)), audit.F("line_id", b.LineID), audit.F("start", timeText(b.Start)), audit.F("end", timeText(b.End))}
}

// Progress is the share of steps done, in percent.
func (b *Batch) Progress() int {
	if b.StepsTotal == 0 {
		return 0
	}
	return b.StepsDone * 100 / b.StepsTotal
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// BatchMove is a command that changes a batch's state.
type BatchMove string

// The moves a person asks for. A batch goes in progress by itself when its
// line clearance is recorded.
const (
	MoveSchedule   BatchMove = "schedule"   // planned or scheduled → scheduled (on a line, at a time)
	MoveUnschedule BatchMove = "unschedule" // scheduled → planned
	MoveRelease    BatchMove = "release"    // scheduled → released to the floor
	MoveComplete   BatchMove = "complete"   // in progress → completed, every step done
	MoveReview     BatchMove = "review"     // completed → in QA review
)

// Allowed returns the state a move leads to, or a conflict naming the rule.
func (s BatchState) Allowed(mv BatchMove) (BatchState, error) {
	from := map[BatchMove][]BatchState{
		MoveSchedule:   {BatchPlanned, BatchScheduled},
		MoveUnschedule: {BatchScheduled},
		MoveRelease:    {BatchScheduled},
		MoveComplete:   {BatchInProgress},
		MoveReview:     {BatchCompleted},
	}
	to := map[BatchMove]BatchState{MoveSchedule: BatchScheduled, MoveUnschedule: BatchPlanned, MoveRelease: BatchReleased,
		MoveComplete: BatchCompleted, MoveReview: BatchInReview}
	if !slices.Contains(from[mv], s) {
		return s, errs.E(errs.Conflict, "production.batch_that_cannot_moved", stateNames{s}, text.Msg{Key: moveNames[mv]}, stateNames(from[mv]))
	}
	return to[mv], nil
}

// moveNames are the catalogue's names of the moves, for the refusals.
var moveNames = map[BatchMove]string{
	MoveSchedule:   "production.batchmove.schedule",
	MoveUnschedule: "production.batchmove.unschedule",
	MoveRelease:    "production.batchmove.release",
	MoveComplete:   "production.batchmove.complete",
	MoveReview:     "production.batchmove.review",
}

// stateNames names batch states in the reader's language (their labels,
// batchstate.*), separated by commas.
type stateNames []BatchState

// Localize writes the states' labels in lang.
func (s stateNames) Localize(lang string) string {
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = text.Render(lang, "batchstate."+string(st))
	}
	return strings.Join(out, ", ")
}

// LotCode is a batch's readable lot number: the year and month it was
// ordered, then a sequence number of the site, "L2611-0042".
func LotCode(now time.Time, seq int) string {
	return "L" + now.UTC().Format("0601") + "-" + fmt.Sprintf("%04d", seq)
}

// OrderCode is an order's readable number, "OF2611-0007".
func OrderCode(now time.Time, seq int) string {
	return "OF" + now.UTC().Format("0601") + "-" + fmt.Sprintf("%04d", seq)
}

// DeviationCode is a deviation's readable number, "DEV2611-0003".
func DeviationCode(now time.Time, seq int) string {
	return "DEV" + now.UTC().Format("0601") + "-" + fmt.Sprintf("%04d", seq)
}

// SeqOf reads the sequence number at the end of a code, 0 if none.
func SeqOf(code string) int {
	i := strings.LastIndexByte(code, '-')
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(code[i+1:])
	return n
}
