package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
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

// --- readings

// MaxReadingBatch bounds the readings of one batch: a bigger one is
// refused whole, before anything is written.
const MaxReadingBatch = 20000

// MaxQuarantinePayload bounds the message kept of a reading of an unknown
// sensor, in bytes.
const MaxQuarantinePayload = 4096

// AppendResult is what appending a batch of readings did.
type AppendResult struct {
	// BatchID names the batch's seal in the audit trail (empty when it
	// held no new reading).
	BatchID string `json:"batch_id,omitempty"`
	// New readings stored; Duplicates received before, dropped.
	New        int `json:"new"`
	Duplicates int `json:"duplicates"`
	// Refused counts the readings refused, per reason: a reading of an
	// unknown sensor is quarantined and counted as sensor_unknown; a
	// reading under a sequence number taken by another is seq_conflict.
	Refused environment.Counts `json:"refused,omitempty"`
	// Refusals are the refused readings' reasons, by index in the batch.
	Refusals map[int]environment.Refusal `json:"-"`
	// Late counts the new readings that filled a gap.
	Late int `json:"late"`
	// Opened and Closed are the gaps the batch revealed and filled.
	Opened []Gap            `json:"opened,omitempty"`
	Closed []Gap            `json:"closed,omitempty"`
	Seal   environment.Seal `json:"-"`
	// Fresh are the new readings as stored (times to the microsecond,
	// flags set): what alarm evaluation goes on from.
	Fresh []environment.Reading `json:"-"`
}

// Gap is a missing range of a sensor's sequence numbers as first seen.
type Gap struct {
	ID       string    `json:"id"`
	SensorID string    `json:"sensor_id"`
	From     uint64    `json:"from"`
	To       uint64    `json:"to"`
	Missing  uint64    `json:"missing"`
	Seen     time.Time `json:"seen"`
	Closed   time.Time `json:"closed,omitzero"`
}

// CanAppendReadings: galenix's own intake (the system), or a machine
// token with the telemetry scope.
func CanAppendReadings(a identity.Actor) error {
	if a.IsSystem() || a.HasScope(identity.ScopeTelemetryWrite) {
		return nil
	}
	return errs.E(errs.Forbidden, "identity.refused")
}

// AppendReadings commits a batch of readings durably, in one transaction
// that does not join the audit chain reading by reading: idempotent on
// (sensor, sequence) — a reading received twice is stored once — and
// sealed in the audit trail by one entry holding the count and digest of
// its new readings (environment.Seal). refused adds the refusals an intake
// counted before (malformed messages) to the counters in the same
// transaction. Each reading is checked by the domain (Intake.Check) at the
// transaction's time; times are kept to the microsecond.
func (e *EnvironmentStore) AppendReadings(ctx context.Context, batch []environment.Reading, refused environment.Counts) (*AppendResult, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	var res *AppendResult
	err := e.db.Write(ctx, "environment_readings.append", "", func(tx *Tx) error {
		var err error
		res, err = tx.appendReadings(batch, refused)
		return err
	})
	return res, err
}

func (tx *Tx) appendReadings(batch []environment.Reading, refused environment.Counts) (*AppendResult, error) {
	res := &AppendResult{Refused: environment.Counts{}, Refusals: map[int]environment.Refusal{}}
	for r, n := range refused {
		res.Refused[r] += n
	}
	refuse := func(i int, r environment.Refusal) {
		res.Refused.Add(r)
		res.Refusals[i] = r
	}
	if len(batch) > MaxReadingBatch {
		return nil, errs.Field("readings", "environment.reading.batch_too_large", text.Int(MaxReadingBatch))
	}
	// The sensors named, each by its id's one spelling.
	batch = slices.Clone(batch)
	named := map[string]bool{}
	for i := range batch {
		if u, err := uuid.Parse(batch[i].SensorID); err == nil {
			batch[i].SensorID = u.String()
			named[u.String()] = true
		}
	}
	ids := slices.Sorted(maps.Keys(named))
	sensors, err := tx.sensorsByID(ids)
	if err != nil {
		return nil, err
	}
	// The domain decides each reading; unknown sensors' go to quarantine.
	type cand struct {
		i int
		r environment.Reading
	}
	var cands []cand
	seen := map[string]map[uint64]int{} // sensor → seq → index in cands
	for i := range batch {
		r := batch[i]
		r.At = r.At.UTC().Truncate(time.Microsecond)
		s, ok := sensors[r.SensorID]
		if !ok {
			refuse(i, environment.RefusedSensorUnknown)
			if err := tx.quarantine(&r); err != nil {
				return nil, err
			}
			continue
		}
		if why := environment.DefaultIntake.Check(&r, s.Kind, tx.now); why != "" {
			refuse(i, why)
			continue
		}
		r.Flags = s.FlagsAt(r.At)
		if seen[r.SensorID] == nil {
			seen[r.SensorID] = map[uint64]int{}
		}
		if j, ok := seen[r.SensorID][r.Seq]; ok {
			// Twice in one batch.
			if environment.Same(&cands[j].r, &r) {
				res.Duplicates++
			} else {
				refuse(i, environment.RefusedSeqConflict)
			}
			continue
		}
		seen[r.SensorID][r.Seq] = len(cands)
		cands = append(cands, cand{i, r})
	}
	// The trackers of the sensors, locked in order: batches of one sensor
	// are appended one at a time, so that what is stored decides.
	var known []string
	for _, id := range ids {
		if _, ok := seen[id]; ok {
			known = append(known, id)
		}
	}
	trackers, err := tx.lockTrackers(known)
	if err != nil {
		return nil, err
	}
	// What is stored already under the sequence numbers.
	keys := make([]environment.Reading, len(cands))
	for k, c := range cands {
		keys[k] = c.r
	}
	stored, err := tx.storedReadings(keys)
	if err != nil {
		return nil, err
	}
	var fresh []environment.Reading
	for _, c := range cands {
		if old, ok := stored[readingKey{c.r.SensorID, c.r.Seq}]; ok {
			if environment.Same(&old, &c.r) {
				res.Duplicates++
			} else {
				refuse(c.i, environment.RefusedSeqConflict)
			}
			continue
		}
		fresh = append(fresh, c.r)
	}
	if err := tx.countRefusals(res.Refused); err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return res, nil
	}
	// Gaps, in the order the readings came.
	changed, hadGaps := map[string]bool{}, map[string]bool{}
	for id, t := range trackers {
		hadGaps[id] = len(t.Gaps) > 0
	}
	for _, r := range fresh {
		o := trackers[r.SensorID].Observe(r.Seq, tx.now)
		changed[r.SensorID] = true
		if o.Late {
			res.Late++
		}
		if o.Opened != nil {
			g := Gap{ID: NewID(), SensorID: r.SensorID, From: o.Opened.From, To: o.Opened.To, Missing: o.Opened.Missing(), Seen: tx.now}
			if _, err := tx.exec(`INSERT INTO environment_gaps (id, sensor_id, from_seq, to_seq, missing, seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
				g.ID, g.SensorID, int64(g.From), int64(g.To), int64(g.Missing), g.Seen); err != nil {
				return nil, err
			}
			res.Opened = append(res.Opened, g)
			hadGaps[r.SensorID] = true
		}
	}
	var save []string
	states := map[string]string{}
	for _, id := range known {
		if !changed[id] {
			continue
		}
		b, err := json.Marshal(trackers[id])
		if err != nil {
			return nil, err
		}
		save, states[id] = append(save, id), string(b)
		if !hadGaps[id] {
			// No gap was open nor opened: none of its gap records can
			// change.
			continue
		}
		closed, err := tx.closeGaps(id, trackers[id])
		if err != nil {
			return nil, err
		}
		res.Closed = append(res.Closed, closed...)
	}
	if err := tx.writeTrackers(save, states, true); err != nil {
		return nil, err
	}
	res.BatchID = NewID()
	if err := tx.insertReadings(res.BatchID, fresh); err != nil {
		return nil, err
	}
	res.New, res.Fresh = len(fresh), fresh
	res.Seal = environment.SealOf(fresh)
	return res, tx.Audit([]audit.Change{{Entity: entityReadingBatch, EntityID: res.BatchID, Field: fieldSeal, New: res.Seal.String()}}, "")
}

type readingKey struct {
	sensor string
	seq    uint64
}

func (tx *Tx) sensorsByID(ids []string) (map[string]*environment.Sensor, error) {
	out := map[string]*environment.Sensor{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.query(`SELECT `+sensorCols+` FROM environment_sensors WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s environment.Sensor
			if err := scanSensor(rows, &s); err != nil {
				rows.Close()
				return nil, err
			}
			out[s.ID] = &s
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// quarantine keeps a reading of a sensor galenix does not know.
func (tx *Tx) quarantine(r *environment.Reading) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Quarantine(r.SensorID, b)
}

// Quarantine keeps a message naming a sensor galenix does not know, for
// admins to see: the sensor as named and the message, each bounded.
func (tx *Tx) Quarantine(sensorRef string, payload []byte) error {
	ref := strings.ToValidUTF8(sensorRef, "\uFFFD")
	if len(ref) > 200 {
		ref = strings.ToValidUTF8(ref[:200], "")
	}
	p := strings.ToValidUTF8(string(payload), "\uFFFD")
	if len(p) > MaxQuarantinePayload {
		p = strings.ToValidUTF8(p[:MaxQuarantinePayload], "")
	}
	ref, p = strings.ReplaceAll(ref, "\x00", ""), strings.ReplaceAll(p, "\x00", "")
	_, err := tx.exec(`INSERT INTO environment_quarantine (id, received_at, sensor_ref, payload) VALUES (?, ?, ?, ?)`, NewID(), tx.now, ref, p)
	return err
}

// QuarantineMessage keeps a message naming a sensor galenix does not know
// (a topic of no declared sensor) and counts it as sensor_unknown, in one
// transaction.
func (e *EnvironmentStore) QuarantineMessage(ctx context.Context, sensorRef string, payload []byte) error {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return err
	}
	return e.db.Write(ctx, "environment_readings.append", "", func(tx *Tx) error {
		if err := tx.Quarantine(sensorRef, payload); err != nil {
			return err
		}
		return tx.countRefusals(environment.Counts{environment.RefusedSensorUnknown: 1})
	})
}

// Quarantined is a message of an unknown sensor.
type Quarantined struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	SensorRef  string    `json:"sensor_ref"`
	Payload    string    `json:"payload"`
}

// Quarantined lists the latest messages of unknown sensors, newest first,
// at most limit (1 to 1000): admins see them to declare the sensor.
func (e *EnvironmentStore) Quarantined(ctx context.Context, limit int) ([]Quarantined, error) {
	if err := checkEdit(ctx); err != nil {
		return nil, err
	}
	limit = max(1, min(limit, 1000))
	return list(ctx, e.db, `SELECT id, received_at, sensor_ref, payload FROM environment_quarantine ORDER BY received_at DESC, id DESC LIMIT `+strconv.Itoa(limit), nil,
		func(sc scanner, q *Quarantined) error {
			err := sc.Scan(&q.ID, &q.ReceivedAt, &q.SensorRef, &q.Payload)
			q.ReceivedAt = q.ReceivedAt.UTC()
			return err
		})
}

// countRefusals adds the refusals to their counters.
func (tx *Tx) countRefusals(c environment.Counts) error {
	for _, r := range environment.Refusals {
		if c[r] == 0 {
			continue
		}
		if _, err := tx.exec(`INSERT INTO environment_refusals (reason, count, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (reason) DO UPDATE SET count = environment_refusals.count + excluded.count, updated_at = excluded.updated_at`,
			string(r), c[r], tx.now); err != nil {
			return err
		}
	}
	return nil
}

// Refusals returns the counters of refused readings, per reason.
func (e *EnvironmentStore) Refusals(ctx context.Context) (environment.Counts, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	out := environment.Counts{}
	err := e.db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT reason, count FROM environment_refusals`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			var n int64
			if err := rows.Scan(&r, &n); err != nil {
				return err
			}
			out[environment.Refusal(r)] = n
		}
		return rows.Err()
	})
	return out, err
}

// lockTrackers reads and locks the trackers of the sensors (sorted), made
// empty for a sensor's first batch.
func (tx *Tx) lockTrackers(ids []string) (map[string]*environment.Tracker, error) {
	out := map[string]*environment.Tracker{}
	empty := make(map[string]string, len(ids))
	for _, id := range ids {
		empty[id] = "{}"
	}
	if err := tx.writeTrackers(ids, empty, false); err != nil {
		return nil, err
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT sensor_id, state FROM environment_trackers WHERE sensor_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `) ORDER BY sensor_id`
		if tx.db.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		rows, err := tx.query(q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, state string
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return nil, err
			}
			t := &environment.Tracker{}
			if err := json.Unmarshal([]byte(state), t); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = t
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeTrackers writes the trackers' states of the sensors, by multi-row
// statements: when replace is false only those not there yet.
func (tx *Tx) writeTrackers(ids []string, states map[string]string, replace bool) error {
	conflict := ` ON CONFLICT (sensor_id) DO NOTHING`
	if replace {
		conflict = ` ON CONFLICT (sensor_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, 0, 3*len(chunk))
		for _, id := range chunk {
			args = append(args, id, states[id], tx.now)
		}
		if _, err := tx.exec(`INSERT INTO environment_trackers (sensor_id, state, updated_at) VALUES (?, ?, ?)`+
			strings.Repeat(`, (?, ?, ?)`, len(chunk)-1)+conflict, args...); err != nil {
			return err
		}
	}
	return nil
}

// closeGaps updates the open gaps of a sensor from its tracker: what each
// still misses, and closed once it misses nothing.
func (tx *Tx) closeGaps(id string, t *environment.Tracker) ([]Gap, error) {
	open, err := tx.gaps(`SELECT `+gapCols+` FROM environment_gaps WHERE sensor_id = ? AND closed_at IS NULL`, id)
	if err != nil {
		return nil, err
	}
	var closed []Gap
	for _, g := range open {
		var missing uint64
		for _, tg := range t.Gaps {
			lo, hi := max(g.From, tg.From), min(g.To, tg.To)
			if lo <= hi {
				missing += hi - lo + 1
			}
		}
		if missing == g.Missing {
			continue
		}
		g.Missing = missing
		var end any
		if missing == 0 {
			g.Closed = tx.now
			end = tx.now
			closed = append(closed, g)
		}
		if _, err := tx.exec(`UPDATE environment_gaps SET missing = ?, closed_at = ? WHERE id = ?`, int64(missing), end, g.ID); err != nil {
			return nil, err
		}
	}
	return closed, nil
}

const gapCols = `id, sensor_id, from_seq, to_seq, missing, seen_at, closed_at`

func (tx *Tx) gaps(q string, args ...any) ([]Gap, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var g Gap
		var from, to, missing int64
		var closed sql.NullTime
		if err := rows.Scan(&g.ID, &g.SensorID, &from, &to, &missing, &g.Seen, &closed); err != nil {
			return nil, err
		}
		g.From, g.To, g.Missing, g.Seen = uint64(from), uint64(to), uint64(missing), g.Seen.UTC()
		if closed.Valid {
			g.Closed = closed.Time.UTC()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Gaps lists a sensor's gaps, open and closed, by sequence.
func (e *EnvironmentStore) Gaps(ctx context.Context, sensorID string) ([]Gap, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(sensorID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	var out []Gap
	err := e.db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.gaps(`SELECT `+gapCols+` FROM environment_gaps WHERE sensor_id = ? ORDER BY from_seq, seen_at`, sensorID)
		return err
	})
	return out, err
}

// storedReadings returns the readings stored under the keys' (sensor,
// sequence).
func (tx *Tx) storedReadings(keys []environment.Reading) (map[readingKey]environment.Reading, error) {
	out := map[readingKey]environment.Reading{}
	cast, castSeq := "", ""
	if tx.db.dialect == Postgres {
		cast, castSeq = "::uuid", "::bigint"
	}
	for start := 0; start < len(keys); start += 1000 {
		chunk := keys[start:min(start+1000, len(keys))]
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, k.SensorID, int64(k.Seq))
		}
		q := `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE (sensor_id, seq) IN (VALUES (?` + cast + `, ?` + castSeq + `)` +
			strings.Repeat(`, (?, ?)`, len(chunk)-1) + `)`
		rows, err := tx.query(q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r, err := scanReading(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[readingKey{r.SensorID, r.Seq}] = r
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanReading(sc scanner) (environment.Reading, error) {
	var r environment.Reading
	var seq int64
	var flags int
	err := sc.Scan(&r.SensorID, &seq, &r.At, &r.Value, &flags)
	r.Seq, r.At, r.Flags = uint64(seq), r.At.UTC(), environment.Flags(flags)
	return r, err
}

// insertReadings writes new readings: on SQLite by multi-row INSERTs, on
// PostgreSQL by COPY into a temporary table, then one INSERT from it. ON
// CONFLICT DO NOTHING is the last guard: under the trackers' locks none
// of them is stored already.
func (tx *Tx) insertReadings(batchID string, rs []environment.Reading) error {
	if tx.db.dialect == Postgres {
		return tx.copyReadings(batchID, rs)
	}
	const per = 7
	const rowsPer = 4000 / per
	for start := 0; start < len(rs); start += rowsPer {
		chunk := rs[start:min(start+rowsPer, len(rs))]
		args := make([]any, 0, per*len(chunk))
		for _, r := range chunk {
			args = append(args, r.SensorID, int64(r.Seq), r.At, r.Value, int(r.Flags), tx.now, batchID)
		}
		q := `INSERT INTO environment_readings (sensor_id, seq, at, value, flags, received_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?)` +
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?)`, len(chunk)-1) + ` ON CONFLICT DO NOTHING`
		if _, err := tx.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) copyReadings(batchID string, rs []environment.Reading) error {
	if err := tx.ensurePartitions(rs); err != nil {
		return err
	}
	if _, err := tx.exec(`CREATE TEMPORARY TABLE IF NOT EXISTS environment_incoming (sensor_id UUID, seq BIGINT, at TIMESTAMPTZ,
		value DOUBLE PRECISION, flags INTEGER) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	conn, ok := tx.tx.(*sql.Conn)
	if !ok {
		return errors.New("copy readings: not a PostgreSQL connection")
	}
	err := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		_, err := pc.CopyFrom(tx.ctx, pgx.Identifier{"environment_incoming"}, []string{"sensor_id", "seq", "at", "value", "flags"},
			pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
				r := &rs[i]
				return []any{r.SensorID, int64(r.Seq), r.At, r.Value, int32(r.Flags)}, nil
			}))
		return err
	})
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO environment_readings (sensor_id, seq, at, value, flags, received_at, batch_id)
		SELECT sensor_id, seq, at, value, flags, ?, ? FROM environment_incoming ON CONFLICT DO NOTHING`, tx.now, batchID)
	if err != nil {
		return err
	}
	_, err = tx.exec(`TRUNCATE environment_incoming`)
	return err
}

// ensurePartitions makes the month partitions the readings fall in, on
// PostgreSQL. A partition that cannot be made (the default partition holds
// readings of its month already) is left out: its readings go to the
// default partition, as correct, only less quick to prune.
func (tx *Tx) ensurePartitions(rs []environment.Reading) error {
	months := map[time.Time]bool{}
	for _, r := range rs {
		months[time.Date(r.At.Year(), r.At.Month(), 1, 0, 0, 0, 0, time.UTC)] = true
	}
	for m := range months {
		name := "environment_readings_" + m.Format("2006_01")
		var exists bool
		if err := tx.queryRow(`SELECT to_regclass(?) IS NOT NULL`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		// One node at a time makes a partition.
		if _, err := tx.exec(`SELECT pg_advisory_xact_lock(?)`, partitionLockKey); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT to_regclass(?) IS NOT NULL`, name).Scan(&exists); err != nil || exists {
			return err
		}
		if _, err := tx.exec(`SAVEPOINT environment_partition`); err != nil {
			return err
		}
		_, err := tx.exec(`CREATE TABLE ` + name + ` PARTITION OF environment_readings FOR VALUES FROM ('` +
			m.Format(time.RFC3339) + `') TO ('` + m.AddDate(0, 1, 0).Format(time.RFC3339) + `')`)
		end := `RELEASE SAVEPOINT environment_partition`
		if err != nil {
			tx.db.log.Warn("making a partition of the readings; they go to the default partition", "partition", name, "err", err)
			end = `ROLLBACK TO SAVEPOINT environment_partition`
		}
		if _, err := tx.exec(end); err != nil {
			return err
		}
	}
	return nil
}

// partitionLockKey is the advisory lock making a partition of the
// readings: "galenixp" in ASCII.
const partitionLockKey = 0x67616c656e697870

// Readings lists a sensor's readings from from (included) to to (excluded),
// in time order, at most limit (1 to 100,000).
func (e *EnvironmentStore) Readings(ctx context.Context, sensorID string, from, to time.Time, limit int) ([]environment.Reading, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(sensorID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	limit = max(1, min(limit, 100000))
	return list(ctx, e.db, `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE sensor_id = ? AND at >= ? AND at < ?
		ORDER BY at, seq LIMIT `+strconv.Itoa(limit), []any{sensorID, from.UTC(), to.UTC()}, func(sc scanner, r *environment.Reading) error {
		var err error
		*r, err = scanReading(sc)
		return err
	})
}

// BatchReadings returns the readings a sealed batch stored, in canonical
// order: their seal, recomputed, is the one the audit trail holds.
func (e *EnvironmentStore) BatchReadings(ctx context.Context, batchID string) ([]environment.Reading, error) {
	if err := actorOf(ctx).Require(identity.PermAuditSite); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(batchID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.batch.not_found")
	}
	rs, err := list(ctx, e.db, `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE batch_id = ?`, []any{batchID},
		func(sc scanner, r *environment.Reading) error {
			var err error
			*r, err = scanReading(sc)
			return err
		})
	environment.SortReadings(rs)
	return rs, err
}

// SealMismatch is a sealed batch of readings whose stored readings no
// longer give the seal the audit trail holds: a reading changed, added
// or removed since it was committed.
type SealMismatch struct {
	BatchID string `json:"batch_id"`
	Sealed  string `json:"sealed"`
	Stored  string `json:"stored"`
}

// VerifySeals recomputes the seal of every batch of readings sealed in the
// audit trail from the readings stored under it, and returns the batches
// whose seal differs.
func (e *EnvironmentStore) VerifySeals(ctx context.Context) ([]SealMismatch, error) {
	if err := actorOf(ctx).Require(identity.PermAuditSite); err != nil {
		return nil, err
	}
	var out []SealMismatch
	var after int64
	for {
		es, err := e.db.Audit().Entries(ctx, audit.Filter{Entity: entityReadingBatch, AfterSeq: after})
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			return out, nil
		}
		for _, en := range es {
			after = en.Seq
			if en.Field != fieldSeal {
				continue
			}
			rs, err := e.BatchReadings(ctx, en.EntityID)
			if err != nil {
				return nil, err
			}
			if got := environment.SealOf(rs).String(); got != en.New {
				out = append(out, SealMismatch{BatchID: en.EntityID, Sealed: en.New, Stored: got})
			}
		}
	}
}

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
// resumes where it was after a restart.
func (e *EnvironmentStore) RecordAlarms(ctx context.Context, m *environment.Machine, events []environment.Event) error {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return err
	}
	return e.db.Write(ctx, "environment_alarm.record", "", func(tx *Tx) error {
		if err := tx.sensor(m.SensorID, &environment.Sensor{}); err != nil {
			return asField(err, "sensor_id")
		}
		return tx.recordAlarms(m, events)
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
