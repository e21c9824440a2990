package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// The site's materials and their lots: staff only; a lot's status is
// quality's decision, its stock goes down as batches use it.

// --- materials

const materialCols = `id, code, name, kind, unit, version`

func scanMaterial(sc scanner, m *production.Material) error {
	return sc.Scan(&m.ID, &m.Code, &m.Name, &m.Kind, &m.Unit, &m.Version)
}

func materialRow(m *production.Material) row {
	return row{"code": m.Code, "name": m.Name, "kind": string(m.Kind), "unit": m.Unit}
}

// siteStock checks the actor may see the site's materials and lots: staff
// with the production view. ok is false for a client laboratory's user, who
// sees none.
func siteStock(a identity.Actor) (ok bool, err error) {
	if err := needProductionView(a); err != nil {
		return false, err
	}
	return isStaff(a), nil
}

// Materials lists the site's materials by code (none for a client's user).
func (s *ProductionStore) Materials(ctx context.Context) ([]production.Material, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return []production.Material{}, err
	}
	return list(ctx, s.db, `SELECT `+materialCols+` FROM materials ORDER BY code`, nil, scanMaterial)
}

// MasterMaterials returns the materials the master's steps add, by code:
// for whoever reads the master (its client's users, who read it past the
// draft, included); a master out of the reader's view is not found.
func (s *ProductionStore) MasterMaterials(ctx context.Context, masterID string) ([]production.Material, error) {
	if ok, err := siteMasters(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoMaster())
	}
	out := []production.Material{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		var m production.Master
		if err := tx.masterByID(masterID, &m); err != nil {
			return err
		}
		var ids []any
		for _, op := range m.Operations {
			for _, st := range op.Steps {
				if st.Kind == production.StepMaterial && st.MaterialID != "" && !slices.Contains(ids, any(st.MaterialID)) {
					ids = append(ids, st.MaterialID)
				}
			}
		}
		if len(ids) == 0 {
			return nil
		}
		var err error
		out, err = collect(tx, `SELECT `+materialCols+` FROM materials WHERE CAST(id AS TEXT) IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY code`, ids, scanMaterial)
		return err
	})
	return out, err
}

// Material returns one material.
func (s *ProductionStore) Material(ctx context.Context, id string) (*production.Material, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoMaterial())
	}
	var m production.Material
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.materialByID(id, &m) }); err != nil {
		return nil, err
	}
	return &m, nil
}

func errNoMaterial() error {
	return errs.E(errs.NotFound, "store.no_such_material")
}

// materialByID reads a material. Materials are the site's: the caller
// checks who may see them.
func (tx *Tx) materialByID(id string, m *production.Material) error {
	return tx.byID(`SELECT `+materialCols+` FROM materials WHERE id = ?`, id,
		func(sc scanner) error { return scanMaterial(sc, m) }, "store.no_such_material")
}

// CreateMaterial records a material of the site.
func (s *ProductionStore) CreateMaterial(ctx context.Context, m *production.Material) error {
	if err := production.MayEditStock(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "material.create", "", func(tx *Tx) error { return tx.createMaterial(m) })
}

// createMaterial records a material in this transaction.
func (tx *Tx) createMaterial(m *production.Material) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.ID = NewID()
	return create(tx, materialTable, m.ID, m, materialRow(m))
}

// UpdateMaterial changes a material of the site, at the version the change
// names (0: any), with a reason; each field changed is audited with its old
// and new value.
func (s *ProductionStore) UpdateMaterial(ctx context.Context, m *production.Material, reason string) error {
	if err := production.MayEditStock(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "material.update", reason, func(tx *Tx) error {
		var old production.Material
		if err := tx.materialByID(m.ID, &old); err != nil {
			return err
		}
		if err := m.Validate(); err != nil {
			return err
		}
		return update(tx, materialTable, m.ID, &old, m, materialRow(m))
	})
}

// --- lots

// lotCols read a lot with its material's name and unit, from lotFrom.
const (
	lotCols = `l.id, l.material_id, l.code, l.status, l.quantity, l.expires_on, l.supplier, l.supplier_lot, l.received_on, m.name, m.unit`
	lotFrom = ` FROM material_lots l JOIN materials m ON m.id = l.material_id`
)

func scanLot(sc scanner, l *production.Lot) error {
	var received sql.NullTime
	err := sc.Scan(&l.ID, &l.MaterialID, &l.Code, &l.Status, &l.Quantity, &l.ExpiresOn, &l.Supplier, &l.SupplierLot, &received, &l.Material, &l.Unit)
	l.ExpiresOn = l.ExpiresOn.UTC()
	l.ReceivedOn = nil
	if received.Valid {
		d := received.Time.UTC()
		l.ReceivedOn = &d
	}
	return err
}

// Lots lists the site's material lots by code (none for a client's user).
func (s *ProductionStore) Lots(ctx context.Context, f production.LotFilter) ([]production.Lot, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return []production.Lot{}, err
	}
	q, args := lotQuery(f)
	return list(ctx, s.db, q+` ORDER BY l.code`, args, scanLot)
}

// SearchLots answers the page of the site's material lots f asks for, by
// code, and how many match f in all (none for a client's user).
func (s *ProductionStore) SearchLots(ctx context.Context, f production.LotFilter) ([]production.Lot, int, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return []production.Lot{}, 0, err
	}
	var out []production.Lot
	var total int
	err := s.db.Read(ctx, func(tx *Tx) error {
		q, args := lotQuery(f)
		var err error
		out, total, err = paged(tx, q, args, `l.code, l.id`, f.Limit, f.Offset, scanLot)
		return err
	})
	return out, total, err
}

// lotQuery selects the material lots matching the filter (its page aside).
func lotQuery(f production.LotFilter) (string, []any) {
	q, args := andIDFilters(`SELECT `+lotCols+lotFrom+` WHERE 1 = 1`, nil, "l.material_id", f.MaterialID)
	if code := strings.TrimSpace(f.Code); code != "" {
		q += ` AND l.code = ?`
		args = append(args, code)
	}
	if f.Status != "" {
		q += ` AND l.status = ?`
		args = append(args, string(f.Status))
	}
	q, args = andPeriod(q, args, "l.expires_on", f.ExpiresFrom, f.ExpiresTo)
	return andSearch(q, args, f.Query, "l.code", "m.name", "m.code", "l.supplier", "l.supplier_lot")
}

// Lot returns one material lot.
func (s *ProductionStore) Lot(ctx context.Context, id string) (*production.Lot, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoLot())
	}
	var l production.Lot
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.lotByID(id, &l) }); err != nil {
		return nil, err
	}
	return &l, nil
}

func errNoLot() error {
	return errs.E(errs.NotFound, "store.no_such_material_lot")
}

// lotByID reads a lot with its material's name and unit. Lots are the
// site's: the caller checks who may see them.
func (tx *Tx) lotByID(id string, l *production.Lot) error {
	return tx.byID(`SELECT `+lotCols+lotFrom+` WHERE l.id = ?`, id,
		func(sc scanner) error { return scanLot(sc, l) }, "store.no_such_material_lot")
}

// lotByCode finds a lot by the code an operator entered or scanned, with
// its material's name and unit; nil when no lot has that code.
func (tx *Tx) lotByCode(code string) (*production.Lot, error) {
	var l production.Lot
	err := scanLot(tx.queryRow(`SELECT `+lotCols+lotFrom+` WHERE l.code = ?`, strings.TrimSpace(code)), &l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateLot records a received lot (production.MayReceiveLot).
func (s *ProductionStore) CreateLot(ctx context.Context, l *production.Lot) error {
	if err := production.MayReceiveLot(actorOf(ctx), l); err != nil {
		return err
	}
	return s.db.Write(ctx, "lot.create", "", func(tx *Tx) error { return tx.createLot(l) })
}

// createLot records a lot in this transaction, as CreateLot allowed it.
func (tx *Tx) createLot(l *production.Lot) error {
	if err := l.Receive(tx.now); err != nil {
		return err
	}
	var m production.Material
	if err := tx.materialByID(l.MaterialID, &m); err != nil {
		return asField(err, "material_id")
	}
	l.ID, l.Material, l.Unit = NewID(), m.Name, m.Unit
	return create(tx, lotTable, l.ID, l, row{"material_id": l.MaterialID, "code": l.Code, "status": string(l.Status), "quantity": l.Quantity,
		"expires_on": l.ExpiresOn, "supplier": l.Supplier, "supplier_lot": l.SupplierLot, "received_on": *l.ReceivedOn})
}

// SetLotStatus changes a lot's status without a signature: a quality
// decision, always with its reason, that only puts a lot (back) in
// quarantine; releasing or rejecting it is quality's signature on the lot
// (decideLot).
func (s *ProductionStore) SetLotStatus(ctx context.Context, id string, status production.LotStatus, reason string) (*production.Lot, error) {
	var l production.Lot
	err := s.db.Write(ctx, "lot.status", reason, func(tx *Tx) error {
		if err := tx.setLotStatus(id, status, &l); err != nil {
			return err
		}
		// After the rules of any change (who, which status, why, a lot in
		// scope), the one of a change without signature: refused, the
		// write is rolled back.
		return production.UnsignedLotStatus(status)
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// setLotStatus moves a lot to a status, as the actor decides, with the
// transaction's reason.
func (tx *Tx) setLotStatus(id string, status production.LotStatus, l *production.Lot) error {
	if err := production.MayChangeLotStatus(tx.actor, status, tx.reason); err != nil {
		return err
	}
	if err := tx.lotByID(id, l); err != nil {
		return err
	}
	old := *l
	l.Status = status
	changes := audit.Diff(lotTable.entity, l.ID, old.AuditFields(), l.AuditFields())
	if len(changes) == 0 {
		return nil
	}
	if _, err := tx.exec(`UPDATE material_lots SET status = ? WHERE id = ?`, string(l.Status), l.ID); err != nil {
		return err
	}
	return tx.Audit(changes, "")
}

// decideLot is the reaction to quality's signature on a lot: the status
// it decides (production.LotDecision) is recorded in the signature's own
// transaction, with the signer's reason, so that a lot is never released
// or rejected without its signature, nor signed without its decision.
func decideLot(tx *Tx, sig *esign.Signature) error {
	st, ok := production.LotDecision(sig.Meaning)
	if !ok {
		return nil
	}
	var l production.Lot
	return tx.setLotStatus(sig.EntityID, st, &l)
}

// consumeLot takes a quantity out of a lot's stock, as a material addition
// of a batch uses it; a lot without enough stock is refused.
func (tx *Tx) consumeLot(lotID string, qty float64) error {
	if !bounds.Finite(qty) || qty <= 0 {
		return errs.Field("quantity", "store.quantity_used_must_positive")
	}
	if tx.db.dialect == Postgres {
		// Two additions from one lot at once: the second waits, then
		// reads the stock the first left.
		if _, err := uuid.Parse(lotID); err == nil {
			if _, err := tx.exec(`SELECT id FROM material_lots WHERE id = ? FOR UPDATE`, lotID); err != nil {
				return err
			}
		}
	}
	var l production.Lot
	if err := tx.lotByID(lotID, &l); err != nil {
		return err
	}
	// The stock may have gone down since the addition was decided.
	left, ok := l.Remaining(qty)
	if !ok {
		return errs.E(errs.Conflict, "store.lot_not_enough", l.Code, text.Decimal(l.Quantity), l.Unit, text.Decimal(qty), l.Unit)
	}
	old := l
	l.Quantity = left
	if _, err := tx.exec(`UPDATE material_lots SET quantity = ? WHERE id = ?`, l.Quantity, l.ID); err != nil {
		return err
	}
	return tx.Audit(audit.Diff(lotTable.entity, l.ID, old.AuditFields(), l.AuditFields()), "")
}

// signableLot reads a lot for a signature, staff only. Its quantity is
// left out of what is signed: using the lot does not break the signature
// of its release.
func signableLot(tx *Tx, id string) ([]audit.Field, string, error) {
	if ok, _ := siteStock(tx.actor); !ok {
		return nil, "", errNoRecord()
	}
	var l production.Lot
	if err := tx.lotByID(id, &l); err != nil {
		return nil, "", err
	}
	// What a decision signs is the lot, not its stock nor its status,
	// which the decision itself changes (decideLot).
	var fields []audit.Field
	for _, f := range l.AuditFields() {
		if f.Name != "quantity" && f.Name != "status" {
			fields = append(fields, f)
		}
	}
	return fields, "", nil
}
