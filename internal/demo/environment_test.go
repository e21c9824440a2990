package demo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/simulate"
	"galenix/internal/site"
)

// TestEnvironmentDemo checks the demo's environmental monitoring: a
// sensor of each kind where it belongs in every room, cold room and line,
// limits from the room's grade and targets, a calibration overdue and a
// sensor moved (their readings flagged), a day of readings a minute apart
// without a gap but the silent sensor's end, and the alarms of the day:
// one action-level excursion in a grade B room while a batch was in
// progress there, one alert closed and not yet acknowledged, a silence
// alarm open, a data gap filled late; nothing else.
func TestEnvironmentDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	env := db.Environment()
	d := read(t, db)
	sensors, err := env.Sensors(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	room := map[string]site.Room{}
	for _, r := range d.rooms {
		room[r.ID] = r
	}
	byCode := map[string]environment.Sensor{}
	kinds := map[string]map[environment.Kind]int{} // place id → kinds
	for _, s := range sensors {
		byCode[s.Code] = s
		if kinds[s.PlaceID] == nil {
			kinds[s.PlaceID] = map[environment.Kind]int{}
		}
		kinds[s.PlaceID][s.Kind]++
	}
	// About 2,000 points, as a site this size has.
	if n := len(sensors); n < 1800 || n > 2200 {
		t.Errorf("%d sensors for %d rooms and %d lines, want about 2,000", n, len(d.rooms), len(d.lines))
	}
	for _, r := range d.rooms {
		k := kinds[r.ID]
		cold := r.TempMax <= 8
		want := map[environment.Kind]int{environment.KindTemperature: 1, environment.KindHumidity: 1}
		if cold {
			want = map[environment.Kind]int{environment.KindTemperature: 2, environment.KindDoor: 1}
		}
		if r.CascadesTo != "" {
			want[environment.KindPressureDiff] = 1
		}
		if r.Grade.SterileCapable() {
			want[environment.KindParticles05], want[environment.KindParticles5] = 1, 1
		}
		if r.Grade.Graded() && r.Grade != site.GradeA {
			want[environment.KindDoor] = 1
		}
		for _, p := range extraProbes(&r) {
			want[p.kind]++
		}
		for _, kind := range environment.Kinds {
			if k[kind] != want[kind] {
				t.Errorf("room %s (grade %s): %d %s sensors, want %d", r.Code, r.Grade, k[kind], kind, want[kind])
			}
		}
	}
	for _, ln := range d.lines {
		if s, ok := byCode[ln.Code+"-T1"]; !ok || s.Place != environment.PlaceLine || s.PlaceID != ln.ID || byCode[ln.Code+"-H1"].PlaceID != ln.ID {
			t.Errorf("line %s: temperature sensor %+v", ln.Code, s)
		}
	}
	equipment, err := db.Site().Equipment(ctx, site.EquipmentFilter{})
	if err != nil || len(equipment) == 0 {
		t.Fatal(err)
	}
	for _, e := range equipment {
		if k := kinds[e.ID]; k[environment.KindTemperature] != 2 || byCode[e.Code+"-T2"].Place != environment.PlaceEquipment {
			t.Errorf("equipment %s: sensors %v", e.Code, k)
		}
	}
	// The grade A zones count particles at three points.
	for _, r := range d.rooms {
		if r.Grade == site.GradeA && (kinds[r.ID][environment.KindParticles05] != 3 || kinds[r.ID][environment.KindParticles5] != 3) {
			t.Errorf("zone %s: %v", r.Code, kinds[r.ID])
		}
	}
	if s := byCode["B70-F01-T1"]; s.Place != environment.PlaceColdRoom {
		t.Errorf("B70-F01-T1 placed in a %s, want a cold room", s.Place)
	}

	// Limits: the grade's maxima, at rest and in operation.
	lim := func(code string) *environment.Limits {
		t.Helper()
		l, err := env.Limits(ctx, byCode[code].ID)
		if err != nil {
			t.Fatalf("limits of %s: %v", code, err)
		}
		return l
	}
	if l := lim("B30-B11-PA1"); *l.AtRest.ActionHigh != 3520 || *l.InOperation.ActionHigh != 352000 || l.N != 2 || l.M != 3 {
		t.Errorf("grade B ≥ 0.5 µm limits %+v", l)
	}
	if l := lim("B30-C04-PB1"); *l.AtRest.ActionHigh != 2930 || *l.InOperation.ActionHigh != 29300 {
		t.Errorf("grade C ≥ 5 µm limits %+v", l)
	}
	if l := lim("B30-B11-PB1"); l.AtRest.ActionHigh != nil || *l.InOperation.ActionHigh != 2930 {
		t.Errorf("grade B ≥ 5 µm limits %+v: none at rest, 2,930 in operation", l)
	}
	if l := lim("B70-F01-T1"); *l.AtRest.ActionLow != 2 || *l.AtRest.ActionHigh != 8 || *l.AtRest.AlertHigh >= 8 || l.DelayS == 0 {
		t.Errorf("cold room temperature limits %+v", l)
	}

	now := time.Now()
	readings := func(code string, from time.Time) []environment.Reading {
		t.Helper()
		rs, err := env.Readings(ctx, byCode[code].ID, from, now.Add(time.Minute), 100000)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	// The excursion's room: a day a minute apart, sequence without a hole.
	var excRoom string
	for _, s := range sensors {
		if as, _ := env.Alarms(ctx, s.ID, 10); len(as) > 0 && as[0].Level == environment.Action {
			excRoom = strings.TrimSuffix(s.Code, "-PA1")
		}
	}
	day := readings(excRoom+"-T1", now.Add(-25*time.Hour))
	if len(day) < 1435 || len(day) > 1441 {
		t.Errorf("%s-T1: %d readings in the last day, want one a minute", excRoom, len(day))
	}
	for i := 1; i < len(day); i++ {
		if day[i].Seq != day[i-1].Seq+1 || day[i].At.Sub(day[i-1].At) != time.Minute {
			t.Fatalf("%s-T1: reading %d (seq %d at %s) after seq %d at %s", excRoom, i, day[i].Seq, day[i].At, day[i-1].Seq, day[i-1].At)
		}
	}
	short := readings("B40-D11-T1", now.Add(-25*time.Hour))
	if n := len(short); n < 10 || n > 16 {
		t.Errorf("B40-D11-T1: %d readings, want the last quarter of an hour's", n)
	}
	// The load rolled its readings up to its end, the last slot's too: a
	// server's first roll-up has only the intervals still open to close,
	// not the day's readings (which it would roll up a second at a time
	// of the writer under the race detector). Nothing is received after
	// the load's end.
	to, ok, err := db.RolledUpTo(ctx)
	if err != nil || !ok || to.After(shared.at) {
		t.Errorf("rolled up to %s (%v %v), the load ended at %s", to, ok, err, shared.at)
	}
	if len(short) > 0 {
		minutes, err := env.Rollups(ctx, byCode["B40-D11-T1"].ID, environment.Minute, short[0].At, now)
		if err != nil || len(minutes) < len(short)-1 {
			t.Errorf("B40-D11-T1: %d minutes rolled up for %d readings (%v), want all but the last one's", len(minutes), len(short), err)
		}
	}
	// Calibration: one overdue, one moved, their readings flagged.
	overdue, moved := byCode[envOverdueSensor], byCode[envMovedSensor]
	if !overdue.CalibrationDue.Before(now) || moved.LocationSince.Before(moved.CalibratedOn.AddDate(0, 0, 1)) {
		t.Errorf("overdue %+v, moved %+v", overdue, moved)
	}
	if rs := readings(envOverdueSensor, now.Add(-time.Hour)); len(rs) == 0 || !rs[0].Flags.Has(environment.FlagCalibrationOverdue) {
		t.Errorf("overdue sensor's readings not flagged: %+v", rs)
	}
	if rs := readings(envMovedSensor, now.Add(-time.Hour)); len(rs) == 0 || !rs[0].Flags.Has(environment.FlagMoved) {
		t.Errorf("moved sensor's readings not flagged: %+v", rs)
	}
	if rs := readings("B30-B11-T1", now.Add(-time.Hour)); len(rs) == 0 || rs[0].Flags != 0 {
		t.Errorf("a sensor calibrated in place: flags %v", rs[0].Flags)
	}
	// Silent for three hours before the others' last readings (the
	// shared database may have been loaded well before this test runs,
	// and the load goes on for minutes after its readings under the race
	// detector).
	silent := readings(envSilentSensor, now.Add(-25*time.Hour))
	if len(silent) == 0 || len(short) == 0 {
		t.Fatalf("silent sensor: %d readings, a live one %d", len(silent), len(short))
	}
	if quiet := short[len(short)-1].At.Sub(silent[len(silent)-1].At); quiet < envSilentAgo-time.Minute || quiet > envSilentAgo+2*time.Minute {
		t.Errorf("silent sensor's last reading %v, %v before a live one's last", silent[len(silent)-1], quiet)
	}
	// The gap, filled.
	gaps, err := env.Gaps(ctx, byCode[envGapSensor].ID)
	if err != nil || len(gaps) != 1 || gaps[0].Missing != 0 || gaps[0].Closed.IsZero() || gaps[0].To-gaps[0].From+1 != uint64(envGapLength/time.Minute) {
		t.Errorf("gaps of the cold room's sensor: %+v, %v; want one of 45 readings, filled", gaps, err)
	}
	if n := len(readings(envGapSensor, now.Add(-25*time.Hour))); n < 1435 {
		t.Errorf("%s: %d readings after the gap was filled, want the whole day", envGapSensor, n)
	}

	// The alarms: exactly those of the day's story.
	var limit, silence, gap []environment.Alarm
	code := map[string]string{}
	for _, s := range sensors {
		code[s.ID] = s.Code
		as, err := env.Alarms(ctx, s.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			switch a.Kind {
			case environment.AlarmLimit:
				limit = append(limit, a)
			case environment.AlarmSilence:
				silence = append(silence, a)
			case environment.AlarmGap:
				gap = append(gap, a)
			}
		}
	}
	if len(limit) != 2 || len(silence) != 2 || len(gap) != 1 {
		for _, a := range append(append(limit, silence...), gap...) {
			t.Logf("alarm of %s: %s %s at %s, %s", code[a.SensorID], a.Kind, a.Level, a.Start, a.Message.Key)
		}
		t.Fatalf("%d limit, %d silence, %d gap alarms; want 2, 2, 1", len(limit), len(silence), len(gap))
	}
	var action, alert *environment.Alarm
	for i := range limit {
		switch limit[i].Level {
		case environment.Action:
			action = &limit[i]
		case environment.Alert:
			alert = &limit[i]
		}
	}
	if action == nil || alert == nil {
		t.Fatalf("limit alarms %+v: want one action, one alert", limit)
	}
	exc := code[action.SensorID]
	if !strings.HasPrefix(exc, "B30-B") || !strings.HasSuffix(exc, "-PA1") || action.State != environment.InOperation ||
		action.Open() || action.ActionStart.IsZero() || action.ActionEnd.IsZero() || action.Peak <= 352000 {
		t.Errorf("the excursion: %s %+v; want a grade B room's particles, in operation, over 352,000, ended", exc, action)
	}
	// A batch was in progress on a line of the room's grade A zones then.
	inProgress, err := db.Production().Batches(ctx, production.BatchFilter{States: []production.BatchState{production.BatchInProgress}})
	if err != nil {
		t.Fatal(err)
	}
	excRoomID := byCode[exc].PlaceID
	found := false
	for _, b := range inProgress {
		for _, ln := range d.lines {
			if ln.ID == b.LineID && room[ln.RoomID].CascadesTo == excRoomID && b.Start != nil && b.Start.Before(action.Start) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no batch in progress in %s during its excursion at %s", exc, action.Start)
	}
	// The excursion opened a deviation naming those batches, for the
	// quality unit to investigate.
	if ds, err := env.AlarmDeviations(ctx, action.ID); err != nil || len(ds) == 0 || len(ds[0].Impacts) == 0 {
		t.Errorf("the excursion's deviations: %+v, %v; want one naming the batches in progress", ds, err)
	} else {
		for _, im := range ds[0].Impacts {
			if !slices.ContainsFunc(inProgress, func(b production.Batch) bool { return b.ID == im.BatchID }) {
				t.Errorf("the excursion's deviation names %s, not in progress", im.Lot)
			}
		}
	}
	if code[alert.SensorID] != envDriftSensor || alert.Open() || alert.Acknowledged() || alert.Side != environment.High {
		t.Errorf("the alert: %s %+v; want %s, closed, not acknowledged", code[alert.SensorID], alert, envDriftSensor)
	}
	// The silent sensor's silence alarm is open; the gateway's outage
	// raised one too, closed when its readings came again.
	var silentAlarm environment.Alarm
	for _, s := range silence {
		switch code[s.SensorID] {
		case envSilentSensor:
			silentAlarm = s
			if !s.Open() {
				t.Errorf("the silent sensor's alarm %+v: want open", s)
			}
		case envGapSensor:
			if s.Open() {
				t.Errorf("the outage's silence alarm %+v: want closed", s)
			}
		default:
			t.Errorf("a silence alarm of %s", code[s.SensorID])
		}
	}
	if g := gap[0]; code[g.SensorID] != envGapSensor || g.Open() || g.Peak != float64(envGapLength/time.Minute) {
		t.Errorf("the data-gap alarm: %s %+v; want %s, closed, 45 missing at most", code[g.SensorID], g, envGapSensor)
	}
	// The machine's state is kept: the live evaluation resumes with the
	// silence alarm open.
	m, err := env.Machine(ctx, byCode[envSilentSensor].ID)
	if err != nil || m.Silence == nil || m.Silence.ID != silentAlarm.ID {
		t.Errorf("silent sensor's machine: %+v, %v", m, err)
	}
}

// TestEnvironmentSimulated checks the simulator reads the demo's sensors as
// galenix knows them: each sequence continuing the stored ones, the rooms
// of the batches in progress in operation, and its live readings within
// the demo's limits in the room's state (but the day's excursion), so
// that "serve --demo --simulate" raises no alarm the story does not hold.
func TestEnvironmentSimulated(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	env := db.Environment()
	k, err := simulate.FromStore(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	sensors, err := env.Sensors(ctx, "")
	if err != nil || len(k.Specs) != len(sensors) {
		t.Fatalf("%d sensors simulated of %d (%v)", len(k.Specs), len(sensors), err)
	}
	byCode := map[string]environment.Sensor{}
	for _, s := range sensors {
		byCode[s.Code] = s
	}
	rooms := map[string]site.Room{}
	for _, r := range read(t, db).rooms {
		rooms[r.Code] = r
	}
	if k.Operating[rooms["B70-F01"].ID] {
		t.Error("a cold room in operation")
	}
	operating := 0
	for code, r := range rooms {
		if k.Operating[r.ID] && strings.HasPrefix(code, "B30-B") {
			operating++
		}
	}
	if operating == 0 {
		t.Error("no grade B room of Bâtiment 30 in operation, whereas batches are in progress on its lines")
	}
	now := time.Now().UTC().Truncate(10 * time.Second)
	m, base := simulate.Site(k.Specs, k.Base, 0, 1, now, 10*time.Second)
	m.InOperation = k.Operation()
	exc, _ := m.Excursion(0)
	for n := range int64(3) {
		for _, msg := range m.Round(n, base) {
			s := byCode[msg.Sensor]
			if n == 0 {
				tr, err := env.Tracker(ctx, s.ID)
				if err != nil || msg.Seq != tr.High+1 {
					t.Errorf("%s: first seq %d, stored up to %d (%v)", msg.Sensor, msg.Seq, tr.High, err)
				}
			}
			if m.Specs[exc.Sensor].Code == msg.Sensor && exc.In(msg.At) {
				continue
			}
			l, err := env.Limits(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			state := environment.AtRest
			if m.InOperation(s.PlaceID, msg.At) {
				state = environment.InOperation
			}
			th := l.For(state)
			if (th.ActionHigh != nil && msg.Value > *th.ActionHigh) || (th.ActionLow != nil && msg.Value < *th.ActionLow && s.Kind != environment.KindPressureDiff) {
				t.Errorf("%s %s: %v beyond its limits %+v", msg.Sensor, state, msg.Value, th)
			}
		}
	}
}
