package store_test

import (
	"fmt"
	"galenix/internal/audit"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestEnvironmentAlarmPath: readings through the intake's pipeline raise
// the alarms the limits of the room's state give (at rest, then in
// operation while a batch is in progress on the room's line); a late
// batch filling a gap finds the excursion it hid, once; the tick raises
// the gap and silence alarms once; an action-level excursion opens one
// deviation per alarm naming the batches in progress there (not one that
// ended before); the acknowledgement is a signature, refused in words;
// the qualified person's view lists the excursion.
func TestEnvironmentAlarmPath(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		env := db.Environment()
		sys := as(identity.System)
		pipe := ingest.NewPipeline(env, nil)
		s := newSensor(t, db, e.f, "T-B")
		l := &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{AlertHigh: ptr(23), ActionHigh: ptr(24)},
			InOperation: &environment.Thresholds{AlertHigh: ptr(25), ActionHigh: ptr(26)}, DelayS: 20, Deadband: 0.2, SilenceS: 300, GapS: 60}
		must(t, env.SetLimits(as(alice), l, ""))
		send := func(start time.Time, first int, vals ...float64) *store.AppendResult {
			t.Helper()
			var msgs []ingest.Message
			for i, v := range vals {
				if v == 0 {
					continue // not sent
				}
				msgs = append(msgs, ingest.Message{Sensor: s.Code, Seq: uint64(first + i), At: start.Add(time.Duration(i) * 10 * time.Second), Value: v})
			}
			res, err := pipe.Submit(sys, msgs, nil)
			must(t, err)
			return res
		}
		alarms := func() []environment.Alarm {
			t.Helper()
			as, err := env.Alarms(as(alice), s.ID, 100)
			must(t, err)
			slices.Reverse(as)
			return as
		}
		day := now.Truncate(24 * time.Hour)
		hm := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

		// A batch in progress and completed at 07:30, before any excursion.
		b0, _ := e.inReview(t)

		// At rest: alert after the delay, then action, then back.
		e.clock.set(hm(8, 0))
		send(hm(7, 40), 1, 22, 23.5, 23.6, 23.7, 24.5, 24.6, 24.7, 23.9, 22)
		got := alarms()
		if len(got) != 1 || got[0].Level != environment.Action || got[0].State != environment.AtRest || got[0].Open() ||
			!got[0].Start.Equal(hm(7, 40).Add(10*time.Second)) || !got[0].ActionStart.Equal(hm(7, 40).Add(40*time.Second)) || got[0].Peak != 24.7 ||
			!got[0].ActionEnd.Equal(hm(7, 41).Add(20*time.Second)) { // 23.9 is within the deadband: still action
			t.Fatalf("alarms at rest: %+v", got)
		}
		if ds, err := env.AlarmDeviations(e.actor("quinn"), got[0].ID); err != nil || len(ds) != 0 {
			t.Errorf("an excursion no batch shared opened deviations: %+v %v", ds, err)
		}

		// A batch in progress on the room's line from 08:30: the limits in
		// operation hold.
		e.clock.set(hm(8, 30))
		svc, sup := db.Production(), e.actor("victor")
		b1 := e.order(t, e.vial, 10000)
		_, err := svc.ScheduleBatch(sup, b1.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(4, 6)}, "")
		must(t, err)
		_, err = svc.MoveBatch(sup, b1.ID, production.MoveRelease, "")
		must(t, err)
		rec, err := svc.Record(sup, b1.ID)
		must(t, err)
		_, err = svc.RecordStep(e.actor("olga"), b1.ID, production.Entry{StepID: rec.Steps[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
		must(t, err)
		e.clock.set(hm(9, 0))
		send(hm(8, 40), 10, 24.5, 24.5, 24.5, 26.5, 26.6, 26.8, 26.5, 22)
		got = alarms()
		if len(got) != 2 || got[1].State != environment.InOperation || got[1].Level != environment.Action || got[1].Open() || got[1].Peak != 26.8 {
			t.Fatalf("alarms in operation: %+v", got)
		}
		inOp := got[1]
		devs := func(id string) []quality.Deviation {
			t.Helper()
			ds, err := env.AlarmDeviations(e.actor("quinn"), id)
			must(t, err)
			return ds
		}
		ds := devs(inOp.ID)
		if len(ds) != 1 || ds[0].Source != quality.SourceEnvironment || ds[0].ClientID != e.alpha.ID || len(ds[0].Impacts) != 1 ||
			ds[0].Impacts[0].BatchID != b1.ID || ds[0].Impacts[0].Lot != b1.Lot || !strings.HasPrefix(ds[0].Title, `{"key":"stored.deviation.excursion"`) {
			t.Fatalf("the excursion's deviation (b0 %s ended before it): %+v", b0.Lot, ds)
		}

		// A gateway's outage: 20 to 23 missing; the gap alarm rises once
		// after its delay.
		e.clock.set(hm(9, 10))
		send(hm(9, 0), 18, 24, 24, 0, 0, 0, 0, 24, 24, 24)
		tick := func(at time.Time) []environment.Event {
			t.Helper()
			n, err := pipe.Tick(sys, at)
			must(t, err)
			evs, err := env.TickAlarms(sys, at) // ticking again at once changes nothing
			must(t, err)
			if len(evs) != 0 {
				t.Errorf("a second tick at %s: %+v", at, evs)
			}
			return make([]environment.Event, n)
		}
		if n := len(tick(hm(9, 10).Add(30 * time.Second))); n != 0 {
			t.Errorf("%d events before the gap's delay", n)
		}
		if n := len(tick(hm(9, 11).Add(time.Second))); n != 1 {
			t.Errorf("%d events at the gap's delay", n)
		}
		// The buffer arrives: its hidden excursion is found, once.
		e.clock.set(hm(9, 12))
		res := send(hm(9, 0).Add(20*time.Second), 20, 27, 27.2, 27.1, 26.9)
		if res.Late != 4 {
			t.Errorf("late readings: %+v", res)
		}
		got = alarms()
		var hidden []environment.Alarm
		for _, a := range got {
			if a.Kind == environment.AlarmLimit && a.Start.After(hm(9, 0)) {
				hidden = append(hidden, a)
			}
		}
		if len(hidden) != 1 || hidden[0].Open() || hidden[0].Peak != 27.2 || hidden[0].State != environment.InOperation {
			t.Fatalf("the excursion the buffer hid: %+v", got)
		}
		send(hm(9, 0).Add(20*time.Second), 20, 27, 27.2, 27.1, 26.9) // sent again: nothing new
		_, err = env.EvaluateAlarms(sys, []string{s.ID}, nil)
		must(t, err)
		if again := alarms(); len(again) != len(got) {
			t.Errorf("alarms doubled: %+v", again)
		}
		if ds := devs(hidden[0].ID); len(ds) != 1 || len(ds[0].Impacts) != 1 || ds[0].Impacts[0].BatchID != b1.ID {
			t.Errorf("the hidden excursion's deviation: %+v", ds)
		}
		if ds := devs(inOp.ID); len(ds) != 1 {
			t.Errorf("the first excursion's deviations after evaluating again: %+v", ds)
		}
		// The gap filled, its alarm ends; then the sensor falls silent.
		if n := len(tick(hm(9, 12).Add(30 * time.Second))); n != 1 {
			t.Errorf("%d events once the gap is filled", n)
		}
		if n := len(tick(hm(9, 17).Add(time.Second))); n != 1 {
			t.Errorf("%d events at the silence delay", n)
		}
		kinds := map[environment.AlarmKind]int{}
		for _, a := range alarms() {
			kinds[a.Kind]++
		}
		if kinds[environment.AlarmGap] != 1 || kinds[environment.AlarmSilence] != 1 || kinds[environment.AlarmLimit] != 3 {
			t.Errorf("alarms by kind: %v", kinds)
		}

		// The acknowledgement: a signature with its comment, by those who
		// work deviations.
		ack := func(username, id, reason, challenge string) error {
			t.Helper()
			ctx := e.actor(username)
			if challenge == "" {
				challenge = e.challenge(t, ctx, "environment_alarm", id, esign.Acknowledged)
			}
			_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "environment_alarm", EntityID: id, Meaning: string(esign.Acknowledged),
				Username: username, Password: password, Reason: reason, Challenge: challenge})
			return err
		}
		if _, err := e.svc.Challenge(e.actor("olga"), esign.ChallengeRequest{Entity: "environment_alarm", EntityID: inOp.ID,
			Meaning: string(esign.Acknowledged)}); !errs.Is(err, errs.Forbidden) || !strings.Contains(errs.MessageOf(err, "en"), "permission") {
			t.Errorf("an operator acknowledges: %v", err)
		}
		wantErr(t, ack("victor", inOp.ID, "  ", ""), errs.Invalid, "reason")
		early := e.challenge(t, e.actor("quinn"), "environment_alarm", inOp.ID, esign.Acknowledged)
		must(t, ack("victor", inOp.ID, "Door seal checked, filling stopped and QA told.", ""))
		a, err := env.Alarm(as(alice), inOp.ID)
		must(t, err)
		if a.AckBy != e.acc["victor"].ID || a.AckComment != "Door seal checked, filling stopped and QA told." || a.AckSignatureID == "" || a.AckAt.IsZero() {
			t.Errorf("acknowledged: %+v", a)
		}
		if err := ack("quinn", inOp.ID, "Seen too.", early); !errs.Is(err, errs.Conflict) {
			t.Errorf("signed on content changed since the challenge: %v", err)
		}
		if err := ack("quinn", inOp.ID, "Seen too.", ""); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), "acknowledged") {
			t.Errorf("acknowledged twice: %v", err)
		}
		fields := map[string]bool{}
		for _, en := range entries(t, db, "environment_alarm", inOp.ID, 0) {
			if en.Command == "signature.sign" {
				fields[en.Field] = true
			}
		}
		if !fields["ack_by"] || !fields["ack_comment"] || !fields["signature"] {
			t.Errorf("the acknowledgement's trail: %v", fields)
		}

		// Not acknowledged within 10 minutes: escalated once, each, with
		// an event for the live pages and the webhook.
		tail, err := db.Outbox().Tail(sys)
		must(t, err)
		esc, err := env.EscalateAlarms(sys, 10*time.Minute, hm(9, 31))
		must(t, err)
		if len(esc) != 4 || slices.ContainsFunc(esc, func(a environment.Alarm) bool { return a.ID == inOp.ID || a.Escalated.IsZero() }) {
			t.Errorf("escalated: %+v", esc)
		}
		if again, err := env.EscalateAlarms(sys, 10*time.Minute, hm(9, 40)); err != nil || len(again) != 0 {
			t.Errorf("escalated twice: %+v %v", again, err)
		}
		evs, err := db.Outbox().Events(sys, tail, 100)
		must(t, err)
		if n := len(slices.DeleteFunc(evs, func(ev outbox.Event) bool { return ev.Topic != outbox.AlarmEscalated })); n != 4 {
			t.Errorf("%d escalation events", n)
		}
		if es := entries(t, db, "environment_alarm", esc[0].ID, 0); !slices.ContainsFunc(es, func(en audit.Entry) bool {
			return en.Command == "environment_alarm.escalate" && en.Field == "escalated"
		}) {
			t.Errorf("the escalation's trail: %+v", es)
		}
		if _, err := env.EscalateAlarms(as(bruno), time.Minute, hm(9, 40)); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an operator escalated: %v", err)
		}

		// The qualified person's view lists the excursions during b1, in
		// words, and none for b0.
		v, err := db.Release().View(e.actor("quinn"), b1.ID)
		must(t, err)
		if len(v.Excursions) != 2 || !strings.Contains(v.Excursions[0].Localize("en"), "T-B") ||
			!strings.Contains(v.Excursions[0].Localize("fr"), "Excursion du capteur") {
			t.Errorf("excursions of b1: %+v", v.Excursions)
		}
		blocked := false
		for _, bl := range v.Blockers {
			blocked = blocked || (bl.Key == "quality.block.deviation" && bl.Args[0] == ds[0].Code)
		}
		if !blocked {
			t.Errorf("the excursion's deviation does not block b1: %+v", v.Blockers)
		}
		v, err = db.Release().View(e.actor("quinn"), b0.ID)
		must(t, err)
		if len(v.Excursions) != 0 {
			t.Errorf("excursions of b0, which ended before: %+v", v.Excursions)
		}
	})
}

// TestEnvironmentAlarmsConcurrent: two nodes evaluating one sensor at once
// record its excursion once: the machine is evaluated by one writer at a
// time.
func TestEnvironmentAlarmsConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		s := newSensor(t, db, f, "T-CC")
		must(t, env.SetLimits(as(alice), &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{AlertHigh: ptr(23), ActionHigh: ptr(24)}}, ""))
		var rs []environment.Reading
		for i, v := range []float64{22, 25, 25, 22} {
			rs = append(rs, environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: now.Add(time.Duration(i-10) * time.Second), Value: v})
		}
		// Its machine exists before the readings come.
		_, err := env.EvaluateAlarms(as(intake), []string{s.ID}, nil)
		must(t, err)
		_, err = env.AppendReadings(as(intake), rs, nil)
		must(t, err)
		const nodes = 4
		done := make(chan error, nodes)
		for range nodes {
			go func() {
				_, err := env.EvaluateAlarms(as(intake), []string{s.ID}, nil)
				done <- err
			}()
		}
		for range nodes {
			must(t, <-done)
		}
		as, err := env.Alarms(as(alice), s.ID, 10)
		must(t, err)
		if len(as) != 1 || as[0].Open() || as[0].Level != environment.Action {
			t.Errorf("alarms: %+v", as)
		}
	})
}

// TestEnvironmentAlarmsBatch: the sensors of one batch of readings are
// evaluated in one command, and each gets the alarms it gets when
// evaluated alone: twin sensors with the same series, one set evaluated
// together, the other one sensor at a time.
func TestEnvironmentAlarmsBatch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		const n = 12
		series := func(i int) []float64 {
			// Quiet, an alert, an action excursion and back, or a long
			// action: by the sensor's number.
			switch i % 4 {
			case 0:
				return []float64{21, 21.5, 22, 21}
			case 1:
				return []float64{21, 23.5, 23.6, 21}
			case 2:
				return []float64{22, 25, 26.5, 24.5, 21}
			default:
				return []float64{25, 25.5, 26, 26.5}
			}
		}
		mk := func(prefix string) (ids []string, rs []environment.Reading) {
			for i := range n {
				s := newSensor(t, db, f, fmt.Sprintf("%s-%02d", prefix, i))
				must(t, env.SetLimits(as(alice), &environment.Limits{SensorID: s.ID,
					AtRest: environment.Thresholds{AlertHigh: ptr(23), ActionHigh: ptr(24)}}, ""))
				ids = append(ids, s.ID)
				for k, v := range series(i) {
					rs = append(rs, environment.Reading{SensorID: s.ID, Seq: uint64(k + 1), At: now.Add(time.Duration(k-30) * time.Second), Value: v})
				}
			}
			return ids, rs
		}
		together, rs := mk("TOG")
		_, err := env.AppendReadings(as(intake), rs, nil)
		must(t, err)
		_, err = env.EvaluateAlarms(as(intake), nil, rs)
		must(t, err)
		alone, rs2 := mk("ONE")
		_, err = env.AppendReadings(as(intake), rs2, nil)
		must(t, err)
		for _, id := range alone {
			_, err := env.EvaluateAlarms(as(intake), []string{id}, nil)
			must(t, err)
		}
		raised := 0
		for i := range n {
			a, err := env.Alarms(as(alice), together[i], 10)
			must(t, err)
			b, err := env.Alarms(as(alice), alone[i], 10)
			must(t, err)
			raised += len(a)
			if len(a) != len(b) {
				t.Fatalf("sensor %d: %d alarms evaluated in the batch, %d alone", i, len(a), len(b))
			}
			for k := range a {
				x, y := a[k], b[k]
				if x.Level != y.Level || !x.Start.Equal(y.Start) || !x.End.Equal(y.End) || x.Peak != y.Peak {
					t.Errorf("sensor %d, alarm %d: %+v in the batch, %+v alone", i, k, x, y)
				}
			}
		}
		if raised == 0 {
			t.Fatal("no alarm raised: the series do not test anything")
		}
		// Evaluated again, nothing changes.
		_, err = env.EvaluateAlarms(as(intake), together, nil)
		must(t, err)
		for i := range n {
			a, err := env.Alarms(as(alice), together[i], 10)
			must(t, err)
			b, _ := env.Alarms(as(alice), alone[i], 10)
			if len(a) != len(b) {
				t.Errorf("sensor %d: %d alarms after a second evaluation, want %d", i, len(a), len(b))
			}
		}
	})
}

// TestEnvironmentExcursionInZoneBackground: a line standing in a grade A
// zone puts the zone's background room in operation, and an action-level
// excursion in that background room opens a deviation naming its batch,
// listed in the qualified person's view.
func TestEnvironmentExcursionInZoneBackground(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		env, sys := db.Environment(), as(identity.System)
		zone := site.Room{BuildingID: e.f.building.ID, Code: "R-A", Name: "Filling zone", Grade: site.GradeA, TempMin: 18, TempMax: 24,
			HumidityMin: 30, HumidityMax: 60, CascadesTo: e.f.roomB.ID, PressureDiffPa: 10}
		must(t, db.Site().CreateRoom(as(alice), &zone))
		line := site.Line{Code: "LA", Name: "Vial filling under A", RoomID: zone.ID, Sterile: true, Forms: []site.Form{site.FormVial}, CapacityPerHour: 6000}
		must(t, db.Site().CreateLine(as(alice), &line))
		s := newSensor(t, db, e.f, "T-BG") // in R-B, the zone's background
		must(t, env.SetLimits(as(alice), &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{ActionHigh: ptr(24)},
			InOperation: &environment.Thresholds{ActionHigh: ptr(26)}}, ""))
		day := now.Truncate(24 * time.Hour)
		hm := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

		e.clock.set(hm(8, 30))
		svc, sup := db.Production(), e.actor("victor")
		e.train(t, qualification.Requirement{Kind: qualification.Gowning, Subject: "A"})
		b := e.order(t, e.vial, 10000)
		_, err := svc.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: line.ID, Start: at(4, 6)}, "")
		must(t, err)
		_, err = svc.MoveBatch(sup, b.ID, production.MoveRelease, "")
		must(t, err)
		rec, err := svc.Record(sup, b.ID)
		must(t, err)
		_, err = svc.RecordStep(e.actor("olga"), b.ID, production.Entry{StepID: rec.Steps[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
		must(t, err)

		// 25 is beyond the limit at rest, within the one in operation:
		// the zone's batch holds its background in operation. 27 is not.
		e.clock.set(hm(9, 0))
		var msgs []ingest.Message
		for i, v := range []float64{22, 25, 25, 27, 27.5, 22} {
			msgs = append(msgs, ingest.Message{Sensor: s.Code, Seq: uint64(i + 1), At: hm(8, 40).Add(time.Duration(i) * 10 * time.Second), Value: v})
		}
		_, err = ingest.NewPipeline(env, nil).Submit(sys, msgs, nil)
		must(t, err)
		as, err := env.Alarms(as(alice), s.ID, 10)
		must(t, err)
		if len(as) != 1 || as[0].State != environment.InOperation || as[0].Peak != 27.5 {
			t.Fatalf("alarms in the background room: %+v", as)
		}
		ds, err := env.AlarmDeviations(e.actor("quinn"), as[0].ID)
		must(t, err)
		if len(ds) != 1 || len(ds[0].Impacts) != 1 || ds[0].Impacts[0].BatchID != b.ID {
			t.Fatalf("the background's excursion's deviation: %+v", ds)
		}
		v, err := db.Release().View(e.actor("quinn"), b.ID)
		must(t, err)
		if len(v.Excursions) != 1 || !strings.Contains(v.Excursions[0].Localize("en"), "T-BG") {
			t.Errorf("the release view's excursions: %+v", v.Excursions)
		}
	})
}

// TestEnvironmentTickMany: a gateway's outage silences more sensors than
// one command ticks; every one raises its silence alarm once, however the
// tick splits them.
func TestEnvironmentTickMany(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		env := db.Environment()
		var rs []environment.Reading
		const n = 70
		for i := range n {
			s := newSensor(t, db, f, fmt.Sprintf("OUT-%02d", i))
			must(t, env.SetLimits(as(alice), &environment.Limits{SensorID: s.ID, AtRest: environment.Thresholds{ActionHigh: ptr(30)}, SilenceS: 60}, ""))
			rs = append(rs, environment.Reading{SensorID: s.ID, Seq: 1, At: now.Add(-time.Minute), Value: 21})
		}
		res, err := env.AppendReadings(as(intake), rs, nil)
		must(t, err)
		_, err = env.EvaluateAlarms(as(intake), nil, res.Fresh)
		must(t, err)
		evs, err := env.TickAlarms(as(intake), now.Add(5*time.Minute))
		must(t, err)
		silenced := map[string]bool{}
		for _, ev := range evs {
			if ev.Kind == environment.Opened && ev.Alarm.Kind == environment.AlarmSilence {
				silenced[ev.Alarm.SensorID] = true
			}
		}
		if len(silenced) != n {
			t.Fatalf("%d sensors silenced of %d (%d events)", len(silenced), n, len(evs))
		}
		if again, err := env.TickAlarms(as(intake), now.Add(6*time.Minute)); err != nil || len(again) != 0 {
			t.Errorf("ticked again: %d events, %v", len(again), err)
		}
	})
}
