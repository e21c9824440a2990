package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// The versioned master batch records of the clients' products, for staff:
// a client laboratory sees its products and batches, not how they are made.

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

func masterRow(m *production.Master) row {
	return row{"client_id": m.ClientID, "product_id": m.ProductID, "code": m.Code, "version": m.Version, "title": m.Title, "status": string(m.Status),
		"batch_size": m.BatchSize, "unit": m.Unit, "hours": m.Hours, "body": m.Body(), "steps": m.Steps}
}

// siteMasters checks the actor may see master batch records: staff with
// the production view, and a client laboratory's users, who read their
// own past the draft (clientMasters), the versions their quality
// assurance approves.
func siteMasters(a identity.Actor) (ok bool, err error) {
	if a.IsClient() {
		return needProductionView(a) == nil, needProductionView(a)
	}
	return siteStock(a)
}

// clientMasters narrows a query's condition on masters to what the actor
// reads: a client laboratory's user never reads a draft, the site's work
// in progress.
func clientMasters(a identity.Actor, cond string) string {
	if a.IsClient() {
		return cond + ` AND status <> '` + string(production.MasterDraft) + `'`
	}
	return cond
}

// Masters lists the master batch records in the actor's scope, without
// their operations, by code and version.
func (s *ProductionStore) Masters(ctx context.Context, f production.MasterFilter) ([]production.Master, error) {
	a := actorOf(ctx)
	if ok, err := siteMasters(a); !ok {
		return []production.Master{}, err
	}
	cond, args := inScope("client_id", a.ClientScope())
	q, args := andIDFilters(`SELECT `+masterHeadCols+` FROM masters WHERE `+clientMasters(a, cond), args, "product_id", f.ProductID)
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
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.masterByID(id, &m) }); err != nil {
		return nil, err
	}
	return &m, nil
}

func errNoMaster() error {
	return errs.E(errs.NotFound, "store.no_such_master_batch")
}

// masterByID reads a master of a client in the actor's scope, with its
// operations; any other is not found (a draft, for a client).
func (tx *Tx) masterByID(id string, m *production.Master) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+masterCols+` FROM masters WHERE id = ? AND `+clientMasters(tx.actor, cond), id,
		func(sc scanner) error { return scanMaster(sc, m) }, "store.no_such_master_batch", args...)
}

// masterHead reads a master in the actor's scope without its operations.
func (tx *Tx) masterHead(id string, m *production.Master) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+masterHeadCols+` FROM masters WHERE id = ? AND `+clientMasters(tx.actor, cond), id,
		func(sc scanner) error { return scanMasterHead(sc, m) }, "store.no_such_master_batch", args...)
}

// effectiveMaster returns the product's effective version with its
// operations: the one new orders are made from.
func (tx *Tx) effectiveMaster(productID string) (*production.Master, error) {
	var p production.Product
	if err := tx.productByID(productID, &p); err != nil {
		return nil, err
	}
	cond, args := inScope("client_id", tx.actor.ClientScope())
	var m production.Master
	err := scanMaster(tx.queryRow(`SELECT `+masterCols+` FROM masters WHERE product_id = ? AND status = ? AND `+cond,
		append([]any{p.ID, string(production.MasterEffective)}, args...)...), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.Conflict, "store.product_has_no_effective", p.Code)
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// CreateMaster records a draft, the next version of its code.
func (s *ProductionStore) CreateMaster(ctx context.Context, m *production.Master) error {
	if err := production.MayEditMaster(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "master.create", "", func(tx *Tx) error { return tx.createMaster(m) })
}

// createMaster records a master in this transaction: a draft of the
// product (of a client in the actor's scope), the next version of its
// code. A code belongs to one product.
func (tx *Tx) createMaster(m *production.Master) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var p production.Product
	if err := tx.productByID(m.ProductID, &p); err != nil {
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
		return taken(errs.Invalid, "code")
	}
	m.ID, m.ClientID, m.Version, m.Status = NewID(), p.ClientID, last+1, production.MasterDraft
	return createClientRecord(tx, masterTable, m.ID, m.ClientID, m, masterRow(m))
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
			if err := tx.materialByID(st.MaterialID, &mat); err != nil {
				if errs.Is(err, errs.NotFound) {
					return errs.Field("operations", "store.step_adds_material_that", op.No, st.No)
				}
				return err
			}
		}
	}
	return nil
}

// UpdateMaster changes a draft; its code, product and version stay.
func (s *ProductionStore) UpdateMaster(ctx context.Context, m *production.Master, reason string) error {
	if err := production.MayEditMaster(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "master.update", reason, func(tx *Tx) error {
		var old production.Master
		if err := tx.masterByID(m.ID, &old); err != nil {
			return err
		}
		if old.Status != production.MasterDraft {
			return errs.E(errs.Conflict, "store.master_batch_record_version", old.Code, old.Version, text.Key("masterstatus."+string(old.Status)))
		}
		if code := strings.TrimSpace(m.Code); code != "" && code != old.Code {
			return errs.Field("code", "store.version_keeps_code_write")
		}
		if m.ProductID != "" && m.ProductID != old.ProductID {
			return errs.Field("product_id", "store.version_keeps_product_write")
		}
		m.ClientID, m.ProductID, m.Code, m.Version, m.Status = old.ClientID, old.ProductID, old.Code, old.Version, old.Status
		if err := m.Validate(); err != nil {
			return err
		}
		if err := tx.checkMaterials(m); err != nil {
			return err
		}
		return updateClientRecord(tx, masterTable, m.ID, m.ClientID, &old, m, masterRow(m))
	})
}

// MoveMaster applies a move of the life cycle: submit (by those who write
// masters), reject, effective or retire (quality assurance). Approval is a
// signature, not a move. A move changes a record that exists: it needs a
// reason.
func (s *ProductionStore) MoveMaster(ctx context.Context, id string, mv production.MasterMove, reason string) (*production.Master, error) {
	if err := production.MayMoveMaster(actorOf(ctx), mv); err != nil {
		return nil, err
	}
	var m production.Master
	err := s.db.Write(ctx, "master.move", reason, func(tx *Tx) error {
		if err := tx.masterHead(id, &m); err != nil {
			return err
		}
		to, err := production.MoveMaster(tx.actor, &m, mv, tx.reason)
		if err != nil {
			return err
		}
		if err := tx.moveMasterStatus(&m, to); err != nil {
			return err
		}
		return tx.masterByID(m.ID, &m)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// setMasterStatus sets a master's status as a history has it, audited as
// its client's, without the life cycle's moves: for a history load only
// (the demo's masters, approved and effective before it begins). A master
// made effective supersedes the product's effective version.
func (tx *Tx) setMasterStatus(id string, to production.MasterStatus) error {
	if err := tx.historyOnly("setting a master's status"); err != nil {
		return err
	}
	known := false
	for _, s := range production.MasterStatuses {
		known = known || s == to
	}
	if !known {
		return errs.Field("status", "store.unknown_status_master_batch")
	}
	var m production.Master
	if err := tx.masterHead(id, &m); err != nil {
		return err
	}
	if m.Status == to {
		return nil
	}
	return tx.moveMasterStatus(&m, to)
}

// moveMasterStatus moves a master from the status it was read in (m) to
// another, never from a status read again: of two moves decided on one
// reading, the second finds the master moved and is refused. A master made
// effective supersedes the product's effective version, in the same
// transaction.
func (tx *Tx) moveMasterStatus(m *production.Master, to production.MasterStatus) error {
	if to == production.MasterEffective {
		// First the version in effect steps down: one effective version
		// per product, which a unique index keeps too.
		cond, args := inScope("client_id", tx.actor.ClientScope())
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
		return errs.E(errs.Conflict, "store.someone_else_moved_master")
	}
	return tx.Audit([]audit.Change{{Entity: masterTable.entity, EntityID: id, Field: "status", Old: string(from), New: string(to)}}, clientID)
}

// approveMaster is the hook of a signature on a master: one meaning
// "authored" is the author's signature of a draft as written, which
// submits it for review; one meaning "approved" is quality assurance's
// approval of a version in review, which it moves to approved. Other
// meanings change nothing. A refusal refuses the signature: nothing
// changes.
func approveMaster(tx *Tx, sig *esign.Signature) error {
	var m production.Master
	if sig.Meaning == esign.Approved || sig.Meaning == esign.Authored {
		if err := tx.masterHead(sig.EntityID, &m); err != nil {
			return err
		}
	}
	submit, err := production.SubmitMaster(tx.actor, &m, sig.Meaning)
	if err != nil {
		return err
	}
	if submit {
		return tx.moveMasterStatus(&m, production.MasterInReview)
	}
	approve, err := production.ApproveMaster(tx.actor, &m, sig.Meaning)
	if err != nil || !approve {
		return err
	}
	// The client's approval first, when its quality agreement asks for it.
	if err := tx.clientApprovedMaster(&m); err != nil {
		return err
	}
	return tx.moveMasterStatus(&m, production.MasterApproved)
}

// signableMaster reads a master for a signature, staff only: what the
// approval signs is its content, not its status, which the approval
// itself changes.
func signableMaster(tx *Tx, id string) ([]audit.Field, string, error) {
	if ok, _ := siteMasters(tx.actor); !ok || tx.actor.IsClient() {
		return nil, "", errNoRecord()
	}
	var m production.Master
	if err := tx.masterByID(id, &m); err != nil {
		return nil, "", err
	}
	return m.SignedFields(), m.ClientID, nil
}
