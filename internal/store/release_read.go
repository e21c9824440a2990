package store

import (
	"context"
	"database/sql"
	"time"

	"galenix/internal/errs"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// releasing reads, in the transaction, everything the qualified person's
// view of a batch checks (quality.Blockers): the exceptions with QA's
// justifications, the specification its samples are read against, its
// samples, results and OOS investigations, the deviations that name it, and
// the material lots it used.
func (tx *Tx) releasing(b *production.Batch) (*quality.Releasing, error) {
	c := &quality.Releasing{Actor: tx.actor, Batch: *b, Now: tx.now}
	var err error
	if c.Exceptions, err = tx.exceptions(b.ID); err != nil {
		return nil, err
	}
	rv, err := tx.review(b)
	if err != nil {
		return nil, err
	}
	for i := range c.Exceptions {
		c.Exceptions[i].Justification = rv.Justifications[c.Exceptions[i].StepID]
	}
	if c.Samples, err = tx.samplesOf(quality.SampleFilter{BatchID: b.ID}); err != nil {
		return nil, err
	}
	if c.Results, err = tx.resultsOf(quality.ResultFilter{BatchID: b.ID}); err != nil {
		return nil, err
	}
	if c.Investigations, err = tx.investigationsOf(quality.OOSFilter{BatchID: b.ID}); err != nil {
		return nil, err
	}
	// The deviations opened on the batch, and those whose assessment
	// names it among the batches it may affect.
	cond, args := inScope("d.client_id", tx.actor.ClientScope())
	if c.Deviations, err = collect(tx, deviationSelect+` WHERE (d.batch_id = ? OR d.impacts LIKE ?) AND `+cond+` ORDER BY d.code`,
		append([]any{b.ID, `%"` + b.ID + `"%`}, args...), scanQualityDeviation); err != nil {
		return nil, err
	}
	if c.Lots, err = collect(tx, `SELECT `+lotCols+lotFrom+` WHERE l.id IN (SELECT lot_id FROM consumptions WHERE batch_id = ?) ORDER BY l.code`, []any{b.ID}, scanLot); err != nil {
		return nil, err
	}
	// The specification the samples were taken under; before any sample,
	// the one in force now for the batch's product.
	for _, sm := range c.Samples {
		if sm.SpecID != "" {
			var sp quality.Spec
			if err := tx.specByID(sm.SpecID, &sp); err != nil {
				return nil, err
			}
			c.Spec = &sp
			break
		}
	}
	if c.Spec == nil {
		versions, err := tx.specVersions(b.ProductID)
		if err != nil {
			return nil, err
		}
		if sp, err := quality.InForce(versions, "", tx.now); err == nil {
			c.Spec = sp
		}
	}
	return c, nil
}

// View returns the qualified person's view of a batch, for those who
// review or release batches.
func (s *ReleaseStore) View(ctx context.Context, batchID string) (*quality.ReleaseView, error) {
	var v *quality.ReleaseView
	err := s.db.Read(ctx, func(tx *Tx) error {
		if reviewer(tx.actor) != nil {
			return errs.E(errs.NotFound, "store.no_such_batch")
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		c, err := tx.releasing(b)
		if err != nil {
			return err
		}
		rv, err := tx.review(b)
		if err != nil {
			return err
		}
		v = &quality.ReleaseView{Releasing: *c, Review: *rv, Blockers: quality.Blockers(*c)}
		if v.Excursions, err = tx.releaseExcursions(b); err != nil {
			return err
		}
		var line quality.Certification
		switch err := scanCertification(tx.queryRow(`SELECT `+certificationCols+` FROM certifications WHERE batch_id = ?`, b.ID), &line); err {
		case nil:
			v.Decision = &line
		case sql.ErrNoRows:
		default:
			return err
		}
		return nil
	})
	return v, err
}

// Metrics returns the quality unit's figures over the clients in the
// actor's scope: quality assurance, qualified persons, and galenix itself
// for /metrics.
func (s *ReleaseStore) Metrics(ctx context.Context) (*quality.Metrics, error) {
	var m quality.Metrics
	err := s.db.Read(ctx, func(tx *Tx) error {
		if reviewer(tx.actor) != nil {
			return errs.E(errs.Forbidden, "identity.refused.batch_review")
		}
		var in quality.MetricsInput
		cond, args := inScope("c.client_id", tx.actor.ClientScope())
		type decided struct {
			batch string
			facts quality.DecisionFacts
		}
		ds, err := collect(tx, `SELECT CAST(c.batch_id AS TEXT), c.decision, b.exceptions,
				(SELECT COUNT(*) FROM deviations d WHERE d.batch_id = c.batch_id),
				(SELECT COUNT(*) FROM oos_investigations o WHERE o.batch_id = c.batch_id), c.signed_at
			FROM certifications c JOIN batches b ON b.id = c.batch_id WHERE `+cond+` ORDER BY c.seq`, args,
			func(sc scanner, d *decided) error {
				var dec string
				err := sc.Scan(&d.batch, &dec, &d.facts.Exceptions, &d.facts.Deviations, &d.facts.OOS, &d.facts.Decided)
				d.facts.Decision = quality.Decision(dec)
				return err
			})
		if err != nil {
			return err
		}
		// When each batch decided was completed: its state's entry in
		// the audit trail (read for the batches decided alone, by the
		// trail's index on the record).
		completed := map[string]time.Time{}
		type entry struct {
			id string
			at time.Time
		}
		entries, err := collect(tx, `SELECT a.entity_id, a.at FROM audit_log a JOIN certifications c ON a.entity_id = CAST(c.batch_id AS TEXT)
			WHERE a.entity = ? AND a.field = ? AND a.new_value = ? AND `+cond, append([]any{batchTable.entity, "state", string(production.BatchCompleted)}, args...),
			func(sc scanner, e *entry) error { return sc.Scan(&e.id, &e.at) })
		if err != nil {
			return err
		}
		for _, e := range entries {
			if t, ok := completed[e.id]; !ok || e.at.Before(t) {
				completed[e.id] = e.at
			}
		}
		for _, d := range ds {
			d.facts.Completed = completed[d.batch]
			in.Decisions = append(in.Decisions, d.facts)
		}
		dcond, dargs := inScope("client_id", tx.actor.ClientScope())
		if in.OpenDeviations, err = collect(tx, `SELECT opened_at FROM deviations WHERE status NOT IN (?, ?) AND `+dcond,
			append([]any{string(quality.DeviationClosed), string(quality.DeviationVerified)}, dargs...),
			func(sc scanner, t *time.Time) error { return sc.Scan(t) }); err != nil {
			return err
		}
		if in.Actions, err = collect(tx, `SELECT due_on, done_at FROM deviation_actions WHERE `+dcond, dargs,
			func(sc scanner, a *quality.Action) error {
				var done sql.NullTime
				if err := sc.Scan(&a.Due, &done); err != nil {
					return err
				}
				if done.Valid {
					a.DoneAt = &done.Time
				}
				return nil
			}); err != nil {
			return err
		}
		m = quality.ComputeMetrics(in, tx.now)
		return nil
	})
	return &m, err
}
