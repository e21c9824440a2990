package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// RollupLag is how long after a reading was received the roll-up job
// waits before it reads it: a batch of readings takes its time when its
// transaction begins and becomes visible when it commits, so the job
// leaves the last moments to its next run rather than pass over a batch
// committing late.
const RollupLag = time.Minute

// RollupChunk bounds the readings, and the intervals left open by earlier
// runs, that one transaction of the job rolls up: the job commits its
// progress after each chunk, so a run cut short resumes where it was, and
// the writer is held for a hundred readings or intervals at a time, never
// long enough to keep a sign-in or a signature waiting, however big the
// batches received (a gateway's backlog) or the intervals closing at once
// (the demo's 1,896 sensors' hours: a thousand took 50 to 65 ms of
// SQLite's writer, 25 times more under the race detector, and a busy
// machine's request waits 2 s at most for the writer).
const RollupChunk = 100

// RollupRun is what a run of the roll-up job did.
type RollupRun struct {
	// Minutes and Hours count the roll-ups written (recomputed whole); one
	// that two chunks in a row recompute (readings of one minute on either
	// side of their boundary) counts once.
	Minutes, Hours int
	// Pending counts the intervals left open, rolled up once closed.
	Pending int
	// Mark is the reception time up to which readings are rolled up.
	Mark time.Time
	// last are the intervals the last chunk recomputed.
	last map[rollupKey]bool
}

type rollupKey struct {
	sensor string
	width  time.Duration
	start  int64 // unix ns
}

func (k rollupKey) at() time.Time { return time.Unix(0, k.start).UTC() }

// RollUp makes the 1-minute and 1-hour roll-ups of the readings received
// since its last run, for the intervals that are closed at now less
// RollupLag (an interval still open is noted and rolled up by a later
// run). Each interval touched is recomputed whole — a minute from its raw
// readings (environment.Roll), an hour from its minutes
// (environment.Merge) — and replaces what was stored: a run done twice
// changes nothing, and a reading that arrives late in a closed minute is
// taken by the next run. It commits after each chunk of batches, so a run
// stopped by ctx resumes at its next call. The leading node runs it
// (app's job environment.rollup); a history load runs it without the lag.
func (e *EnvironmentStore) RollUp(ctx context.Context) (*RollupRun, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	run := &RollupRun{}
	lag, chunk := RollupLag, e.chunk()
	if e.db.historyOf(ctx) != nil {
		// A history load (the demo's) holds the writer from its start to
		// its end: no batch commits late beside it, so its readings are
		// rolled up to its clock, and its chunks need not be short.
		lag, chunk = 0, 100*chunk
	}
	for {
		done, err := e.rollUpChunk(ctx, run, lag, chunk)
		if err != nil && ctx.Err() != nil {
			// Stopped (the job's time is up, the server stops): what
			// the chunks before did is kept, and the next run resumes.
			return run, nil
		}
		if err != nil || done {
			return run, err
		}
		if ctx.Err() != nil {
			return run, nil
		}
	}
}

// chunk is how many readings or intervals a transaction of the job takes.
func (e *EnvironmentStore) chunk() int {
	if e.db.rollupChunk > 0 {
		return e.db.rollupChunk
	}
	return RollupChunk
}

// rollUpChunk rolls up, in one transaction, at most chunk readings received
// up to lag before now, and at most chunk intervals left open.
func (e *EnvironmentStore) rollUpChunk(ctx context.Context, run *RollupRun, lag time.Duration, chunk int) (done bool, err error) {
	err = e.db.Write(ctx, "environment_rollup.run", "", func(tx *Tx) error {
		upto := tx.now.Add(-lag)
		var m rollupMark
		lock := ""
		if tx.db.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		switch err := tx.queryRow(`SELECT mark, mark_sensor, mark_seq FROM environment_rollup_mark WHERE id = 1`+lock).Scan(&m.at, &m.sensor, &m.seq); {
		case errors.Is(err, sql.ErrNoRows):
			m = rollupMark{at: time.Unix(0, 0).UTC(), sensor: beforeSensors}
			if _, err := tx.exec(`INSERT INTO environment_rollup_mark (id, mark, mark_sensor, mark_seq, updated_at) VALUES (1, ?, ?, 0, ?)`, m.at, beforeSensors, tx.now); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		m.at = m.at.UTC()
		// The chunk: the next readings after the mark, in the order of
		// their reception, then sensor and sequence.
		rows, err := tx.query(`SELECT received_at, sensor_id, seq, at FROM environment_readings
			WHERE received_at >= ? AND received_at <= ? AND (received_at > ? OR sensor_id > ? OR (sensor_id = ? AND seq > ?))
			ORDER BY received_at, sensor_id, seq LIMIT `+strconv.Itoa(chunk), m.at, upto, m.at, m.sensor, m.sensor, m.seq)
		if err != nil {
			return err
		}
		touched := map[rollupKey]bool{}
		n := 0
		end := m
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&end.at, &end.sensor, &end.seq, &at); err != nil {
				rows.Close()
				return err
			}
			touched[rollupKey{end.sensor, environment.Minute, at.UTC().Truncate(environment.Minute).UnixNano()}] = true
			n++
		}
		if err := rows.Close(); err != nil {
			return err
		}
		end.at = end.at.UTC()
		// The intervals noted open by earlier runs that are closed now,
		// as many at most.
		pending, err := tx.rollupPending(upto, chunk)
		if err != nil {
			return err
		}
		for k := range pending {
			touched[k] = true
		}
		done = n < chunk && len(pending) < chunk
		if n < chunk {
			// Every reading received up to upto is read: the mark moves
			// on to upto, sensor and sequence before any.
			end = rollupMark{at: upto, sensor: beforeSensors}
		}
		closed := func(k rollupKey) bool { return !k.at().Add(k.width).After(upto) }
		var minutes []rollupKey
		hours := map[rollupKey]bool{}
		open := map[rollupKey]bool{}
		for k := range touched {
			switch {
			case !closed(k):
				open[k] = true
			case k.width == environment.Minute:
				minutes = append(minutes, k)
				hours[rollupKey{k.sensor, environment.Hour, k.at().Truncate(environment.Hour).UnixNano()}] = true
			default:
				hours[k] = true
			}
		}
		if err := tx.rollMinutes(minutes); err != nil {
			return err
		}
		var hourKeys []rollupKey
		for k := range hours {
			if closed(k) {
				hourKeys = append(hourKeys, k)
			} else {
				open[k] = true
			}
		}
		if err := tx.rollHours(hourKeys); err != nil {
			return err
		}
		for k := range pending {
			if _, err := tx.exec(`DELETE FROM environment_rollup_pending WHERE sensor_id = ? AND width_s = ? AND start_at = ?`,
				k.sensor, int64(k.width/time.Second), k.at()); err != nil {
				return err
			}
		}
		for k := range open {
			if _, err := tx.exec(`INSERT INTO environment_rollup_pending (sensor_id, width_s, start_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				k.sensor, int64(k.width/time.Second), k.at()); err != nil {
				return err
			}
		}
		if end.after(m) {
			if _, err := tx.exec(`UPDATE environment_rollup_mark SET mark = ?, mark_sensor = ?, mark_seq = ?, updated_at = ? WHERE id = 1`,
				end.at, end.sensor, end.seq, tx.now); err != nil {
				return err
			}
			m = end
		}
		last := make(map[rollupKey]bool, len(minutes)+len(hourKeys))
		for _, k := range append(minutes, hourKeys...) {
			last[k] = true
			if run.last[k] {
				continue
			}
			if k.width == environment.Minute {
				run.Minutes++
			} else {
				run.Hours++
			}
		}
		run.last = last
		run.Pending = len(open)
		run.Mark = m.at
		return nil
	})
	return done, err
}

// RolledUpTo is the reception time up to which the roll-up job has rolled
// the readings up, and false before its first run: how far compaction may
// go, and what IT's metric of the job's lag reads.
func (db *DB) RolledUpTo(ctx context.Context) (time.Time, bool, error) {
	var mark time.Time
	found := false
	err := db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		switch err := tx.queryRow(`SELECT mark FROM environment_rollup_mark WHERE id = 1`).Scan(&mark); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		found = true
		return nil
	})
	return mark.UTC(), found, err
}

// rollupMark is where the roll-up job is: the readings received before at,
// and those received at at up to sensor and seq in that order, are rolled
// up (sensor beforeSensors: none of those received at at).
type rollupMark struct {
	at     time.Time
	sensor string
	seq    int64
}

// beforeSensors is the nil UUID, before every sensor's id.
const beforeSensors = "00000000-0000-0000-0000-000000000000"

// after says whether m is past o.
func (m rollupMark) after(o rollupMark) bool {
	if !m.at.Equal(o.at) {
		return m.at.After(o.at)
	}
	if m.sensor != o.sensor {
		return m.sensor > o.sensor
	}
	return m.seq > o.seq
}

// rollupPending reads the intervals noted open by an earlier run that are
// closed at upto, limit at most.
func (tx *Tx) rollupPending(upto time.Time, limit int) (map[rollupKey]bool, error) {
	rows, err := tx.query(`SELECT sensor_id, width_s, start_at FROM environment_rollup_pending
		WHERE (width_s = ? AND start_at <= ?) OR (width_s = ? AND start_at <= ?)
		ORDER BY start_at, sensor_id, width_s LIMIT `+strconv.Itoa(limit),
		int64(environment.Minute/time.Second), upto.Add(-environment.Minute), int64(environment.Hour/time.Second), upto.Add(-environment.Hour))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[rollupKey]bool{}
	for rows.Next() {
		var id string
		var w int64
		var at time.Time
		if err := rows.Scan(&id, &w, &at); err != nil {
			return nil, err
		}
		out[rollupKey{id, time.Duration(w) * time.Second, at.UTC().UnixNano()}] = true
	}
	return out, rows.Err()
}

// runs groups interval keys of one width by sensor into runs of nearby
// intervals, each read with one query: [from, to).
func runs(keys []rollupKey, span time.Duration) []struct {
	sensor   string
	from, to time.Time
	keys     map[int64]bool
} {
	slices.SortFunc(keys, func(a, b rollupKey) int {
		if a.sensor != b.sensor {
			if a.sensor < b.sensor {
				return -1
			}
			return 1
		}
		return int(min(max(a.start-b.start, -1), 1))
	})
	type run = struct {
		sensor   string
		from, to time.Time
		keys     map[int64]bool
	}
	var out []run
	for _, k := range keys {
		if n := len(out); n > 0 && out[n-1].sensor == k.sensor && k.at().Sub(out[n-1].to) <= span {
			out[n-1].to = k.at().Add(k.width)
			out[n-1].keys[k.start] = true
			continue
		}
		out = append(out, run{sensor: k.sensor, from: k.at(), to: k.at().Add(k.width), keys: map[int64]bool{k.start: true}})
	}
	return out
}

// rollMinutes recomputes the minutes from their raw readings.
func (tx *Tx) rollMinutes(keys []rollupKey) error {
	for _, r := range runs(keys, time.Hour) {
		rs, err := tx.readings(r.sensor, r.from, r.to, 0)
		if err != nil {
			return err
		}
		for _, ru := range environment.Roll(rs, environment.Minute) {
			if r.keys[ru.Start.UnixNano()] {
				if err := tx.putRollup(&ru); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rollHours recomputes the hours from their stored minutes.
func (tx *Tx) rollHours(keys []rollupKey) error {
	for _, r := range runs(keys, 24*time.Hour) {
		ms, err := tx.rollups(r.sensor, environment.Minute, r.from, r.to)
		if err != nil {
			return err
		}
		for _, ru := range environment.Merge(ms, environment.Hour) {
			if r.keys[ru.Start.UnixNano()] {
				if err := tx.putRollup(&ru); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readings returns a sensor's readings from from (included) to to
// (excluded), raw and compacted, in time order (then sequence), the first
// limit (0: all).
func (tx *Tx) readings(sensorID string, from, to time.Time, limit int) ([]environment.Reading, error) {
	out, err := tx.rawReadings(sensorID, from, to, limit)
	if err != nil {
		return nil, err
	}
	old, err := tx.blockReadings(sensorID, from, to)
	if err != nil || len(old) == 0 {
		return out, err
	}
	out = append(out, old...)
	sortByTime(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// rawReadings returns a sensor's readings not compacted, the first limit
// (0: all).
func (tx *Tx) rawReadings(sensorID string, from, to time.Time, limit int) ([]environment.Reading, error) {
	q := `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE sensor_id = ? AND at >= ? AND at < ? ORDER BY at, seq`
	if limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := tx.query(q, sensorID, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []environment.Reading
	for rows.Next() {
		r, err := scanReading(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (tx *Tx) putRollup(r *environment.Rollup) error {
	_, err := tx.exec(`INSERT INTO environment_rollups (sensor_id, width_s, start_at, count, min, max, sum, sum_err) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sensor_id, width_s, start_at) DO UPDATE SET count = excluded.count, min = excluded.min, max = excluded.max,
		sum = excluded.sum, sum_err = excluded.sum_err`,
		r.SensorID, int64(r.Width/time.Second), r.Start.UTC(), r.Count, r.Min, r.Max, r.Sum, r.SumErr)
	return err
}

// rollups reads a sensor's stored roll-ups of width from from (included)
// to to (excluded), in time order.
func (tx *Tx) rollups(sensorID string, width time.Duration, from, to time.Time) ([]environment.Rollup, error) {
	rows, err := tx.query(`SELECT start_at, count, min, max, sum, sum_err FROM environment_rollups
		WHERE sensor_id = ? AND width_s = ? AND start_at >= ? AND start_at < ? ORDER BY start_at`,
		sensorID, int64(width/time.Second), from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []environment.Rollup
	for rows.Next() {
		r := environment.Rollup{SensorID: sensorID, Width: width}
		if err := rows.Scan(&r.Start, &r.Count, &r.Min, &r.Max, &r.Sum, &r.SumErr); err != nil {
			return nil, err
		}
		r.Start = r.Start.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rollups lists a sensor's stored roll-ups of width (environment.Minute or
// environment.Hour) from from (included) to to (excluded), in time order.
func (e *EnvironmentStore) Rollups(ctx context.Context, sensorID string, width time.Duration, from, to time.Time) ([]environment.Rollup, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(sensorID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	var out []environment.Rollup
	err := e.db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.rollups(sensorID, width, from, to)
		return err
	})
	return out, err
}
