package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/text"
)

// --- batches

const batchSelect = `SELECT b.id, b.client_id, b.order_id, b.product_id, b.master_id, b.lot, b.quantity, b.unit, b.state,
	COALESCE(CAST(b.line_id AS TEXT), ''), b.start_at, b.end_at, b.steps_total, b.steps_done, b.exceptions,
	p.name, p.code, p.form, p.special_class, p.sterile, m.code, m.version, m.hours, COALESCE(l.code, ''), o.due_on, b.updated_at
	FROM batches b JOIN products p ON p.id = b.product_id JOIN masters m ON m.id = b.master_id
	JOIN orders o ON o.id = b.order_id LEFT JOIN lines l ON l.id = b.line_id`

func scanBatch(sc scanner, b *production.Batch) error {
	var start, end readableTime
	err := sc.Scan(&b.ID, &b.ClientID, &b.OrderID, &b.ProductID, &b.MasterID, &b.Lot, &b.Quantity, &b.Unit, &b.State,
		&b.LineID, &start, &end, &b.StepsTotal, &b.StepsDone, &b.Exceptions,
		&b.Product, &b.ProductCode, &b.Form, &b.Class, &b.Sterile, &b.MasterCode, &b.Version, &b.Hours, &b.LineCode, &b.DueOn, &b.Updated)
	b.Start, b.End = timePtr(start.NullTime), timePtr(end.NullTime)
	b.DueOn, b.Updated = b.DueOn.UTC(), b.Updated.UTC()
	b.Unreadable = start.bad || end.bad
	return err
}

// readableTime reads a nullable time that may not be readable: one stored
// past year 9999 (SQLite keeps it as text no driver reads back as a time;
// PostgreSQL reads it, but no JSON or RFC 3339 writes it). Such a time
// reads as none and bad is set, so that the row is answered flagged, never
// failing the list it is in (see unreadable).
type readableTime struct {
	sql.NullTime
	bad bool
}

func (t *readableTime) Scan(src any) error {
	if err := t.NullTime.Scan(src); err != nil || (t.Valid && (t.Time.Year() < 0 || t.Time.Year() > 9999)) {
		t.NullTime, t.bad = sql.NullTime{}, true
	}
	return nil
}

// unreadable logs the batches read with a value that cannot be read back
// (production.Batch.Unreadable), to be repaired: rescheduling the batch
// writes its times again.
func (tx *Tx) unreadable(bs ...production.Batch) {
	for _, b := range bs {
		if b.Unreadable {
			tx.db.log.Error("a batch holds a value that cannot be read back; it is answered flagged unreadable", "batch_id", b.ID, "lot", b.Lot)
		}
	}
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Batches lists the batches of the clients in the actor's scope.
func (s *ProductionStore) Batches(ctx context.Context, f production.BatchFilter) ([]production.Batch, error) {
	var out []production.Batch
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		var err error
		out, err = tx.batches(f)
		return err
	})
	return out, err
}

// SearchBatches answers the page of batches in the actor's scope that f
// asks for, in schedule order, and how many match f in all.
func (s *ProductionStore) SearchBatches(ctx context.Context, f production.BatchFilter) ([]production.Batch, int, error) {
	var out []production.Batch
	var total int
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		q, args := tx.batchQuery(f)
		var err error
		out, total, err = paged(tx, q, args, batchOrder, f.Limit, f.Offset, scanBatch)
		tx.unreadable(out...)
		return err
	})
	return out, total, err
}

// batchOrder is the order of the lists of batches: schedule order
// (unscheduled last), then by lot.
const batchOrder = `CASE WHEN b.start_at IS NULL THEN 1 ELSE 0 END, b.start_at, b.lot, b.id`

// batchQuery selects the batches in the actor's scope matching the filter
// (its page aside).
func (tx *Tx) batchQuery(f production.BatchFilter) (string, []any) {
	cond, args := inScope("b.client_id", tx.actor.ClientScope())
	q, args := andIDFilters(batchSelect+` WHERE `+cond, args, "b.client_id", f.ClientID, "b.line_id", f.LineID, "b.order_id", f.OrderID)
	if f.Lot != "" {
		q += ` AND b.lot = ?`
		args = append(args, f.Lot)
	}
	if len(f.States) > 0 {
		q += ` AND b.state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q, args = andPeriod(q, args, "b.start_at", f.From, f.To)
	return andSearch(q, args, f.Query, "b.lot", "p.code", "p.name")
}

// batches lists the batches in the actor's scope matching the filter, in
// schedule order (unscheduled last), then by lot.
func (tx *Tx) batches(f production.BatchFilter) ([]production.Batch, error) {
	q, args := tx.batchQuery(f)
	q += ` ORDER BY ` + batchOrder
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(f.Offset, 0))
	}
	out, err := collect(tx, q, args, scanBatch)
	tx.unreadable(out...)
	return out, err
}

// collect runs a query in this transaction and scans each row.
// idSet reads a query's one column of ids into a set.
func idSet(tx *Tx, q string, args ...any) (map[string]bool, error) {
	ids, err := collect(tx, q, args, func(sc scanner, id *string) error { return sc.Scan(id) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

func collect[T any](tx *Tx, q string, args []any, scan func(scanner, *T) error) ([]T, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Batch returns one batch in the actor's scope.
func (s *ProductionStore) Batch(ctx context.Context, id string) (*production.Batch, error) {
	var b *production.Batch
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		var err error
		b, err = tx.batch(id)
		return err
	})
	return b, err
}

// NextStep returns the batch's next step, the first not done (recorded and
// waiting for its signatures, or pending); nil when every step is done.
// Those who execute batches read it.
func (s *ProductionStore) NextStep(ctx context.Context, batchID string) (*production.StepRecord, error) {
	var r *production.StepRecord
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := production.MayExecute(tx.actor); err != nil {
			return err
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		r, err = tx.nextStep(b.ID)
		return err
	})
	return r, err
}

// batch reads a batch in the actor's scope; outside, it is not found.
func (tx *Tx) batch(id string) (*production.Batch, error) {
	var b production.Batch
	cond, args := inScope("b.client_id", tx.actor.ClientScope())
	err := tx.byID(batchSelect+` WHERE b.id = ? AND `+cond, id, func(sc scanner) error { return scanBatch(sc, &b) },
		"store.no_such_batch", args...)
	if err == nil {
		tx.unreadable(b)
	}
	return &b, err
}

// saveBatch writes a batch's changed fields and audits them.
func (tx *Tx) saveBatch(old, b *production.Batch) error {
	if _, err := tx.exec(`UPDATE batches SET state = ?, line_id = ?, start_at = ?, end_at = ?, steps_done = ?, exceptions = ?, updated_at = ? WHERE id = ?`,
		string(b.State), nullable(b.LineID), b.Start, b.End, b.StepsDone, b.Exceptions, tx.now, b.ID); err != nil {
		return err
	}
	// Its times are written again: a row unreadable before is repaired.
	b.Updated, b.Unreadable = tx.now, false
	tx.enqueueBatch(old, b)
	return tx.Audit(audit.Diff(batchTable.entity, b.ID, old.AuditFields(), b.AuditFields()), b.ClientID)
}

// ScheduleBatch places a batch on a line at a time, by the rules of the
// schedule; a start in the past is refused, but in a history load (the
// demo's past batches, see WriteHistory).
func (s *ProductionStore) ScheduleBatch(ctx context.Context, id string, r production.ScheduleRequest, reason string) (*production.Batch, error) {
	var b *production.Batch
	err := s.db.Write(ctx, "batch.schedule", reason, func(tx *Tx) error {
		var err error
		b, err = tx.scheduleBatch(id, r, tx.history)
		return err
	})
	return b, err
}

// scheduleBatch reads what placing the batch needs (production.PlanSlot,
// production.PlaceBatch) and saves the batch placed.
func (tx *Tx) scheduleBatch(id string, r production.ScheduleRequest, history bool) (*production.Batch, error) {
	if err := production.MaySchedule(tx.actor, r, tx.now, history); err != nil {
		return nil, err
	}
	b, err := tx.batch(id)
	if err != nil {
		return nil, err
	}
	slot, err := production.PlanSlot(tx.actor, b, r, tx.now, history)
	if err != nil {
		return nil, err
	}
	var c production.Scheduling
	if err := tx.line(r.LineID, &c.Line); err != nil {
		return nil, asField(err, "line_id")
	}
	if err := tx.productByID(b.ProductID, &c.Product); err != nil {
		return nil, err
	}
	from, to := slot.Around()
	if c.Others, err = tx.slots([]string{c.Line.ID}, from, to); err != nil {
		return nil, err
	}
	if c.Windows, err = tx.windows([]string{c.Line.ID}, slot.Start, slot.End); err != nil {
		return nil, err
	}
	if c.Calendar, err = tx.calendar(); err != nil {
		return nil, err
	}
	placed, err := production.PlaceBatch(*b, slot, c)
	if err != nil {
		return nil, err
	}
	if err := tx.saveBatch(b, &placed); err != nil {
		return nil, err
	}
	return &placed, nil
}

// slots reads the batches placed on the lines over a period, every
// client's: the rules of the schedule must see them all. A batch outside
// the actor's scope is hidden: its lot, client and product are blanked.
func (tx *Tx) slots(lines []string, from, to time.Time) ([]production.Slot, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	args := []any{}
	for _, l := range lines {
		args = append(args, l)
	}
	args = append(args, to, from)
	q := `SELECT b.id, b.lot, b.client_id, b.product_id, p.special_class, b.state, CAST(b.line_id AS TEXT), b.start_at, b.end_at
		FROM batches b JOIN products p ON p.id = b.product_id
		WHERE b.line_id IN (?` + strings.Repeat(", ?", len(lines)-1) + `) AND b.start_at < ? AND b.end_at > ? ORDER BY b.start_at`
	var out []production.Slot
	err := tx.unscoped(func() error {
		var err error
		out, err = collect(tx, q, args, func(sc scanner, s *production.Slot) error {
			err := sc.Scan(&s.BatchID, &s.Lot, &s.ClientID, &s.ProductID, &s.Class, &s.State, &s.LineID, &s.Start, &s.End)
			s.Start, s.End = s.Start.UTC(), s.End.UTC()
			return err
		})
		return err
	})
	scope := tx.actor.ClientScope()
	for i := range out {
		if !scope.Has(out[i].ClientID) {
			// The rules compared it whole; the reader sees a reserved slot.
			out[i].Hidden = true
		}
	}
	return out, err
}

// hide blanks what a hidden slot must not show.
func hide(s []production.Slot) []production.Slot {
	for i := range s {
		if s[i].Hidden {
			s[i].BatchID, s[i].Lot, s[i].ClientID, s[i].ProductID, s[i].Class, s[i].State = "", "", "", "", "", ""
		}
	}
	return s
}

const windowCols = `id, line_id, start_at, end_at, reason`

func scanWindow(sc scanner, w *production.Window) error {
	err := sc.Scan(&w.ID, &w.LineID, &w.Start, &w.End, &w.Reason)
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	return err
}

// windows reads the maintenance windows of the lines over a period.
func (tx *Tx) windows(lines []string, from, to time.Time) ([]production.Window, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	args := []any{}
	for _, l := range lines {
		args = append(args, l)
	}
	args = append(args, to, from)
	return collect(tx, `SELECT `+windowCols+` FROM line_windows WHERE line_id IN (?`+strings.Repeat(", ?", len(lines)-1)+`) AND start_at < ? AND end_at > ? ORDER BY start_at`, args, scanWindow)
}

// calendar reads the site's shift calendar.
func (tx *Tx) calendar() (production.Calendar, error) {
	shifts, err := collect(tx, `SELECT `+shiftCols+` FROM shifts ORDER BY code`, nil, scanShift)
	return production.Calendar{Shifts: shifts, Zone: tx.siteZone()}, err
}

// MoveBatch applies a move to a batch: unschedule, release to the floor,
// complete, take into QA review.
func (s *ProductionStore) MoveBatch(ctx context.Context, id string, mv production.BatchMove, reason string) (*production.Batch, error) {
	var b *production.Batch
	err := s.db.Write(ctx, "batch.move", reason, func(tx *Tx) error {
		var err error
		b, err = tx.moveBatch(id, mv)
		return err
	})
	return b, err
}

// moveBatch applies a move other than scheduling as the domain decides it
// (production.MoveBatch): release copies the master's steps into the
// batch's record; completion leaves the equipment used dirty.
func (tx *Tx) moveBatch(id string, mv production.BatchMove) (*production.Batch, error) {
	if err := production.MayMove(tx.actor, mv); err != nil {
		return nil, err
	}
	b, err := tx.batch(id)
	if err != nil {
		return nil, err
	}
	c := production.Moving{Actor: tx.actor, Batch: *b}
	if mv == production.MoveComplete {
		if c.Next, err = tx.nextStep(b.ID); err != nil {
			return nil, err
		}
	}
	out, err := production.MoveBatch(c, mv)
	if err != nil {
		return nil, err
	}
	moved := &out.Batch
	if out.Release {
		if err := tx.releaseSteps(moved); err != nil {
			return nil, err
		}
	}
	if out.Dirty {
		if err := tx.equipmentAfterUse(moved); err != nil {
			return nil, err
		}
	}
	if err := tx.saveBatch(b, moved); err != nil {
		return nil, err
	}
	return moved, nil
}

// equipmentAfterUse marks dirty the equipment a completed batch used.
func (tx *Tx) equipmentAfterUse(b *production.Batch) error {
	ids, err := collect(tx, `SELECT DISTINCT CAST(equipment_id AS TEXT) FROM batch_steps WHERE batch_id = ? AND equipment_id IS NOT NULL`, []any{b.ID},
		func(sc scanner, s *string) error { return sc.Scan(s) })
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.setEquipmentStatus(id, site.EquipmentDirty); err != nil {
			return err
		}
	}
	return nil
}

// setEquipmentStatus follows a piece of equipment's use: clean → in use →
// dirty.
func (tx *Tx) setEquipmentStatus(id string, to site.EquipmentStatus) error {
	var e site.Equipment
	if err := tx.equipment(id, &e); err != nil {
		return err
	}
	if e.Status == to {
		return nil
	}
	if _, err := tx.exec(`UPDATE equipment SET status = ? WHERE id = ?`, string(to), id); err != nil {
		return err
	}
	return tx.Audit([]audit.Change{{Entity: equipmentTable.entity, EntityID: id, Field: "status", Old: string(e.Status), New: string(to)}}, "")
}

// releaseSteps copies the steps of the batch's master version into its
// record: the batch keeps them whatever happens to the master later.
func (tx *Tx) releaseSteps(b *production.Batch) error {
	var m production.Master
	if err := tx.masterByID(b.MasterID, &m); err != nil {
		return err
	}
	const row = `(?,?,?,?,?,?,?,?)`
	var args []any
	n, seq := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := tx.exec(`INSERT INTO batch_steps (id, batch_id, client_id, seq, op, op_title, step, state) VALUES `+row+strings.Repeat(","+row, n-1), args...)
		args, n = args[:0], 0
		return err
	}
	for _, op := range m.Operations {
		for _, st := range op.Steps {
			seq++
			body, err := stepJSON(st)
			if err != nil {
				return err
			}
			args = append(args, NewID(), b.ID, b.ClientID, seq, op.No, op.Title, body, string(production.StepPending))
			if n++; n == 50 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	b.StepsTotal, b.StepsDone, b.Exceptions = seq, 0, 0
	if _, err := tx.exec(`UPDATE batches SET steps_total = ? WHERE id = ?`, seq, b.ID); err != nil {
		return err
	}
	return tx.Audit([]audit.Change{{Entity: batchTable.entity, EntityID: b.ID, Field: "record",
		New: text.Code("stored.batch.record_created", text.Num(float64(seq), 0), text.Str(m.Code), text.Num(float64(m.Version), 0)).String()}}, b.ClientID)
}
