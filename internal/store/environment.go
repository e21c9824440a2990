package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// EnvironmentStore keeps the sensors of environmental monitoring, their
// limits, readings, gaps and alarms.
type EnvironmentStore struct{ db *DB }

// Environment returns the environmental monitoring store of the database.
func (db *DB) Environment() *EnvironmentStore { return &EnvironmentStore{db: db} }

var (
	sensorTable = table{"environment_sensors", "environment_sensor", []string{"code", "name", "kind", "place", "place_id", "location",
		"location_since", "calibrated_on", "calibration_due", "decimals"}}
	limitsTable = table{"environment_limits", "environment_limits", []string{"rules"}}
)

// The entity of a sealed batch of readings in the audit trail, and the
// field of its seal.
const (
	entityReadingBatch = "environment_reading_batch"
	fieldSeal          = "seal"
)

func sensorRow(s *environment.Sensor) row {
	var calibrated any
	if !s.CalibratedOn.IsZero() {
		calibrated = s.CalibratedOn
	}
	return row{"code": s.Code, "name": s.Name, "kind": string(s.Kind), "place": string(s.Place), "place_id": s.PlaceID,
		"location": s.Location, "location_since": s.LocationSince.UTC(), "calibrated_on": calibrated,
		"calibration_due": s.CalibrationDue, "decimals": s.Decimals}
}

func limitsRow(l *environment.Limits) (row, error) {
	c := *l
	c.Version = 0
	b, err := json.Marshal(c)
	return row{"rules": string(b)}, err
}

// --- sensors

const sensorCols = `id, code, name, kind, place, place_id, location, location_since, calibrated_on, calibration_due, decimals, version`

func scanSensor(sc scanner, s *environment.Sensor) error {
	var calibrated sql.NullTime
	err := sc.Scan(&s.ID, &s.Code, &s.Name, &s.Kind, &s.Place, &s.PlaceID, &s.Location, &s.LocationSince, &calibrated,
		&s.CalibrationDue, &s.Decimals, &s.Version)
	s.LocationSince, s.CalibrationDue = s.LocationSince.UTC(), s.CalibrationDue.UTC()
	s.CalibratedOn = time.Time{}
	if calibrated.Valid {
		s.CalibratedOn = calibrated.Time.UTC()
	}
	return err
}

// Sensors lists the sensors by code; a place id lists those of that place.
func (e *EnvironmentStore) Sensors(ctx context.Context, placeID string) ([]environment.Sensor, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	q, args := where(`SELECT `+sensorCols+` FROM environment_sensors`, "place_id", placeID)
	return list(ctx, e.db, q+` ORDER BY code`, args, scanSensor)
}

// Sensor returns one sensor.
func (e *EnvironmentStore) Sensor(ctx context.Context, id string) (*environment.Sensor, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	var s environment.Sensor
	err := e.db.Read(ctx, func(tx *Tx) error { return tx.sensor(id, &s) })
	return &s, err
}

func (tx *Tx) sensor(id string, s *environment.Sensor) error {
	return tx.byID(`SELECT `+sensorCols+` FROM environment_sensors WHERE id = ?`, id, func(sc scanner) error { return scanSensor(sc, s) },
		"environment.sensor.not_found")
}

// checkPlace checks the sensor's place exists: a room (a cold room is a
// room), a piece of equipment or a line.
func (tx *Tx) checkPlace(s *environment.Sensor) error {
	var err error
	switch s.Place {
	case environment.PlaceRoom, environment.PlaceColdRoom:
		err = tx.room(s.PlaceID, &site.Room{})
	case environment.PlaceEquipment:
		err = tx.equipment(s.PlaceID, &site.Equipment{})
	case environment.PlaceLine:
		err = tx.line(s.PlaceID, &site.Line{})
	default:
		return errs.Field("place", "environment.sensor.place_required")
	}
	return asField(err, "place_id")
}

// CreateSensor records a new sensor ("environment_sensor.create").
func (e *EnvironmentStore) CreateSensor(ctx context.Context, s *environment.Sensor) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return e.db.Write(ctx, "environment_sensor.create", "", func(tx *Tx) error {
		if err := s.Validate(); err != nil {
			return err
		}
		if err := tx.checkPlace(s); err != nil {
			return err
		}
		if taken, err := tx.sensorCodeTaken(s.Code, ""); err != nil || taken {
			return cmpErr(err, errs.Field("code", "environment.sensor.code_taken"))
		}
		s.ID = NewID()
		return create(tx, sensorTable, s.ID, s, sensorRow(s))
	})
}

// UpdateSensor changes a sensor, at the version it names (0: any), with a
// reason ("environment_sensor.update").
func (e *EnvironmentStore) UpdateSensor(ctx context.Context, s *environment.Sensor, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return e.db.Write(ctx, "environment_sensor.update", reason, func(tx *Tx) error {
		if err := s.Validate(); err != nil {
			return err
		}
		var old environment.Sensor
		if err := tx.sensor(s.ID, &old); err != nil {
			return err
		}
		if s.Kind != old.Kind {
			// Its readings and limits are of its kind: a sensor of another
			// kind is another sensor.
			return errs.Field("kind", "environment.sensor.kind_fixed")
		}
		if err := tx.checkPlace(s); err != nil {
			return err
		}
		if taken, err := tx.sensorCodeTaken(s.Code, s.ID); err != nil || taken {
			return cmpErr(err, errs.Field("code", "environment.sensor.code_taken"))
		}
		return update(tx, sensorTable, s.ID, &old, s, sensorRow(s))
	})
}

// cmpErr is err if any, else refusal.
func cmpErr(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}

func (tx *Tx) sensorCodeTaken(code, except string) (bool, error) {
	var n int
	q, args := `SELECT COUNT(*) FROM environment_sensors WHERE code = ?`, []any{code}
	if except != "" {
		q, args = q+` AND id <> ?`, append(args, except)
	}
	err := tx.queryRow(q, args...).Scan(&n)
	return n > 0, err
}

// --- limits

// Limits returns the limits of a sensor.
func (e *EnvironmentStore) Limits(ctx context.Context, sensorID string) (*environment.Limits, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	var l environment.Limits
	err := e.db.Read(ctx, func(tx *Tx) error { return tx.limits(sensorID, &l) })
	return &l, err
}

func (tx *Tx) limits(sensorID string, l *environment.Limits) error {
	return tx.byID(`SELECT rules, version FROM environment_limits WHERE id = ?`, sensorID, func(sc scanner) error {
		var rules string
		if err := sc.Scan(&rules, &l.Version); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(rules), l); err != nil {
			return err
		}
		l.SensorID = sensorID
		return nil
	}, "environment.limits.not_found")
}

// SetLimits records a sensor's limits: the first time without a reason
// ("environment_limits.create"), then as a change at the version it names
// (0: any), with a reason ("environment_limits.update").
func (e *EnvironmentStore) SetLimits(ctx context.Context, l *environment.Limits, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	var exists bool
	err := e.db.Read(ctx, func(tx *Tx) error {
		var n int
		err := tx.queryRow(`SELECT COUNT(*) FROM environment_limits WHERE id = ?`, l.SensorID).Scan(&n)
		exists = n > 0
		return err
	})
	if _, perr := uuid.Parse(l.SensorID); perr != nil {
		return errs.Field("sensor_id", "environment.sensor.not_found")
	}
	if err != nil {
		return err
	}
	fn := func(tx *Tx) error {
		var s environment.Sensor
		if err := tx.sensor(l.SensorID, &s); err != nil {
			return asField(err, "sensor_id")
		}
		if err := l.Validate(s.Kind); err != nil {
			return err
		}
		r, err := limitsRow(l)
		if err != nil {
			return err
		}
		var old environment.Limits
		switch err := tx.limits(l.SensorID, &old); {
		case errs.CodeOf(err) == errs.NotFound:
			if exists {
				return errs.E(errs.Conflict, "environment.limits.not_found")
			}
			return create(tx, limitsTable, l.SensorID, l, r)
		case err != nil:
			return err
		case !exists:
			// Recorded by another request since: this one is a change
			// without a reason.
			return errs.StaleVersion(l.Version, old.Version)
		}
		return update(tx, limitsTable, l.SensorID, &old, l, r)
	}
	if exists {
		return e.db.Write(ctx, "environment_limits.update", reason, fn)
	}
	return e.db.Write(ctx, "environment_limits.create", reason, fn)
}
