package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

func ptr(f float64) *float64 { return &f }

// newSensor records a temperature sensor in the fixture's grade B room.
func newSensor(t *testing.T, db *store.DB, f *fixture, code string) *environment.Sensor {
	t.Helper()
	s := &environment.Sensor{Code: code, Name: "Sensor " + code, Kind: environment.KindTemperature, Place: environment.PlaceRoom,
		PlaceID: f.roomB.ID, Location: "North wall, 1.5 m", LocationSince: now.AddDate(0, -4, 0),
		CalibratedOn: now.AddDate(0, -3, 0).Truncate(24 * time.Hour), CalibrationDue: now.AddDate(0, 9, 0).Truncate(24 * time.Hour), Decimals: 2}
	must(t, db.Environment().CreateSensor(as(alice), s))
	return s
}

var intake = identity.System

func TestEnvironmentSensors(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		before := lastSeq(t, db)
		s := newSensor(t, db, f, "T-B-01")
		if s.ID == "" || s.Version != 1 {
			t.Fatalf("created: %+v", s)
		}
		es := entries(t, db, "environment_sensor", s.ID, before)
		if len(es) == 0 || es[0].Command != "environment_sensor.create" {
			t.Fatalf("audit of the creation: %+v", es)
		}
		got, err := env.Sensor(as(alice), s.ID)
		must(t, err)
		if got.Code != s.Code || !got.CalibratedOn.Equal(s.CalibratedOn) || !got.LocationSince.Equal(s.LocationSince.Truncate(time.Microsecond)) {
			t.Errorf("read back: %+v, want %+v", got, s)
		}

		// Bad input changes nothing.
		c := counts(t, db)
		seq := lastSeq(t, db)
		for _, bad := range []struct {
			name  string
			edit  func(s *environment.Sensor)
			field string
		}{
			{"no code", func(s *environment.Sensor) { s.Code = "" }, "code"},
			{"unknown kind", func(s *environment.Sensor) { s.Kind = "radiation" }, "kind"},
			{"no such room", func(s *environment.Sensor) { s.PlaceID = store.NewID() }, "place_id"},
			{"code taken", func(s *environment.Sensor) {}, "code"},
		} {
			b := *s
			b.ID = ""
			bad.edit(&b)
			err := env.CreateSensor(as(alice), &b)
			wantErr(t, err, errs.Invalid, bad.field)
		}
		// An operator may not declare sensors.
		b := *s
		b.Code = "T-B-99"
		if err := env.CreateSensor(as(bruno), &b); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator created a sensor: %v", err)
		}
		sameCounts(t, db, c)
		if lastSeq(t, db) != seq {
			t.Error("a refused creation wrote to the audit trail")
		}

		// An update: a reason, the version it applies to, audited.
		u := *got
		u.Location = "South wall, 1 m"
		u.LocationSince = now
		wantErr(t, env.UpdateSensor(as(alice), &u, ""), errs.Invalid, "reason")
		u.Kind = environment.KindHumidity
		wantErr(t, env.UpdateSensor(as(alice), &u, "moved"), errs.Invalid, "kind")
		u.Kind = got.Kind
		must(t, env.UpdateSensor(as(alice), &u, "moved beside the filler"))
		if u.Version != 2 {
			t.Errorf("version after the update: %d", u.Version)
		}
		stale := *got
		stale.Name = "Another name"
		if err := env.UpdateSensor(as(alice), &stale, "rename"); errs.CodeOf(err) != errs.Stale {
			t.Errorf("an update of version 1 after version 2: %v", err)
		}
		es = entries(t, db, "environment_sensor", s.ID, seq)
		var fields []string
		for _, e := range es {
			if e.Command != "environment_sensor.update" || e.Reason != "moved beside the filler" {
				t.Errorf("update entry: %+v", e)
			}
			fields = append(fields, e.Field)
		}
		if !slices.Equal(fields, []string{"location", "location_since"}) {
			t.Errorf("fields audited: %v", fields)
		}
		moved, err := env.Sensor(as(alice), s.ID)
		must(t, err)
		if moved.FlagsAt(now.Add(time.Minute)) != environment.FlagMoved {
			t.Errorf("a moved sensor's readings are not flagged: %v", moved.FlagsAt(now))
		}
		list, err := env.Sensors(as(bruno), f.roomB.ID)
		must(t, err)
		if len(list) != 1 || list[0].Location != u.Location {
			t.Errorf("sensors of the room: %+v", list)
		}

		// Limits: validated by the domain, created then changed with a reason.
		l := &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{AlertLow: ptr(19), AlertHigh: ptr(23), ActionLow: ptr(18), ActionHigh: ptr(24)},
			DelayS: 60, Deadband: 0.2, SilenceS: 300}
		bad := *l
		bad.DelayS = -1
		c, seq = counts(t, db), lastSeq(t, db)
		wantErr(t, env.SetLimits(as(alice), &bad, ""), errs.Invalid, "delay_s")
		sameCounts(t, db, c)
		if lastSeq(t, db) != seq {
			t.Error("refused limits wrote to the audit trail")
		}
		must(t, env.SetLimits(as(alice), l, ""))
		l2 := *l
		l2.AtRest.ActionHigh = ptr(25)
		wantErr(t, env.SetLimits(as(alice), &l2, ""), errs.Invalid, "reason")
		must(t, env.SetLimits(as(alice), &l2, "qualification report QR-12"))
		gotL, err := env.Limits(as(alice), s.ID)
		must(t, err)
		if gotL.Version != 2 || *gotL.AtRest.ActionHigh != 25 || gotL.DelayS != 60 {
			t.Errorf("limits read back: %+v", gotL)
		}
		es = entries(t, db, "environment_limits", s.ID, seq)
		if len(es) == 0 || es[len(es)-1].Field != "at_rest.action_high" || es[len(es)-1].Old != "24" || es[len(es)-1].New != "25" {
			t.Errorf("audit of the limits: %+v", es)
		}
	})
}

func TestEnvironmentReadings(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		s := newSensor(t, db, f, "T-1")
		ctx := as(intake)
		at := func(i int) time.Time { return now.Add(time.Duration(i-100) * 10 * time.Second) }
		reading := func(seq int, v float64) environment.Reading {
			return environment.Reading{SensorID: s.ID, Seq: uint64(seq), At: at(seq), Value: v}
		}
		batch := []environment.Reading{reading(1, 20.01), reading(2, 20.02), reading(3, 20.03)}

		if _, err := env.AppendReadings(as(bruno), batch, nil); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator appended readings: %v", err)
		}
		seq := lastSeq(t, db)
		res, err := env.AppendReadings(ctx, batch, nil)
		must(t, err)
		if res.New != 3 || res.Duplicates != 0 || res.BatchID == "" {
			t.Fatalf("first batch: %+v", res)
		}
		// One seal for the batch, recomputable from what is stored.
		es := entries(t, db, "environment_reading_batch", res.BatchID, seq)
		if len(es) != 1 || es[0].Field != "seal" {
			t.Fatalf("seal entries: %+v", es)
		}
		if lastSeq(t, db) != es[0].Seq {
			t.Error("the batch wrote more than its seal to the audit trail")
		}
		stored, err := env.BatchReadings(as(alice), res.BatchID)
		must(t, err)
		if got := environment.SealOf(stored).String(); got != es[0].New || es[0].New != res.Seal.String() {
			t.Errorf("seal recomputed from the stored readings: %s, the trail holds %s", got, es[0].New)
		}
		if stored[0].Flags != 0 || !stored[0].At.Equal(at(1)) || stored[0].Value != 20.01 {
			t.Errorf("stored: %+v", stored[0])
		}

		// A batch too big is refused whole; the sensor's id in capitals is
		// the sensor.
		c := counts(t, db)
		seq = lastSeq(t, db)
		big := make([]environment.Reading, store.MaxReadingBatch+1)
		for i := range big {
			big[i] = reading(1000+i, 20)
		}
		_, err = env.AppendReadings(ctx, big, nil)
		wantErr(t, err, errs.Invalid, "readings")
		sameCounts(t, db, c)
		if lastSeq(t, db) != seq {
			t.Error("a refused batch was sealed")
		}
		upper := reading(1, 20.01)
		upper.SensorID = strings.ToUpper(s.ID)
		res, err = env.AppendReadings(ctx, []environment.Reading{upper}, nil)
		must(t, err)
		if res.Duplicates != 1 || len(res.Refused) != 0 {
			t.Errorf("a sensor's id in capitals: %+v", res)
		}

		// The same batch again: stored once, no new seal.
		seq = lastSeq(t, db)
		res, err = env.AppendReadings(ctx, batch, nil)
		must(t, err)
		if res.New != 0 || res.Duplicates != 3 || res.BatchID != "" {
			t.Errorf("the same batch twice: %+v", res)
		}
		if lastSeq(t, db) != seq {
			t.Error("a batch of duplicates was sealed")
		}

		// Out of order, with a gap, a duplicate inside the batch, a
		// conflicting duplicate, an unknown sensor, a reading from the future.
		unknown := store.NewID()
		mixed := []environment.Reading{reading(9, 21), reading(6, 20.6), reading(6, 20.6), reading(2, 25),
			{SensorID: unknown, Seq: 1, At: at(1), Value: 20}, {SensorID: "not an id", Seq: 1, At: at(1), Value: 20},
			{SensorID: s.ID, Seq: 10, At: now.Add(time.Hour), Value: 20}}
		res, err = env.AppendReadings(ctx, mixed, environment.Counts{environment.RefusedMessageMalformed: 2})
		must(t, err)
		if res.New != 2 || res.Duplicates != 1 || res.Refused[environment.RefusedSeqConflict] != 1 ||
			res.Refused[environment.RefusedSensorUnknown] != 2 || res.Refused[environment.RefusedTimeFuture] != 1 {
			t.Errorf("mixed batch: %+v", res)
		}
		if res.Refusals[3] != environment.RefusedSeqConflict || res.Refusals[6] != environment.RefusedTimeFuture {
			t.Errorf("refusals by index: %v", res.Refusals)
		}
		// Gaps 4-5 and 7-8 opened (6 came first after 3? no: 9 came first).
		if len(res.Opened) != 1 || res.Opened[0].From != 4 || res.Opened[0].To != 8 {
			t.Errorf("gaps opened: %+v", res.Opened)
		}
		counters, err := env.Refusals(as(alice))
		must(t, err)
		if counters[environment.RefusedSeqConflict] != 1 || counters[environment.RefusedSensorUnknown] != 2 ||
			counters[environment.RefusedMessageMalformed] != 2 || counters[environment.RefusedTimeFuture] != 1 {
			t.Errorf("counters: %v", counters)
		}
		// The conflicting reading did not replace the stored one.
		rs, err := env.Readings(as(alice), s.ID, at(0), at(20), 100)
		must(t, err)
		var seqs []uint64
		for _, r := range rs {
			seqs = append(seqs, r.Seq)
			if r.Seq == 2 && r.Value != 20.02 {
				t.Errorf("reading 2 was overwritten: %v", r.Value)
			}
		}
		if !slices.Equal(seqs, []uint64{1, 2, 3, 6, 9}) {
			t.Errorf("stored sequences: %v", seqs)
		}
		// Quarantine: admins see the unknown sensors' messages.
		if _, err := env.Quarantined(as(bruno), 10); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator listed the quarantine: %v", err)
		}
		q, err := env.Quarantined(as(alice), 10)
		must(t, err)
		refs := []string{}
		for _, m := range q {
			refs = append(refs, m.SensorRef)
		}
		slices.Sort(refs)
		if len(q) != 2 || !slices.Contains(refs, unknown) || !slices.Contains(refs, "not an id") || q[0].Payload == "" {
			t.Errorf("quarantine: %+v", q)
		}

		// A message of an unknown topic: kept bounded, as valid text.
		huge := append([]byte("\xff\x00"), strings.Repeat("é", 3*store.MaxQuarantinePayload)...)
		must(t, env.QuarantineMessage(ctx, "sensors/unknown/\xff", huge))
		q, err = env.Quarantined(as(alice), 1)
		must(t, err)
		if len(q) != 1 || len(q[0].Payload) > store.MaxQuarantinePayload || len(q[0].Payload) < store.MaxQuarantinePayload-4 || !utf8.ValidString(q[0].Payload) || !utf8.ValidString(q[0].SensorRef) ||
			!strings.HasPrefix(q[0].SensorRef, "sensors/unknown/") {
			t.Errorf("quarantined message: %d bytes, %q", len(q[0].Payload), q[0].SensorRef)
		}
		counters, err = env.Refusals(as(alice))
		must(t, err)
		if counters[environment.RefusedSensorUnknown] != 3 {
			t.Errorf("unknown sensors counted: %v", counters)
		}

		// Late readings fill the gap; it closes once complete.
		gaps, err := env.Gaps(as(alice), s.ID)
		must(t, err)
		if len(gaps) != 1 || gaps[0].Missing != 4 || !gaps[0].Closed.IsZero() {
			t.Fatalf("gaps persisted: %+v", gaps)
		}
		res, err = env.AppendReadings(ctx, []environment.Reading{reading(5, 20.5), reading(4, 20.4)}, nil)
		must(t, err)
		if res.New != 2 || res.Late != 2 || len(res.Closed) != 0 {
			t.Errorf("partial fill: %+v", res)
		}
		gaps, err = env.Gaps(as(alice), s.ID)
		must(t, err)
		if len(gaps) != 1 || gaps[0].Missing != 2 || !gaps[0].Closed.IsZero() {
			t.Errorf("gap partly filled: %+v", gaps)
		}
		res, err = env.AppendReadings(ctx, []environment.Reading{reading(8, 20.8), reading(7, 20.7)}, nil)
		must(t, err)
		if len(res.Closed) != 1 {
			t.Errorf("fill: %+v", res)
		}
		gaps, err = env.Gaps(as(alice), s.ID)
		must(t, err)
		if len(gaps) != 1 || gaps[0].Missing != 0 || !gaps[0].Closed.Equal(now) {
			t.Errorf("gap filled: %+v", gaps)
		}

		// On PostgreSQL the readings went to their month's partition, made
		// when needed, not to the default one.
		if db.Dialect() == store.Postgres {
			var inDefault, inMonth int
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_default`).Scan(&inDefault))
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_2026_03`).Scan(&inMonth))
			if inDefault != 0 || inMonth != 9 {
				t.Errorf("partitions: %d readings in the default, %d in March 2026", inDefault, inMonth)
			}
		}

		// Every seal of the trail is recomputable from the stored readings.
		all, err := db.Audit().Entries(as(alice), audit.Filter{Entity: "environment_reading_batch"})
		must(t, err)
		if len(all) != 4 {
			t.Errorf("%d seals, want 4", len(all))
		}
		total := 0
		for _, e := range all {
			rs, err := env.BatchReadings(as(alice), e.EntityID)
			must(t, err)
			total += len(rs)
			if got := environment.SealOf(rs).String(); got != e.New {
				t.Errorf("batch %s: recomputed %s, sealed %s", e.EntityID, got, e.New)
			}
		}
		if total != 9 {
			t.Errorf("%d readings sealed, want 9", total)
		}
		bad, err := env.VerifySeals(as(alice))
		must(t, err)
		if len(bad) != 0 {
			t.Errorf("seals of untouched readings: %+v", bad)
		}
		// A reading changed behind galenix's back breaks its batch's seal.
		must(t, db.ExecRaw(`UPDATE environment_readings SET value = 20.9 WHERE sensor_id = ? AND seq = 6`, s.ID))
		bad, err = env.VerifySeals(as(alice))
		must(t, err)
		if len(bad) != 1 || bad[0].BatchID != all[1].EntityID {
			t.Errorf("a changed reading: %+v", bad)
		}
	})
}

func TestEnvironmentAlarms(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		s := newSensor(t, db, f, "T-A")
		l := &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{AlertHigh: ptr(23), ActionHigh: ptr(24)}, DelayS: 20, Deadband: 0.2, GapS: 60}
		must(t, env.SetLimits(as(alice), l, ""))
		ctx := as(intake)
		at := func(i int) time.Time { return now.Add(time.Duration(i-100) * 10 * time.Second) }
		// step feeds readings to the machine as recorded, and records what
		// it did, as the intake does after each batch.
		step := func(vals map[int]float64, seqs ...int) []environment.Event {
			t.Helper()
			m, err := env.Machine(ctx, s.ID)
			must(t, err)
			var events []environment.Event
			for _, i := range seqs {
				r := environment.Reading{SensorID: s.ID, Seq: uint64(i), At: at(i), Value: vals[i]}
				evs, _ := m.Step(l, environment.AtRest, &r, at(i))
				events = append(events, evs...)
			}
			must(t, env.RecordAlarms(ctx, m, events))
			return events
		}
		if err := env.RecordAlarms(as(bruno), environment.NewMachine(s, now), nil); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("an operator recorded alarms: %v", err)
		}
		vals := map[int]float64{1: 22, 2: 24.5, 3: 24.8, 4: 25.1, 5: 24.6, 6: 23.5, 7: 22.1}
		seq := lastSeq(t, db)
		evs := step(vals, 1, 2, 3, 4)
		if len(evs) == 0 || evs[0].Kind != environment.Opened || evs[0].Alarm.ID == "" {
			t.Fatalf("events: %+v", evs)
		}
		id := evs[0].Alarm.ID
		// A restart: the machine read back holds the open alarm and its id.
		m, err := env.Machine(ctx, s.ID)
		must(t, err)
		if m.Limit == nil || m.Limit.ID != id || m.Level != environment.Action {
			t.Fatalf("machine read back: %+v", m)
		}
		step(vals, 5, 6, 7)
		a, err := env.Alarm(as(bruno), id)
		must(t, err)
		if a.Open() || a.Level != environment.Action || a.Peak != 25.1 || a.ActionStart.IsZero() || a.ActionEnd.IsZero() {
			t.Errorf("alarm after the excursion: %+v", a)
		}
		list, err := env.Alarms(as(bruno), s.ID, 10)
		must(t, err)
		if len(list) != 1 || list[0].ID != id {
			t.Errorf("alarms of the sensor: %+v", list)
		}
		// Its own trail: opened, then its course.
		es := entries(t, db, "environment_alarm", id, seq)
		var fields []string
		for _, e := range es {
			if e.Command != "environment_alarm.record" {
				t.Errorf("alarm entry: %+v", e)
			}
			fields = append(fields, e.Field)
		}
		if !slices.Contains(fields, "end") || !slices.Contains(fields, "peak") || !slices.Contains(fields, "level") {
			t.Errorf("fields of the alarm's trail: %v", fields)
		}
		m, err = env.Machine(ctx, s.ID)
		must(t, err)
		if m.Limit != nil || m.Level != environment.Normal {
			t.Errorf("machine after the excursion: %+v", m)
		}
		// A gap in the readings: the data-gap alarm opens once it lasted
		// the limits' gap delay, and ends when the gap is filled.
		gapped := func(seqs ...int) {
			t.Helper()
			var rs []environment.Reading
			for _, i := range seqs {
				rs = append(rs, environment.Reading{SensorID: s.ID, Seq: uint64(i), At: at(i), Value: 22})
			}
			_, err := env.AppendReadings(ctx, rs, nil)
			must(t, err)
		}
		gapped(1, 2, 5)
		tick := func(when time.Time) []environment.Event {
			t.Helper()
			m, err := env.Machine(ctx, s.ID)
			must(t, err)
			tr, err := env.Tracker(ctx, s.ID)
			must(t, err)
			evs := m.Tick(l, tr, when)
			must(t, env.RecordAlarms(ctx, m, evs))
			return evs
		}
		if evs := tick(now.Add(30 * time.Second)); len(evs) != 0 {
			t.Errorf("a gap alarm before the delay: %+v", evs)
		}
		evs = tick(now.Add(61 * time.Second))
		if len(evs) != 1 || evs[0].Alarm.Kind != environment.AlarmGap || evs[0].Alarm.Peak != 2 {
			t.Fatalf("gap alarm: %+v", evs)
		}
		gapID := evs[0].Alarm.ID
		gapped(3, 4)
		evs = tick(now.Add(2 * time.Minute))
		if len(evs) != 1 || evs[0].Kind != environment.Closed || evs[0].Alarm.ID != gapID {
			t.Errorf("gap alarm once filled: %+v", evs)
		}
		ga, err := env.Alarm(as(alice), gapID)
		must(t, err)
		if ga.Open() {
			t.Errorf("the gap alarm is still open: %+v", ga)
		}

		// An event naming an alarm of another sensor changes nothing.
		other := newSensor(t, db, f, "T-O")
		c, before := counts(t, db), lastSeq(t, db)
		bad := environment.NewMachine(other, now)
		err = env.RecordAlarms(ctx, bad, []environment.Event{{Kind: environment.Closed, Alarm: environment.Alarm{ID: id, SensorID: other.ID, Kind: environment.AlarmLimit}}})
		if errs.CodeOf(err) != errs.NotFound {
			t.Errorf("an alarm of another sensor: %v", err)
		}
		sameCounts(t, db, c)
		if lastSeq(t, db) != before {
			t.Error("a refused record wrote to the audit trail")
		}
	})
}

// TestEnvironmentReadingsConcurrent: the same batch sent by several
// connections at once is stored once: the sensor's tracker is locked while
// a batch of its readings is appended.
func TestEnvironmentReadingsConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		a, b := newSensor(t, db, f, "T-C1"), newSensor(t, db, f, "T-C2")
		var batch []environment.Reading
		for i := 1; i <= 40; i++ {
			// Readings of two months: the previous month's partition is
			// made as well.
			at := now.Add(-time.Duration(40-i) * 12 * time.Hour)
			batch = append(batch, environment.Reading{SensorID: a.ID, Seq: uint64(i), At: at, Value: 20 + float64(i)/100},
				environment.Reading{SensorID: b.ID, Seq: uint64(i), At: at, Value: 21})
		}
		const senders = 4
		results := make(chan *store.AppendResult, senders)
		failures := make(chan error, senders)
		for k := range senders {
			go func() {
				// Each sender in its own order.
				mine := slices.Clone(batch)
				if k%2 == 1 {
					slices.Reverse(mine)
				}
				res, err := env.AppendReadings(as(intake), mine, nil)
				if err != nil {
					failures <- err
					return
				}
				results <- res
			}()
		}
		var fresh, dup int
		for range senders {
			select {
			case err := <-failures:
				t.Fatal(err)
			case res := <-results:
				fresh += res.New
				dup += res.Duplicates
			}
		}
		if fresh != len(batch) || dup != (senders-1)*len(batch) {
			t.Errorf("%d new and %d duplicates, want %d and %d", fresh, dup, len(batch), (senders-1)*len(batch))
		}
		rs, err := env.Readings(as(alice), a.ID, now.AddDate(0, -2, 0), now.Add(time.Hour), 1000)
		must(t, err)
		if len(rs) != 40 || rs[0].Seq != 1 || rs[39].Seq != 40 {
			t.Errorf("%d readings stored", len(rs))
		}
		if db.Dialect() == store.Postgres {
			var inDefault int
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_default`).Scan(&inDefault))
			var feb, mar int
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_2026_02`).Scan(&feb))
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_2026_03`).Scan(&mar))
			if inDefault != 0 || feb+mar != 80 || feb == 0 || mar == 0 {
				t.Errorf("partitions: default %d, February %d, March %d", inDefault, feb, mar)
			}
			// A month whose partition cannot be made, the default partition
			// holding readings of it already: its readings go to the default.
			jan := time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)
			if _, err := db.SQL().Exec(`INSERT INTO environment_readings_default (sensor_id, seq, at, value, flags, received_at, batch_id)
				VALUES ($1, 1000, $2, 20, 0, $2, $3)`, a.ID, jan, store.NewID()); err != nil {
				t.Fatal(err)
			}
			res, err := env.AppendReadings(as(intake), []environment.Reading{{SensorID: a.ID, Seq: 1001, At: jan.Add(time.Hour), Value: 20}}, nil)
			must(t, err)
			must(t, db.SQL().QueryRow(`SELECT count(*) FROM environment_readings_default`).Scan(&inDefault))
			if res.New != 1 || inDefault != 2 {
				t.Errorf("a month without its partition: %+v, %d in the default partition", res, inDefault)
			}
		}
	})
}
