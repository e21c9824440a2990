package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"galenix/internal/controlled"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

func stepJSON(st production.Step) (string, error) {
	b, err := json.Marshal(st)
	return string(b), err
}

const stepCols = `s.id, s.batch_id, s.client_id, s.seq, s.op, s.op_title, s.step, s.state, s.value, s.number,
	COALESCE(CAST(s.lot_id AS TEXT), ''), COALESCE(ml.code, ''), COALESCE(CAST(s.equipment_id AS TEXT), ''), COALESCE(e.code, ''),
	s.comment, s.exception, s.why, COALESCE(CAST(s.deviation_id AS TEXT), ''), s.performed_by, s.performed_name, s.performed_at, s.corrections, s.version`

const stepFrom = ` FROM batch_steps s LEFT JOIN material_lots ml ON ml.id = s.lot_id LEFT JOIN equipment e ON e.id = s.equipment_id`

func scanStep(sc scanner, r *production.StepRecord) error {
	var body string
	var num sql.NullFloat64
	var at sql.NullTime
	err := sc.Scan(&r.ID, &r.BatchID, &r.ClientID, &r.Seq, &r.Op, &r.OpTitle, &body, &r.State, &r.Value, &num,
		&r.LotID, &r.LotCode, &r.EquipmentID, &r.Equipment, &r.Comment, &r.Exception, &r.Why, &r.DeviationID,
		&r.PerformedBy, &r.PerformedName, &at, &r.Corrections, &r.Version)
	if err != nil {
		return err
	}
	if num.Valid {
		r.Number = &num.Float64
	}
	r.PerformedAt = timePtr(at)
	return json.Unmarshal([]byte(body), &r.Step)
}

// steps reads a batch's steps in order.
func (tx *Tx) steps(batchID string) ([]production.StepRecord, error) {
	return collect(tx, `SELECT `+stepCols+stepFrom+` WHERE s.batch_id = ? ORDER BY s.seq`, []any{batchID}, scanStep)
}

// step reads one step in the actor's scope.
func (tx *Tx) step(id string) (*production.StepRecord, error) {
	var r production.StepRecord
	cond, args := inScope("s.client_id", tx.actor.ClientScope())
	err := tx.byID(`SELECT `+stepCols+stepFrom+` WHERE s.id = ? AND `+cond, id, func(sc scanner) error { return scanStep(sc, &r) },
		"store.no_such_step", args...)
	return &r, err
}

// nextStep returns the batch's next step: the first not done, which may
// be recorded and waiting for its signatures; nil when every step is done.
func (tx *Tx) nextStep(batchID string) (*production.StepRecord, error) {
	var r production.StepRecord
	err := scanStep(tx.queryRow(`SELECT `+stepCols+stepFrom+` WHERE s.batch_id = ? AND s.state <> ? ORDER BY s.seq LIMIT 1`, batchID, string(production.StepDone)), &r)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return &r, err
}

// stepSigned checks a signature just written on a step
// (production.SignStep), and marks the step done once the signatures it
// needs are all given and valid. checkSigner applies the rules of who
// signs.
func (tx *Tx) stepSigned(sig *esign.Signature, checkSigner bool) error {
	r, err := tx.step(sig.EntityID)
	if err != nil {
		return err
	}
	if err := tx.withSignatures(r); err != nil {
		return err
	}
	c := production.Signing{Actor: tx.actor, Step: *r, Signature: *sig, Signatures: r.Signatures, CheckSigner: checkSigner}
	if checkSigner && r.Corrections > 0 {
		if c.CorrectedBy, err = tx.lastCorrector(r.ID); err != nil {
			return err
		}
	}
	done, err := production.SignStep(c)
	if err != nil || !done {
		return err
	}
	return tx.markDone(r)
}

// lastCorrector is the account that made the step's last correction, as
// its audit trail records it: the person who entered the value now
// recorded; "" when none is found.
func (tx *Tx) lastCorrector(stepID string) (string, error) {
	var id string
	err := tx.queryRow(`SELECT actor_id FROM audit_log WHERE entity = ? AND entity_id = ? AND command = ? ORDER BY seq DESC LIMIT 1`,
		stepTable.entity, stepID, "batch.step.correct").Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, err
}

// markDone moves a recorded step to done and counts it in its batch.
func (tx *Tx) markDone(r *production.StepRecord) error {
	if _, err := tx.exec(`UPDATE batch_steps SET state = ? WHERE id = ?`, string(production.StepDone), r.ID); err != nil {
		return err
	}
	if err := tx.Audit([]audit.Change{{Entity: stepTable.entity, EntityID: r.ID, Field: "state", Old: string(r.State), New: string(production.StepDone)}}, r.ClientID); err != nil {
		return err
	}
	r.State = production.StepDone
	if err := tx.stepDispensed(r); err != nil {
		return err
	}
	tx.enqueueStepDone(r)
	if err := tx.countSteps(r.BatchID); err != nil {
		return err
	}
	return tx.publish(Event{Kind: StepDone, Entity: stepTable.entity, Step: r})
}

// countSteps recounts a batch's steps done and exceptions.
func (tx *Tx) countSteps(batchID string) error {
	b, err := tx.batch(batchID)
	if err != nil {
		return err
	}
	old := *b
	if err := tx.queryRow(`SELECT COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN exception THEN 1 ELSE 0 END), 0) FROM batch_steps WHERE batch_id = ?`,
		string(production.StepDone), batchID).Scan(&b.StepsDone, &b.Exceptions); err != nil {
		return err
	}
	if b.StepsDone == old.StepsDone && b.Exceptions == old.Exceptions && b.State == old.State {
		_, err := tx.exec(`UPDATE batches SET updated_at = ? WHERE id = ?`, tx.now, b.ID)
		return err
	}
	// Progress is not one of the batch's audited fields: the steps' own
	// entries record it.
	_, err = tx.exec(`UPDATE batches SET steps_done = ?, exceptions = ?, updated_at = ? WHERE id = ?`, b.StepsDone, b.Exceptions, tx.now, b.ID)
	return err
}

// signableStep reads a step's signed content: for site staff whose scope
// holds its client.
func signableStep(tx *Tx, id string) ([]audit.Field, string, error) {
	if !isStaff(tx.actor) {
		return nil, "", errNoRecord()
	}
	r, err := tx.step(id)
	if err != nil {
		return nil, "", err
	}
	return r.SignedFields(), r.ClientID, nil
}

// demoSign records a past signature of a record without credentials, in a
// history load only (the demo cannot type passwords): bound to the
// record's content like any other (signables), attributed to the named
// account in the session "demo", audited as a signature is. A step's
// signature completes it as production.SignStep says, the signer's rules
// left to the history; on any other record the signature's reactions run
// as for a signature given (SignatureGiven: a batch's review or
// decision, a specification's approval...).
func (tx *Tx) demoSign(entity, id string, m esign.Meaning, signerID, signerName, reason string) error {
	if err := tx.historyOnly("demo signature"); err != nil {
		return err
	}
	read, ok := signables[entity]
	if !ok {
		return errs.Wrap(errors.New("no record of kind "+entity+" is signed"), "demo signature")
	}
	fields, clientID, err := read(tx, id)
	if err != nil {
		return err
	}
	sig := &esign.Signature{ID: NewID(), Entity: entity, EntityID: id, Meaning: m, SignerID: signerID, SignerName: signerName,
		SignedAt: tx.now, ContentHash: esign.ContentHash(entity, id, fields), Reason: reason, ClientID: clientID, Status: esign.Valid}
	if err := tx.insertSignature(sig, "demo"); err != nil {
		return err
	}
	// The entry is the signature's, as Sign writes it: its command, by its
	// signer, so that galenix audit verify links the two.
	actor := tx.actor
	tx.actor = identity.Actor{UserID: signerID, Name: signerName, SessionID: "demo"}
	err = tx.auditAs(signCommand, []audit.Change{{Entity: sig.Entity, EntityID: sig.EntityID, Field: "signature", New: signatureEntry(sig)}}, sig.ClientID)
	tx.actor = actor
	if err != nil {
		return err
	}
	if entity == stepTable.entity {
		return tx.stepSigned(sig, false)
	}
	return tx.publish(Event{Kind: SignatureGiven, Entity: entity, Signature: sig})
}

// RecordStep enters the batch's next step. The entry's reason (why a batch
// starts far from its slot, production.CheckStart) is the write's, kept
// with its audit entries.
func (s *ProductionStore) RecordStep(ctx context.Context, batchID string, e production.Entry) (*production.StepRecord, error) {
	var r *production.StepRecord
	var refused *controlled.Movement
	err := s.db.Write(ctx, "batch.step.record", strings.TrimSpace(e.Reason), func(tx *Tx) error {
		var err error
		r, refused, err = tx.recordStep(batchID, e)
		return err
	})
	if refused != nil && isNegative(err) {
		// A controlled lot's addition refused for the container's
		// balance: raised to the pharmacist, in a write of its own.
		if rerr := s.db.Write(ctx, "controlled.alert.raise", "", func(tx *Tx) error {
			return tx.raiseControlled(controlled.AlertNegative, refused.SubstanceID, "", negativeDetail(refused))
		}); rerr != nil {
			return nil, rerr
		}
	}
	return r, err
}

// recordStep records the entry of the batch's next step as the domain
// decides it (production.RecordStep), reading what the decision needs and
// persisting its outcome. Of two tablets recording the same step, one
// changes its row; the other gets a conflict.
func (tx *Tx) recordStep(batchID string, e production.Entry) (*production.StepRecord, *controlled.Movement, error) {
	if err := production.MayExecute(tx.actor); err != nil {
		return nil, nil, err
	}
	b, err := tx.batch(batchID)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.requireStepQualifications(b); err != nil {
		return nil, nil, err
	}
	c := production.Recording{Actor: tx.actor, Batch: *b, Now: tx.now}
	if c.Next, err = tx.nextStep(b.ID); err != nil {
		return nil, nil, err
	}
	lotCode, equipmentCode := production.StepInputs(c.Next, e)
	if lotCode != "" {
		if c.Lot, err = tx.lotByCode(lotCode); err != nil {
			return nil, nil, err
		}
		if c.Lot != nil {
			if c.Controlled, err = tx.controlledLot(c.Lot); err != nil {
				return nil, nil, err
			}
		}
	}
	if equipmentCode != "" {
		if c.Equipment, err = tx.equipmentByCode(equipmentCode); err != nil {
			return nil, nil, err
		}
	}
	out, err := production.RecordStep(c, e)
	if err != nil {
		return nil, nil, err
	}
	r := &out.Step
	// Claim the step first: of two transactions, one changes the row.
	body, err := stepJSON(r.Step)
	if err != nil {
		return nil, nil, err
	}
	res, err := tx.exec(`UPDATE batch_steps SET step = ?, state = ?, value = ?, number = ?, comment = ?, exception = ?, why = ?, performed_by = ?, performed_name = ?, performed_at = ?,
		lot_id = ?, equipment_id = ?, version = version + 1 WHERE id = ? AND state = ?`, body, string(r.State), r.Value, r.Number, r.Comment, r.Exception, r.Why,
		r.PerformedBy, r.PerformedName, r.PerformedAt, nullable(r.LotID), nullable(r.EquipmentID), r.ID, string(production.StepPending))
	if err != nil {
		return nil, nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, nil, errs.E(errs.Conflict, "store.step_was_just_recorded", r.Label())
	}
	if err := tx.persistStep(b, out); err != nil {
		return nil, nil, err
	}
	if c.Controlled {
		if m, err := tx.dispenseControlled(b, r, c.Lot, e.Scale); err != nil {
			return nil, m, err
		}
	}
	if out.Start {
		old := *b
		b.State = production.BatchInProgress
		if err := tx.saveBatch(&old, b); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.countSteps(b.ID); err != nil {
		return nil, nil, err
	}
	if r.State == production.StepDone {
		if err := tx.publish(Event{Kind: StepDone, Entity: stepTable.entity, Step: r}); err != nil {
			return nil, nil, err
		}
	}
	return r, nil, nil
}

// persistStep writes what recording or correcting a step changed beyond
// its row: the lot's stock and the consumption, the equipment in use, the
// deviation, and the step's audit entries.
func (tx *Tx) persistStep(b *production.Batch, out *production.StepOutcome) error {
	r := &out.Step
	if u := out.Use; u != nil {
		if err := tx.consumeLot(u.LotID, u.Quantity); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO consumptions (id, client_id, batch_id, step_id, lot_id, quantity, at) VALUES (?,?,?,?,?,?,?)`,
			NewID(), b.ClientID, b.ID, r.ID, u.LotID, u.Quantity, tx.now); err != nil {
			return err
		}
	}
	if out.InUse != "" {
		if err := tx.setEquipmentStatus(out.InUse, site.EquipmentInUse); err != nil {
			return err
		}
	}
	if out.Deviation != nil {
		if err := tx.openDeviation(out.Deviation, r); err != nil {
			return err
		}
	}
	tx.enqueueStep(b, out)
	return tx.Audit(audit.Diff(stepTable.entity, r.ID, out.Before.AuditFields(), r.AuditFields()), r.ClientID)
}

// equipmentByCode finds the equipment an operator entered or scanned; nil
// when no equipment has that code.
func (tx *Tx) equipmentByCode(code string) (*site.Equipment, error) {
	var eq site.Equipment
	err := scanEquipment(tx.queryRow(`SELECT `+equipmentCols+` FROM equipment WHERE code = ?`, code), &eq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &eq, nil
}

// openDeviation opens the deviation an exception calls for, numbered, and
// links it to its step.
func (tx *Tx) openDeviation(d *production.Deviation, r *production.StepRecord) error {
	seq, err := tx.nextNumber("deviation")
	if err != nil {
		return err
	}
	d.ID, d.Code = NewID(), production.DeviationCode(tx.now, seq)
	if _, err := tx.exec(`INSERT INTO deviations (id, client_id, code, batch_id, step_id, title, description, status, opened_at) VALUES (?,?,?,?,?,?,?,?,?)`,
		d.ID, d.ClientID, d.Code, d.BatchID, d.StepID, d.Title, d.Description, d.Status, d.OpenedAt); err != nil {
		return err
	}
	if _, err := tx.exec(`UPDATE batch_steps SET deviation_id = ? WHERE id = ?`, d.ID, r.ID); err != nil {
		return err
	}
	r.DeviationID = d.ID
	tx.enqueueDeviation(d)
	return tx.Audit(audit.Diff(devTable.entity, d.ID, nil, d.AuditFields()), d.ClientID)
}

// CorrectStep changes a step's entry after it was made, with a reason:
// the change is audited, the step counts a correction, its signatures
// break and must be given again before the batch goes on.
func (s *ProductionStore) CorrectStep(ctx context.Context, batchID string, e production.Entry, reason string) (*production.StepRecord, error) {
	var r *production.StepRecord
	err := s.db.Write(ctx, "batch.step.correct", reason, func(tx *Tx) error {
		if err := production.MayExecute(tx.actor); err != nil {
			return err
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		c := production.Correcting{Actor: tx.actor, Batch: *b, Reason: tx.reason, Now: tx.now}
		if c.Step, err = tx.step(strings.TrimSpace(e.StepID)); errs.Is(err, errs.NotFound) {
			c.Step = nil
		} else if err != nil {
			return err
		}
		out, err := production.CorrectStep(c, e)
		if err != nil {
			return err
		}
		n, old := &out.Step, &out.Before
		// Of two corrections of one version, the second finds none.
		res, err := tx.exec(`UPDATE batch_steps SET state = ?, value = ?, number = ?, comment = ?, exception = ?, why = ?, corrections = ?,
			version = version + 1 WHERE id = ? AND version = ?`,
			string(n.State), n.Value, n.Number, n.Comment, n.Exception, n.Why, n.Corrections, n.ID, old.Version)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			var current int
			if err := tx.queryRow(`SELECT version FROM batch_steps WHERE id = ?`, n.ID).Scan(&current); err != nil {
				return err
			}
			return errs.StaleVersion(old.Version, current)
		}
		if err := tx.persistStep(b, out); err != nil {
			return err
		}
		r = n
		return tx.countSteps(b.ID)
	})
	return r, err
}
