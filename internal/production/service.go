package production

import (
	"context"
	"time"

	"galenix/internal/esign"
	"galenix/internal/site"
)

// ProductFilter narrows a list of products.
type ProductFilter struct {
	ClientID string
	// Form keeps the products of one galenic form; none keeps all.
	Form site.Form
	// Query keeps the products whose code or name holds these words
	// (case aside); Limit and Offset are a page (see SearchProducts).
	Query         string
	Limit, Offset int
}

// LotFilter narrows a list of lots.
type LotFilter struct {
	MaterialID string
	Code       string
	// Query keeps the lots whose code, material, supplier or supplier's
	// lot holds these words; Status keeps one status; Limit and Offset
	// are a page (see SearchLots).
	Query  string
	Status LotStatus
	// ExpiresFrom and ExpiresTo keep the lots expiring on or after
	// ExpiresFrom and before ExpiresTo (midnight UTC of the calendar
	// days); zero leaves that end open.
	ExpiresFrom, ExpiresTo time.Time
	Limit, Offset          int
}

// OrderFilter narrows a list of orders: a client's, those whose code or
// product holds the words of Query, a page of Limit after Offset.
type OrderFilter struct {
	ClientID string
	// DueFrom and DueTo keep the orders due on or after DueFrom and before
	// DueTo (midnight UTC of the calendar days); zero leaves that end open.
	DueFrom, DueTo time.Time
	Query          string
	Limit, Offset  int
}

// MasterFilter narrows a list of master batch records.
type MasterFilter struct {
	ProductID string
	Status    MasterStatus
}

// BatchFilter narrows a list of batches.
type BatchFilter struct {
	ClientID string
	LineID   string
	// States keeps the batches in one of these states; none keeps all.
	States  []BatchState
	OrderID string
	// Lot keeps the batch of that lot number.
	Lot string
	// Query keeps the batches whose lot, product's code or name holds
	// these words (case aside).
	Query string
	// From and To keep the batches scheduled to start at or after From
	// and before To; zero leaves that end open (an unscheduled batch has
	// no start: either bound leaves it out).
	From, To time.Time
	// Limit is how many batches at most, a page (0: all of them); Offset
	// how many to pass over first.
	Limit, Offset int
}

// ScheduleFilter asks for the schedule of a building's lines (or all of
// them) over a period.
type ScheduleFilter struct {
	BuildingID string
	From, To   time.Time
}

// ScheduleRequest places a batch on a line at a time.
type ScheduleRequest struct {
	LineID string    `json:"line_id"`
	Start  time.Time `json:"start"`
}

// Schedule is the plan of a building's lines over a period: for the Gantt
// page.
type Schedule struct {
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to"`
	Lines   []ScheduleLine `json:"lines"`
	Windows []Window       `json:"windows"`
}

// ScheduleLine is one line of the Gantt: its batches, in time order.
type ScheduleLine struct {
	Line  site.Line `json:"line"`
	Slots []Slot    `json:"slots"`
}

// Capacity is the load of the lines over one week: hours staffed by the
// shift calendar, less maintenance, against hours booked by batches with
// their changeovers.
type Capacity struct {
	Week  time.Time      `json:"week"`
	Lines []LineCapacity `json:"lines"`
}

// LineCapacity is one line's week.
type LineCapacity struct {
	Line        site.Line `json:"line"`
	Available   float64   `json:"available_hours"`
	Maintenance float64   `json:"maintenance_hours"`
	Booked      float64   `json:"booked_hours"`
	Batches     int       `json:"batches"`
}

// Floor is what a line's tablet shows: the batch on the line and its next
// step. Reserved says the line is busy with a batch of a client outside
// the reader's scope: nothing of it is shown.
type Floor struct {
	Line     site.Line    `json:"line"`
	Batch    *Batch       `json:"batch,omitempty"`
	Reserved bool         `json:"reserved"`
	Next     *StepRecord  `json:"next,omitempty"`
	Recent   []StepRecord `json:"recent"`
	// Upcoming are the next batches scheduled or released on the line.
	Upcoming []Batch `json:"upcoming"`
}

// Record is a batch's whole electronic record.
type Record struct {
	Batch      Batch             `json:"batch"`
	Master     Master            `json:"master"`
	Steps      []StepRecord      `json:"steps"`
	Deviations []Deviation       `json:"deviations"`
	Consumed   []Consumption     `json:"consumed"`
	Signatures []esign.Signature `json:"signatures"`
}

// ForClient blanks, in place, every person of the site in the record:
// who performed each step and who signed (the meaning, the time and the
// signature's id stay), as a client laboratory receives its batch record.
func (r *Record) ForClient() {
	blank := func(sigs []esign.Signature) {
		for i := range sigs {
			sigs[i].SignerID, sigs[i].SignerName = "", ""
		}
	}
	for i := range r.Steps {
		r.Steps[i].PerformedBy, r.Steps[i].PerformedName = "", ""
		blank(r.Steps[i].Signatures)
	}
	blank(r.Signatures)
}

// Review is the QA view of a batch by exception: only what needs a look.
type Review struct {
	Batch Batch `json:"batch"`
	// Exceptions are the steps flagged out of limits.
	Exceptions []StepRecord `json:"exceptions"`
	Deviations []Deviation  `json:"deviations"`
	// Corrected are the steps whose entry changed after it was first made.
	Corrected []StepRecord `json:"corrected"`
	// Signatures are the signatures to check: of critical and signed
	// steps, and on the batch itself; broken ones first.
	Signatures []esign.Signature `json:"signatures"`
}

// Service is the production context: every read scoped to the actor's
// clients, every write one audited command. It is made of the services
// below, split by use, so that a handler, or its test, needs only the
// part it uses.
type Service interface {
	Catalogue
	Planning
	Execution
	Genealogy
}

// Catalogue is what production makes, and from what: the clients'
// products, the site's materials and their lots, the master batch records.
type Catalogue interface {
	Products(ctx context.Context, f ProductFilter) ([]Product, error)
	// SearchProducts answers the page of products f asks for and how
	// many match f in all, read together.
	SearchProducts(ctx context.Context, f ProductFilter) ([]Product, int, error)
	Product(ctx context.Context, id string) (*Product, error)
	CreateProduct(ctx context.Context, p *Product) error
	UpdateProduct(ctx context.Context, p *Product, reason string) error

	Materials(ctx context.Context) ([]Material, error)
	// MasterMaterials returns the materials a master's steps add, for
	// whoever reads the master: its client laboratory, which does not read
	// the site's catalogue, too.
	MasterMaterials(ctx context.Context, masterID string) ([]Material, error)
	Material(ctx context.Context, id string) (*Material, error)
	CreateMaterial(ctx context.Context, m *Material) error
	// UpdateMaterial changes a material, at the version it names.
	UpdateMaterial(ctx context.Context, m *Material, reason string) error
	Lots(ctx context.Context, f LotFilter) ([]Lot, error)
	// SearchLots answers the page of lots f asks for and how many match
	// f in all, read together.
	SearchLots(ctx context.Context, f LotFilter) ([]Lot, int, error)
	Lot(ctx context.Context, id string) (*Lot, error)
	CreateLot(ctx context.Context, l *Lot) error
	// SetLotStatus releases, quarantines or rejects a lot (quality).
	SetLotStatus(ctx context.Context, id string, status LotStatus, reason string) (*Lot, error)

	Masters(ctx context.Context, f MasterFilter) ([]Master, error)
	// Master returns one version with its operations.
	Master(ctx context.Context, id string) (*Master, error)
	// CreateMaster records a draft, the next version of its code.
	CreateMaster(ctx context.Context, m *Master) error
	// UpdateMaster changes a draft.
	UpdateMaster(ctx context.Context, m *Master, reason string) error
	// MoveMaster applies a move of the life cycle (not approval, which is
	// QA's signature).
	MoveMaster(ctx context.Context, id string, mv MasterMove, reason string) (*Master, error)
}

// Planning is when and where batches are made: orders, batches and their
// moves, the schedule of the lines, their capacity and maintenance windows.
type Planning interface {
	Orders(ctx context.Context) ([]Order, error)
	// SearchOrders answers the page of orders f asks for and how many
	// match f in all, read together.
	SearchOrders(ctx context.Context, f OrderFilter) ([]Order, int, error)
	Order(ctx context.Context, id string) (*Order, error)
	// CreateOrder records the order and its planned batches, from the
	// product's effective master.
	CreateOrder(ctx context.Context, o *Order) error

	Batches(ctx context.Context, f BatchFilter) ([]Batch, error)
	// SearchBatches answers the page of batches f asks for and how many
	// match f in all, read together.
	SearchBatches(ctx context.Context, f BatchFilter) ([]Batch, int, error)
	Batch(ctx context.Context, id string) (*Batch, error)
	ScheduleBatch(ctx context.Context, id string, r ScheduleRequest, reason string) (*Batch, error)
	// MoveBatch applies a move other than scheduling.
	MoveBatch(ctx context.Context, id string, mv BatchMove, reason string) (*Batch, error)

	Schedule(ctx context.Context, f ScheduleFilter) (*Schedule, error)
	Capacity(ctx context.Context, buildingID string, week time.Time) (*Capacity, error)
	Windows(ctx context.Context, lineID string) ([]Window, error)
	CreateWindow(ctx context.Context, w *Window) error
	// Changed returns a mark that changes whenever a batch in the actor's
	// scope changes: live views poll it cheaply.
	Changed(ctx context.Context) (string, error)
}

// Execution is the electronic batch record: the floor's tablets, the
// steps recorded and corrected, the whole record and its review.
type Execution interface {
	// Floor is what the line's tablet shows.
	Floor(ctx context.Context, lineID string) (*Floor, error)
	// Floors is Floor for every line of a building, in one snapshot.
	Floors(ctx context.Context, buildingID string) ([]*Floor, error)
	// RecordStep enters the batch's next step.
	RecordStep(ctx context.Context, batchID string, e Entry) (*StepRecord, error)
	// CorrectStep changes an entry already made, with a reason; its
	// signatures break and must be given again.
	CorrectStep(ctx context.Context, batchID string, e Entry, reason string) (*StepRecord, error)
	// Record is the batch's whole record (staff only).
	Record(ctx context.Context, batchID string) (*Record, error)
	Review(ctx context.Context, batchID string) (*Review, error)
}

// Genealogy links lots and batches, both ways.
type Genealogy interface {
	// LotUses is the forward genealogy: every batch that consumed the lot.
	LotUses(ctx context.Context, lotID string) ([]Consumption, error)
	// BatchInputs is the backward genealogy: every lot the batch consumed.
	BatchInputs(ctx context.Context, batchID string) ([]Consumption, error)
}
