package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// The audit trail's record of a window of readings compacted: its id is
// the window's start, RFC 3339 in UTC.
const entityReadingWindow = "environment_reading_window"

// CompactRun is what a run of the compaction did.
type CompactRun struct {
	// Windows, Blocks and Readings count what was compacted.
	Windows, Blocks, Readings int
}

// Compact compacts, window by window (environment.CompactWindow, by the
// time readings were received), the raw readings received before before:
// each window in one transaction ("environment.compact"), oldest first, at
// most maxWindows in a run. Before it compacts a window it checks every
// batch received in it against the seal the audit trail holds: a batch
// whose stored readings no longer give its seal stops the compaction with
// an error (nothing of that window changes; a reading changed since it was
// committed is a matter for the quality unit, and its evidence stays as
// it is). It then writes one block per sensor (environment.EncodeBlock,
// lossless), seals the window in the audit trail (environment.WindowSeal:
// its readings' digest and its blocks' hashes), and deletes the raw rows.
// Readings the roll-up job has not read yet are left raw. The leading node
// runs it (app's job environment.compact).
func (e *EnvironmentStore) Compact(ctx context.Context, before time.Time, maxWindows int) (*CompactRun, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	// Never past what the roll-up job has read: it reads raw readings.
	mark, ok, err := e.db.RolledUpTo(ctx)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		before = time.Time{}
	case mark.Before(before):
		before = mark
	}
	run := &CompactRun{}
	for range maxWindows {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		done := false
		err := e.db.Write(ctx, "environment.compact", "", func(tx *Tx) error {
			var oldest time.Time
			switch err := tx.queryRow(`SELECT received_at FROM environment_readings WHERE received_at < ? ORDER BY received_at LIMIT 1`,
				before.UTC()).Scan(&oldest); {
			case errors.Is(err, sql.ErrNoRows):
				done = true
				return nil
			case err != nil:
				return err
			}
			from := oldest.UTC().Truncate(environment.CompactWindow)
			to := from.Add(environment.CompactWindow)
			if to.After(before) {
				done = true
				return nil
			}
			blocks, n, err := tx.compactWindow(from, to)
			if err == nil {
				run.Windows, run.Blocks, run.Readings = run.Windows+1, run.Blocks+blocks, run.Readings+n
			}
			return err
		})
		if err != nil || done {
			return run, err
		}
	}
	return run, nil
}

func (tx *Tx) compactWindow(from, to time.Time) (blocks, count int, err error) {
	type row struct {
		r     environment.Reading
		batch string
	}
	rows, err := collect(tx, `SELECT sensor_id, seq, at, value, flags, CAST(batch_id AS TEXT) FROM environment_readings
		WHERE received_at >= ? AND received_at < ?`, []any{from, to}, func(sc scanner, r *row) error {
		var seq int64
		var flags int
		if err := sc.Scan(&r.r.SensorID, &seq, &r.r.At, &r.r.Value, &flags, &r.batch); err != nil {
			return err
		}
		r.r.Seq, r.r.Flags, r.r.At = uint64(seq), environment.Flags(flags), r.r.At.UTC()
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	// Every batch of the window still gives the seal it was committed with.
	byBatch := map[string][]environment.Reading{}
	bySensor := map[string][]environment.Reading{}
	all := make([]environment.Reading, 0, len(rows))
	for _, r := range rows {
		byBatch[r.batch] = append(byBatch[r.batch], r.r)
		bySensor[r.r.SensorID] = append(bySensor[r.r.SensorID], r.r)
		all = append(all, r.r)
	}
	sealed, err := tx.seals(entityReadingBatch, slices.Sorted(maps.Keys(byBatch)))
	if err != nil {
		return 0, 0, err
	}
	for _, id := range slices.Sorted(maps.Keys(byBatch)) {
		if got := environment.SealOf(byBatch[id]).String(); got != sealed[id] {
			return 0, 0, errs.E(errs.Conflict, "environment.compact.seal_mismatch", text.Str(id))
		}
	}
	// One block per sensor, its readings in time order.
	var hashes []string
	for _, id := range slices.Sorted(maps.Keys(bySensor)) {
		rs := bySensor[id]
		sortByTime(rs)
		for part := range slices.Chunk(rs, environment.MaxBlockReadings) {
			data, err := environment.EncodeBlock(part)
			if err != nil {
				return 0, 0, err
			}
			lo, hi := part[0].Seq, part[0].Seq
			for _, r := range part {
				lo, hi = min(lo, r.Seq), max(hi, r.Seq)
			}
			h := environment.BlockHash(data)
			if _, err := tx.exec(`INSERT INTO environment_blocks (id, sensor_id, from_at, to_at, min_seq, max_seq, count, data, hash, window_at, made_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, NewID(), id, part[0].At, part[len(part)-1].At, int64(lo), int64(hi), len(part), data, h, from, tx.now); err != nil {
				return 0, 0, err
			}
			hashes = append(hashes, h)
		}
	}
	if _, err := tx.exec(`DELETE FROM environment_readings WHERE received_at >= ? AND received_at < ?`, from, to); err != nil {
		return 0, 0, err
	}
	seal := environment.SealWindow(all, hashes)
	return len(hashes), len(all), tx.Audit([]audit.Change{{Entity: entityReadingWindow, EntityID: from.Format(time.RFC3339),
		Field: fieldSeal, New: seal.String()}}, "")
}

// sortByTime puts readings in time order, then sequence.
func sortByTime(rs []environment.Reading) {
	slices.SortFunc(rs, func(a, b environment.Reading) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
	})
}

// seals reads the seals in force of batches or windows of readings (by
// entity) from the audit trail: each one's last.
func (tx *Tx) seals(entity string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for part := range slices.Chunk(ids, 500) {
		args := []any{entity, fieldSeal}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := tx.query(`SELECT entity_id, new_value FROM audit_log WHERE entity = ? AND field = ? AND entity_id IN (?`+
			strings.Repeat(`, ?`, len(part)-1)+`) ORDER BY seq`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var v sql.NullString
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = v.String
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// block is a stored block of readings.
type block struct {
	id, sensor     string
	from, to       time.Time
	minSeq, maxSeq int64
	count          int
	data           []byte
	hash           string
}

const blockColumns = `CAST(id AS TEXT), CAST(sensor_id AS TEXT), from_at, to_at, min_seq, max_seq, count, data, hash`

func scanBlock(sc scanner, b *block) error {
	return sc.Scan(&b.id, &b.sensor, &b.from, &b.to, &b.minSeq, &b.maxSeq, &b.count, &b.data, &b.hash)
}

// decode returns the block's readings, checked against its hash.
func (b *block) decode() ([]environment.Reading, error) {
	if environment.BlockHash(b.data) != b.hash {
		return nil, errs.E(errs.Internal, "environment.block.corrupt")
	}
	return environment.DecodeBlock(b.data)
}

// blockReadings returns a sensor's compacted readings from from
// (included) to to (excluded).
func (tx *Tx) blockReadings(sensorID string, from, to time.Time) ([]environment.Reading, error) {
	bs, err := collect(tx, `SELECT `+blockColumns+` FROM environment_blocks WHERE sensor_id = ? AND from_at < ? AND to_at >= ?`,
		[]any{sensorID, to.UTC(), from.UTC()}, scanBlock)
	if err != nil {
		return nil, err
	}
	var out []environment.Reading
	for i := range bs {
		rs, err := bs[i].decode()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if !r.At.Before(from) && r.At.Before(to) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// compactedReadings finds, among keys, the readings stored in blocks: the
// keys' sensors' blocks whose sequence range holds them.
func (tx *Tx) compactedReadings(keys []environment.Reading, into map[readingKey]environment.Reading) error {
	bySensor := map[string][]uint64{}
	for _, k := range keys {
		bySensor[k.SensorID] = append(bySensor[k.SensorID], k.Seq)
	}
	for _, id := range slices.Sorted(maps.Keys(bySensor)) {
		seqs := bySensor[id]
		lo, hi := slices.Min(seqs), slices.Max(seqs)
		bs, err := collect(tx, `SELECT `+blockColumns+` FROM environment_blocks WHERE sensor_id = ? AND min_seq <= ? AND max_seq >= ?`,
			[]any{id, int64(hi), int64(lo)}, scanBlock)
		if err != nil {
			return err
		}
		want := map[uint64]bool{}
		for _, s := range seqs {
			want[s] = true
		}
		for i := range bs {
			rs, err := bs[i].decode()
			if err != nil {
				return err
			}
			for _, r := range rs {
				if want[r.Seq] {
					into[readingKey{r.SensorID, r.Seq}] = r
				}
			}
		}
	}
	return nil
}

// PurgeReadings deletes, by the site's retention policy, the compacted
// readings older than keep: each window of blocks whose latest reading is
// older than now less keep, whole, in one transaction
// ("environment.retention"), its seal in the audit trail ended (the old
// seal kept as the entry's old value). keep below
// environment.MinRetention is refused. The roll-ups of those times go
// with them. It returns the readings deleted. The leading node runs it
// daily when the site sets a policy.
func (e *EnvironmentStore) PurgeReadings(ctx context.Context, keep time.Duration, now time.Time) (int, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return 0, err
	}
	if keep < environment.MinRetention {
		return 0, errs.Field("keep", "environment.retention.too_short", text.Int(int(environment.MinRetention/(365*24*time.Hour))))
	}
	cutoff := now.Add(-keep).UTC()
	deleted := 0
	err := e.db.Write(ctx, "environment.retention", "", func(tx *Tx) error {
		type window struct {
			at time.Time
			n  int
		}
		ws, err := collect(tx, `SELECT window_at, SUM(count) FROM environment_blocks GROUP BY window_at HAVING MAX(to_at) < ? ORDER BY window_at`,
			[]any{cutoff}, func(sc scanner, w *window) error { return sc.Scan(&w.at, &w.n) })
		if err != nil {
			return err
		}
		var changes []audit.Change
		for _, w := range ws {
			id := w.at.UTC().Format(time.RFC3339)
			seals, err := tx.seals(entityReadingWindow, []string{id})
			if err != nil {
				return err
			}
			if _, err := tx.exec(`DELETE FROM environment_blocks WHERE window_at = ?`, w.at); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Entity: entityReadingWindow, EntityID: id, Field: fieldSeal, Old: seals[id]})
			deleted += w.n
		}
		if _, err := tx.exec(`DELETE FROM environment_rollups WHERE start_at < ? AND width_s = ?`, cutoff.Truncate(environment.Hour), int64(environment.Hour/time.Second)); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM environment_rollups WHERE start_at < ? AND width_s = ?`, cutoff.Truncate(environment.Minute), int64(environment.Minute/time.Second)); err != nil {
			return err
		}
		return tx.Audit(changes, "")
	})
	return deleted, err
}

// verifyWindows checks every window of readings sealed in the audit trail
// and not ended by retention: its blocks, decoded, give its seal.
func (e *EnvironmentStore) verifyWindows(ctx context.Context) ([]SealMismatch, error) {
	var out []SealMismatch
	err := e.db.Read(ctx, func(tx *Tx) error {
		type entry struct{ id, seal string }
		es, err := collect(tx, `SELECT entity_id, new_value FROM audit_log WHERE entity = ? AND field = ? ORDER BY seq`,
			[]any{entityReadingWindow, fieldSeal}, func(sc scanner, en *entry) error {
				var v sql.NullString
				err := sc.Scan(&en.id, &v)
				en.seal = v.String
				return err
			})
		if err != nil {
			return err
		}
		live := map[string]string{}
		for _, en := range es {
			live[en.id] = en.seal
		}
		for _, id := range slices.Sorted(maps.Keys(live)) {
			at, err := time.Parse(time.RFC3339, id)
			if err != nil {
				return err
			}
			bs, err := collect(tx, `SELECT `+blockColumns+` FROM environment_blocks WHERE window_at = ? ORDER BY sensor_id, from_at`, []any{at.UTC()}, scanBlock)
			if err != nil {
				return err
			}
			sealed := live[id]
			if sealed == "" && len(bs) == 0 {
				continue // ended by retention
			}
			var rs []environment.Reading
			var hashes []string
			stored := ""
			for i := range bs {
				got, err := environment.DecodeBlock(bs[i].data)
				if err != nil {
					stored = "corrupt block " + bs[i].id
					break
				}
				rs = append(rs, got...)
				hashes = append(hashes, environment.BlockHash(bs[i].data))
			}
			if stored == "" {
				stored = environment.SealWindow(rs, hashes).String()
			}
			if stored != sealed {
				out = append(out, SealMismatch{Window: id, Sealed: sealed, Stored: stored})
			}
		}
		return nil
	})
	return out, err
}
