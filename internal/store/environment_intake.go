package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// The intake of readings: appended by batch, sealed, quarantine, refusal
// counters, trackers and gaps.

// --- readings

// MaxReadingBatch bounds the readings of one batch: a bigger one is
// refused whole, before anything is written. A batch is one transaction,
// which holds the database's writer on SQLite: two thousand readings take
// a few tenths of a second (bench/ingest), so that a gateway emptying its
// backlog never keeps a signature or a sign-in waiting past the pool's
// wait; it sends its backlog as several batches.
const MaxReadingBatch = 2000

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
	// A sequence received before and no longer raw was compacted.
	var old []environment.Reading
	for _, k := range keys {
		if _, ok := stored[readingKey{k.SensorID, k.Seq}]; !ok && trackers[k.SensorID].Received(k.Seq) {
			old = append(old, k)
		}
	}
	if len(old) > 0 {
		if err := tx.compactedReadings(old, stored); err != nil {
			return nil, err
		}
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
