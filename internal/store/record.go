package store

import (
	"context"
	"database/sql"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// --- reading the record

// staffOnly refuses the detail of a batch record to those who are not
// site staff: a client's users see its progress, not its operators.
func staffOnly(a identity.Actor) error {
	if !isStaff(a) || needProductionView(a) != nil {
		return errs.E(errs.NotFound, "store.no_such_batch")
	}
	return nil
}

// Record returns the batch's whole electronic record.
func (s *ProductionStore) Record(ctx context.Context, batchID string) (*production.Record, error) {
	var rec *production.Record
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		rec, err = tx.record(batchID)
		return err
	})
	return rec, err
}

func (tx *Tx) record(batchID string) (*production.Record, error) {
	if err := staffOnly(tx.actor); err != nil {
		return nil, err
	}
	b, err := tx.batch(batchID)
	if err != nil {
		return nil, err
	}
	return tx.recordOf(b)
}

// recordOf reads the whole record of a batch the caller read in the
// actor's scope.
func (tx *Tx) recordOf(b *production.Batch) (*production.Record, error) {
	rec := &production.Record{Batch: *b, Signatures: []esign.Signature{}}
	var err error
	if err := tx.masterByID(b.MasterID, &rec.Master); err != nil {
		return nil, err
	}
	if rec.Steps, err = tx.steps(b.ID); err != nil {
		return nil, err
	}
	if rec.Deviations, err = collect(tx, `SELECT id, client_id, code, batch_id, COALESCE(CAST(step_id AS TEXT), ''), title, description, status, opened_at FROM deviations WHERE batch_id = ? ORDER BY code`,
		[]any{b.ID}, scanDeviation); err != nil {
		return nil, err
	}
	if rec.Consumed, err = tx.consumptions(`c.batch_id = ?`, b.ID); err != nil {
		return nil, err
	}
	// The steps' ids are written in the query, so that PostgreSQL looks
	// each up in the index of signatures (a subquery made it read them all
	// through the row-level security policy).
	var sigs []esign.Signature
	if len(rec.Steps) > 0 {
		args := []any{stepTable.entity}
		for _, st := range rec.Steps {
			args = append(args, st.ID)
		}
		sigs, err = collect(tx, `SELECT `+signatureCols+` FROM signatures WHERE entity = ? AND entity_id IN (?`+strings.Repeat(", ?", len(rec.Steps)-1)+`) ORDER BY signed_at, id`,
			args, scanSignature)
		if err != nil {
			return nil, err
		}
	}
	by := map[string][]esign.Signature{}
	for _, sg := range sigs {
		by[sg.EntityID] = append(by[sg.EntityID], sg)
	}
	for i := range rec.Steps {
		st := &rec.Steps[i]
		hash := esign.ContentHash(stepTable.entity, st.ID, st.SignedFields())
		for _, sg := range by[st.ID] {
			sg.Status = esign.StatusOf(sg.ContentHash, hash)
			st.Signatures = append(st.Signatures, sg)
			rec.Signatures = append(rec.Signatures, sg)
		}
	}
	return rec, nil
}

func scanDeviation(sc scanner, d *production.Deviation) error {
	err := sc.Scan(&d.ID, &d.ClientID, &d.Code, &d.BatchID, &d.StepID, &d.Title, &d.Description, &d.Status, &d.OpenedAt)
	d.OpenedAt = d.OpenedAt.UTC()
	return err
}

// Review returns the QA view of a batch by exception.
func (s *ProductionStore) Review(ctx context.Context, batchID string) (*production.Review, error) {
	var rv *production.Review
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := staffOnly(tx.actor); err != nil {
			return err
		}
		// A batch out of scope is not found before anything is refused.
		if _, err := tx.batch(batchID); err != nil {
			return err
		}
		if err := production.MayReview(tx.actor); err != nil {
			return err
		}
		rec, err := tx.record(batchID)
		if err != nil {
			return err
		}
		rv = &production.Review{Batch: rec.Batch, Exceptions: []production.StepRecord{}, Deviations: rec.Deviations,
			Corrected: []production.StepRecord{}, Signatures: []esign.Signature{}}
		for _, st := range rec.Steps {
			if st.Exception {
				rv.Exceptions = append(rv.Exceptions, st)
			}
			if st.Corrections > 0 {
				rv.Corrected = append(rv.Corrected, st)
			}
		}
		// Broken signatures first: they need a look before any other.
		for _, want := range []esign.Status{esign.Broken, esign.Valid} {
			for _, sg := range rec.Signatures {
				if sg.Status == want {
					rv.Signatures = append(rv.Signatures, sg)
				}
			}
		}
		return nil
	})
	return rv, err
}

// --- the shop floor

// Floor returns what a line's tablet shows: the batch released or in
// progress on the line, its next step and its last ones, and the batches
// to come. A batch of a client outside the actor's scope shows only as
// "reserved".
func (s *ProductionStore) Floor(ctx context.Context, lineID string) (*production.Floor, error) {
	var f *production.Floor
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := floorReader(tx.actor); err != nil {
			return err
		}
		var err error
		f, err = tx.floor(lineID)
		return err
	})
	return f, err
}

// Floors returns what the tablets of a building's lines show, every line
// read in one transaction: one snapshot of the building's floor.
func (s *ProductionStore) Floors(ctx context.Context, buildingID string) ([]*production.Floor, error) {
	var out []*production.Floor
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := floorReader(tx.actor); err != nil {
			return err
		}
		lines, err := tx.buildingLines(buildingID)
		if err != nil {
			return err
		}
		for _, l := range lines {
			f, err := tx.floor(l.ID)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// floorReader refuses the shop floor to those who are not site staff.
func floorReader(a identity.Actor) error {
	if !isStaff(a) || needProductionView(a) != nil {
		return errs.E(errs.Forbidden, "store.shop_floor_site_staff")
	}
	return nil
}

// floor reads a line's tablet: the batch on it (reserved, when of a
// client outside the actor's scope), its next step with its signatures,
// the last steps done, and the next batches.
func (tx *Tx) floor(lineID string) (*production.Floor, error) {
	var f production.Floor
	if err := tx.line(lineID, &f.Line); err != nil {
		return nil, err
	}
	if err := tx.withLineStates([]site.Line{f.Line}, &f.Line); err != nil {
		return nil, err
	}
	f.Recent, f.Upcoming = []production.StepRecord{}, []production.Batch{}
	var current string
	var clientID string
	err := tx.unscoped(func() error {
		err := tx.queryRow(`SELECT id, client_id FROM batches WHERE line_id = ? AND state IN (?, ?) ORDER BY CASE WHEN state = ? THEN 0 ELSE 1 END, start_at LIMIT 1`,
			lineID, string(production.BatchInProgress), string(production.BatchReleased), string(production.BatchInProgress)).Scan(&current, &clientID)
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if current != "" {
		if !tx.actor.ClientScope().Has(clientID) {
			f.Reserved = true
		} else {
			if f.Batch, err = tx.batch(current); err != nil {
				return nil, err
			}
			if f.Next, err = tx.nextStep(current); err != nil {
				return nil, err
			}
			if f.Next != nil {
				if err := tx.withSignatures(f.Next); err != nil {
					return nil, err
				}
			}
			if f.Recent, err = collect(tx, `SELECT `+stepCols+stepFrom+` WHERE s.batch_id = ? AND s.state = ? ORDER BY s.seq DESC LIMIT 5`,
				[]any{current, string(production.StepDone)}, scanStep); err != nil {
				return nil, err
			}
		}
	}
	// The next five besides the current one.
	up, err := tx.batches(production.BatchFilter{LineID: lineID, States: []production.BatchState{production.BatchScheduled, production.BatchReleased}, Limit: 6})
	if err != nil {
		return nil, err
	}
	for _, b := range up {
		if b.ID != current && len(f.Upcoming) < 5 {
			f.Upcoming = append(f.Upcoming, b)
		}
	}
	return &f, nil
}

// withSignatures reads a step's signatures with their status.
func (tx *Tx) withSignatures(r *production.StepRecord) error {
	sigs, err := tx.signaturesOf(stepTable.entity, r.ID)
	if err != nil {
		return err
	}
	hash := esign.ContentHash(stepTable.entity, r.ID, r.SignedFields())
	for i := range sigs {
		sigs[i].Status = esign.StatusOf(sigs[i].ContentHash, hash)
	}
	r.Signatures = sigs
	return nil
}

// --- genealogy

const consumptionSelect = `SELECT c.id, c.client_id, c.batch_id, b.lot, c.step_id, c.lot_id, ml.code, ml.material_id, m.name, c.quantity, m.unit, c.at
	FROM consumptions c JOIN batches b ON b.id = c.batch_id JOIN material_lots ml ON ml.id = c.lot_id JOIN materials m ON m.id = ml.material_id`

func scanConsumption(sc scanner, c *production.Consumption) error {
	err := sc.Scan(&c.ID, &c.ClientID, &c.BatchID, &c.BatchLot, &c.StepID, &c.LotID, &c.LotCode, &c.MaterialID, &c.Material, &c.Quantity, &c.Unit, &c.At)
	c.At = c.At.UTC()
	return err
}

// consumptions reads the consumptions matching a condition, in the
// actor's client scope.
func (tx *Tx) consumptions(cond string, arg any) ([]production.Consumption, error) {
	scope, args := inScope("c.client_id", tx.actor.ClientScope())
	return collect(tx, consumptionSelect+` WHERE `+cond+` AND `+scope+` ORDER BY c.at, b.lot`, append([]any{arg}, args...), scanConsumption)
}

// LotUses is the forward genealogy: every batch, in the actor's scope,
// that consumed the lot. Lots are the site's: for staff.
func (s *ProductionStore) LotUses(ctx context.Context, lotID string) ([]production.Consumption, error) {
	var out []production.Consumption
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := staffOnly(tx.actor); err != nil {
			return errs.E(errs.NotFound, "store.no_such_lot")
		}
		var l production.Lot
		if err := tx.lotByID(lotID, &l); err != nil {
			return err
		}
		var err error
		out, err = tx.consumptions(`c.lot_id = ?`, l.ID)
		return err
	})
	return out, err
}

// BatchInputs is the backward genealogy: every lot the batch consumed.
func (s *ProductionStore) BatchInputs(ctx context.Context, batchID string) ([]production.Consumption, error) {
	var out []production.Consumption
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		out, err = tx.consumptions(`c.batch_id = ?`, b.ID)
		return err
	})
	return out, err
}

var _ production.Service = (*ProductionStore)(nil)
