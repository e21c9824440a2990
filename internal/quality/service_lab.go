package quality

import (
	"context"
	"time"
)

// SpecFilter narrows a list of specifications.
type SpecFilter struct {
	ProductID string
	// Status keeps the versions showing this status now (StatusAt).
	Status SpecStatus
}

// SampleFilter narrows a list of samples.
type SampleFilter struct {
	BatchID   string
	ProductID string
	State     SampleState
	Kind      SampleKind
	// Limit is how many samples at most, a page (0: all of them); Offset
	// how many to pass over first.
	Limit, Offset int
}

// ResultFilter narrows a list of results.
type ResultFilter struct {
	SampleID string
	BatchID  string
	State    ResultState
}

// OOSFilter narrows a list of investigations.
type OOSFilter struct {
	BatchID string
	State   OOSState
	// Open keeps those not closed.
	Open bool
}

// SampleRequest is a sample taken by hand: what is sampled and its code;
// the specification is the one in force for the product now.
type SampleRequest struct {
	Code      string     `json:"code"`
	Kind      SampleKind `json:"kind"`
	BatchID   string     `json:"batch_id,omitempty"`
	LotID     string     `json:"lot_id,omitempty"`
	ProductID string     `json:"product_id,omitempty"`
	// Due is when its tests are to be done; zero: the default delay.
	Due time.Time `json:"due,omitempty"`
}

// Lab is the QC laboratory's service: every read in the actor's client
// scope (a client laboratory's users see their own, without the names of
// the site's staff), every write one audited command. It is split by use.
type Lab interface {
	Specs
	Samples
	Results
	Investigations
}

// Specs are the products' specifications. Approval is QA's signature
// (meaning approved), through the signature service.
type Specs interface {
	Specs(ctx context.Context, f SpecFilter) ([]Spec, error)
	Spec(ctx context.Context, id string) (*Spec, error)
	// CreateSpec records a draft, the next version of its code.
	CreateSpec(ctx context.Context, s *Spec) error
	// UpdateSpec changes a draft, at the revision it names.
	UpdateSpec(ctx context.Context, s *Spec, reason string) error
	// MoveSpec submits, rejects or retires a version.
	MoveSpec(ctx context.Context, id string, mv SpecMove, reason string) (*Spec, error)
}

// Samples are what the laboratory tests.
type Samples interface {
	Samples(ctx context.Context, f SampleFilter) ([]Sample, error)
	Sample(ctx context.Context, id string) (*Sample, error)
	// TakeSample records a sample taken by hand.
	TakeSample(ctx context.Context, r SampleRequest) (*Sample, error)
	// ReceiveSample records its arrival in the laboratory.
	ReceiveSample(ctx context.Context, id string, r Receipt) (*Sample, error)
	// Worklist is the analysts' tests to do, earliest due first.
	Worklist(ctx context.Context) ([]Work, error)
}

// Results are the measurements, every one kept.
type Results interface {
	Results(ctx context.Context, f ResultFilter) ([]Result, error)
	Result(ctx context.Context, id string) (*Result, error)
	// EnterResult records a result of a sample's test, and the
	// investigation it opens when out of specification.
	EnterResult(ctx context.Context, sampleID string, e Entry) (*ResultOutcome, error)
	// ReviewResult is the second analyst's review.
	ReviewResult(ctx context.Context, id string) (*Result, error)
	// ImportResults enters an instrument's CSV export: all its lines or
	// none, each bad line named.
	ImportResults(ctx context.Context, data []byte, instrument string) ([]ResultOutcome, error)
}

// Investigations are the OOS investigations. Closure is QA's signature
// (meaning approved), through the signature service.
type Investigations interface {
	Investigations(ctx context.Context, f OOSFilter) ([]Investigation, error)
	Investigation(ctx context.Context, id string) (*Investigation, error)
	StateHypothesis(ctx context.Context, id, hypothesis string, version int) (*Investigation, error)
	PlanRetests(ctx context.Context, id string, n, version int) (*Investigation, error)
	ConcludePhase1(ctx context.Context, id string, proven bool, cause string, version int) (*Investigation, error)
	RecordFindings(ctx context.Context, id, findings, deviationID string, version int) (*Investigation, error)
}
