// Package production models what the site makes and how: the client-owned
// products, the materials and their lots, the versioned master batch
// records, the orders and their batches, the schedule of the lines and the
// electronic batch record executed on the shop floor. It holds types and
// rules only: no SQL, no HTTP.
package production

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/text"
)

// SpecialClass is a class of product that needs special handling: its own
// campaign, longer cleaning, a register.
type SpecialClass string

// The special classes.
const (
	ClassNone      SpecialClass = "none"
	ClassHormone   SpecialClass = "hormone"
	ClassNarcotic  SpecialClass = "narcotic"
	ClassBiologic  SpecialClass = "biologic"
	ClassCytotoxic SpecialClass = "cytotoxic"
)

// SpecialClasses lists the classes in display order.
var SpecialClasses = []SpecialClass{ClassNone, ClassHormone, ClassNarcotic, ClassBiologic, ClassCytotoxic}

// Product is a medicine a client laboratory has the site make. Sterile
// follows from its form.
type Product struct {
	ID           string       `json:"id"`
	ClientID     string       `json:"client_id"`
	Code         string       `json:"code"`
	Name         string       `json:"name"`
	Form         site.Form    `json:"form"`
	Sterile      bool         `json:"sterile"`
	Strength     string       `json:"strength"`
	Presentation string       `json:"presentation"`
	SpecialClass SpecialClass `json:"special_class"`
	// Storage is the storage condition, for example "2–8 °C".
	Storage string `json:"storage"`
	// ShelfLifeMonths is the product's shelf life, from which its
	// batches' expiry follows (0: not given).
	ShelfLifeMonths int `json:"shelf_life_months"`
	// Version counts the product's changes: an update names the version
	// it edited (If-Match) and applies only to it.
	Version int `json:"version"`
}

// VersionRef returns the address of the product's version.
func (p *Product) VersionRef() *int { return &p.Version }

// Validate checks a product's fields and sets Sterile from the form.
func (p *Product) Validate() error {
	var err error
	if p.ClientID == "" {
		return errs.Field("client_id", "production.choose_client_laboratory_that")
	}
	if p.Code, err = codeField("code", p.Code); err != nil {
		return err
	}
	if p.Name, err = textField("name", p.Name, 1, 120); err != nil {
		return err
	}
	if !slices.Contains(site.Forms, p.Form) {
		return errs.Field("form", "production.form_one_of", joined(site.Forms))
	}
	p.Sterile = p.Form.Sterile()
	if p.Strength, err = textField("strength", p.Strength, 1, 60); err != nil {
		return err
	}
	if p.Presentation, err = textField("presentation", p.Presentation, 1, 120); err != nil {
		return err
	}
	if p.SpecialClass == "" {
		p.SpecialClass = ClassNone
	}
	if !slices.Contains(SpecialClasses, p.SpecialClass) {
		return errs.Field("special_class", "production.special_class_one_of", joined(SpecialClasses))
	}
	if p.Storage, err = textField("storage", p.Storage, 1, 60); err != nil {
		return err
	}
	if p.ShelfLifeMonths < 0 || p.ShelfLifeMonths > MaxShelfLifeMonths {
		return errs.Field("shelf_life_months", "production.shelf_life", MaxShelfLifeMonths)
	}
	return nil
}

// MaxShelfLifeMonths bounds a product's shelf life: ten years.
const MaxShelfLifeMonths = 120

// ExpiresOn is the expiry of a batch of the product made at made: made
// plus the shelf life, false when the product gives none.
func (p *Product) ExpiresOn(made time.Time) (time.Time, bool) {
	if p.ShelfLifeMonths == 0 {
		return time.Time{}, false
	}
	return made.AddDate(0, p.ShelfLifeMonths, 0), true
}

// AuditFields lists the product's fields for the audit trail.
func (p *Product) AuditFields() []audit.Field {
	return []audit.Field{audit.F("client_id", p.ClientID), audit.F("code", p.Code), audit.F("name", p.Name),
		audit.F("form", string(p.Form)), audit.F("sterile", strconv.FormatBool(p.Sterile)), audit.F("strength", p.Strength),
		audit.F("presentation", p.Presentation), audit.F("special_class", string(p.SpecialClass)), audit.F("storage", p.Storage),
		audit.F("shelf_life_months", strconv.Itoa(p.ShelfLifeMonths))}
}

// MaterialKind says what a material is.
type MaterialKind string

// The kinds of material.
const (
	MaterialRaw       MaterialKind = "raw"       // active substance, excipient, solvent
	MaterialComponent MaterialKind = "component" // ampoule, vial, stopper, blister foil, box
)

// MaterialKinds lists the kinds in display order.
var MaterialKinds = []MaterialKind{MaterialRaw, MaterialComponent}

// Material is a raw material or a component, held in stock as lots. It is
// the site's, not a client's.
type Material struct {
	ID   string       `json:"id"`
	Code string       `json:"code"`
	Name string       `json:"name"`
	Kind MaterialKind `json:"kind"`
	// Unit is the unit its quantities are counted in (kg, g, L, mL, units).
	Unit string `json:"unit"`
	// Version counts the material's changes: an update names the version
	// it edited (If-Match) and applies only to it.
	Version int `json:"version"`
}

// VersionRef returns the address of the material's version.
func (m *Material) VersionRef() *int { return &m.Version }

// Validate checks a material's fields.
func (m *Material) Validate() error {
	var err error
	if m.Code, err = codeField("code", m.Code); err != nil {
		return err
	}
	if m.Name, err = textField("name", m.Name, 1, 120); err != nil {
		return err
	}
	if !slices.Contains(MaterialKinds, m.Kind) {
		return errs.Field("kind", "production.material_kind_one_of", joined(MaterialKinds))
	}
	if m.Unit, err = textField("unit", m.Unit, 1, 12); err != nil {
		return err
	}
	return nil
}

// AuditFields lists the material's fields for the audit trail.
func (m *Material) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", m.Code), audit.F("name", m.Name), audit.F("kind", string(m.Kind)), audit.F("unit", m.Unit)}
}

// LotStatus is the quality status of a material lot.
type LotStatus string

// The statuses of a lot: only a released lot may be used.
const (
	LotQuarantine LotStatus = "quarantine"
	LotReleased   LotStatus = "released"
	LotRejected   LotStatus = "rejected"
)

// LotStatuses lists the statuses in display order.
var LotStatuses = []LotStatus{LotQuarantine, LotReleased, LotRejected}

// Lot is a received lot of a material, with the quantity left in stock.
type Lot struct {
	ID         string    `json:"id"`
	MaterialID string    `json:"material_id"`
	Code       string    `json:"code"`
	Status     LotStatus `json:"status"`
	Quantity   float64   `json:"quantity"`
	// ExpiresOn is the expiry (or retest) date.
	ExpiresOn time.Time `json:"expires_on"`
	// Supplier is who delivered the lot, SupplierLot its number at the
	// supplier (the one its certificate of analysis names), ReceivedOn
	// the day it was received (the day it is recorded, unless said).
	// Lots recorded before galenix kept them have none.
	Supplier    string     `json:"supplier,omitempty"`
	SupplierLot string     `json:"supplier_lot,omitempty"`
	ReceivedOn  *time.Time `json:"received_on,omitempty"`
	// Material and Unit are read with the lot, for display.
	Material string `json:"material,omitempty"`
	Unit     string `json:"unit,omitempty"`
}

// Validate checks a lot's fields.
func (l *Lot) Validate() error {
	var err error
	if l.MaterialID == "" {
		return errs.Field("material_id", "production.choose_material_lot")
	}
	if l.Code, err = codeField("code", l.Code); err != nil {
		return err
	}
	if l.Status == "" {
		l.Status = LotQuarantine
	}
	if !slices.Contains(LotStatuses, l.Status) {
		return errs.Field("status", "production.lot_status_one_of", joined(LotStatuses))
	}
	if !finite(l.Quantity) || l.Quantity < 0 || l.Quantity > 1e9 {
		return errs.Field("quantity", "production.quantity_must_number_between")
	}
	if l.ExpiresOn.IsZero() {
		return errs.Field("expires_on", "production.give_lot_expiry_date")
	}
	if err := bounds.Time("expires_on", l.ExpiresOn); err != nil {
		return err
	}
	l.ExpiresOn = day(l.ExpiresOn)
	if l.Supplier, err = textField("supplier", l.Supplier, 0, 120); err != nil {
		return err
	}
	if l.SupplierLot, err = textField("supplier_lot", l.SupplierLot, 0, 60); err != nil {
		return err
	}
	if l.ReceivedOn != nil {
		if err := bounds.Time("received_on", *l.ReceivedOn); err != nil {
			return err
		}
		d := day(*l.ReceivedOn)
		l.ReceivedOn = &d
		if l.ExpiresOn.Before(d) {
			return errs.Field("expires_on", "production.lot_expires_before_receipt")
		}
	}
	return nil
}

// Receive dates a lot received at now, the day it is recorded (on the
// site's calendar) unless it says another: never a day to come.
func (l *Lot) Receive(now time.Time) error {
	today := day(now.In(site.DefaultLocation()))
	if l.ReceivedOn == nil {
		l.ReceivedOn = &today
	}
	if day(*l.ReceivedOn).After(today) {
		return errs.Field("received_on", "production.lot_received_future")
	}
	return l.Validate()
}

// AuditFields lists the lot's fields for the audit trail.
func (l *Lot) AuditFields() []audit.Field {
	fields := []audit.Field{audit.F("material_id", l.MaterialID), audit.F("code", l.Code), audit.F("status", string(l.Status)),
		audit.F("quantity", formatNumber(l.Quantity)), audit.F("expires_on", l.ExpiresOn.Format(time.DateOnly))}
	// The receipt, when the lot has one: a lot recorded before galenix
	// kept it signs the content it always had.
	if l.Supplier != "" {
		fields = append(fields, audit.F("supplier", l.Supplier))
	}
	if l.SupplierLot != "" {
		fields = append(fields, audit.F("supplier_lot", l.SupplierLot))
	}
	if l.ReceivedOn != nil {
		fields = append(fields, audit.F("received_on", l.ReceivedOn.Format(time.DateOnly)))
	}
	return fields
}

// Usable refuses a lot that may not be used at time now: not released, or
// expired. The message names the lot, for the operator who scanned it.
func (l *Lot) Usable(now time.Time) error {
	switch l.Status {
	case LotReleased:
	case LotQuarantine:
		return errs.Field("lot", "production.lot_quarantine_may_not", l.Code)
	default:
		return errs.Field("lot", "production.lot_may_not_used", l.Code, text.Key("lotstatus."+string(l.Status)))
	}
	if !now.Before(l.ExpiresOn.AddDate(0, 0, 1)) {
		return errs.Field("lot", "production.lot_expired_may_not", l.Code, l.ExpiresOn.Format("02/01/2006"))
	}
	return nil
}

// --- field helpers

func codeField(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 40 || strings.ContainsAny(v, " \t\r\n") {
		return v, errs.Field(field, "production.code_1_40_characters")
	}
	return v, nil
}

func textField(field, v string, minLen, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < minLen || n > maxLen {
		if minLen == 0 {
			return v, errs.Field(field, "production.at_most_characters", maxLen)
		}
		return v, errs.Field(field, "production.text_characters_required", minLen, maxLen)
	}
	return v, nil
}

func joined[T ~string](set []T) string {
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// finite is the one rule of numbers (bounds.Finite).
func finite(f float64) bool { return bounds.Finite(f) }

// day keeps the date of t, at midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// formatNumber writes a quantity as the audit trail records it.
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
