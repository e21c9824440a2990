package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// The production catalogue: the client-owned products, the site's
// materials and their lots, and the versioned master batch records.
// Products and masters are read within the actor's client scope; materials
// and lots are the site's, for staff only. Masters too are for staff: a
// client laboratory sees its products and batches, not how they are made.

func init() {
	signables[productTable.entity] = signableProduct
	signables[masterTable.entity] = signableMaster
	signables[lotTable.entity] = signableLot
	signHooks[masterTable.entity] = approveMaster
}

// --- products

const productCols = `id, client_id, code, name, form, sterile, strength, presentation, special_class, storage, version`

func scanProduct(sc scanner, p *production.Product) error {
	return sc.Scan(&p.ID, &p.ClientID, &p.Code, &p.Name, &p.Form, &p.Sterile, &p.Strength, &p.Presentation, &p.SpecialClass, &p.Storage, &p.Version)
}

func productValues(p *production.Product) []any {
	return []any{p.ClientID, p.Code, p.Name, string(p.Form), p.Sterile, p.Strength, p.Presentation, string(p.SpecialClass), p.Storage}
}

// Products lists the products of the clients in the actor's scope, by code.
func (s *ProductionStore) Products(ctx context.Context, f production.ProductFilter) ([]production.Product, error) {
	a := actorOf(ctx)
	if err := needProductionView(a); err != nil {
		return nil, err
	}
	cond, args := inScope("client_id", a.ClientScope())
	q, args := andIDFilters(`SELECT `+productCols+` FROM products WHERE `+cond, args, "client_id", f.ClientID)
	return list(ctx, s.db, q+` ORDER BY code`, args, scanProduct)
}

// Product returns one product of a client in the actor's scope.
func (s *ProductionStore) Product(ctx context.Context, id string) (*production.Product, error) {
	if err := needProductionView(actorOf(ctx)); err != nil {
		return nil, err
	}
	var p production.Product
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.ProductByID(id, &p) }); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProductByID reads a product of a client in the actor's scope; any other
// is not found.
func (tx *Tx) ProductByID(id string, p *production.Product) error {
	cond, args := inScope("client_id", tx.Actor.ClientScope())
	return tx.byID(`SELECT `+productCols+` FROM products WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanProduct(sc, p) }, "No such product.", "Ce produit n'existe pas.", args...)
}

// CreateProduct records a client's product.
func (s *ProductionStore) CreateProduct(ctx context.Context, p *production.Product) error {
	if err := actorOf(ctx).Require(identity.PermProductionPlan); err != nil {
		return err
	}
	return s.db.Write(ctx, "product.create", "", func(tx *Tx) error { return tx.CreateProduct(p) })
}

// CreateProduct records a product in this transaction, for a client in the
// actor's scope, audited as that client's.
func (tx *Tx) CreateProduct(p *production.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := tx.clientOfScope(p.ClientID); err != nil {
		return err
	}
	p.ID = NewID()
	return createClientRecord(tx, productTable, p.ID, p.ClientID, p, productValues(p)...)
}

// UpdateProduct changes a product; it stays with its client.
func (s *ProductionStore) UpdateProduct(ctx context.Context, p *production.Product, reason string) error {
	if err := actorOf(ctx).Require(identity.PermProductionPlan); err != nil {
		return err
	}
	return s.db.Write(ctx, "product.update", reason, func(tx *Tx) error {
		var old production.Product
		if err := tx.ProductByID(p.ID, &old); err != nil {
			return err
		}
		if p.ClientID == "" {
			p.ClientID = old.ClientID
		}
		if p.ClientID != old.ClientID {
			return errs.Field("client_id", "A product stays with its client laboratory: it cannot be given to another.",
				"Un produit reste à son laboratoire client : il ne peut pas être attribué à un autre.")
		}
		if err := p.Validate(); err != nil {
			return err
		}
		return updateClientRecord(tx, productTable, p.ID, old.ClientID, &old, p, productValues(p)...)
	})
}

// clientOfScope checks that a client-owned record names an existing client
// of the actor's scope.
func (tx *Tx) clientOfScope(clientID string) error {
	if _, err := uuid.Parse(clientID); err != nil || !tx.Actor.ClientScope().Has(clientID) {
		return errs.Field("client_id", "Choose a client laboratory you are assigned to.",
			"Choisissez un laboratoire client auquel vous êtes affecté.")
	}
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM clients WHERE id = ?`, clientID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("client_id", "No such client laboratory.", "Ce laboratoire client n'existe pas.")
	}
	return nil
}

// --- materials

const materialCols = `id, code, name, kind, unit`

func scanMaterial(sc scanner, m *production.Material) error {
	return sc.Scan(&m.ID, &m.Code, &m.Name, &m.Kind, &m.Unit)
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

// Material returns one material.
func (s *ProductionStore) Material(ctx context.Context, id string) (*production.Material, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoMaterial())
	}
	var m production.Material
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.MaterialByID(id, &m) }); err != nil {
		return nil, err
	}
	return &m, nil
}

func errNoMaterial() error {
	return errs.E(errs.NotFound, "No such material.", "Cette matière n'existe pas.")
}

// MaterialByID reads a material. Materials are the site's: the caller
// checks who may see them.
func (tx *Tx) MaterialByID(id string, m *production.Material) error {
	return tx.byID(`SELECT `+materialCols+` FROM materials WHERE id = ?`, id,
		func(sc scanner) error { return scanMaterial(sc, m) }, "No such material.", "Cette matière n'existe pas.")
}

// CreateMaterial records a material of the site.
func (s *ProductionStore) CreateMaterial(ctx context.Context, m *production.Material) error {
	if err := actorOf(ctx).Require(identity.PermStockEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "material.create", "", func(tx *Tx) error { return tx.CreateMaterial(m) })
}

// CreateMaterial records a material in this transaction.
func (tx *Tx) CreateMaterial(m *production.Material) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.ID = NewID()
	return create(tx, materialTable, m.ID, m, m.Code, m.Name, string(m.Kind), m.Unit)
}

// --- lots

// lotCols read a lot with its material's name and unit, from lotFrom.
const (
	lotCols = `l.id, l.material_id, l.code, l.status, l.quantity, l.expires_on, m.name, m.unit`
	lotFrom = ` FROM material_lots l JOIN materials m ON m.id = l.material_id`
)

func scanLot(sc scanner, l *production.Lot) error {
	err := sc.Scan(&l.ID, &l.MaterialID, &l.Code, &l.Status, &l.Quantity, &l.ExpiresOn, &l.Material, &l.Unit)
	l.ExpiresOn = l.ExpiresOn.UTC()
	return err
}

// Lots lists the site's material lots by code (none for a client's user).
func (s *ProductionStore) Lots(ctx context.Context, f production.LotFilter) ([]production.Lot, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return []production.Lot{}, err
	}
	q, args := andIDFilters(`SELECT `+lotCols+lotFrom+` WHERE 1 = 1`, nil, "l.material_id", f.MaterialID)
	if code := strings.TrimSpace(f.Code); code != "" {
		q += ` AND l.code = ?`
		args = append(args, code)
	}
	return list(ctx, s.db, q+` ORDER BY l.code`, args, scanLot)
}

// Lot returns one material lot.
func (s *ProductionStore) Lot(ctx context.Context, id string) (*production.Lot, error) {
	if ok, err := siteStock(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoLot())
	}
	var l production.Lot
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.LotByID(id, &l) }); err != nil {
		return nil, err
	}
	return &l, nil
}

func errNoLot() error {
	return errs.E(errs.NotFound, "No such material lot.", "Ce lot de matière n'existe pas.")
}

// LotByID reads a lot with its material's name and unit. Lots are the
// site's: the caller checks who may see them.
func (tx *Tx) LotByID(id string, l *production.Lot) error {
	return tx.byID(`SELECT `+lotCols+lotFrom+` WHERE l.id = ?`, id,
		func(sc scanner) error { return scanLot(sc, l) }, "No such material lot.", "Ce lot de matière n'existe pas.")
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

// CreateLot records a received lot.
func (s *ProductionStore) CreateLot(ctx context.Context, l *production.Lot) error {
	if err := actorOf(ctx).Require(identity.PermStockEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "lot.create", "", func(tx *Tx) error { return tx.CreateLot(l) })
}

// CreateLot records a lot in this transaction. A received lot starts in
// quarantine; only those who decide a lot's status (quality assurance,
// galenix itself loading data) may record it otherwise.
func (tx *Tx) CreateLot(l *production.Lot) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.Status != production.LotQuarantine && !tx.Actor.Can(identity.PermLotStatus) {
		return errs.E(errs.Forbidden, "A received lot starts in quarantine: only quality assurance may release or reject it.",
			"Un lot reçu commence en quarantaine : seule l'assurance qualité peut le libérer ou le refuser.")
	}
	var m production.Material
	if err := tx.MaterialByID(l.MaterialID, &m); err != nil {
		return asField(err, "material_id")
	}
	l.ID, l.Material, l.Unit = NewID(), m.Name, m.Unit
	return create(tx, lotTable, l.ID, l, l.MaterialID, l.Code, string(l.Status), l.Quantity, l.ExpiresOn)
}

// SetLotStatus releases, quarantines or rejects a lot: a quality decision,
// always with its reason.
func (s *ProductionStore) SetLotStatus(ctx context.Context, id string, status production.LotStatus, reason string) (*production.Lot, error) {
	if err := actorOf(ctx).Require(identity.PermLotStatus); err != nil {
		return nil, err
	}
	var l production.Lot
	err := s.db.Write(ctx, "lot.status", reason, func(tx *Tx) error {
		if !validLotStatus(status) {
			return errs.Field("status", "The status must be one of: quarantine, released, rejected.",
				"Le statut doit être l'un de : quarantine, released, rejected.")
		}
		if tx.reason == "" {
			return errs.Field("reason", "Say why: a lot's status is a quality decision and needs its reason.",
				"Indiquez pourquoi : le statut d'un lot est une décision qualité et exige sa raison.")
		}
		if err := tx.LotByID(id, &l); err != nil {
			return err
		}
		old := l
		l.Status = status
		changes := audit.Diff(lotTable.entity, l.ID, old.AuditFields(), l.AuditFields())
		if len(changes) == 0 {
			return nil
		}
		if _, err := tx.exec(`UPDATE material_lots SET status = ? WHERE id = ?`, string(l.Status), l.ID); err != nil {
			return err
		}
		return tx.Audit(changes, "")
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

func validLotStatus(s production.LotStatus) bool {
	for _, v := range production.LotStatuses {
		if v == s {
			return true
		}
	}
	return false
}

// ConsumeLot takes a quantity out of a lot's stock, as a material addition
// of a batch uses it; a lot without enough stock is refused.
func (tx *Tx) ConsumeLot(lotID string, qty float64) error {
	if math.IsNaN(qty) || math.IsInf(qty, 0) || qty <= 0 {
		return errs.Field("quantity", "The quantity used must be a positive number.", "La quantité utilisée doit être un nombre positif.")
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
	if err := tx.LotByID(lotID, &l); err != nil {
		return err
	}
	// The stock may have gone down since the addition was decided.
	left, ok := l.Remaining(qty)
	if !ok {
		return errs.E(errs.Conflict,
			fmt.Sprintf("Lot %s holds %s %s: not enough for %s %s.", l.Code, quantityText(l.Quantity, "en"), l.Unit, quantityText(qty, "en"), l.Unit),
			fmt.Sprintf("Le lot %s contient %s %s : pas assez pour %s %s.", l.Code, quantityText(l.Quantity, "fr"), l.Unit, quantityText(qty, "fr"), l.Unit))
	}
	old := l
	l.Quantity = left
	if _, err := tx.exec(`UPDATE material_lots SET quantity = ? WHERE id = ?`, l.Quantity, l.ID); err != nil {
		return err
	}
	return tx.Audit(audit.Diff(lotTable.entity, l.ID, old.AuditFields(), l.AuditFields()), "")
}

// quantityText writes a quantity for a message, with the language's decimal mark.
func quantityText(f float64, lang string) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// --- master batch records

// masterHeadCols are a master's columns but its body: a list shows its
// steps' count, not its steps.
const (
	masterHeadCols = `id, client_id, product_id, code, version, title, status, batch_size, unit, hours, steps, revision`
	masterCols     = masterHeadCols + `, body`
)

func scanMasterHead(sc scanner, m *production.Master) error {
	return sc.Scan(&m.ID, &m.ClientID, &m.ProductID, &m.Code, &m.Version, &m.Title, &m.Status, &m.BatchSize, &m.Unit, &m.Hours, &m.Steps, &m.Revision)
}

func scanMaster(sc scanner, m *production.Master) error {
	var body string
	if err := sc.Scan(&m.ID, &m.ClientID, &m.ProductID, &m.Code, &m.Version, &m.Title, &m.Status, &m.BatchSize, &m.Unit, &m.Hours, &m.Steps, &m.Revision, &body); err != nil {
		return err
	}
	m.Operations = nil
	if err := json.Unmarshal([]byte(body), &m.Operations); err != nil {
		return fmt.Errorf("master %s: decoding its body: %w", m.ID, err)
	}
	return nil
}

func masterValues(m *production.Master) []any {
	return []any{m.ClientID, m.ProductID, m.Code, m.Version, m.Title, string(m.Status), m.BatchSize, m.Unit, m.Hours, m.Body(), m.Steps}
}

// siteMasters checks the actor may see master batch records: staff with
// the production view. ok is false for a client laboratory's user.
func siteMasters(a identity.Actor) (ok bool, err error) { return siteStock(a) }

// Masters lists the master batch records in the actor's scope, without
// their operations, by code and version.
func (s *ProductionStore) Masters(ctx context.Context, f production.MasterFilter) ([]production.Master, error) {
	a := actorOf(ctx)
	if ok, err := siteMasters(a); !ok {
		return []production.Master{}, err
	}
	cond, args := inScope("client_id", a.ClientScope())
	q, args := andIDFilters(`SELECT `+masterHeadCols+` FROM masters WHERE `+cond, args, "product_id", f.ProductID)
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	return list(ctx, s.db, q+` ORDER BY code, version`, args, scanMasterHead)
}

// Master returns one version with its operations.
func (s *ProductionStore) Master(ctx context.Context, id string) (*production.Master, error) {
	if ok, err := siteMasters(actorOf(ctx)); !ok {
		return nil, refusalOr(err, errNoMaster())
	}
	var m production.Master
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.MasterByID(id, &m) }); err != nil {
		return nil, err
	}
	return &m, nil
}

func errNoMaster() error {
	return errs.E(errs.NotFound, "No such master batch record.", "Ce dossier de lot maître n'existe pas.")
}

// MasterByID reads a master of a client in the actor's scope, with its
// operations; any other is not found.
func (tx *Tx) MasterByID(id string, m *production.Master) error {
	cond, args := inScope("client_id", tx.Actor.ClientScope())
	return tx.byID(`SELECT `+masterCols+` FROM masters WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanMaster(sc, m) }, "No such master batch record.", "Ce dossier de lot maître n'existe pas.", args...)
}

// masterHead reads a master in the actor's scope without its operations.
func (tx *Tx) masterHead(id string, m *production.Master) error {
	cond, args := inScope("client_id", tx.Actor.ClientScope())
	return tx.byID(`SELECT `+masterHeadCols+` FROM masters WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanMasterHead(sc, m) }, "No such master batch record.", "Ce dossier de lot maître n'existe pas.", args...)
}

// EffectiveMaster returns the product's effective version with its
// operations: the one new orders are made from.
func (tx *Tx) EffectiveMaster(productID string) (*production.Master, error) {
	var p production.Product
	if err := tx.ProductByID(productID, &p); err != nil {
		return nil, err
	}
	cond, args := inScope("client_id", tx.Actor.ClientScope())
	var m production.Master
	err := scanMaster(tx.queryRow(`SELECT `+masterCols+` FROM masters WHERE product_id = ? AND status = ? AND `+cond,
		append([]any{p.ID, string(production.MasterEffective)}, args...)...), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.Conflict,
			fmt.Sprintf("Product %s has no effective master batch record: a version must be approved and made effective before a batch of it is ordered.", p.Code),
			fmt.Sprintf("Le produit %s n'a aucun dossier de lot maître en vigueur : une version doit être approuvée et mise en vigueur avant de commander un lot.", p.Code))
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// CreateMaster records a draft, the next version of its code.
func (s *ProductionStore) CreateMaster(ctx context.Context, m *production.Master) error {
	if err := actorOf(ctx).Require(identity.PermMasterEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "master.create", "", func(tx *Tx) error { return tx.CreateMaster(m) })
}

// CreateMaster records a master in this transaction: a draft of the
// product (of a client in the actor's scope), the next version of its
// code. A code belongs to one product.
func (tx *Tx) CreateMaster(m *production.Master) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var p production.Product
	if err := tx.ProductByID(m.ProductID, &p); err != nil {
		return asField(err, "product_id")
	}
	if err := tx.checkMaterials(m); err != nil {
		return err
	}
	// The code's versions, whoever's product holds it: the code is unique
	// across the site. The answer says no more than that it is taken.
	var owner string
	var last int
	err := tx.unscoped(func() error {
		return tx.queryRow(`SELECT product_id, version FROM masters WHERE code = ? ORDER BY version DESC LIMIT 1`, m.Code).Scan(&owner, &last)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		last = 0
	case err != nil:
		return err
	case owner != p.ID:
		return errs.Field("code", fmt.Sprintf("The code %s is already used by the master batch record of another product; choose another.", m.Code),
			fmt.Sprintf("Le code %s est déjà utilisé par le dossier de lot maître d'un autre produit ; choisissez-en un autre.", m.Code))
	}
	m.ID, m.ClientID, m.Version, m.Status = NewID(), p.ClientID, last+1, production.MasterDraft
	return createClientRecord(tx, masterTable, m.ID, m.ClientID, m, masterValues(m)...)
}

// checkMaterials checks every material addition of a master names a
// material of the site.
func (tx *Tx) checkMaterials(m *production.Master) error {
	for _, op := range m.Operations {
		for _, st := range op.Steps {
			if st.Kind != production.StepMaterial {
				continue
			}
			var mat production.Material
			if err := tx.MaterialByID(st.MaterialID, &mat); err != nil {
				if errs.Is(err, errs.NotFound) {
					return errs.Field("operations", fmt.Sprintf("Step %d.%d adds a material that does not exist.", op.No, st.No),
						fmt.Sprintf("L'étape %d.%d ajoute une matière qui n'existe pas.", op.No, st.No))
				}
				return err
			}
		}
	}
	return nil
}

// UpdateMaster changes a draft; its code, product and version stay.
func (s *ProductionStore) UpdateMaster(ctx context.Context, m *production.Master, reason string) error {
	if err := actorOf(ctx).Require(identity.PermMasterEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "master.update", reason, func(tx *Tx) error {
		var old production.Master
		if err := tx.MasterByID(m.ID, &old); err != nil {
			return err
		}
		if old.Status != production.MasterDraft {
			return errs.E(errs.Conflict,
				fmt.Sprintf("Master batch record %s version %d is %s: only a draft may be changed; write a new version instead.", old.Code, old.Version, old.Status),
				fmt.Sprintf("Le dossier de lot maître %s version %d est au statut %s : seul un brouillon peut être modifié ; rédigez plutôt une nouvelle version.", old.Code, old.Version, old.Status))
		}
		if code := strings.TrimSpace(m.Code); code != "" && code != old.Code {
			return errs.Field("code", "A version keeps its code: write a new master batch record for another code.",
				"Une version garde son code : rédigez un nouveau dossier de lot maître pour un autre code.")
		}
		if m.ProductID != "" && m.ProductID != old.ProductID {
			return errs.Field("product_id", "A version keeps its product: write a new master batch record for another product.",
				"Une version garde son produit : rédigez un nouveau dossier de lot maître pour un autre produit.")
		}
		m.ClientID, m.ProductID, m.Code, m.Version, m.Status = old.ClientID, old.ProductID, old.Code, old.Version, old.Status
		if err := m.Validate(); err != nil {
			return err
		}
		if err := tx.checkMaterials(m); err != nil {
			return err
		}
		return updateClientRecord(tx, masterTable, m.ID, m.ClientID, &old, m, masterValues(m)...)
	})
}

// MoveMaster applies a move of the life cycle: submit (by those who write
// masters), reject, effective or retire (quality assurance). Approval is a
// signature, not a move. A move changes a record that exists: it needs a
// reason.
func (s *ProductionStore) MoveMaster(ctx context.Context, id string, mv production.MasterMove, reason string) (*production.Master, error) {
	if _, err := production.ParseMove(string(mv)); err != nil {
		return nil, err
	}
	perm := identity.PermMasterApprove
	if mv == production.MoveSubmit {
		perm = identity.PermMasterEdit
	}
	if err := actorOf(ctx).Require(perm); err != nil {
		return nil, err
	}
	var m production.Master
	err := s.db.Write(ctx, "master.move", reason, func(tx *Tx) error {
		if err := tx.masterHead(id, &m); err != nil {
			return err
		}
		to, err := m.Status.Next(mv)
		if err != nil {
			return err
		}
		if tx.reason == "" {
			return errs.Field("reason", "Say why you move this master batch record: a reason is required to change a record once it exists.",
				"Indiquez pourquoi vous faites évoluer ce dossier de lot maître : une raison est exigée pour modifier un enregistrement existant.")
		}
		if err := tx.SetMasterStatus(m.ID, to); err != nil {
			return err
		}
		return tx.MasterByID(m.ID, &m)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// SetMasterStatus sets a master's status, audited as its client's, without
// checking the life cycle (the callers do: MoveMaster, the approval's
// signature, the demo loader). A master made effective supersedes the
// product's effective version, in the same transaction.
func (tx *Tx) SetMasterStatus(id string, to production.MasterStatus) error {
	known := false
	for _, s := range production.MasterStatuses {
		known = known || s == to
	}
	if !known {
		return errs.Field("status", "Unknown status of a master batch record.", "Statut de dossier de lot maître inconnu.")
	}
	var m production.Master
	if err := tx.masterHead(id, &m); err != nil {
		return err
	}
	if m.Status == to {
		return nil
	}
	if to == production.MasterEffective {
		// First the version in effect steps down: one effective version
		// per product, which a unique index keeps too.
		cond, args := inScope("client_id", tx.Actor.ClientScope())
		var prev string
		err := tx.queryRow(`SELECT id FROM masters WHERE product_id = ? AND status = ? AND id <> ? AND `+cond,
			append([]any{m.ProductID, string(production.MasterEffective), m.ID}, args...)...).Scan(&prev)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if err := tx.writeMasterStatus(prev, production.MasterEffective, production.MasterSuperseded, m.ClientID); err != nil {
				return err
			}
		}
	}
	return tx.writeMasterStatus(m.ID, m.Status, to, m.ClientID)
}

// writeMasterStatus moves a master from one status to another. The status
// it was read in is checked in the UPDATE itself: of two moves of one
// master at once, the second finds it moved and is refused, never applied
// (and audited) twice.
func (tx *Tx) writeMasterStatus(id string, from, to production.MasterStatus, clientID string) error {
	res, err := tx.exec(`UPDATE masters SET status = ?, revision = revision + 1 WHERE id = ? AND status = ?`, string(to), id, string(from))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errs.E(errs.Conflict, "Someone else moved this master batch record meanwhile: nothing was changed; look at it again.",
			"Quelqu'un d'autre a changé le statut de ce dossier de lot maître entre-temps : rien n'a été modifié ; consultez-le à nouveau.")
	}
	return tx.Audit([]audit.Change{{Entity: masterTable.entity, EntityID: id, Field: "status", Old: string(from), New: string(to)}}, clientID)
}

// approveMaster is the hook of a signature on a master: one meaning
// "approved" is quality assurance's approval of a version in review, which
// it moves to approved. Other meanings change nothing.
func approveMaster(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return nil
	}
	if err := tx.Actor.Require(identity.PermMasterApprove); err != nil {
		return err
	}
	var m production.Master
	if err := tx.masterHead(sig.EntityID, &m); err != nil {
		return err
	}
	if m.Status != production.MasterInReview {
		return errs.E(errs.Conflict,
			fmt.Sprintf("Master batch record %s version %d is %s: only a version in review is approved.", m.Code, m.Version, m.Status),
			fmt.Sprintf("Le dossier de lot maître %s version %d est au statut %s : seule une version en revue peut être approuvée.", m.Code, m.Version, m.Status))
	}
	return tx.SetMasterStatus(m.ID, production.MasterApproved)
}

// --- signing

// signableProduct reads a product for a signature: for those who see it.
func signableProduct(tx *Tx, id string) ([]audit.Field, string, error) {
	if needProductionView(tx.Actor) != nil {
		return nil, "", errNoRecord()
	}
	var p production.Product
	if err := tx.ProductByID(id, &p); err != nil {
		return nil, "", err
	}
	return p.AuditFields(), p.ClientID, nil
}

// signableMaster reads a master for a signature, staff only: what the
// approval signs is its content, not its status, which the approval
// itself changes.
func signableMaster(tx *Tx, id string) ([]audit.Field, string, error) {
	if ok, _ := siteMasters(tx.Actor); !ok {
		return nil, "", errNoRecord()
	}
	var m production.Master
	if err := tx.MasterByID(id, &m); err != nil {
		return nil, "", err
	}
	return m.SignedFields(), m.ClientID, nil
}

// signableLot reads a lot for a signature, staff only. Its quantity is
// left out of what is signed: using the lot does not break the signature
// of its release.
func signableLot(tx *Tx, id string) ([]audit.Field, string, error) {
	if ok, _ := siteStock(tx.Actor); !ok {
		return nil, "", errNoRecord()
	}
	var l production.Lot
	if err := tx.LotByID(id, &l); err != nil {
		return nil, "", err
	}
	var fields []audit.Field
	for _, f := range l.AuditFields() {
		if f.Name != "quantity" {
			fields = append(fields, f)
		}
	}
	return fields, "", nil
}

// --- shared helpers

// andIDFilters appends "AND col = ?" to a query that has a WHERE clause, for the
// non-empty values of pairs (column, value ...). A value that is not a
// UUID names no record: it matches nothing.
func andIDFilters(q string, args []any, pairs ...string) (string, []any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if v == "" {
			continue
		}
		if _, err := uuid.Parse(v); err != nil {
			q += " AND 1 = 0"
			continue
		}
		q += " AND " + pairs[i] + " = ?"
		args = append(args, v)
	}
	return q, args
}

// refusalOr returns err if set, else otherwise: a refusal of the actor
// comes before a not-found.
func refusalOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
