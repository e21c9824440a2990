package controlled

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// MayView refuses who may not read the register: its movements, balances
// and editions.
func MayView(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.controlled_view")
	}
	return a.Require(identity.PermControlledView)
}

// MayRecord refuses who may not enter movements, containers and
// substances, nor witness a movement.
func MayRecord(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.controlled_record")
	}
	return a.Require(identity.PermControlledRecord)
}

// EntityMovement is the audit trail's and the signatures' name of a
// movement.
const EntityMovement = "controlled_movement"

// PlaceKind is where a container is kept.
type PlaceKind string

// The places.
const (
	// Vault: the narcotics vault (Bâtiment 70), behind its two-person
	// door.
	Vault PlaceKind = "vault"
	// Production: a production area's locked cabinet, from which the
	// batches are dispensed.
	Production PlaceKind = "production"
	// Laboratory: the laboratory's locked cabinet.
	Laboratory PlaceKind = "laboratory"
)

// PlaceKinds lists the places in the order pages show them.
var PlaceKinds = []PlaceKind{Vault, Production, Laboratory}

// Container is a container of a substance: one lot, in one place, with
// its running balance.
type Container struct {
	ID          string `json:"id"`
	Version     int    `json:"version,omitempty"`
	SubstanceID string `json:"substance_id"`
	Substance   string `json:"substance,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Code        string `json:"code"`
	// LotID is the material lot it holds, whose additions to a batch
	// take from the container of that lot in production; LotCode its
	// code, or the supplier's lot when the lot is not a material's.
	LotID     string    `json:"lot_id,omitempty"`
	LotCode   string    `json:"lot_code"`
	Place     string    `json:"place"`
	PlaceKind PlaceKind `json:"place_kind"`
	// Balance is what the validated movements leave in it; Available
	// is the balance net of the outflows waiting for their signatures.
	Balance   Qty `json:"balance"`
	Available Qty `json:"available"`
}

// Validate checks a container's fields.
func (c *Container) Validate() error {
	c.Code, c.LotCode, c.Place = strings.TrimSpace(c.Code), strings.TrimSpace(c.LotCode), strings.TrimSpace(c.Place)
	if c.SubstanceID == "" {
		return errs.Field("substance_id", "controlled.substance")
	}
	if c.Code == "" || utf8.RuneCountInString(c.Code) > 32 {
		return errs.Field("code", "controlled.code")
	}
	if (c.LotCode == "" && c.LotID == "") || utf8.RuneCountInString(c.LotCode) > 64 {
		return errs.Field("lot_code", "controlled.lot")
	}
	if c.Place == "" || utf8.RuneCountInString(c.Place) > 200 {
		return errs.Field("place", "controlled.place")
	}
	if !slices.Contains(PlaceKinds, c.PlaceKind) {
		return errs.Field("place_kind", "controlled.place_kind", string(c.PlaceKind))
	}
	return nil
}

// AuditFields lists the substance's fields for the audit trail.
func (s *Substance) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", s.Code), audit.F("name", s.Name), audit.F("class", string(s.Class)), audit.F("unit", s.Unit),
		audit.F("client_id", s.ClientID), audit.F("material_id", s.MaterialID)}
}

// AuditFields lists the container's fields for the audit trail (its
// balance is the movements').
func (c *Container) AuditFields() []audit.Field {
	return []audit.Field{audit.F("substance_id", c.SubstanceID), audit.F("code", c.Code), audit.F("lot_id", c.LotID), audit.F("lot_code", c.LotCode),
		audit.F("place", c.Place), audit.F("place_kind", string(c.PlaceKind))}
}

// AuditFields lists the movement's fields, as entered, for the audit
// trail and its signatures: what the performer and the witness sign.
func (m *Movement) AuditFields() []audit.Field {
	inc := ""
	if m.Kind == Correction {
		inc = "false"
		if m.Increase {
			inc = "true"
		}
	}
	corrects := ""
	if m.Corrects > 0 {
		corrects = strconv.FormatInt(m.Corrects, 10)
	}
	return []audit.Field{audit.F("kind", string(m.Kind)), audit.F("at", m.At.UTC().Format("2006-01-02T15:04:05Z")), audit.F("substance_id", m.SubstanceID),
		audit.F("container_id", m.ContainerID), audit.F("to_container_id", m.ToContainerID), audit.F("quantity", m.Quantity.String()),
		audit.F("party", m.Party), audit.F("document", m.Document), audit.F("cause", m.Cause), audit.F("batch_id", m.BatchID),
		audit.F("step_id", m.StepID), audit.F("scale", m.Scale), audit.F("corrects", corrects), audit.F("increase", inc),
		audit.F("performer_id", m.PerformerID), audit.F("witness_id", m.WitnessID)}
}

// Convert turns a quantity weighed in a lot's unit into the register's
// Qty in the substance's unit: a unit of mass (mg, g, kg) into another.
// A quantity in any other unit, or finer than a thousandth of the
// substance's unit, is refused.
func Convert(v float64, from, to string) (Qty, error) {
	factor := map[string]float64{"mg": 1e-3, "g": 1, "kg": 1e3}
	f, okf := factor[strings.TrimSpace(from)]
	t, okt := factor[to]
	if !okf || !okt {
		return 0, errs.Field("quantity", "controlled.unit_convert", from, to)
	}
	q := v * f / t * QtyScale
	r := math.Round(q)
	if v <= 0 || math.IsNaN(v) || math.Abs(q-r) > 1e-6*math.Max(1, math.Abs(q)) || Qty(r) > MaxQty {
		return 0, errs.Field("quantity", "controlled.quantity")
	}
	return Qty(r), nil
}

// AlertKind is what the register raises to the responsible pharmacist.
type AlertKind string

// The alerts.
const (
	// AlertNegative: a movement refused because it would have left a
	// container below zero.
	AlertNegative AlertKind = "negative"
	// AlertTheft: a theft, reported at once.
	AlertTheft AlertKind = "theft"
	// AlertDiscrepancy: an inventory found another quantity than the
	// register's.
	AlertDiscrepancy AlertKind = "discrepancy"
	// AlertMovementAlone: a vault movement without two people's vault
	// entry around it.
	AlertMovementAlone AlertKind = "movement_alone"
	// AlertEntryIdle: a vault entry without a movement.
	AlertEntryIdle AlertKind = "entry_idle"
	// AlertReconciliation: a batch dispensed more or less than its
	// master record says, beyond the tolerance.
	AlertReconciliation AlertKind = "reconciliation"
)

// AlertKinds lists the alerts.
var AlertKinds = []AlertKind{AlertNegative, AlertTheft, AlertDiscrepancy, AlertMovementAlone, AlertEntryIdle, AlertReconciliation}

// kindKeys are the catalogue keys of the kinds' names.
var kindKeys = map[Kind]string{Receipt: "controlled.kind.receipt", Transfer: "controlled.kind.transfer", Dispensing: "controlled.kind.dispensing",
	Return: "controlled.kind.return", Sampling: "controlled.kind.sampling", Loss: "controlled.kind.loss", Destruction: "controlled.kind.destruction",
	Theft: "controlled.kind.theft", Shipment: "controlled.kind.shipment", Correction: "controlled.kind.correction"}

// KindKey is the catalogue key of the kind's name.
func KindKey(k Kind) string { return kindKeys[k] }

// Establishment is what the register prints of the establishment beyond
// the site's name and address: its authorisation by the ANSM, the day it
// was granted, and its responsible pharmacist.
type Establishment struct {
	ID            string `json:"id,omitempty"`
	Version       int    `json:"version,omitempty"`
	Authorisation string `json:"authorisation"`
	// AuthorisedOn is the day, YYYY-MM-DD.
	AuthorisedOn string `json:"authorised_on"`
	Pharmacist   string `json:"pharmacist"`
}

// Validate checks the establishment's fields.
func (e *Establishment) Validate() error {
	e.Authorisation, e.AuthorisedOn, e.Pharmacist = strings.TrimSpace(e.Authorisation), strings.TrimSpace(e.AuthorisedOn), strings.TrimSpace(e.Pharmacist)
	if e.Authorisation == "" || utf8.RuneCountInString(e.Authorisation) > 64 {
		return errs.Field("authorisation", "controlled.authorisation")
	}
	if _, err := time.Parse(time.DateOnly, e.AuthorisedOn); err != nil {
		return errs.Field("authorised_on", "input.date")
	}
	if e.Pharmacist == "" || utf8.RuneCountInString(e.Pharmacist) > 200 {
		return errs.Field("pharmacist", "controlled.pharmacist")
	}
	return nil
}

// AuditFields lists the establishment's fields for the audit trail.
func (e *Establishment) AuditFields() []audit.Field {
	return []audit.Field{audit.F("authorisation", e.Authorisation), audit.F("authorised_on", e.AuthorisedOn), audit.F("pharmacist", e.Pharmacist)}
}

// VersionRef gives the version an update names (site.Versioned).
func (e *Establishment) VersionRef() *int { return &e.Version }

// VersionRef gives the substance's version (site.Versioned).
func (s *Substance) VersionRef() *int { return &s.Version }

// VersionRef gives the container's version (site.Versioned).
func (c *Container) VersionRef() *int { return &c.Version }
