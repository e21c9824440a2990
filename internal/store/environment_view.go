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
			var l environment.Limits
			switch err := tx.limits(s.Sensor.ID, &l); {
			case err == nil:
				s.Limits = &l
			case errs.CodeOf(err) != errs.NotFound:
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
