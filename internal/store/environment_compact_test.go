package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/store"
)

// TestEnvironmentCompaction: old readings compacted into blocks read back
// bit for bit, stay idempotent on (sensor, sequence), are covered by the
// window's seal (a changed block is detected), are not compacted over a
// batch whose seal no longer holds, nor before the roll-up job read them,
// and leave by retention only past GMP's minimum, audited.
func TestEnvironmentCompaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		ctx := as(intake)
		s, s2 := newSensor(t, db, f, "T-C"), newSensor(t, db, f, "T-D")
		clock := now
		db.Now = func() time.Time { return clock }
		first := now.Add(-3*time.Hour - 20*time.Minute).Truncate(time.Second)
		mk := func(sensor string, from, n int) []environment.Reading {
			var rs []environment.Reading
			for i := from; i < from+n; i++ {
				rs = append(rs, environment.Reading{SensorID: sensor, Seq: uint64(i), At: first.Add(time.Duration(i) * 10 * time.Second),
					Value: 20 + float64((i*37)%400-200)/100})
			}
			return rs
		}
		// Received in the window of 04:00 (both sensors), of 05:00, and now.
		clock = now.Add(-3 * time.Hour)
		_, err := env.AppendReadings(ctx, append(mk(s.ID, 1, 100), mk(s2.ID, 1, 100)...), nil)
		must(t, err)
		clock = now.Add(-2*time.Hour - 30*time.Minute)
		_, err = env.AppendReadings(ctx, mk(s.ID, 101, 100), nil)
		must(t, err)
		clock = now
		_, err = env.AppendReadings(ctx, mk(s.ID, 201, 10), nil)
		must(t, err)
		wide := func(id string) []environment.Reading {
			t.Helper()
			rs, err := env.Readings(as(alice), id, first, now.Add(time.Hour), 100000)
			must(t, err)
			return rs
		}
		before, before2 := wide(s.ID), wide(s2.ID)
		if len(before) != 210 || len(before2) != 100 {
			t.Fatalf("%d and %d readings stored", len(before), len(before2))
		}

		if _, err := env.Compact(as(bruno), now, 10); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator compacted: %v", err)
		}
		// Not rolled up yet: nothing is compacted.
		run, err := env.Compact(ctx, now, 10)
		must(t, err)
		if run.Windows != 0 {
			t.Errorf("compacted before the roll-ups: %+v", run)
		}
		clock = now.Add(2 * time.Minute)
		_, err = env.RollUp(ctx)
		must(t, err)
		minutes, err := env.Rollups(as(alice), s.ID, environment.Minute, first, now.Add(time.Hour))
		must(t, err)

		// A batch changed behind galenix's back stops the compaction, and
		// nothing of its window changes.
		must(t, db.ExecRaw(`UPDATE environment_readings SET value = 99 WHERE sensor_id = ? AND seq = 7`, s2.ID))
		if _, err := env.Compact(ctx, now.Add(-time.Hour), 10); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), "seal") {
			t.Errorf("compacting over a changed reading: %v", err)
		}
		if n := len(wide(s.ID)); n != 210 {
			t.Errorf("%d readings of T-C after a refused compaction", n)
		}
		must(t, db.ExecRaw(`UPDATE environment_readings SET value = ? WHERE sensor_id = ? AND seq = 7`, before2[6].Value, s2.ID))

		run, err = env.Compact(ctx, now.Add(-time.Hour), 10)
		must(t, err)
		if run.Windows != 2 || run.Blocks != 3 || run.Readings != 300 {
			t.Fatalf("compaction: %+v; want 2 windows, 3 blocks, 300 readings", run)
		}
		if again, err := env.Compact(ctx, now.Add(-time.Hour), 10); err != nil || again.Windows != 0 {
			t.Errorf("compacted twice: %+v %v", again, err)
		}
		same := func(a, b []environment.Reading) bool {
			return slices.EqualFunc(a, b, func(x, y environment.Reading) bool {
				return x.SensorID == y.SensorID && x.Seq == y.Seq && x.At.Equal(y.At) && x.Value == y.Value && x.Flags == y.Flags
			})
		}
		if after := wide(s.ID); !same(after, before) {
			t.Errorf("readings after compaction differ (%d, want %d)", len(after), len(before))
		}
		if after := wide(s2.ID); !same(after, before2) {
			t.Errorf("T-D's readings after compaction differ")
		}
		if rs, err := env.Readings(as(alice), s.ID, first, now.Add(time.Hour), 50); err != nil || !same(rs, before[:50]) {
			t.Errorf("the first 50 readings: %d, %v", len(rs), err)
		}
		if m, err := env.Rollups(as(alice), s.ID, environment.Minute, first, now.Add(time.Hour)); err != nil || !sameRollups(m, minutes) {
			t.Errorf("roll-ups changed by the compaction: %v", err)
		}
		if sr, err := env.Series(as(alice), s.ID, first, now.Add(time.Hour)); err != nil || len(sr.Points) != 210 {
			t.Errorf("the plot of compacted readings: %v", err)
		}

		// Sent again: the same is a duplicate, another value a conflict.
		res, err := env.AppendReadings(ctx, mk(s.ID, 5, 1), nil)
		must(t, err)
		if res.Duplicates != 1 || res.New != 0 {
			t.Errorf("a compacted reading sent again: %+v", res)
		}
		changed := mk(s.ID, 150, 1)
		changed[0].Value = 30
		res, err = env.AppendReadings(ctx, changed, nil)
		must(t, err)
		if res.New != 0 || res.Refused[environment.RefusedSeqConflict] != 1 {
			t.Errorf("a compacted sequence sent with another value: %+v", res)
		}

		bad, err := env.VerifySeals(as(alice))
		must(t, err)
		if len(bad) != 0 {
			t.Errorf("seals after compaction: %+v", bad)
		}
		windows := entries(t, db, "environment_reading_window", "", 0)
		if len(windows) != 2 || windows[0].Command != "environment.compact" || !strings.Contains(windows[0].New, "blocks=2") {
			t.Errorf("the windows' seals: %+v", windows)
		}

		// Retention: never below GMP's; then the window of 04:00 only.
		if _, err := env.PurgeReadings(ctx, 365*24*time.Hour, now); !errs.Is(err, errs.Invalid) {
			t.Errorf("a retention of a year: %v", err)
		}
		if _, err := env.PurgeReadings(as(bruno), environment.MinRetention, now); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator purged: %v", err)
		}
		cut := first.Add(102 * 10 * time.Second) // between the windows' readings
		n, err := env.PurgeReadings(ctx, environment.MinRetention, cut.Add(environment.MinRetention))
		must(t, err)
		if n != 200 {
			t.Errorf("%d readings past retention deleted, want the 200 of the window of 04:00", n)
		}
		if after := wide(s.ID); !same(after, before[100:]) {
			t.Errorf("T-C after retention: %d readings", len(after))
		}
		if after := wide(s2.ID); len(after) != 0 {
			t.Errorf("T-D after retention: %d readings", len(after))
		}
		if bad, err := env.VerifySeals(as(alice)); err != nil || len(bad) != 0 {
			t.Errorf("seals after retention: %+v %v", bad, err)
		}
		if es := entries(t, db, "environment_reading_window", "", 0); len(es) != 3 || es[2].Command != "environment.retention" || es[2].New != "" || es[2].Old == "" {
			t.Errorf("the retention's trail: %+v", es)
		}

		// A block changed behind galenix's back breaks its window's seal.
		forged := slices.Clone(before[100:200])
		forged[3].Value = 25
		data, err := environment.EncodeBlock(forged)
		must(t, err)
		must(t, db.ExecRaw(`UPDATE environment_blocks SET data = ? WHERE sensor_id = ?`, data, s.ID))
		bad, err = env.VerifySeals(as(alice))
		must(t, err)
		if len(bad) != 1 || bad[0].Window == "" || bad[0].Sealed == bad[0].Stored {
			t.Errorf("a changed block: %+v", bad)
		}
	})
}
