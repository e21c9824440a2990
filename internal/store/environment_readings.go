package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

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
	var out []environment.Reading
	err := e.db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.readings(sensorID, from, to, limit)
		return err
	})
	return out, err
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
// longer give the seal the audit trail holds (a reading changed, added or
// removed since it was committed), or a compacted window whose blocks no
// longer give its seal.
type SealMismatch struct {
	BatchID string `json:"batch_id,omitempty"`
	Window  string `json:"window,omitempty"`
	Sealed  string `json:"sealed"`
	Stored  string `json:"stored"`
}

// VerifySeals recomputes the seal of every batch of readings sealed in the
// audit trail from the readings stored under it, and of every compacted
// window from its blocks, and returns those whose seal differs. A batch
// received in a compacted window is the window's: its seal was checked
// when the window was compacted, and the window's covers its readings
// since.
func (e *EnvironmentStore) VerifySeals(ctx context.Context) ([]SealMismatch, error) {
	if err := actorOf(ctx).Require(identity.PermAuditSite); err != nil {
		return nil, err
	}
	out, err := e.verifyWindows(ctx)
	if err != nil {
		return nil, err
	}
	compacted := map[string]bool{}
	var windows []string
	if err := e.db.Read(ctx, func(tx *Tx) error {
		windows, err = collect(tx, `SELECT DISTINCT entity_id FROM audit_log WHERE entity = ? AND field = ?`, []any{entityReadingWindow, fieldSeal},
			func(sc scanner, id *string) error { return sc.Scan(id) })
		return err
	}); err != nil {
		return nil, err
	}
	for _, w := range windows {
		compacted[w] = true
	}
	// Each batch's seal in force: its last.
	type sealed struct {
		seal string
		at   time.Time
	}
	last := map[string]sealed{}
	var order []string
	var after int64
	for {
		es, err := e.db.Audit().Entries(ctx, audit.Filter{Entity: entityReadingBatch, AfterSeq: after})
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			break
		}
		for _, en := range es {
			after = en.Seq
			if en.Field != fieldSeal {
				continue
			}
			if _, ok := last[en.EntityID]; !ok {
				order = append(order, en.EntityID)
			}
			last[en.EntityID] = sealed{en.New, en.At}
		}
	}
	for _, id := range order {
		sl := last[id]
		if compacted[sl.at.UTC().Truncate(environment.CompactWindow).Format(time.RFC3339)] {
			continue
		}
		rs, err := e.BatchReadings(ctx, id)
		if err != nil {
			return nil, err
		}
		if got := environment.SealOf(rs).String(); got != sl.seal {
			out = append(out, SealMismatch{BatchID: id, Sealed: sl.seal, Stored: got})
		}
	}
	return out, nil
}
