package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// The laboratory's samples: taken by a sampling step of the batch record
// (SampleTaken) or by hand, received, tested.

const sampleCols = `id, client_id, code, kind, COALESCE(CAST(batch_id AS TEXT), ''), COALESCE(CAST(lot_id AS TEXT), ''), COALESCE(CAST(product_id AS TEXT), ''),
	COALESCE(CAST(step_id AS TEXT), ''), spec_id, spec_version, state, taken_at, taken_by, taken_name, due_at, tests,
	received_by, received_name, received_at, quantity, unit, condition, note, version`

func scanSample(sc scanner, s *quality.Sample) error {
	var tests string
	var at sql.NullTime
	var qty sql.NullFloat64
	var r quality.Receipt
	if err := sc.Scan(&s.ID, &s.ClientID, &s.Code, &s.Kind, &s.BatchID, &s.LotID, &s.ProductID, &s.StepID, &s.SpecID, &s.SpecVersion, &s.State,
		&s.TakenAt, &s.TakenBy, &s.TakenName, &s.Due, &tests, &r.By, &r.Name, &at, &qty, &r.Unit, &r.Condition, &r.Note, &s.Version); err != nil {
		return err
	}
	s.TakenAt, s.Due = s.TakenAt.UTC(), s.Due.UTC()
	s.Received = nil
	if at.Valid {
		r.At, r.Quantity = at.Time.UTC(), qty.Float64
		s.Received = &r
	}
	s.Tests = nil
	return json.Unmarshal([]byte(tests), &s.Tests)
}

func sampleRow(s *quality.Sample) row {
	tests, _ := json.Marshal(s.Tests)
	r := s.Received
	var at, qty any
	if r != nil {
		at, qty = r.At, r.Quantity
	} else {
		r = &quality.Receipt{}
	}
	return row{"client_id": s.ClientID, "code": s.Code, "kind": string(s.Kind), "batch_id": nullable(s.BatchID), "lot_id": nullable(s.LotID),
		"product_id": nullable(s.ProductID), "step_id": nullable(s.StepID), "spec_id": s.SpecID, "spec_version": s.SpecVersion, "state": string(s.State),
		"taken_at": s.TakenAt, "taken_by": s.TakenBy, "taken_name": s.TakenName, "due_at": s.Due, "tests": string(tests),
		"received_by": r.By, "received_name": r.Name, "received_at": at, "quantity": qty, "unit": r.Unit, "condition": string(r.Condition), "note": r.Note}
}

// sampleByID reads a sample in the actor's scope.
func (tx *Tx) sampleByID(id string, s *quality.Sample) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+sampleCols+` FROM samples WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanSample(sc, s) }, "store.no_such_sample", args...)
}

// sampleByCode finds a sample in the actor's scope by its code; nil when
// none has it.
func (tx *Tx) sampleByCode(code string) (*quality.Sample, error) {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	var s quality.Sample
	err := scanSample(tx.queryRow(`SELECT `+sampleCols+` FROM samples WHERE code = ? AND `+cond, append([]any{code}, args...)...), &s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &s, err
}

// samplesOf lists the samples in the actor's scope matching the filter,
// earliest due first.
func (tx *Tx) samplesOf(f quality.SampleFilter) ([]quality.Sample, error) {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	q, args := andIDFilters(`SELECT `+sampleCols+` FROM samples WHERE `+cond, args, "batch_id", f.BatchID, "product_id", f.ProductID)
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	q += ` ORDER BY due_at, code`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(f.Offset, 0))
	}
	return collect(tx, q, args, scanSample)
}

// labView checks the actor may read the laboratory's records: staff with
// the production view, and the client laboratories' users for their own
// (without names: see the readers).
func labView(a identity.Actor) error { return needProductionView(a) }

// Samples lists the samples in the actor's scope.
func (s *LabStore) Samples(ctx context.Context, f quality.SampleFilter) ([]quality.Sample, error) {
	var out []quality.Sample
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		var err error
		out, err = tx.samplesOf(f)
		return err
	})
	if err == nil && !isStaff(actorOf(ctx)) {
		for i := range out {
			out[i].Anonymous()
		}
	}
	return out, err
}

// Sample returns one sample in the actor's scope.
func (s *LabStore) Sample(ctx context.Context, id string) (*quality.Sample, error) {
	var sm quality.Sample
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		return tx.sampleByID(id, &sm)
	})
	if err != nil {
		return nil, err
	}
	if !isStaff(actorOf(ctx)) {
		sm.Anonymous()
	}
	return &sm, nil
}

// TakeSample records a sample taken by hand by the laboratory: of a batch
// (its product's specification), or of a product's raw material lot or
// environment (the product names the specification).
func (s *LabStore) TakeSample(ctx context.Context, r quality.SampleRequest) (*quality.Sample, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	var out *quality.Sample
	err := s.db.Write(ctx, "sample.take", "", func(tx *Tx) error {
		c := quality.Sampling{Actor: tx.actor, Code: r.Code, Kind: r.Kind, BatchID: r.BatchID, LotID: r.LotID, ProductID: r.ProductID, Now: tx.now}
		if r.BatchID != "" {
			b, err := tx.batch(r.BatchID)
			if err != nil {
				return asField(err, "batch_id")
			}
			c.ProductID, c.ClientID = b.ProductID, b.ClientID
		} else if r.ProductID != "" {
			clientID, err := tx.productClient(r.ProductID)
			if err != nil {
				return asField(err, "product_id")
			}
			c.ClientID = clientID
		} else if r.Kind == quality.SampleRawMaterial || r.Kind == quality.SampleEnvironmental {
			return errs.Field("product_id", "store.sample_names_product")
		}
		if r.LotID != "" {
			var n int
			if err := tx.byID(`SELECT COUNT(*) FROM material_lots WHERE id = ?`, r.LotID, func(sc scanner) error { return sc.Scan(&n) }, "store.no_such_lot"); err != nil || n == 0 {
				return refusalOr(asField(err, "lot_id"), errs.Field("lot_id", "store.no_such_lot"))
			}
		}
		if c.ProductID != "" {
			versions, err := tx.specVersions(c.ProductID)
			if err != nil {
				return err
			}
			if c.Spec, err = quality.InForce(versions, "", tx.now); err != nil {
				return err
			}
		}
		sm, err := quality.TakeSample(c)
		if err != nil {
			return err
		}
		if !r.Due.IsZero() && r.Due.After(tx.now) {
			sm.Due = r.Due.UTC()
		}
		if err := tx.sampleCodeFree(sm.Code); err != nil {
			return err
		}
		out = sm
		return tx.insertSample(sm)
	})
	return out, err
}

// sampleCodeFree refuses a code another sample has, whoever's: codes are
// the site's, and the answer says no more than that it is taken.
func (tx *Tx) sampleCodeFree(code string) error {
	var n int
	if err := tx.unscoped(func() error { return tx.queryRow(`SELECT COUNT(*) FROM samples WHERE code = ?`, code).Scan(&n) }); err != nil {
		return err
	}
	if n > 0 {
		return errs.Field("code", "store.sample_code_taken", code)
	}
	return nil
}

func (tx *Tx) insertSample(sm *quality.Sample) error {
	sm.ID = NewID()
	return createClientRecord(tx, sampleTable, sm.ID, sm.ClientID, sm, sampleRow(sm))
}

// ReceiveSample records a sample's arrival in the laboratory. Of two
// receipts of one sample, one is recorded; the other is refused.
func (s *LabStore) ReceiveSample(ctx context.Context, id string, r quality.Receipt) (*quality.Sample, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	var out *quality.Sample
	err := s.db.Write(ctx, "sample.receive", "", func(tx *Tx) error {
		var old quality.Sample
		if err := tx.sampleByID(id, &old); err != nil {
			return err
		}
		sm, err := quality.ReceiveSample(tx.actor, old, r, tx.now)
		if err != nil {
			return err
		}
		out = sm
		return advance(tx, sampleTable, sm.ID, sm.ClientID, &old, sm, sampleRow(sm))
	})
	return out, err
}

// Worklist lists the tests to do on the samples received in the actor's
// scope: each test without a result, each retest planned and not yet done.
func (s *LabStore) Worklist(ctx context.Context) ([]quality.Work, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	out := []quality.Work{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		samples, err := tx.samplesOf(quality.SampleFilter{State: quality.SampleReceived})
		if err != nil || len(samples) == 0 {
			return err
		}
		cond, args := inScope("r.client_id", tx.actor.ClientScope())
		results, err := collect(tx, `SELECT `+resultCols+` FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.state = ? AND `+cond,
			append([]any{string(quality.SampleReceived)}, args...), scanResult)
		if err != nil {
			return err
		}
		invs, err := tx.investigationsOf(quality.OOSFilter{Open: true})
		if err != nil {
			return err
		}
		if w := quality.Worklist(samples, results, invs); w != nil {
			out = w
		}
		return nil
	})
	return out, err
}

// advance writes a laboratory record's step of its workflow (a receipt, a
// review, an investigation's phase) at the version it was read in: of two
// writers of one version, the second finds none and is refused. Unlike an
// edit (updateClientRecord), a workflow's entry needs no reason: it is the
// record's first entry of those fields.
func advance(tx *Tx, t table, id, clientID string, old, new auditable, r row) error {
	vals, err := t.values(r)
	if err != nil {
		return err
	}
	changes := audit.Diff(t.entity, id, old.AuditFields(), new.AuditFields())
	if len(changes) == 0 {
		return nil
	}
	set := make([]string, len(t.cols))
	for i, c := range t.cols {
		set[i] = c + " = ?"
	}
	v := versionOf(old)
	res, err := tx.exec("UPDATE "+t.name+" SET "+strings.Join(set, ", ")+", version = version + 1 WHERE id = ? AND version = ?", append(vals, id, v)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var current int
		if err := tx.queryRow("SELECT version FROM "+t.name+" WHERE id = ?", id).Scan(&current); err != nil {
			return err
		}
		return errs.StaleVersion(v, current)
	}
	if p := versionRef(new); p != nil {
		*p = v + 1
	}
	return tx.Audit(changes, clientID)
}

func versionRef(rec any) *int {
	if v, ok := rec.(interface{ VersionRef() *int }); ok {
		return v.VersionRef()
	}
	return nil
}

func versionOf(rec any) int {
	if p := versionRef(rec); p != nil {
		return *p
	}
	return 0
}

// SampleTaken is the laboratory's reaction to a step of a batch record
// done: a sampling step takes a sample, its code the label the operator
// recorded, in the operator's name, of the kind its place in the master
// says (quality.SampleKindOfStep), with the tests of the product's
// specification in force now. Production goes on whatever the laboratory
// lacks: without a specification in force, a test for the kind, or with a
// label another sample has, no sample is taken and the log says why (the
// release view then shows the batch without its sample). app subscribes it.
func (s *LabStore) SampleTaken(tx *Tx, ev Event) error {
	r := ev.Step
	if r == nil || r.Step.Kind != production.StepSampling || r.State != production.StepDone {
		return nil
	}
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM samples WHERE step_id = ?`, r.ID).Scan(&n); err != nil || n > 0 {
		return err // taken already: a step signed again after a correction
	}
	b, err := tx.batch(r.BatchID)
	if err != nil {
		return err
	}
	var lastOp int
	if err := tx.queryRow(`SELECT COALESCE(MAX(op), 0) FROM batch_steps WHERE batch_id = ?`, b.ID).Scan(&lastOp); err != nil {
		return err
	}
	c := quality.Sampling{Actor: identity.Actor{UserID: r.PerformedBy, Name: r.PerformedName}, Code: r.Value, Kind: quality.SampleKindOfStep(r.Op, lastOp),
		BatchID: b.ID, ProductID: b.ProductID, StepID: r.ID, ClientID: b.ClientID, Now: tx.now}
	versions, err := tx.specVersions(b.ProductID)
	if err != nil {
		return err
	}
	skip := func(why error) error {
		if !tx.history {
			tx.db.log.Warn("sampling step done without a sample", "batch", b.Lot, "step", r.Label(), "label", r.Value, "why", why.Error())
		}
		return nil
	}
	if c.Spec, err = quality.InForce(versions, "", tx.now); err != nil {
		return skip(err)
	}
	sm, err := quality.TakeSample(c)
	if err != nil {
		return skip(err)
	}
	if err := tx.sampleCodeFree(sm.Code); err != nil {
		return skip(err)
	}
	return tx.insertSample(sm)
}
