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

	"galenix/internal/audit"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The alarm path: evaluating a sensor's readings under its machine's lock,
// the passing of time (silence, data gaps), an action-level excursion
// opening a deviation per client concerned, and the signed
// acknowledgement.

// MaxEvaluated bounds the readings one evaluation steps through; more are
// evaluated by the next one, which goes on from the machine's last reading.
const MaxEvaluated = 100000

// place is where a sensor's readings count: the room whose state decides
// its limits, and the place of its excursions (a piece of equipment's is
// its line's).
type place struct {
	roomID string
	kind   environment.PlaceKind
	id     string
}

func (tx *Tx) placeOf(s *environment.Sensor) (place, error) {
	switch s.Place {
	case environment.PlaceLine, environment.PlaceEquipment:
		lineID := s.PlaceID
		if s.Place == environment.PlaceEquipment {
			var eq struct{ LineID string }
			if err := tx.queryRow(`SELECT CAST(line_id AS TEXT) FROM equipment WHERE id = ?`, s.PlaceID).Scan(&eq.LineID); err != nil {
				return place{}, notFound(err, "store.no_such_equipment")
			}
			lineID = eq.LineID
		}
		var room string
		if err := tx.queryRow(`SELECT CAST(room_id AS TEXT) FROM lines WHERE id = ?`, lineID).Scan(&room); err != nil {
			return place{}, notFound(err, "store.no_such_production_line")
		}
		return place{roomID: room, kind: environment.PlaceLine, id: lineID}, nil
	}
	return place{roomID: s.PlaceID, kind: s.Place, id: s.PlaceID}, nil
}

// spans are the batches made in a room, each with its time in progress
// and its client.
type spans struct {
	list   []environment.BatchSpan
	client map[string]string
}

// batchSpans reads the time in progress of the batches on the lines of a
// room from the batch record's trail: from the entry putting a batch in
// progress (its first step) to the one taking it out (completed). The
// batch record decides, not a person.
func (tx *Tx) batchSpans(roomID string) (spans, error) {
	out := spans{client: map[string]string{}}
	type entry struct {
		batch, lot, client, line string
		at                       time.Time
		old, new                 string
	}
	in := string(production.BatchInProgress)
	es, err := collect(tx, `SELECT CAST(b.id AS TEXT), b.lot, CAST(b.client_id AS TEXT), CAST(b.line_id AS TEXT), a.at, a.old_value, a.new_value
		FROM batches b JOIN lines l ON l.id = b.line_id JOIN audit_log a ON a.entity = ? AND a.entity_id = CAST(b.id AS TEXT)
		WHERE l.room_id = ? AND a.field = ? AND (a.new_value = ? OR a.old_value = ?) ORDER BY a.seq`,
		[]any{batchTable.entity, roomID, "state", in, in}, func(sc scanner, e *entry) error {
			return sc.Scan(&e.batch, &e.lot, &e.client, &e.line, &e.at, &e.old, &e.new)
		})
	if err != nil {
		return out, err
	}
	idx := map[string]int{}
	for _, e := range es {
		i, ok := idx[e.batch]
		switch {
		case !ok && e.new == in:
			idx[e.batch] = len(out.list)
			out.client[e.batch] = e.client
			out.list = append(out.list, environment.BatchSpan{BatchID: e.batch, Lot: e.lot, LineID: e.line, RoomID: roomID, Start: e.at.UTC()})
		case ok && e.old == in && out.list[i].End.IsZero():
			out.list[i].End = e.at.UTC()
		}
	}
	return out, nil
}

// lockMachine reads a sensor's machine and locks it until the commit (a
// sensor never evaluated starts at normal, heard now): one writer at a
// time evaluates a sensor, on any node.
func (tx *Tx) lockMachine(s *environment.Sensor) (*environment.Machine, error) {
	b, err := json.Marshal(environment.NewMachine(s, tx.now))
	if err != nil {
		return nil, err
	}
	if _, err := tx.exec(`INSERT INTO environment_machines (sensor_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (sensor_id) DO NOTHING`,
		s.ID, string(b), tx.now); err != nil {
		return nil, err
	}
	q := `SELECT state FROM environment_machines WHERE sensor_id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var state string
	if err := tx.queryRow(q, s.ID).Scan(&state); err != nil {
		return nil, err
	}
	m := &environment.Machine{}
	return m, json.Unmarshal([]byte(state), m)
}

func (tx *Tx) readingsBetween(sensorID, cond string, args ...any) ([]environment.Reading, error) {
	return collect(tx, `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE sensor_id = ? AND `+cond+
		` ORDER BY at, seq LIMIT `+strconv.Itoa(MaxEvaluated), append([]any{sensorID}, args...), func(sc scanner, r *environment.Reading) error {
		var err error
		*r, err = scanReading(sc)
		return err
	})
}

// EvaluateAlarms evaluates the alarms of the sensors named and of those of
// fresh (the readings of the batch just appended), in one command
// ("environment_alarm.record") holding their machines, locked in id order:
// it steps each machine through the stored readings later than its last
// one, in time order, each under the limits of its room's state at that
// time; when fresh readings are not later than the machine's last one (a
// gateway's buffer), it replays their window and records an excursion the
// buffer hid, once. An action-level excursion opens a deviation per client
// whose batches were in progress there. A sensor without limits raises
// nothing. It returns the events recorded.
func (e *EnvironmentStore) EvaluateAlarms(ctx context.Context, sensorIDs []string, fresh []environment.Reading) ([]environment.Event, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, id := range sensorIDs {
		named[id] = true
	}
	for _, r := range fresh {
		named[r.SensorID] = true
	}
	ids := slices.Sorted(maps.Keys(named))
	if len(ids) == 0 {
		return nil, nil
	}
	var out []environment.Event
	err := e.db.Write(ctx, "environment_alarm.record", "", func(tx *Tx) error {
		out = nil
		c := &evalCache{places: map[string]place{}, spans: map[string]spans{}}
		if err := c.load(tx, ids); err != nil {
			return err
		}
		for _, id := range ids {
			events, err := tx.evaluate(c, id, fresh)
			if err != nil {
				return err
			}
			out = append(out, events...)
		}
		return nil
	})
	return out, err
}

// evalCache holds, within one evaluation's transaction, what several
// sensors share or what one query reads for all: the sensors, their
// limits, the readings later than their machines' last ones, the places
// and the rooms' batch spans.
type evalCache struct {
	sensors map[string]*environment.Sensor
	limits  map[string]*environment.Limits
	// after are the stored readings later than since, by sensor, in time
	// order; nil when not read (each sensor then reads its own).
	after    map[string][]environment.Reading
	since    time.Time
	places   map[string]place
	spans    map[string]spans
	machines map[string]*environment.Machine
}

// load reads the sensors and their limits, locks their machines in id
// order, and reads the readings later than the earliest of their last
// ones in one query.
func (c *evalCache) load(tx *Tx, ids []string) error {
	var err error
	if c.sensors, err = tx.sensorsByID(ids); err != nil {
		return err
	}
	c.limits = map[string]*environment.Limits{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		type lim struct{ id, rules string }
		ls, err := collect(tx, `SELECT CAST(id AS TEXT), rules FROM environment_limits WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args,
			func(sc scanner, l *lim) error { return sc.Scan(&l.id, &l.rules) })
		if err != nil {
			return err
		}
		for _, x := range ls {
			l := &environment.Limits{}
			if err := json.Unmarshal([]byte(x.rules), l); err != nil {
				return err
			}
			l.SensorID = x.id
			c.limits[x.id] = l
		}
	}
	return nil
}

// place is the sensor's place, read once per place in the transaction.
func (c *evalCache) place(tx *Tx, s *environment.Sensor) (place, spans, error) {
	k := string(s.Place) + " " + s.PlaceID
	pl, ok := c.places[k]
	if !ok {
		var err error
		if pl, err = tx.placeOf(s); err != nil {
			return place{}, spans{}, err
		}
		c.places[k] = pl
	}
	sp, ok := c.spans[pl.roomID]
	if !ok {
		var err error
		if sp, err = tx.batchSpans(pl.roomID); err != nil {
			return place{}, spans{}, err
		}
		c.spans[pl.roomID] = sp
	}
	return pl, sp, nil
}

// live returns a sensor's stored readings later than its machine's last
// one, in time order: from the batch's query when it covers them.
func (c *evalCache) live(tx *Tx, m *environment.Machine) ([]environment.Reading, error) {
	if m.Last.IsZero() {
		return tx.readingsBetween(m.SensorID, `1 = 1`)
	}
	if c.after != nil && !m.Last.Before(c.since) {
		var out []environment.Reading
		for _, r := range c.after[m.SensorID] {
			if r.At.After(m.Last) {
				out = append(out, r)
			}
		}
		if len(out) < MaxEvaluated {
			return out, nil
		}
	}
	return tx.readingsBetween(m.SensorID, `at > ?`, m.Last)
}

// readAfter reads, in one query, the readings of the sensors later than
// since (the earliest last reading of their machines).
func (c *evalCache) readAfter(tx *Tx, machines map[string]*environment.Machine) error {
	var ids []string
	for id, m := range machines {
		if m.Last.IsZero() {
			continue
		}
		if len(ids) == 0 || m.Last.Before(c.since) {
			c.since = m.Last
		}
		ids = append(ids, id)
	}
	c.after = map[string][]environment.Reading{}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{c.since}
		for _, id := range chunk {
			args = append(args, id)
		}
		rs, err := collect(tx, `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE at > ? AND sensor_id IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY sensor_id, at, seq`, args, func(sc scanner, r *environment.Reading) error {
			var err error
			*r, err = scanReading(sc)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rs {
			c.after[r.SensorID] = append(c.after[r.SensorID], r)
		}
	}
	return nil
}

// evaluate evaluates one sensor within the batch's command.
func (tx *Tx) evaluate(c *evalCache, sensorID string, fresh []environment.Reading) ([]environment.Event, error) {
	ev, pl, sp, err := tx.evaluationOf(c, sensorID)
	if err != nil || ev == nil {
		return nil, err
	}
	m := ev.Machine
	if ev.Live, err = c.live(tx, m); err != nil {
		return nil, err
	}
	var earliest time.Time
	for _, r := range fresh {
		if r.SensorID == sensorID && !m.Last.IsZero() && !r.At.After(m.Last) && (earliest.IsZero() || r.At.Before(earliest)) {
			earliest = r.At
		}
	}
	if !earliest.IsZero() {
		from := environment.ReplayFrom(ev.Limits, earliest)
		ev.Late = true
		if ev.Window, err = tx.readingsBetween(sensorID, `at >= ? AND at <= ?`, from, m.Last); err != nil {
			return nil, err
		}
		if ev.Recorded, err = collect(tx, `SELECT `+alarmCols+` FROM environment_alarms WHERE sensor_id = ? AND kind = ? AND start_at <= ?
			AND (end_at IS NULL OR end_at >= ?)`, []any{sensorID, string(environment.AlarmLimit), m.Last, from}, scanAlarm); err != nil {
			return nil, err
		}
	}
	events, found := environment.Evaluate(*ev)
	if err := tx.recordAlarms(m, events); err != nil {
		return nil, err
	}
	for _, a := range found {
		a.ID = NewID()
		if err := tx.writeAlarm(&a, nil); err != nil {
			return nil, err
		}
		events = append(events, environment.Event{Kind: environment.Closed, Alarm: a})
	}
	return events, tx.excursions(ev.Sensor, pl, sp, events)
}

// evaluation reads, under the machine's lock, what evaluating a sensor
// needs; nil when the sensor has no limits.
func (tx *Tx) evaluation(sensorID string) (*environment.Evaluation, place, spans, error) {
	c := &evalCache{places: map[string]place{}, spans: map[string]spans{}}
	if err := c.load(tx, []string{sensorID}); err != nil {
		return nil, place{}, spans{}, err
	}
	return tx.evaluationOf(c, sensorID)
}

// evaluationOf is evaluation with what the batch's command read already;
// the first call locks the machines of every sensor of the batch, in id
// order, and reads their later readings.
func (tx *Tx) evaluationOf(c *evalCache, sensorID string) (*environment.Evaluation, place, spans, error) {
	s, ok := c.sensors[sensorID]
	if !ok {
		return nil, place{}, spans{}, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	l, ok := c.limits[sensorID]
	if !ok {
		return nil, place{}, spans{}, nil
	}
	if c.machines == nil {
		c.machines = map[string]*environment.Machine{}
		for _, id := range slices.Sorted(maps.Keys(c.limits)) {
			m, err := tx.lockMachine(c.sensors[id])
			if err != nil {
				return nil, place{}, spans{}, err
			}
			c.machines[id] = m
		}
		if err := c.readAfter(tx, c.machines); err != nil {
			return nil, place{}, spans{}, err
		}
	}
	m := c.machines[sensorID]
	pl, sp, err := c.place(tx, s)
	if err != nil {
		return nil, place{}, spans{}, err
	}
	stateAt := func(t time.Time) environment.RoomState { return environment.RoomStateAt(pl.roomID, t, sp.list, nil) }
	return &environment.Evaluation{Sensor: s, Limits: l, Machine: m, StateAt: stateAt, Now: tx.now}, pl, sp, nil
}

// TickAlarms lets time pass to now for every sensor with limits: silence
// and data-gap alarms open (and a gap's close once filled). Sensors are
// read together; only those whose machine the tick changes are written,
// each in its own command under its machine's lock, ticked again there.
// It returns the events recorded.
func (e *EnvironmentStore) TickAlarms(ctx context.Context, now time.Time) ([]environment.Event, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	type state struct {
		id, limits, machine, tracker string
	}
	var due []string
	err := e.db.Read(ctx, func(tx *Tx) error {
		sts, err := collect(tx, `SELECT CAST(l.id AS TEXT), l.rules, COALESCE(m.state, ''), COALESCE(t.state, '{}') FROM environment_limits l
			LEFT JOIN environment_machines m ON m.sensor_id = l.id LEFT JOIN environment_trackers t ON t.sensor_id = l.id ORDER BY l.id`, nil,
			func(sc scanner, s *state) error { return sc.Scan(&s.id, &s.limits, &s.machine, &s.tracker) })
		if err != nil {
			return err
		}
		for _, s := range sts {
			var l environment.Limits
			var tr environment.Tracker
			if json.Unmarshal([]byte(s.limits), &l) != nil || json.Unmarshal([]byte(s.tracker), &tr) != nil {
				continue
			}
			if s.machine == "" {
				due = append(due, s.id) // never evaluated: its machine starts now
				continue
			}
			var m environment.Machine
			if json.Unmarshal([]byte(s.machine), &m) != nil {
				continue
			}
			if changes(&m, &l, &tr, now) {
				due = append(due, s.id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []environment.Event
	for _, id := range due {
		err := e.db.Write(ctx, "environment_alarm.record", "", func(tx *Tx) error {
			ev, _, _, err := tx.evaluation(id)
			if err != nil || ev == nil {
				return err
			}
			var tr environment.Tracker
			var st string
			switch err := tx.queryRow(`SELECT state FROM environment_trackers WHERE sensor_id = ?`, id).Scan(&st); {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				if err := json.Unmarshal([]byte(st), &tr); err != nil {
					return err
				}
			}
			evs := ev.Machine.Tick(ev.Limits, &tr, now)
			if err := tx.recordAlarms(ev.Machine, evs); err != nil {
				return err
			}
			out = append(out, evs...)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// changes reports whether ticking the machine to now would change it.
func changes(m *environment.Machine, l *environment.Limits, tr *environment.Tracker, now time.Time) bool {
	before, _ := json.Marshal(m)
	m.Tick(l, tr, now)
	after, _ := json.Marshal(m)
	return string(before) != string(after)
}

// excursions opens, for each alarm of the events that reached the action
// level, a deviation per client whose batches were in progress in the
// excursion's room or on its line (environment.BatchesConcerned), with
// those batches as its impacts: once per alarm and client; a batch found
// concerned later (one started while the excursion lasted) is added while
// the deviation is still open. An excursion no batch shared opens none:
// the alarm and its acknowledgement are its record.
func (tx *Tx) excursions(s *environment.Sensor, pl place, sp spans, events []environment.Event) error {
	seen := map[string]bool{}
	for i := len(events) - 1; i >= 0; i-- {
		a := events[i].Alarm
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		x, ok := a.Excursion(pl.kind, pl.id)
		if !ok {
			continue
		}
		byClient := map[string][]quality.Impact{}
		for _, b := range environment.BatchesConcerned(x, sp.list, nil) {
			c := sp.client[b.BatchID]
			byClient[c] = append(byClient[c], quality.Impact{BatchID: b.BatchID, Lot: b.Lot})
		}
		for _, c := range slices.Sorted(maps.Keys(byClient)) {
			if err := tx.excursionDeviation(s, &a, c, byClient[c]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tx *Tx) excursionDeviation(s *environment.Sensor, a *environment.Alarm, clientID string, impacts []quality.Impact) error {
	var devID string
	switch err := tx.queryRow(`SELECT CAST(deviation_id AS TEXT) FROM environment_alarm_deviations WHERE alarm_id = ? AND client_id = ?`,
		a.ID, clientID).Scan(&devID); {
	case err == nil:
		old, err := tx.deviation(devID)
		if err != nil {
			return err
		}
		if d, changed := quality.AddImpacts(*old, impacts); changed {
			return tx.saveDeviation(old, d)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	title := text.Code("stored.deviation.excursion", text.Str(s.Code), a.Message.Arg(), text.Str(a.ActionStart.UTC().Format("2006-01-02 15:04:05 UTC")))
	d := quality.ExcursionDeviation(clientID, title, impacts, tx.now)
	seq, err := tx.nextNumber("deviation")
	if err != nil {
		return err
	}
	d.ID, d.Code, d.OpenedName = NewID(), production.DeviationCode(tx.now, seq), actorName(tx.actor)
	if err := createClientRecord(tx, devTable, d.ID, d.ClientID, d, deviationRow(d)); err != nil {
		return err
	}
	if _, err := tx.exec(`INSERT INTO environment_alarm_deviations (alarm_id, client_id, deviation_id) VALUES (?, ?, ?)`, a.ID, clientID, d.ID); err != nil {
		return err
	}
	tx.enqueue(outbox.DeviationOpened, devTable.entity, d.ID, d.ClientID, map[string]any{"code": d.Code, "alarm_id": a.ID})
	return nil
}

// AlarmDeviations lists the deviations an alarm's excursion opened, in
// the actor's client scope.
func (e *EnvironmentStore) AlarmDeviations(ctx context.Context, alarmID string) ([]quality.Deviation, error) {
	if err := mayReadDeviations(actorOf(ctx)); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(alarmID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.alarm.not_found")
	}
	var out []quality.Deviation
	err := e.db.Read(ctx, func(tx *Tx) error {
		cond, args := inScope("d.client_id", tx.actor.ClientScope())
		var err error
		out, err = collect(tx, deviationSelect+` WHERE d.id IN (SELECT deviation_id FROM environment_alarm_deviations WHERE alarm_id = ?) AND `+
			cond+` ORDER BY d.code`, append([]any{alarmID}, args...), scanQualityDeviation)
		return err
	})
	return out, err
}

// --- the signed acknowledgement

// signableAlarm reads an alarm as its acknowledgement's signature binds it
// (environment.Alarm.SignedFields): for site staff who see the site.
func signableAlarm(tx *Tx, id string) ([]audit.Field, string, error) {
	if !isStaff(tx.actor) || !tx.actor.Can(identity.PermSiteView) {
		return nil, "", errNoRecord()
	}
	var a environment.Alarm
	if err := tx.alarm(id, &a); err != nil {
		return nil, "", err
	}
	return a.SignedFields(a.AckComment), "", nil
}

// acknowledgeAlarm is the reaction to a signature on an alarm: meaning
// acknowledged, its comment the acknowledgement's (environment.Alarm.
// Acknowledge), recorded and audited in the signature's command; refused
// — and nothing signed — when the alarm was acknowledged already or the
// comment is missing.
func acknowledgeAlarm(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Acknowledged {
		return errs.Field("meaning", "esign.meaning_not_for_record")
	}
	var old environment.Alarm
	if err := tx.alarmLocked(sig.EntityID, &old); err != nil {
		return err
	}
	a := old
	if err := a.Acknowledge(sig.SignerID, sig.Reason, sig.ID, tx.now); err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Field == "comment" {
			c := *e
			c.Field = "reason" // the signature's comment
			return &c
		}
		return err
	}
	return tx.writeAlarm(&a, &old)
}

// --- the qualified person's view

// releaseExcursions lists, in words, the action-level excursions in the
// batch's room and on its line while it was in progress.
func (tx *Tx) releaseExcursions(b *production.Batch) ([]text.Msg, error) {
	if b.LineID == "" {
		return nil, nil
	}
	var room string
	if err := tx.queryRow(`SELECT CAST(room_id AS TEXT) FROM lines WHERE id = ?`, b.LineID).Scan(&room); err != nil {
		return nil, notFound(err, "store.no_such_production_line")
	}
	sp, err := tx.batchSpans(room)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(sp.list, func(s environment.BatchSpan) bool { return s.BatchID == b.ID })
	if i < 0 {
		return nil, nil
	}
	span := sp.list[i]
	end := span.End
	if end.IsZero() {
		end = tx.now
	}
	type found struct {
		code  string
		place environment.PlaceKind
		id    string
		alarm environment.Alarm
	}
	fs, err := collect(tx, `SELECT s.code, s.place, CAST(s.place_id AS TEXT), a.id, a.record FROM environment_alarms a
		JOIN environment_sensors s ON s.id = a.sensor_id
		WHERE a.kind = ? AND a.start_at <= ? AND (a.end_at IS NULL OR a.end_at >= ?)
		AND ((s.place IN (?, ?) AND s.place_id = ?) OR (s.place = ? AND s.place_id = ?) OR (s.place = ? AND s.place_id IN (SELECT id FROM equipment WHERE line_id = ?)))
		ORDER BY a.start_at, a.id`,
		[]any{string(environment.AlarmLimit), end, span.Start, string(environment.PlaceRoom), string(environment.PlaceColdRoom), room,
			string(environment.PlaceLine), b.LineID, string(environment.PlaceEquipment), b.LineID},
		func(sc scanner, f *found) error {
			var id, rec string
			if err := sc.Scan(&f.code, &f.place, &f.id, &id, &rec); err != nil {
				return err
			}
			f.alarm.ID = id
			return json.Unmarshal([]byte(rec), &f.alarm)
		})
	if err != nil {
		return nil, err
	}
	var out []text.Msg
	for _, f := range fs {
		kind, id := f.place, f.id
		if kind == environment.PlaceEquipment {
			kind, id = environment.PlaceLine, b.LineID
		}
		x, ok := f.alarm.Excursion(kind, id)
		if !ok || len(environment.BatchesConcerned(x, []environment.BatchSpan{span}, nil)) == 0 {
			continue
		}
		to := text.Key("quality.release.excursion_open")
		var toArg any = to
		if !x.End.IsZero() {
			toArg = x.End.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		out = append(out, text.Msg{Key: "quality.release.excursion", Args: []any{f.code, f.alarm.Message,
			x.Start.UTC().Format("2006-01-02 15:04:05 UTC"), toArg}})
	}
	return out, nil
}

// --- escalation

// EscalateAlarms escalates, at now, every alarm raised at least within
// ago and still not acknowledged (environment.Alarm.Overdue), once each, in
// one command ("environment_alarm.escalate"): the time is recorded on the
// alarm, audited, and an event (outbox.AlarmEscalated) tells the live
// pages and the webhook after the commit. within zero escalates nothing.
func (e *EnvironmentStore) EscalateAlarms(ctx context.Context, within time.Duration, now time.Time) ([]environment.Alarm, error) {
	if err := CanAppendReadings(actorOf(ctx)); err != nil {
		return nil, err
	}
	if within <= 0 {
		return nil, nil
	}
	var out []environment.Alarm
	err := e.db.Write(ctx, "environment_alarm.escalate", "", func(tx *Tx) error {
		out = nil
		// Locked as read; one an evaluation or an acknowledgement holds
		// is left to the next tick rather than waited for.
		q := `SELECT ` + alarmCols + ` FROM environment_alarms WHERE acked_at IS NULL AND escalated_at IS NULL AND start_at <= ?
			ORDER BY start_at, id LIMIT 1000`
		if tx.db.dialect == Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		due, err := collect(tx, q, []any{now.Add(-within)}, scanAlarm)
		if err != nil {
			return err
		}
		for _, old := range due {
			if !old.Overdue(within, now) {
				continue
			}
			a := old
			a.Escalated = now.UTC()
			if err := tx.writeAlarm(&a, &old); err != nil {
				return err
			}
			var code string
			if err := tx.queryRow(`SELECT code FROM environment_sensors WHERE id = ?`, a.SensorID).Scan(&code); err != nil {
				return err
			}
			tx.enqueue(outbox.AlarmEscalated, entityAlarm, a.ID, "", map[string]any{"sensor_id": a.SensorID, "sensor": code,
				"kind": a.Kind, "level": a.Level, "raised": a.Raised, "message": a.Message.String()})
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
