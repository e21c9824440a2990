package quality

import (
	"context"
	"time"
)

// DeviationFilter narrows the list of deviations: the QA board's filters.
type DeviationFilter struct {
	// States keeps the deviations in these states; none: every state.
	States  []DeviationState
	Class   Class
	BatchID string
	// OlderThan keeps those opened more than this many days ago.
	OlderThan int
	// Limit and Offset page the list (newest first).
	Limit, Offset int
}

// ActionFilter narrows the CAPA list.
type ActionFilter struct {
	// Open keeps the actions not yet done.
	Open bool
	// Mine keeps the reader's own actions.
	Mine bool
}

// ActionItem is a CAPA action in the CAPA list, with its deviation.
type ActionItem struct {
	Action
	ClientID      string `json:"client_id"`
	DeviationID   string `json:"deviation_id"`
	DeviationCode string `json:"deviation_code"`
	Lot           string `json:"lot,omitempty"`
	Overdue       bool   `json:"overdue"`
}

// Owner is a person a CAPA action may be given to.
type Owner struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DeviationStep is one step of a deviation's workflow, decided on the version of
// the deviation its author read (0: the current one).
type DeviationStep struct {
	Version int `json:"version"`
}

// VersionRef is the version the step was decided on.
func (s *DeviationStep) VersionRef() *int { return &s.Version }

// DeviationReader reads deviations and their actions, in the reader's
// client scope; a client laboratory's user reads only ClientView.
type DeviationReader interface {
	Deviations(ctx context.Context, f DeviationFilter) ([]Deviation, error)
	Deviation(ctx context.Context, id string) (*Deviation, error)
	Actions(ctx context.Context, f ActionFilter) ([]ActionItem, error)
	// Owners lists the people an action may be given to.
	Owners(ctx context.Context) ([]Owner, error)
}

// DeviationWorkflow moves a deviation through its workflow, one audited
// command per step. Closure is not here: it is QA's electronic signature
// (meaning approved) on the deviation, through the signature service,
// which CloseDeviation decides.
type DeviationWorkflow interface {
	OpenDeviation(ctx context.Context, n NewDeviation) (*Deviation, error)
	AssessDeviation(ctx context.Context, id string, step DeviationStep, as Assessment) (*Deviation, error)
	ApproveAssessment(ctx context.Context, id string, step DeviationStep) (*Deviation, error)
	InvestigateDeviation(ctx context.Context, id string, step DeviationStep, f Findings) (*Deviation, error)
	CompleteAction(ctx context.Context, id, actionID, evidence string) (*Deviation, error)
	// PlanEffectivenessCheck sets the day of the effectiveness check,
	// before the closure is signed.
	PlanEffectivenessCheck(ctx context.Context, id string, step DeviationStep, due time.Time) (*Deviation, error)
	CheckEffectiveness(ctx context.Context, id string, step DeviationStep, effective bool, note string) (*Deviation, error)
}

// DeviationService is the deviations' and CAPA's service.
type DeviationService interface {
	DeviationReader
	DeviationWorkflow
}
