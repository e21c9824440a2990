package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// --- alarms

const alarmCols = `id, record`

func scanAlarm(sc scanner, a *environment.Alarm) error {
	var id, rec string
	if err := sc.Scan(&id, &rec); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(rec), a); err != nil {
		return err
	}
	a.ID = id
	return nil
}

func orNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// Alarms lists a sensor's alarms, newest first, at most limit (1 to 1000).
func (e *EnvironmentStore) Alarms(ctx context.Context, sensorID string, limit int) ([]environment.Alarm, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(sensorID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	limit = max(1, min(limit, 1000))
	return list(ctx, e.db, `SELECT `+alarmCols+` FROM environment_alarms WHERE sensor_id = ? ORDER BY start_at DESC, id DESC LIMIT `+strconv.Itoa(limit),
		[]any{sensorID}, scanAlarm)
}

// Alarm returns one alarm.
func (e *EnvironmentStore) Alarm(ctx context.Context, id string) (*environment.Alarm, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	var a environment.Alarm
	err := e.db.Read(ctx, func(tx *Tx) error { return tx.alarm(id, &a) })
	return &a, err
}

func (tx *Tx) alarm(id string, a *environment.Alarm) error {
	return tx.byID(`SELECT `+alarmCols+` FROM environment_alarms WHERE id = ?`, id, func(sc scanner) error { return scanAlarm(sc, a) },
		"environment.alarm.not_found")
}

// alarmLocked reads an alarm and locks it until the commit: its course
// and its acknowledgement are written one at a time.
func (tx *Tx) alarmLocked(id string, a *environment.Alarm) error {
	q := `SELECT ` + alarmCols + ` FROM environment_alarms WHERE id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return tx.byID(q, id, func(sc scanner) error { return scanAlarm(sc, a) }, "environment.alarm.not_found")
}

// entityAlarm is the entity of an alarm in the audit trail.
const entityAlarm = "environment_alarm"

// writeAlarm inserts or updates an alarm's record and audits the fields
// that changed: an alarm's course (raised, lowered, ended) is recorded by
// the system as it happens, each step in its own trail.
func (tx *Tx) writeAlarm(a *environment.Alarm, old *environment.Alarm) error {
	c := *a
	c.ID = ""
	rec, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if old == nil {
		if _, err := tx.exec(`INSERT INTO environment_alarms (id, sensor_id, kind, start_at, end_at, acked_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.SensorID, string(a.Kind), a.Start.UTC(), orNull(a.End), orNull(a.AckAt), string(rec)); err != nil {
			return err
		}
		return tx.Audit(audit.Diff(entityAlarm, a.ID, nil, a.AuditFields()), "")
	}
	changes := audit.Diff(entityAlarm, a.ID, old.AuditFields(), a.AuditFields())
	if len(changes) == 0 {
		return nil
	}
	if _, err := tx.exec(`UPDATE environment_alarms SET end_at = ?, acked_at = ?, escalated_at = ?, record = ? WHERE id = ?`,
		orNull(a.End), orNull(a.AckAt), orNull(a.Escalated), string(rec), a.ID); err != nil {
		return err
	}
	return tx.Audit(changes, "")
}

// RecordAlarms persists what evaluating a sensor's readings did, in one
// transaction ("environment_alarm.record"): each event's alarm — opened
// ones recorded with a new id, which the machine's open alarm takes too;
// the others updated — and the machine's state, so that evaluation
// resumes where it was after a restart. An excursion among them opens
// its deviations as the live evaluation does (excursions).
func (e *EnvironmentStore) RecordAlarms(ctx context.Context, m *environment.Machine, events []environment.Event) error {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return err
	}
	return e.db.Write(ctx, "environment_alarm.record", "", func(tx *Tx) error {
		var s environment.Sensor
		if err := tx.sensor(m.SensorID, &s); err != nil {
			return asField(err, "sensor_id")
		}
		if err := tx.recordAlarms(m, events); err != nil {
			return err
		}
		if !slices.ContainsFunc(events, func(ev environment.Event) bool { return !ev.Alarm.ActionStart.IsZero() }) {
			return nil
		}
		pl, err := tx.placeOf(&s)
		if err != nil {
			return err
		}
		sp, err := tx.batchSpans(pl.roomID)
		if err != nil {
			return err
		}
		return tx.excursions(&s, pl, sp, events)
	})
}

// recordAlarms persists the events' alarms and the machine's state, in
// the transaction (see RecordAlarms).
func (tx *Tx) recordAlarms(m *environment.Machine, events []environment.Event) error {
	open := map[environment.AlarmKind]*environment.Alarm{environment.AlarmLimit: m.Limit, environment.AlarmSilence: m.Silence,
		environment.AlarmGap: m.Gap}
	opened := map[environment.AlarmKind]string{}
	for i := range events {
		a := events[i].Alarm
		if a.SensorID != m.SensorID {
			return errs.Field("sensor_id", "environment.alarm.not_found")
		}
		if a.ID == "" {
			a.ID = opened[a.Kind]
		}
		if a.ID == "" {
			if events[i].Kind != environment.Opened {
				return errs.E(errs.NotFound, "environment.alarm.not_found")
			}
			a.ID = NewID()
			opened[a.Kind] = a.ID
			if err := tx.writeAlarm(&a, nil); err != nil {
				return err
			}
		} else {
			// Locked: an acknowledgement signed meanwhile is not
			// overwritten.
			var old environment.Alarm
			if err := tx.alarmLocked(a.ID, &old); err != nil {
				return err
			}
			if old.SensorID != m.SensorID || old.Kind != a.Kind {
				return errs.E(errs.NotFound, "environment.alarm.not_found")
			}
			// What a person recorded stays as it was.
			a.AckBy, a.AckAt, a.AckComment, a.AckSignatureID = old.AckBy, old.AckAt, old.AckComment, old.AckSignatureID
			a.Escalated = old.Escalated
			if err := tx.writeAlarm(&a, &old); err != nil {
				return err
			}
		}
		events[i].Alarm.ID = a.ID
		if o := open[a.Kind]; o != nil && o.ID == "" && o.Start.Equal(a.Start) {
			o.ID = a.ID
		}
	}
	return tx.saveMachine(m)
}

func (tx *Tx) saveMachine(m *environment.Machine) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO environment_machines (sensor_id, state, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (sensor_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`, m.SensorID, string(b), tx.now)
	return err
}

// Machine returns the alarm state of a sensor as last recorded; a sensor
// never evaluated starts at normal, heard now.
func (e *EnvironmentStore) Machine(ctx context.Context, sensorID string) (*environment.Machine, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil && CanAppendReadings(actorOf(ctx)) != nil {
		return nil, err
	}
	var m *environment.Machine
	err := e.db.Read(ctx, func(tx *Tx) error {
		var s environment.Sensor
		if err := tx.sensor(sensorID, &s); err != nil {
			return err
		}
		var state string
		switch err := tx.queryRow(`SELECT state FROM environment_machines WHERE sensor_id = ?`, sensorID).Scan(&state); {
		case errors.Is(err, sql.ErrNoRows):
			m = environment.NewMachine(&s, tx.now)
			return nil
		case err != nil:
			return err
		}
		m = &environment.Machine{}
		return json.Unmarshal([]byte(state), m)
	})
	return m, err
}

// Tracker returns a sensor's intake state as last committed: which
// sequence numbers it received, which are missing (empty before its first
// reading). The alarm machine's Tick reads it for the data-gap alarm.
func (e *EnvironmentStore) Tracker(ctx context.Context, sensorID string) (*environment.Tracker, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil && CanAppendReadings(actorOf(ctx)) != nil {
		return nil, err
	}
	t := &environment.Tracker{}
	err := e.db.Read(ctx, func(tx *Tx) error {
		if err := tx.sensor(sensorID, &environment.Sensor{}); err != nil {
			return err
		}
		var state string
		switch err := tx.queryRow(`SELECT state FROM environment_trackers WHERE sensor_id = ?`, sensorID).Scan(&state); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		return json.Unmarshal([]byte(state), t)
	})
	return t, err
}
