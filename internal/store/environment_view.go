package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// SensorStatuses returns the sensors of the places (all sensors when
// places is empty) with their status, by code; detail adds each one's
// last reading and limits (for a room's few sensors, not the whole site).
func (e *EnvironmentStore) SensorStatuses(ctx context.Context, places []string, detail bool) ([]environment.SensorStatus, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	var out []environment.SensorStatus
	err := e.db.Read(ctx, func(tx *Tx) error {
		q := `SELECT ` + sensorCols + ` FROM environment_sensors`
		var args []any
		if len(places) > 0 {
			q += ` WHERE CAST(place_id AS TEXT) IN (?` + strings.Repeat(", ?", len(places)-1) + `)`
			for _, p := range places {
				args = append(args, p)
			}
		}
		rows, err := tx.query(q+` ORDER BY code`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s environment.SensorStatus
			if err := scanSensor(rows, &s.Sensor); err != nil {
				rows.Close()
				return err
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		byID := map[string]*environment.SensorStatus{}
		for i := range out {
			byID[out[i].Sensor.ID] = &out[i]
		}
		rows, err = tx.query(`SELECT sensor_id, state FROM environment_machines`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, state string
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return err
			}
			s := byID[id]
			if s == nil {
				continue
			}
			var m environment.Machine
			if err := json.Unmarshal([]byte(state), &m); err != nil {
				rows.Close()
				return err
			}
			s.Level, s.Heard, s.Silent = m.Level, !m.Last.IsZero(), m.Silence != nil
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = tx.query(`SELECT sensor_id, COUNT(*) FROM environment_alarms WHERE end_at IS NULL GROUP BY sensor_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			if s := byID[id]; s != nil {
				s.OpenAlarms = n
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if !detail {
			return nil
		}
		for i := range out {
			s := &out[i]
			r, err := scanReading(tx.queryRow(`SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE sensor_id = ?
				ORDER BY at DESC, seq DESC LIMIT 1`, s.Sensor.ID))
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				s.Last = &r
			}
			if s.Limits, err = tx.limitsIfAny(s.Sensor.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// RoomsInOperation returns the rooms in operation at the transaction's
// time: those holding a line with a batch in progress (the batch record
// decides, environment.RoomStateAt). It names rooms only, never a batch,
// so it reads every client's batches.
func (e *EnvironmentStore) RoomsInOperation(ctx context.Context) (map[string]bool, time.Time, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, time.Time{}, err
	}
	var out map[string]bool
	var now time.Time
	err := e.db.Read(ctx, func(tx *Tx) error {
		now = tx.now
		return tx.unscoped(func() (err error) {
			out, err = idSet(tx, `SELECT DISTINCT l.room_id FROM batches b JOIN lines l ON l.id = b.line_id WHERE b.state = ?`,
				string(production.BatchInProgress))
			return err
		})
	})
	return out, now, err
}

// BatchReport returns the environment of the room where a batch was made,
// from its first step recorded to its last (its planned times before
// that): for the staff who review or release batches, and for the batch's
// client laboratory once certified when its agreement delivers the
// environment report (quality.Dossier.MayDeliver), without who
// acknowledged the alarms.
func (e *EnvironmentStore) BatchReport(ctx context.Context, batchID string) (*environment.BatchReport, error) {
	var out *environment.BatchReport
	err := e.db.Read(ctx, func(tx *Tx) error {
		b, ds, _, err := tx.dossierOf(batchID)
		if err != nil {
			return err
		}
		if err := ds.MayDeliver(tx.actor, quality.DocEnvironmentReport); err != nil {
			return err
		}
		rep := &environment.BatchReport{BatchID: b.ID, Lot: b.Lot, Sensors: []environment.SensorSummary{}, Alarms: []environment.Alarm{}}
		var roomID string
		if err := tx.queryRow(`SELECT r.id, r.code, r.name, r.grade FROM lines l JOIN rooms r ON r.id = l.room_id WHERE l.id = ?`, b.LineID).
			Scan(&roomID, &rep.RoomCode, &rep.RoomName, &rep.Grade); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "store.no_such_batch")
			}
			return err
		}
		// The first and last steps recorded (an aggregate's time is text
		// on SQLite: the rows themselves are read).
		var first, last sql.NullTime
		for _, q := range []struct {
			order string
			to    *sql.NullTime
		}{{"ASC", &first}, {"DESC", &last}} {
			err := tx.queryRow(`SELECT performed_at FROM batch_steps WHERE batch_id = ? AND performed_at IS NOT NULL ORDER BY performed_at `+q.order+` LIMIT 1`, b.ID).Scan(q.to)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		switch {
		case first.Valid && last.Valid:
			rep.From, rep.To = first.Time.UTC(), last.Time.UTC().Add(time.Second)
		case b.Start != nil && b.End != nil:
			rep.From, rep.To = b.Start.UTC(), b.End.UTC()
		default:
			out = rep
			return nil
		}
		sensors, err := collect(tx, `SELECT `+sensorCols+` FROM environment_sensors WHERE CAST(place_id AS TEXT) = ?
			OR CAST(place_id AS TEXT) IN (SELECT CAST(id AS TEXT) FROM lines WHERE room_id = ?)
			OR CAST(place_id AS TEXT) IN (SELECT CAST(q.id AS TEXT) FROM equipment q JOIN lines l ON l.id = q.line_id WHERE l.room_id = ?)
			ORDER BY code`, []any{roomID, roomID, roomID},
			func(sc scanner, s *environment.SensorSummary) error { return scanSensor(sc, &s.Sensor) })
		if err != nil {
			return err
		}
		rep.Sensors = append(rep.Sensors, sensors...)
		for i := range rep.Sensors {
			s := &rep.Sensors[i]
			var lo, hi, mean sql.NullFloat64
			if err := tx.queryRow(`SELECT COUNT(*), MIN(value), MAX(value), AVG(value) FROM environment_readings WHERE sensor_id = ? AND at >= ? AND at < ?`,
				s.Sensor.ID, rep.From, rep.To).Scan(&s.Count, &lo, &hi, &mean); err != nil {
				return err
			}
			s.Min, s.Max, s.Mean = lo.Float64, hi.Float64, mean.Float64
			if s.Limits, err = tx.limitsIfAny(s.Sensor.ID); err != nil {
				return err
			}
			as, err := collect(tx, `SELECT `+alarmCols+` FROM environment_alarms WHERE sensor_id = ? AND start_at < ? AND (end_at IS NULL OR end_at > ?) ORDER BY start_at, id`,
				[]any{s.Sensor.ID, rep.To, rep.From}, scanAlarm)
			if err != nil {
				return err
			}
			rep.Alarms = append(rep.Alarms, as...)
		}
		if tx.actor.IsClient() {
			rep.Blank()
		}
		out = rep
		return nil
	})
	return out, err
}

// limitsIfAny reads a sensor's limits, nil when none are set.
func (tx *Tx) limitsIfAny(sensorID string) (*environment.Limits, error) {
	var l environment.Limits
	switch err := tx.limits(sensorID, &l); {
	case err == nil:
		return &l, nil
	case errs.CodeOf(err) != errs.NotFound:
		return nil, err
	}
	return nil, nil
}
