package controlled

import (
	"context"
	"time"
)

// Filter narrows the register: one substance, a period [From, To) of the
// operations' times; Pending asks for the movements waiting for their
// signatures instead of the validated ones.
type Filter struct {
	SubstanceID string
	From, To    time.Time
	Pending     bool
}

// Service keeps the register, in the acting person's rights (MayView,
// MayRecord).
type Service interface {
	Substances(ctx context.Context) ([]Substance, error)
	Substance(ctx context.Context, id string) (*Substance, error)
	CreateSubstance(ctx context.Context, s *Substance) error
	Containers(ctx context.Context, substanceID string) ([]Container, error)
	CreateContainer(ctx context.Context, c *Container) error
	// Register lists the validated movements by serial number, or those
	// waiting for their signatures.
	Register(ctx context.Context, f Filter) ([]Movement, error)
	Movement(ctx context.Context, id string) (*Movement, error)
	// EnterMovement enters a movement performed by the acting person; it
	// counts once its performer and its witness have signed it.
	EnterMovement(ctx context.Context, m *Movement) error
	Discharge(ctx context.Context, movementID, document string) (*Movement, error)
	Alerts(ctx context.Context) ([]Alert, error)
	AcknowledgeAlert(ctx context.Context, id, comment string) error
	Count(ctx context.Context, c *Count) error
	Counts(ctx context.Context) ([]Count, error)
	// Month is a substance's balance over the month of t, and the one
	// recorded at its end if it was.
	Month(ctx context.Context, substanceID string, t time.Time) (*Summary, *MonthRecord, error)
	MonthRecords(ctx context.Context, substanceID string) ([]MonthRecord, error)
	Annual(ctx context.Context, substanceID string, year int) (*Statement, error)
	// Reconcile confronts the batches' master records with what the
	// register dispensed to them, over a period.
	Reconcile(ctx context.Context, f Filter) ([]Reconciliation, error)
	// VerifyCopy checks the register's copy in dir: how many lines it
	// holds, how many validated movements it lacks yet.
	VerifyCopy(ctx context.Context, dir string) (lines, missing int, err error)
	// Establishment is the authorisation the register prints (empty
	// before it is set); SetEstablishment sets it, with a reason once set.
	Establishment(ctx context.Context) (*Establishment, error)
	SetEstablishment(ctx context.Context, e *Establishment, reason string) error
}
