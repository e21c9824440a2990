package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The register's alerts, its inventories, and its editions: the monthly
// balances recorded at each month's end and the annual statement.

// Alerts lists the register's alerts: those still open first, then the
// last taken charge of, newest first.
func (s *ControlledStore) Alerts(ctx context.Context) ([]controlled.Alert, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.Alert, error) {
		return collect(tx, `SELECT a.id, a.at, a.kind, COALESCE(CAST(a.substance_id AS TEXT), ''), COALESCE(s.code, ''), a.detail, a.ref,
			a.acknowledged_at, COALESCE(ac.name, ''), a.comment FROM controlled_alerts a LEFT JOIN controlled_substances s ON s.id = a.substance_id
			LEFT JOIN accounts ac ON ac.id = a.acknowledged_by
			ORDER BY CASE WHEN a.acknowledged_at IS NULL THEN 0 ELSE 1 END, a.at DESC, a.id DESC LIMIT 200`, nil, scanAlert)
	})
}

func scanAlert(sc scanner, a *controlled.Alert) error {
	var kind, detail string
	var ack sql.NullTime
	err := sc.Scan(&a.ID, &a.At, &kind, &a.SubstanceID, &a.Substance, &detail, &a.Ref, &ack, &a.AcknowledgedBy, &a.Comment)
	a.Kind, a.At, a.AcknowledgedAt = controlled.AlertKind(kind), a.At.UTC(), timePtr(ack)
	a.Detail, _ = text.ParseCoded(detail)
	return err
}

// AcknowledgeAlert takes charge of an alert with a comment: once.
func (s *ControlledStore) AcknowledgeAlert(ctx context.Context, id, comment string) error {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return err
	}
	comment = strings.TrimSpace(comment)
	if comment == "" || utf8.RuneCountInString(comment) > controlled.MaxCause {
		return errs.Field("comment", "controlled.alert.comment")
	}
	return s.db.Write(ctx, "controlled.alert.acknowledge", "", func(tx *Tx) error {
		var at sql.NullTime
		if err := tx.byID(`SELECT acknowledged_at FROM controlled_alerts WHERE id = ?`, id, func(sc scanner) error { return sc.Scan(&at) },
			"controlled.no_such_alert"); err != nil {
			return err
		}
		if at.Valid {
			return errs.E(errs.Conflict, "controlled.alert.taken")
		}
		if _, err := tx.exec(`UPDATE controlled_alerts SET acknowledged_at = ?, acknowledged_by = ?, comment = ? WHERE id = ? AND acknowledged_at IS NULL`,
			tx.now, tx.actor.UserID, comment, id); err != nil {
			return err
		}
		return tx.Audit([]audit.Change{{Entity: "controlled_alert", EntityID: id, Field: "acknowledged", New: comment}}, "")
	})
}

// Count records a container's physical inventory, weighed or counted
// (R.5132-36): what the register holds and what was found. A discrepancy
// opens a deviation for the client the substance is held for, and is
// raised to the pharmacist. The register's balance is not changed: a
// correcting movement, once the deviation has found why, sets it right.
func (s *ControlledStore) Count(ctx context.Context, c *controlled.Count) error {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "controlled.count", "", func(tx *Tx) error {
		var ct controlled.Container
		if err := tx.container(c.ContainerID, &ct); err != nil {
			return asField(err, "container_id")
		}
		var sub controlled.Substance
		if err := tx.substance(ct.SubstanceID, &sub); err != nil {
			return err
		}
		var pending int
		if err := tx.queryRow(`SELECT COUNT(*) FROM controlled_movements WHERE state = ? AND (container_id = ? OR to_container_id = ?)`,
			string(controlled.Entered), ct.ID, ct.ID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return errs.E(errs.Conflict, "controlled.count_pending", ct.Code)
		}
		c.ID, c.At, c.Expected, c.Container, c.Unit, c.CountedBy, c.CountedName = NewID(), tx.now, ct.Balance, ct.Code, sub.Unit, tx.actor.UserID, actorName(tx.actor)
		if c.Discrepancy() != 0 {
			title := text.Code("stored.controlled.discrepancy", text.Str(sub.Code), text.Str(ct.Code), text.Arg{Num: c.Expected.String()},
				text.Arg{Num: c.Counted.String()}, text.Str(sub.Unit))
			note := c.Note
			if note == "" {
				note = title.String()
			}
			d := quality.RegisterDeviation(sub.ClientID, title, note, tx.actor.UserID, tx.now)
			if err := tx.openRegisterDeviation(d, map[string]any{"count_id": c.ID}); err != nil {
				return err
			}
			c.DeviationID, c.Deviation = d.ID, d.Code
			if err := tx.raiseControlled(controlled.AlertDiscrepancy, sub.ID, c.ID, text.Code("controlled.alert.discrepancy_detail",
				text.Str(ct.Code), text.Arg{Num: c.Expected.String()}, text.Arg{Num: c.Counted.String()}, text.Str(sub.Unit), text.Str(d.Code))); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`INSERT INTO controlled_counts (id, at, container_id, expected, counted, counted_by, counted_name, note, deviation_id) VALUES (?,?,?,?,?,?,?,?,?)`,
			c.ID, c.At, c.ContainerID, int64(c.Expected), int64(c.Counted), c.CountedBy, c.CountedName, c.Note, nullable(c.DeviationID)); err != nil {
			return err
		}
		// Audited as the client's the substance is held for: the count
		// names that client's deviation.
		return tx.Audit(audit.Diff("controlled_count", c.ID, nil, c.AuditFields()), sub.ClientID)
	})
}

// Counts lists the inventories' counts, newest first.
func (s *ControlledStore) Counts(ctx context.Context) ([]controlled.Count, error) {
	return view(ctx, s, func(tx *Tx) (out []controlled.Count, err error) {
		// Each count names its deviation's number, whichever client's.
		err = tx.unscoped(func() error {
			out, err = collect(tx, `SELECT n.id, n.at, n.container_id, c.code, s.unit, n.expected, n.counted, n.counted_by, n.counted_name, n.note,
				COALESCE(CAST(n.deviation_id AS TEXT), ''), COALESCE(d.code, '') FROM controlled_counts n JOIN controlled_containers c ON c.id = n.container_id
				JOIN controlled_substances s ON s.id = c.substance_id LEFT JOIN deviations d ON d.id = n.deviation_id ORDER BY n.at DESC LIMIT 200`, nil,
				func(sc scanner, c *controlled.Count) error {
					var exp, cnt int64
					err := sc.Scan(&c.ID, &c.At, &c.ContainerID, &c.Container, &c.Unit, &exp, &cnt, &c.CountedBy, &c.CountedName, &c.Note, &c.DeviationID, &c.Deviation)
					c.Expected, c.Counted, c.At = controlled.Qty(exp), controlled.Qty(cnt), c.At.UTC()
					return err
				})
			return err
		})
		return out, err
	})
}

// movementsUntil reads a substance's validated movements before to, in
// the order of their serial numbers: what the editions are drawn from.
func (tx *Tx) movementsUntil(substanceID string, to time.Time) ([]controlled.Movement, error) {
	return collect(tx, `SELECT `+movementCols+movementFrom+` WHERE m.state = ? AND m.substance_id = ? AND m.at < ? ORDER BY m.serial`,
		[]any{string(controlled.Validated), substanceID, to.UTC()}, scanMovement)
}

// Month is a substance's balance over the month of t in the site's zone,
// drawn from the register, and the one recorded at that month's end, if
// it was.
func (s *ControlledStore) Month(ctx context.Context, substanceID string, t time.Time) (*controlled.Summary, *controlled.MonthRecord, error) {
	if err := controlled.MayView(actorOf(ctx)); err != nil {
		return nil, nil, err
	}
	var sum controlled.Summary
	var rec *controlled.MonthRecord
	err := s.db.Read(ctx, func(tx *Tx) error {
		var sub controlled.Substance
		if err := tx.substance(substanceID, &sub); err != nil {
			return err
		}
		zone := tx.siteZone()
		local := t.In(zone)
		from := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, zone)
		ms, err := tx.movementsUntil(sub.ID, from.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		sum = controlled.Month(ms, sub.ID, t, zone)
		recs, err := tx.monthRecords(sub.ID, from.Format("2006-01"))
		if len(recs) == 1 {
			rec = &recs[0]
		}
		return err
	})
	return &sum, rec, err
}

// Annual draws a substance's annual statement for a year (R.5132-83).
func (s *ControlledStore) Annual(ctx context.Context, substanceID string, year int) (*controlled.Statement, error) {
	if err := controlled.MayView(actorOf(ctx)); err != nil {
		return nil, err
	}
	if year < 2000 || year > 9999 {
		return nil, errs.Field("year", "controlled.year")
	}
	var st controlled.Statement
	err := s.db.Read(ctx, func(tx *Tx) error {
		var sub controlled.Substance
		if err := tx.substance(substanceID, &sub); err != nil {
			return err
		}
		zone := tx.siteZone()
		ms, err := tx.movementsUntil(sub.ID, time.Date(year+1, 1, 1, 0, 0, 0, 0, zone))
		if err != nil {
			return err
		}
		st = controlled.Annual(ms, sub.ID, year, zone)
		return nil
	})
	return &st, err
}

// monthRecords reads the monthly balances recorded for a substance, of
// one month if named ("2006-01"), by month.
func (tx *Tx) monthRecords(substanceID, month string) ([]controlled.MonthRecord, error) {
	q, args := `SELECT substance_id, month, opening, received, issued, closing, first_serial, last_serial, movements, recorded_at
		FROM controlled_months WHERE substance_id = ?`, []any{substanceID}
	if month != "" {
		q, args = q+` AND month = ?`, append(args, month)
	}
	return collect(tx, q+` ORDER BY month`, args, func(sc scanner, r *controlled.MonthRecord) error {
		var o, in, out, c int64
		err := sc.Scan(&r.SubstanceID, &r.Month, &o, &in, &out, &c, &r.FirstSerial, &r.LastSerial, &r.Movements, &r.RecordedAt)
		r.Opening, r.Received, r.Issued, r.Closing, r.RecordedAt = controlled.Qty(o), controlled.Qty(in), controlled.Qty(out), controlled.Qty(c), r.RecordedAt.UTC()
		return err
	})
}

// MonthRecords lists a substance's recorded monthly balances.
func (s *ControlledStore) MonthRecords(ctx context.Context, substanceID string) ([]controlled.MonthRecord, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.MonthRecord, error) { return tx.monthRecords(substanceID, "") })
}

// RecordMonths records, for each substance, the monthly balance of every
// month ended since its first movement and not recorded yet (R.5132-81):
// galenix's own periodic work, on the leading node. It answers how many
// it recorded.
func (s *ControlledStore) RecordMonths(ctx context.Context) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	type due struct {
		id    string
		first time.Time
		last  string
	}
	var todo []due
	if err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		todo, err = collect(tx, `SELECT s.id, COALESCE((SELECT MAX(month) FROM controlled_months r WHERE r.substance_id = s.id), '') FROM controlled_substances s`,
			nil, func(sc scanner, d *due) error { return sc.Scan(&d.id, &d.last) })
		for i := range todo {
			// The first operation, read as a column (SQLite's MIN() of a
			// time is a string).
			err := tx.queryRow(`SELECT at FROM controlled_movements WHERE substance_id = ? AND state = ? ORDER BY at LIMIT 1`, todo[i].id,
				string(controlled.Validated)).Scan(&todo[i].first)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		// Only the substances with a month to record: most hours none,
		// and the periodic work then takes no write lock at all.
		zone := tx.siteZone()
		todo = slices.DeleteFunc(todo, func(d due) bool {
			return d.first.IsZero() || len(controlled.MonthsEnded(d.first, d.last, tx.now, zone)) == 0
		})
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range todo {
		if d.first.IsZero() {
			continue
		}
		err := s.db.Write(ctx, "controlled.month.record", "", func(tx *Tx) error {
			zone := tx.siteZone()
			months := controlled.MonthsEnded(d.first, d.last, tx.now, zone)
			if len(months) == 0 {
				return nil
			}
			ms, err := tx.movementsUntil(d.id, months[len(months)-1].AddDate(0, 1, 0))
			if err != nil {
				return err
			}
			for _, from := range months {
				r := controlled.RecordOf(controlled.Month(ms, d.id, from, zone), from.Format("2006-01"), tx.now)
				if _, err := tx.exec(`INSERT INTO controlled_months (substance_id, month, opening, received, issued, closing, first_serial, last_serial, movements, recorded_at)
					VALUES (?,?,?,?,?,?,?,?,?,?)`, d.id, r.Month, int64(r.Opening), int64(r.Received), int64(r.Issued), int64(r.Closing), r.FirstSerial,
					r.LastSerial, r.Movements, tx.now); err != nil {
					return err
				}
				if err := tx.Audit([]audit.Change{{Entity: substanceTable.entity, EntityID: d.id, Field: fieldMonth, New: r.Month + " " + r.Closing.String()}}, ""); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// fieldMonth is the audit trail's name of a monthly balance recorded: its
// month and closing balance.
const fieldMonth = "month_closed"

var establishmentTable = table{"controlled_establishment", "controlled_establishment", []string{"authorisation", "authorised_on", "pharmacist"}}

// Establishment reads the authorisation the register prints; an empty one
// before it is set.
func (s *ControlledStore) Establishment(ctx context.Context) (*controlled.Establishment, error) {
	return view(ctx, s, func(tx *Tx) (*controlled.Establishment, error) {
		var e controlled.Establishment
		return &e, tx.establishment(&e)
	})
}

func (tx *Tx) establishment(e *controlled.Establishment) error {
	err := tx.queryRow(`SELECT id, authorisation, authorised_on, pharmacist, version FROM controlled_establishment`).Scan(&e.ID, &e.Authorisation,
		&e.AuthorisedOn, &e.Pharmacist, &e.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// SetEstablishment sets the authorisation the register prints: the first
// time as a record created, then as a change with its reason, at the
// version read.
func (s *ControlledStore) SetEstablishment(ctx context.Context, e *controlled.Establishment, reason string) error {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "controlled.establishment.set", reason, func(tx *Tx) error {
		var old controlled.Establishment
		if err := tx.establishment(&old); err != nil {
			return err
		}
		r := row{"authorisation": e.Authorisation, "authorised_on": e.AuthorisedOn, "pharmacist": e.Pharmacist}
		if old.ID == "" {
			e.ID = NewID()
			return create(tx, establishmentTable, e.ID, e, r)
		}
		e.ID = old.ID
		return update(tx, establishmentTable, old.ID, &old, e, r)
	})
}

// Reconcile confronts, per batch, what the master records say the batches
// take of a substance with what the register dispensed to them, net of
// returns (controlled.Reconciliation): the batches with a dispensing or a
// return of the substance in the period [f.From, f.To) (any time when
// zero). A batch of a client outside the reader's scope is counted but not
// named.
func (s *ControlledStore) Reconcile(ctx context.Context, f controlled.Filter) ([]controlled.Reconciliation, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.Reconciliation, error) {
		return tx.reconcile(f.SubstanceID, f.From, f.To, nil)
	})
}

// reconcile draws the reconciliation lines of a substance's batches: those
// with movements in [from, to), or, when states are given, those in one of
// the states (any time).
func (tx *Tx) reconcile(substanceID string, from, to time.Time, states []string) ([]controlled.Reconciliation, error) {
	var sub controlled.Substance
	if err := tx.substance(substanceID, &sub); err != nil {
		return nil, asField(err, "substance_id")
	}
	q, args := `SELECT DISTINCT m.batch_id FROM controlled_movements m WHERE m.substance_id = ? AND m.state = ? AND m.kind IN ('dispensing', 'return')`,
		[]any{sub.ID, string(controlled.Validated)}
	if !from.IsZero() {
		q, args = q+` AND m.at >= ?`, append(args, from.UTC())
	}
	if !to.IsZero() {
		q, args = q+` AND m.at < ?`, append(args, to.UTC())
	}
	var batchIDs []string
	if err := tx.each(q, args, func(sc scanner) error {
		var id string
		err := sc.Scan(&id)
		batchIDs = append(batchIDs, id)
		return err
	}); err != nil {
		return nil, err
	}
	var unit string
	if sub.MaterialID != "" {
		if err := tx.queryRow(`SELECT unit FROM materials WHERE id = ?`, sub.MaterialID).Scan(&unit); err != nil {
			return nil, err
		}
	}
	scope := tx.actor.ClientScope()
	out := []controlled.Reconciliation{}
	err := tx.unscoped(func() error {
		for _, id := range batchIDs {
			var lot, state, client string
			if err := tx.queryRow(`SELECT lot, state, CAST(client_id AS TEXT) FROM batches WHERE id = ?`, id).Scan(&lot, &state, &client); err != nil {
				return err
			}
			if states != nil && !slices.Contains(states, state) {
				continue
			}
			r := controlled.Reconciliation{BatchID: id, Batch: lot, State: state, SubstanceID: sub.ID, Substance: sub.Code, Unit: sub.Unit}
			steps, err := tx.steps(id)
			if err != nil {
				return err
			}
			for _, st := range steps {
				if st.Step.Kind != production.StepMaterial || sub.MaterialID == "" || st.Step.MaterialID != sub.MaterialID {
					continue
				}
				q, err := controlled.Convert(st.Step.Quantity, unit, sub.Unit)
				if err != nil {
					return err
				}
				r.Theoretical += q
				r.Tolerance += controlled.Qty(float64(q)*st.Step.Tolerance/100 + 0.5)
			}
			ms, err := collect(tx, `SELECT `+movementCols+movementFrom+` WHERE m.batch_id = ? AND m.substance_id = ?`, []any{id, sub.ID}, scanMovement)
			if err != nil {
				return err
			}
			r.Reconcile(ms)
			if !scope.Has(client) {
				r.BatchID, r.Batch = "", ""
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// ReconcileBatches raises, once per batch, each batch done on the floor
// whose net dispensing of a controlled substance departs from its master
// record's beyond the tolerance, and opens that batch's deviation: the
// leading node's periodic work. It answers how many it raised.
func (s *ControlledStore) ReconcileBatches(ctx context.Context) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	done := []string{string(production.BatchCompleted), string(production.BatchInReview), string(production.BatchQAReviewed),
		string(production.BatchCertified), string(production.BatchRejected)}
	var due []controlled.Reconciliation
	if err := s.db.Read(ctx, func(tx *Tx) error {
		subs, err := collect(tx, `SELECT `+substanceCols+` FROM controlled_substances s`, nil, scanSubstance)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			lines, err := tx.reconcile(sub.ID, time.Time{}, time.Time{}, done)
			if err != nil {
				return err
			}
			for _, l := range lines {
				var n int
				if err := tx.queryRow(`SELECT COUNT(*) FROM controlled_alerts WHERE kind = ? AND ref = ?`, string(controlled.AlertReconciliation),
					l.BatchID+"/"+l.SubstanceID).Scan(&n); err != nil {
					return err
				}
				if !l.Within && n == 0 {
					due = append(due, l)
				}
			}
		}
		return nil
	}); err != nil || len(due) == 0 {
		return 0, err
	}
	n := 0
	err := s.db.Write(ctx, "controlled.reconcile", "", func(tx *Tx) error {
		for _, l := range due {
			var client string
			if err := tx.queryRow(`SELECT CAST(client_id AS TEXT) FROM batches WHERE id = ?`, l.BatchID).Scan(&client); err != nil {
				return err
			}
			title := text.Code("stored.controlled.reconciliation", text.Str(l.Batch), text.Str(l.Substance), text.Arg{Num: (l.Dispensed - l.Returned).String()},
				text.Arg{Num: l.Theoretical.String()}, text.Str(l.Unit))
			d := quality.RegisterDeviation(client, title, title.String(), "", tx.now)
			d.BatchID, d.BatchLot = l.BatchID, l.Batch
			if err := tx.openRegisterDeviation(d, map[string]any{"batch_id": d.BatchID}); err != nil {
				return err
			}
			raised, err := tx.raiseOnce(controlled.AlertReconciliation, l.SubstanceID, l.BatchID+"/"+l.SubstanceID, text.Code("controlled.alert.reconciliation_detail",
				text.Str(l.Batch), text.Arg{Num: (l.Dispensed - l.Returned).String()}, text.Arg{Num: l.Theoretical.String()}, text.Str(l.Unit), text.Str(d.Code)))
			if err != nil {
				return err
			}
			if raised {
				n++
			}
		}
		return nil
	})
	return n, err
}

// openRegisterDeviation numbers and records a deviation the register
// opens (quality.RegisterDeviation), audited as its client's, and tells
// the outbox with what opened it. The register is the site's: whoever
// acts opens the client's deviation, assigned to that client or not.
func (tx *Tx) openRegisterDeviation(d *quality.Deviation, about map[string]any) error {
	seq, err := tx.nextNumber("deviation")
	if err != nil {
		return err
	}
	d.ID, d.Code, d.OpenedName = NewID(), production.DeviationCode(tx.now, seq), actorName(tx.actor)
	if err := tx.unscoped(func() error { return createClientRecord(tx, devTable, d.ID, d.ClientID, d, deviationRow(d)) }); err != nil {
		return err
	}
	about["code"] = d.Code
	tx.enqueue(outbox.DeviationOpened, devTable.entity, d.ID, d.ClientID, about)
	return nil
}
