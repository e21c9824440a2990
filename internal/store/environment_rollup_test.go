package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestEnvironmentRollups: the job rolls up closed minutes and hours from
// the raw readings, whose merged sums equal the direct ones exactly; a
// second run adds nothing; a reading arriving late in a closed minute is
// taken by the next run; an open hour waits until it closes.
func TestEnvironmentRollups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		s := newSensor(t, db, f, "T-R")
		ctx := as(intake)
		// Three hours of readings every 5 s up to now (more than a plot
		// takes raw), values with two decimals that no binary float holds
		// exactly.
		start := now.Add(-3 * time.Hour).Truncate(time.Second)
		var raw []environment.Reading
		for i := 0; !start.Add(time.Duration(i) * 5 * time.Second).After(now); i++ {
			raw = append(raw, environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: start.Add(time.Duration(i) * 5 * time.Second),
				Value: 20 + float64((i*37)%400-200)/100})
		}
		for i := 0; i < len(raw); i += 250 {
			_, err := env.AppendReadings(ctx, raw[i:min(i+250, len(raw))], nil)
			must(t, err)
		}
		if _, err := env.RollUp(as(bruno)); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator ran the roll-up job: %v", err)
		}
		// Right after reception nothing is rolled up: the job leaves the
		// last RollupLag to its next run.
		run, err := env.RollUp(ctx)
		must(t, err)
		if run.Minutes != 0 || run.Hours != 0 {
			t.Errorf("a run within the lag rolled up %+v", run)
		}

		clock := now.Add(2 * time.Minute)
		db.Now = func() time.Time { return clock }
		run, err = env.RollUp(ctx)
		must(t, err)
		wantMinutes := environment.Roll(raw, environment.Minute)
		if run.Minutes != len(wantMinutes) || run.Hours != 3 || run.Pending != 1 {
			t.Errorf("first run: %+v, want %d minutes, 3 hours, 1 open hour", run, len(wantMinutes))
		}
		check := func(want []environment.Reading) {
			t.Helper()
			from, to := start.Add(-time.Hour), now.Add(time.Hour)
			minutes, err := env.Rollups(as(bruno), s.ID, environment.Minute, from, to)
			must(t, err)
			if w := environment.Roll(want, environment.Minute); !sameRollups(minutes, w) {
				t.Errorf("stored minutes differ from the raw readings' (%d, want %d)", len(minutes), len(w))
			}
			hours, err := env.Rollups(as(bruno), s.ID, environment.Hour, from, to)
			must(t, err)
			direct := environment.Roll(want, environment.Hour)
			closed := direct[:0:0]
			for _, h := range direct {
				if !h.Start.Add(time.Hour).After(clock.Add(-store.RollupLag)) {
					closed = append(closed, h)
				}
			}
			if len(hours) != len(closed) || len(hours) == 0 {
				t.Fatalf("stored hours %d, want %d closed", len(hours), len(closed))
			}
			for i := range hours {
				h, d := hours[i], closed[i]
				// Merged from the minutes, to the bit as rolled directly.
				if !h.Start.Equal(d.Start) || h.Count != d.Count || h.Min != d.Min || h.Max != d.Max || h.Total() != d.Total() || h.Mean() != d.Mean() {
					t.Errorf("hour %s: %+v, rolled directly %+v", h.Start, h, d)
				}
			}
		}
		check(raw)
		// A series ends at its last reading: the hour still open comes
		// from its minutes, the minute still open from the raw readings.
		for _, span := range []time.Duration{3*time.Hour + 2*time.Minute, 40 * time.Hour} {
			series, err := env.Series(as(bruno), s.ID, now.Add(time.Minute).Add(-span), now.Add(time.Minute))
			must(t, err)
			total := int64(0)
			for _, p := range series.Points {
				total += p.Count
			}
			if total != int64(len(raw)) || !series.Points[len(series.Points)-1].At.Add(series.Width).After(now) {
				t.Errorf("series over %s at %s: %d readings, want %d up to now", span, series.Width, total, len(raw))
			}
		}

		// A second run adds nothing.
		run, err = env.RollUp(ctx)
		must(t, err)
		if run.Minutes != 0 || run.Hours != 0 {
			t.Errorf("a second run wrote %+v", run)
		}
		check(raw)

		// A late reading in a closed minute, an hour back: the next run
		// recomputes that minute and its hour.
		late := environment.Reading{SensorID: s.ID, Seq: uint64(len(raw) + 1), At: start.Add(95*time.Minute + 3*time.Second), Value: 27.5}
		_, err = env.AppendReadings(ctx, []environment.Reading{late}, nil)
		must(t, err)
		raw = append(raw, late)
		clock = clock.Add(2 * time.Minute)
		run, err = env.RollUp(ctx)
		must(t, err)
		if run.Minutes != 1 || run.Hours != 1 {
			t.Errorf("the run after a late reading: %+v, want its minute and hour", run)
		}
		check(raw)
		minutes, err := env.Rollups(as(bruno), s.ID, environment.Minute, late.At.Truncate(time.Minute), late.At.Truncate(time.Minute).Add(time.Minute))
		must(t, err)
		if len(minutes) != 1 || minutes[0].Count < 2 || minutes[0].Max != 27.5 {
			t.Errorf("the late reading's minute: %+v", minutes)
		}

		// Once the last hour closes, the next run rolls it up.
		clock = now.Add(time.Hour)
		run, err = env.RollUp(ctx)
		must(t, err)
		if run.Hours != 1 || run.Pending != 0 {
			t.Errorf("the run after the hour closed: %+v", run)
		}
		check(raw)

		// A sensor's series: raw readings while few, roll-ups beyond.
		series, err := env.Series(as(bruno), s.ID, now.Add(-10*time.Minute), now)
		must(t, err)
		inSpan := 0
		for _, r := range raw {
			if !r.At.Before(now.Add(-10*time.Minute)) && r.At.Before(now) {
				inSpan++
			}
		}
		if series.Width != 0 || len(series.Points) != inSpan || inSpan < 100 {
			t.Errorf("ten minutes: width %s, %d points, want %d raw readings", series.Width, len(series.Points), inSpan)
		}
		series, err = env.Series(as(bruno), s.ID, start, now.Add(time.Minute))
		must(t, err)
		if series.Width != environment.Minute || len(series.Points) != len(environment.Roll(raw, environment.Minute)) {
			t.Errorf("three hours: width %s, %d points", series.Width, len(series.Points))
		}
		series, err = env.Series(as(bruno), s.ID, now.AddDate(-1, 0, 0), now.Add(time.Minute))
		must(t, err)
		if series.Width != 6*time.Hour || len(series.Points) == 0 || len(series.Points) > 2 {
			t.Errorf("a year: width %s, %d points", series.Width, len(series.Points))
		}
		if _, err := env.Series(as(bruno), s.ID, now, now); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("an empty span: %v", err)
		}
	})
}

func sameRollups(a, b []environment.Rollup) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.SensorID != y.SensorID || !x.Start.Equal(y.Start) || x.Width != y.Width || x.Count != y.Count || x.Min != y.Min || x.Max != y.Max ||
			x.Sum != y.Sum || x.SumErr != y.SumErr {
			return false
		}
	}
	return true
}

// TestEnvironmentRollupChunks: one transaction of the roll-up job takes a
// bounded number of readings, and of intervals left open, however big the
// batch they came in: a gateway's backlog of thousands of readings, or the
// hours of two thousand sensors closing at once, never hold the writer for
// long. The mark names the last reading taken, so the job resumes within
// a batch, and the roll-ups end exactly as if made at once.
func TestEnvironmentRollupChunks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		db.SetRollupChunk(40)
		f := newFixture(t, db)
		env := db.Environment()
		ctx := as(intake)
		// Three sensors, 90 minutes of a reading every 30 s each, all in
		// one batch: 540 readings received at one time.
		start := now.Add(-90 * time.Minute).Truncate(time.Minute)
		var raw []environment.Reading
		perSensor := map[string][]environment.Reading{}
		for k := range 3 {
			s := newSensor(t, db, f, fmt.Sprintf("T-C%d", k))
			for i := range 180 {
				r := environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: start.Add(time.Duration(i) * 30 * time.Second), Value: 20 + float64(i%7)/10}
				raw = append(raw, r)
				perSensor[s.ID] = append(perSensor[s.ID], r)
			}
		}
		_, err := env.AppendReadings(ctx, raw, nil)
		must(t, err)

		clock := now.Add(2 * time.Minute)
		db.Now = func() time.Time { return clock }
		// Before the job's first run, IT's metric of its lag has nothing
		// to say.
		if _, ok, err := db.RolledUpTo(ctx); err != nil || ok {
			t.Errorf("rolled up to before the first run: %v %v, want nothing", ok, err)
		}
		// One transaction takes 40 readings: at most 40 minutes, and the
		// mark stops on the 40th reading of the batch, inside it.
		run, done, err := env.RollUpOnce(ctx)
		must(t, err)
		if done || run.Minutes == 0 || run.Minutes > 40 {
			t.Errorf("one chunk of a 540-reading batch: %+v, done %v; want at most 40 minutes and more to do", run, done)
		}
		at, sensor, seq, err := db.RollupMark(ctx)
		must(t, err)
		if sensor == "" || seq == 0 || at.After(clock) {
			t.Errorf("the mark after one chunk: %s %q %d; want a reading of the batch", at, sensor, seq)
		}
		chunks := 1
		for !done {
			run, done, err = env.RollUpOnce(ctx)
			must(t, err)
			if run.Minutes > 40 {
				t.Fatalf("a chunk rolled up %d minutes, want at most 40", run.Minutes)
			}
			chunks++
			if chunks > 100 {
				t.Fatal("the job does not end")
			}
		}
		if chunks < 540/40 {
			t.Errorf("540 readings in %d chunks of 40 at most", chunks)
		}
		// Caught up: rolled up to now less the lag it leaves.
		if to, ok, err := db.RolledUpTo(ctx); err != nil || !ok || !to.Equal(clock.Add(-store.RollupLag)) {
			t.Errorf("rolled up to %s (%v %v) once caught up, want %s", to, ok, err, clock.Add(-store.RollupLag))
		}
		for id, rs := range perSensor {
			minutes, err := env.Rollups(as(bruno), id, environment.Minute, start.Add(-time.Hour), now.Add(time.Hour))
			must(t, err)
			if w := environment.Roll(rs, environment.Minute); !sameRollups(minutes, w) {
				t.Errorf("sensor %s: stored minutes differ from the raw readings' (%d, want %d)", id, len(minutes), len(w))
			}
		}

		// The sensors' current hours are noted open; once they close, a
		// chunk takes 40 of the intervals left open at most. With 50
		// sensors' hours open, closing needs two chunks.
		for k := range 47 {
			s := newSensor(t, db, f, fmt.Sprintf("T-D%d", k))
			_, err := env.AppendReadings(ctx, []environment.Reading{{SensorID: s.ID, Seq: 1, At: clock.Add(-30 * time.Second), Value: 20}}, nil)
			must(t, err)
		}
		clock = clock.Add(2 * time.Minute)
		_, err = env.RollUp(ctx)
		must(t, err)
		clock = clock.Add(2 * time.Hour)
		run, done, err = env.RollUpOnce(ctx)
		must(t, err)
		if done || run.Hours == 0 || run.Hours > 40 {
			t.Errorf("the first chunk after 50 hours closed: %+v, done %v; want at most 40 hours and more to do", run, done)
		}
		run, err = env.RollUp(ctx)
		must(t, err)
		if run.Hours == 0 || run.Pending != 0 {
			t.Errorf("the rest after 50 hours closed: %+v", run)
		}
		for id, rs := range perSensor {
			hours, err := env.Rollups(as(bruno), id, environment.Hour, start.Add(-time.Hour), now.Add(time.Hour))
			must(t, err)
			if w := environment.Roll(rs, environment.Hour); len(hours) != len(w) {
				t.Errorf("sensor %s: %d hours, want %d", id, len(hours), len(w))
			}
		}
	})
}

// TestEnvironmentRollupInHistory: a history load (the demo's) rolls its
// readings up to its clock, those received at its last moment too: it
// holds the writer, and no batch commits late beside it.
func TestEnvironmentRollupInHistory(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		s := newSensor(t, db, f, "T-H")
		clock := now.Truncate(time.Minute)
		var raw []environment.Reading
		for i := range 10 {
			raw = append(raw, environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: clock.Add(time.Duration(i-10) * time.Minute), Value: 20})
		}
		must(t, db.WriteHistory(as(identity.System), "test.history", func(ctx context.Context, h *store.History) error {
			if err := h.Backdate(clock); err != nil {
				return err
			}
			if _, err := env.AppendReadings(ctx, raw, nil); err != nil {
				return err
			}
			_, err := env.RollUp(ctx)
			return err
		}))
		minutes, err := env.Rollups(as(bruno), s.ID, environment.Minute, clock.Add(-time.Hour), clock)
		must(t, err)
		if len(minutes) != len(raw) {
			t.Errorf("%d minutes rolled up in the load, want %d", len(minutes), len(raw))
		}
		if to, ok, err := db.RolledUpTo(context.Background()); err != nil || !ok || !to.Equal(clock) {
			t.Errorf("rolled up to %s (%v %v), want the load's clock %s", to, ok, err, clock)
		}
	})
}
