// Package controlled holds the rules of the controlled-substance register
// (the French "registre des stupéfiants", Code de la santé publique
// R.5132-74 and following): the substances and their containers, each
// movement numbered in one series without gap, entered at the time of
// the operation by its performer with a witness (the site's four-eyes
// rule), never edited (a correcting movement references the one it
// corrects), the balances never below zero; the monthly balances and the
// annual statement drawn from the movements. Rules only: no SQL, no HTTP.
package controlled

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
	"galenix/internal/esign"
)

// Class is a substance's legal class.
type Class string

// The classes.
const (
	Narcotic     Class = "narcotic"
	Psychotropic Class = "psychotropic"
	Hormone      Class = "hormone"
)

// Classes lists the classes in the order pages show them.
var Classes = []Class{Narcotic, Psychotropic, Hormone}

// Substance is a controlled substance the site holds, in a unit.
type Substance struct {
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Class   Class  `json:"class"`
	// Unit is what quantities count: g, mg or kg.
	Unit string `json:"unit"`
	// MaterialID is the production material it is, whose additions to a
	// batch dispense it.
	MaterialID string `json:"material_id,omitempty"`
	// ClientID is the client laboratory it is held for: an inventory's
	// discrepancy opens that client's deviation.
	ClientID string `json:"client_id"`
	Client   string `json:"client,omitempty"`
}

// Units are the units a substance is counted in.
var Units = []string{"mg", "g", "kg"}

// Validate checks a substance's fields.
func (s *Substance) Validate() error {
	s.Code, s.Name = strings.TrimSpace(s.Code), strings.TrimSpace(s.Name)
	if s.Code == "" || utf8.RuneCountInString(s.Code) > 32 {
		return errs.Field("code", "controlled.code")
	}
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 200 {
		return errs.Field("name", "controlled.name")
	}
	if !slices.Contains(Classes, s.Class) {
		return errs.Field("class", "controlled.class", string(s.Class))
	}
	if !slices.Contains(Units, s.Unit) {
		return errs.Field("unit", "controlled.unit", s.Unit)
	}
	if s.ClientID == "" {
		return errs.Field("client_id", "controlled.client")
	}
	return nil
}

// Kind is a kind of movement.
type Kind string

// The kinds of movement.
const (
	// Receipt: received from a supplier, with its documents.
	Receipt Kind = "receipt"
	// Transfer: from one container to another (the vault to
	// production's): the substance's balance does not change.
	Transfer Kind = "transfer"
	// Dispensing: added to a batch (the batch record writes it).
	Dispensing Kind = "dispensing"
	// Return: the unused quantity back from a batch.
	Return Kind = "return"
	// Sampling: taken to the laboratory.
	Sampling Kind = "sampling"
	// Loss: lost, with its cause, awaiting the inspector's discharge.
	Loss Kind = "loss"
	// Destruction: destroyed before a witness, with its certificate.
	Destruction Kind = "destruction"
	// Theft: stolen, reported at once.
	Theft Kind = "theft"
	// Shipment: handed to another authorised establishment.
	Shipment Kind = "shipment"
	// Correction: sets right a movement entered wrong, which stays as it
	// was.
	Correction Kind = "correction"
)

// Kinds lists the kinds in the order pages show them.
var Kinds = []Kind{Receipt, Transfer, Dispensing, Return, Sampling, Loss, Destruction, Theft, Shipment, Correction}

// Movement is one operation of the register: its serial number in the
// site's one series, when, what, how much of which container, the other
// party and its document, who did it and who witnessed it.
type Movement struct {
	ID string `json:"id"`
	// Serial is given when the movement is validated (both signatures):
	// its number in its substance's register, from 1; 0 while it waits
	// for them. Entry numbers the site's validations in one series (the
	// order of the register's copy).
	Serial      int64     `json:"serial"`
	Entry       int64     `json:"entry,omitempty"`
	State       State     `json:"state"`
	At          time.Time `json:"at"`
	Kind        Kind      `json:"kind"`
	SubstanceID string    `json:"substance_id"`
	ContainerID string    `json:"container_id"`
	// ToContainerID is a transfer's destination.
	ToContainerID string `json:"to_container_id,omitempty"`
	// Quantity is how much moves, always positive; Delta says which way.
	Quantity Qty `json:"quantity"`
	// Party is the other party: the supplier, the batch, the laboratory,
	// the destruction's contractor, the establishment shipped to.
	Party string `json:"party,omitempty"`
	// Document is the operation's document: the delivery note, the
	// destruction's certificate, the theft's report, the shipment's
	// order.
	Document string `json:"document,omitempty"`
	// Cause is a loss's, a theft's or a correction's.
	Cause string `json:"cause,omitempty"`
	// BatchID is a dispensing's or a return's batch.
	BatchID string `json:"batch_id,omitempty"`
	// StepID is the batch step whose material addition wrote a
	// dispensing: its signatures are the step's.
	StepID string `json:"step_id,omitempty"`
	// Scale is the reading of the scale that weighed it, when one did.
	Scale string `json:"scale,omitempty"`
	// Corrects is the serial number a correction sets right; Increase
	// says whether it adds to the container (else it takes from it).
	Corrects int64 `json:"corrects,omitempty"`
	Increase bool  `json:"increase,omitempty"`
	// PerformerID and WitnessID are the two people who sign it.
	PerformerID   string `json:"performer_id"`
	PerformerName string `json:"performer_name,omitempty"`
	WitnessID     string `json:"witness_id"`
	WitnessName   string `json:"witness_name,omitempty"`
	// EnteredAt is when it was entered, ValidatedAt when its second
	// signature validated it.
	EnteredAt   time.Time  `json:"entered_at"`
	ValidatedAt *time.Time `json:"validated_at,omitempty"`
	// Substance and Container are their codes, Unit the substance's.
	Substance   string `json:"substance,omitempty"`
	Container   string `json:"container,omitempty"`
	ToContainer string `json:"to_container,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Batch       string `json:"batch,omitempty"`
	// DischargedAt and Discharge are a loss's discharge by the
	// inspector: when it was recorded, and the inspector's report.
	DischargedAt *time.Time `json:"discharged_at,omitempty"`
	Discharge    string     `json:"discharge,omitempty"`
	// BatchClient is the client of its batch, for the store to hide the
	// batch from who may not see that client's.
	BatchClient string `json:"-"`
	// Signatures are its two, the performer's and the witness's (a step's
	// for a dispensing written by the batch record).
	Signatures []esign.Signature `json:"signatures,omitempty"`
}

// State is where a movement stands.
type State string

// The states of a movement.
const (
	// Entered: recorded, waiting for its signatures; not yet in the
	// register's balances (but its outflow is held against them).
	Entered State = "entered"
	// Validated: signed by its performer and its witness, numbered, in
	// the register for good.
	Validated State = "validated"
)

// The bounds of a movement's words.
const (
	MaxParty    = 200
	MaxDocument = 120
	MaxCause    = 500
)

// Validate checks a movement as entered: a kind, a positive quantity, a
// performer and a witness who is someone else, and what its kind asks
// for (a receipt's supplier and document, a batch, a loss's cause, a
// destruction's certificate, a theft's report, a correction's serial and
// reason).
func (m *Movement) Validate() error {
	m.Party, m.Document, m.Cause, m.Scale = strings.TrimSpace(m.Party), strings.TrimSpace(m.Document), strings.TrimSpace(m.Cause), strings.TrimSpace(m.Scale)
	if !slices.Contains(Kinds, m.Kind) {
		return errs.Field("kind", "controlled.kind", string(m.Kind))
	}
	if m.SubstanceID == "" {
		return errs.Field("substance_id", "controlled.substance")
	}
	if m.ContainerID == "" {
		return errs.Field("container_id", "controlled.container")
	}
	if m.Quantity <= 0 || m.Quantity > MaxQty {
		return errs.Field("quantity", "controlled.quantity")
	}
	if m.PerformerID == "" {
		return errs.Field("performer_id", "controlled.performer")
	}
	if m.WitnessID == "" {
		return errs.Field("witness_id", "controlled.witness")
	}
	if m.WitnessID == m.PerformerID {
		return errs.Field("witness_id", "controlled.witness_same")
	}
	if utf8.RuneCountInString(m.Party) > MaxParty || utf8.RuneCountInString(m.Document) > MaxDocument ||
		utf8.RuneCountInString(m.Cause) > MaxCause || utf8.RuneCountInString(m.Scale) > MaxDocument {
		return errs.Field("party", "controlled.too_long")
	}
	need := func(ok bool, field, key string) error {
		if !ok {
			return errs.Field(field, key)
		}
		return nil
	}
	var err error
	switch m.Kind {
	case Receipt:
		if err = need(m.Party != "", "party", "controlled.supplier"); err == nil {
			err = need(m.Document != "", "document", "controlled.delivery_note")
		}
	case Transfer:
		err = need(m.ToContainerID != "" && m.ToContainerID != m.ContainerID, "to_container_id", "controlled.transfer_to")
	case Dispensing, Return:
		err = need(m.BatchID != "", "batch_id", "controlled.batch")
	case Sampling:
		err = need(m.Party != "", "party", "controlled.laboratory")
	case Loss:
		err = need(m.Cause != "", "cause", "controlled.loss_cause")
	case Destruction:
		err = need(m.Document != "", "document", "controlled.certificate")
	case Theft:
		if err = need(m.Cause != "", "cause", "controlled.theft_cause"); err == nil {
			err = need(m.Document != "", "document", "controlled.theft_report")
		}
	case Shipment:
		if err = need(m.Party != "", "party", "controlled.consignee"); err == nil {
			err = need(m.Document != "", "document", "controlled.order")
		}
	case Correction:
		if err = need(m.Corrects > 0, "corrects", "controlled.corrects"); err == nil {
			err = need(m.Cause != "", "cause", "controlled.correction_cause")
		}
	}
	if err != nil {
		return err
	}
	if m.Kind != Transfer {
		m.ToContainerID = ""
	}
	return nil
}

// MaxLate is how long after its operation a movement may be entered: the
// register is written at the time of the operation (R.5132-81), the
// same shift at the latest.
const MaxLate = 12 * time.Hour

// CheckAt refuses an operation's time in the future, or further back
// than MaxLate.
func CheckAt(at, now time.Time) error {
	if at.After(now.Add(time.Minute)) || at.Before(now.Add(-MaxLate)) {
		return errs.Field("at", "controlled.at_now")
	}
	return nil
}

// Delta is what the movement does to each container's balance: out of
// its container, or in; a transfer both.
func (m *Movement) Delta() map[string]Qty {
	switch m.Kind {
	case Receipt, Return:
		return map[string]Qty{m.ContainerID: m.Quantity}
	case Transfer:
		return map[string]Qty{m.ContainerID: -m.Quantity, m.ToContainerID: m.Quantity}
	case Correction:
		if m.Increase {
			return map[string]Qty{m.ContainerID: m.Quantity}
		}
	}
	return map[string]Qty{m.ContainerID: -m.Quantity}
}

// Ledger is the register's state as its movements leave it: the last
// serial number and each container's balance.
type Ledger struct {
	Last     int64          `json:"last"`
	Balances map[string]Qty `json:"balances"`
	// serials are the movements entered, by serial, for corrections.
	serials map[int64]string
}

// NewLedger is the register before any movement.
func NewLedger() *Ledger { return &Ledger{Balances: map[string]Qty{}, serials: map[int64]string{}} }

// Apply enters a movement validated: it takes the next serial number,
// and is refused, changing nothing, when it would leave a container
// below zero, or corrects a movement that is not in the register or
// another substance's.
func (l *Ledger) Apply(m *Movement) error {
	if l.Balances == nil {
		l.Balances = map[string]Qty{}
	}
	if l.serials == nil {
		l.serials = map[int64]string{}
	}
	if m.Kind == Correction {
		sub, ok := l.serials[m.Corrects]
		if !ok || sub != m.SubstanceID {
			return errs.Field("corrects", "controlled.no_such_serial", m.Corrects)
		}
	}
	if err := CheckBalance(l.Balances, m); err != nil {
		return err
	}
	for c, d := range m.Delta() {
		l.Balances[c] += d
	}
	l.Last++
	m.Serial = l.Last
	l.serials[m.Serial] = m.SubstanceID
	return nil
}

// CheckBalance refuses a movement that would leave one of its containers
// below zero, given what each holds (available: net of the outflows
// entered and not yet signed).
func CheckBalance(available map[string]Qty, m *Movement) error {
	for c, d := range m.Delta() {
		if available[c]+d < 0 {
			return errs.E(errs.Conflict, "controlled.negative", available[c], m.Quantity)
		}
	}
	return nil
}

// CheckSerials reports the first break in a substance's series of serial
// numbers (sorted): each follows the one before, from 1.
func CheckSerials(movements []Movement) error {
	for i, m := range movements {
		if m.Serial != int64(i+1) {
			return errs.E(errs.Conflict, "controlled.serial_gap", int64(i+1), m.Serial)
		}
	}
	return nil
}
