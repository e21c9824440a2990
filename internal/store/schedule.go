package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"galenix/internal/errs"
	"galenix/internal/production"
	"galenix/internal/site"
)

// --- maintenance windows

// Windows lists a line's maintenance windows (all lines' when lineID is
// empty), from a week ago on.
func (s *ProductionStore) Windows(ctx context.Context, lineID string) ([]production.Window, error) {
	var out []production.Window
	err := s.db.Read(ctx, func(tx *Tx) error {
		if !isStaff(tx.actor) {
			out = []production.Window{}
			return nil
		}
		q, args := where(`SELECT `+windowCols+` FROM line_windows`, "line_id", lineID)
		var err error
		out, err = collect(tx, q+` ORDER BY start_at`, args, scanWindow)
		return err
	})
	return out, err
}

// CreateWindow plans a maintenance window on a line; a batch scheduled in
// it must move first.
func (s *ProductionStore) CreateWindow(ctx context.Context, w *production.Window) error {
	return s.db.Write(ctx, "line_window.create", "", func(tx *Tx) error {
		if err := production.MayPlanMaintenance(tx.actor); err != nil {
			return err
		}
		return tx.createWindow(w)
	})
}

// createWindow records a maintenance window in this transaction.
func (tx *Tx) createWindow(w *production.Window) error {
	if err := w.Validate(); err != nil {
		return err
	}
	var line site.Line
	if err := tx.line(w.LineID, &line); err != nil {
		return asField(err, "line_id")
	}
	slots, err := tx.slots([]string{line.ID}, w.Start, w.End)
	if err != nil {
		return err
	}
	for _, s := range slots {
		return production.RuleError(production.RuleMaintenance, "store.rule.window_taken", production.SlotName(s), line.Code)
	}
	w.ID = NewID()
	return create(tx, windowTable, w.ID, w, row{"line_id": w.LineID, "start_at": w.Start, "end_at": w.End, "reason": w.Reason})
}

// --- the schedule and its capacity

// buildingLines lists the lines of a building (every line when empty).
func (tx *Tx) buildingLines(buildingID string) ([]site.Line, error) {
	q, args := where(`SELECT `+lineCols+` FROM lines`, "building_id", buildingID)
	return collect(tx, q+` ORDER BY code`, args, scanLine)
}

func lineIDs(lines []site.Line) []string {
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.ID
	}
	return ids
}

// Schedule returns the plan of a building's lines over a period: every
// batch placed on them, those of clients outside the actor's scope as
// reserved slots, and the maintenance windows.
func (s *ProductionStore) Schedule(ctx context.Context, f production.ScheduleFilter) (*production.Schedule, error) {
	out := &production.Schedule{From: f.From.UTC(), To: f.To.UTC(), Lines: []production.ScheduleLine{}, Windows: []production.Window{}}
	if !f.To.After(f.From) || f.To.Sub(f.From) > 92*24*time.Hour {
		return nil, errs.Field("to", "store.period_must_end_after")
	}
	err := s.db.Read(ctx, func(tx *Tx) error {
		if !isStaff(tx.actor) || needProductionView(tx.actor) != nil {
			return errs.E(errs.Forbidden, "store.schedule_lines_site_staff")
		}
		lines, err := tx.buildingLines(f.BuildingID)
		if err != nil {
			return err
		}
		slots, err := tx.slots(lineIDs(lines), out.From, out.To)
		if err != nil {
			return err
		}
		hide(slots)
		by := map[string][]production.Slot{}
		for _, sl := range slots {
			by[sl.LineID] = append(by[sl.LineID], sl)
		}
		for _, l := range lines {
			out.Lines = append(out.Lines, production.ScheduleLine{Line: l, Slots: append([]production.Slot{}, by[l.ID]...)})
		}
		w, err := tx.windows(lineIDs(lines), out.From, out.To)
		if w != nil {
			out.Windows = w
		}
		return err
	})
	return out, err
}

// Capacity returns the load of a building's lines over the week holding
// the given day (from Monday 00:00, site time).
func (s *ProductionStore) Capacity(ctx context.Context, buildingID string, week time.Time) (*production.Capacity, error) {
	out := &production.Capacity{Lines: []production.LineCapacity{}}
	err := s.db.Read(ctx, func(tx *Tx) error {
		if !isStaff(tx.actor) || needProductionView(tx.actor) != nil {
			return errs.E(errs.Forbidden, "store.capacity_lines_site_staff")
		}
		lines, err := tx.buildingLines(buildingID)
		if err != nil {
			return err
		}
		cal, err := tx.calendar()
		if err != nil {
			return err
		}
		from, to := production.WeekOf(week, cal.Location())
		out.Week = from
		slots, err := tx.slots(lineIDs(lines), from, to)
		if err != nil {
			return err
		}
		windows, err := tx.windows(lineIDs(lines), from, to)
		if err != nil {
			return err
		}
		out.Lines = production.Load(lines, cal, slots, windows, from, to)
		return nil
	})
	return out, err
}

// Changed returns a mark of the batches in the actor's scope: it changes
// whenever one of them does.
func (s *ProductionStore) Changed(ctx context.Context) (string, error) {
	var n, done, exc int64
	var last sql.NullString
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		cond, args := inScope("client_id", tx.actor.ClientScope())
		return tx.queryRow(`SELECT COUNT(*), COALESCE(SUM(steps_done), 0), COALESCE(SUM(exceptions), 0), CAST(MAX(updated_at) AS TEXT) FROM batches WHERE `+cond, args...).
			Scan(&n, &done, &exc, &last)
	})
	return strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(done, 10) + "/" + strconv.FormatInt(exc, 10) + "/" + last.String, err
}
