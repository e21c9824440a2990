package store

import (
	"cmp"
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
	"galenix/internal/site"
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
// batch record decides, not a person. A line standing in a grade A zone
// is in the zone's background room too (the room the zone cascades to):
// its batch puts that room in operation and shares its excursions. Each
// span's RoomID is roomID.
func (tx *Tx) batchSpans(roomID string) (spans, error) {
	out := spans{client: map[string]string{}}
	// The lines in the room or in a grade A zone it is the background of.
	lines, err := collect(tx, `SELECT CAST(id AS TEXT) FROM lines WHERE room_id = ? OR room_id IN (SELECT id FROM rooms WHERE cascades_to = ? AND grade = ?)`,
		[]any{roomID, roomID, string(site.GradeA)}, func(sc scanner, id *string) error { return sc.Scan(id) })
	if err != nil || len(lines) == 0 {
		return out, err
	}
	onLines := `b.line_id IN (?` + strings.Repeat(`, ?`, len(lines)-1) + `)`
	lineArgs := make([]any, len(lines))
	for i, id := range lines {
		lineArgs[i] = id
	}
	type entry struct {
		batch, lot, client, line string
		at                       time.Time
		old, new                 string
	}
	in := string(production.BatchInProgress)
	es, err := collect(tx, `SELECT CAST(b.id AS TEXT), b.lot, CAST(b.client_id AS TEXT), CAST(b.line_id AS TEXT), a.at, a.old_value, a.new_value
		FROM batches b JOIN audit_log a ON a.entity = ? AND a.entity_id = CAST(b.id AS TEXT)
		WHERE `+onLines+` AND a.field = ? AND (a.new_value = ? OR a.old_value = ?) ORDER BY a.seq`,
		slices.Concat([]any{batchTable.entity}, lineArgs, []any{"state", in, in}), func(sc scanner, e *entry) error {
			return sc.Scan(&e.batch, &e.lot, &e.client, &e.line, &e.at, &e.old, &e.new)
		})
	if err != nil {
		return out, err
	}
	// The transaction's own entries are not in the trail until it
	// commits (a history load writes its batches' whole lives in one).
	var pending []audit.Entry
	for _, p := range tx.pending {
		if p.Entity == batchTable.entity && p.Field == "state" && (p.New == in || p.Old == in) {
			pending = append(pending, p)
		}
	}
	if len(pending) > 0 {
		type batch struct{ id, lot, client, line string }
		bs, err := collect(tx, `SELECT CAST(b.id AS TEXT), b.lot, CAST(b.client_id AS TEXT), CAST(b.line_id AS TEXT) FROM batches b WHERE `+onLines,
			lineArgs, func(sc scanner, b *batch) error { return sc.Scan(&b.id, &b.lot, &b.client, &b.line) })
		if err != nil {
			return out, err
		}
		here := map[string]batch{}
		for _, b := range bs {
			here[b.id] = b
		}
		for _, p := range pending {
			if b, ok := here[p.EntityID]; ok {
				es = append(es, entry{batch: b.id, lot: b.lot, client: b.client, line: b.line, at: p.At, old: p.Old, new: p.New})
			}
		}
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

// TickAlarms lets time pass to now for every sensor with limits: silence
// and data-gap alarms open (and a gap's close once filled). Sensors are
// read together; only those whose machine the tick changes are written,
// a chunk of sensors per command (tickChunk), each ticked again there
// under its machine's lock. It returns the events recorded.
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
	for part := range slices.Chunk(due, tickChunk) {
		var evs []environment.Event
		err := e.db.Write(ctx, "environment_alarm.record", "", func(tx *Tx) error {
			evs = nil
			c := &evalCache{places: map[string]place{}, spans: map[string]spans{}}
			if err := c.load(tx, part); err != nil {
				return err
			}
			trackers, err := tx.trackers(part)
			if err != nil {
				return err
			}
			for _, id := range part {
				ev, _, _, err := tx.evaluationOf(c, id)
				if err != nil {
					return err
				}
				if ev == nil {
					continue // its limits removed since
				}
				tr := trackers[id]
				if tr == nil {
					tr = &environment.Tracker{}
				}
				ticked := ev.Machine.Tick(ev.Limits, tr, now)
				if err := tx.recordAlarms(ev.Machine, ticked); err != nil {
					return err
				}
				evs = append(evs, ticked...)
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

// tickChunk bounds the sensors one command of TickAlarms ticks: a
// gateway's outage silences hundreds at once, and a command each would
// keep the writer for minutes; a chunk holds it for a moment.
const tickChunk = 64

// trackers reads the intake state of sensors, by id; a sensor that never
// sent anything has none.
func (tx *Tx) trackers(ids []string) (map[string]*environment.Tracker, error) {
	out := map[string]*environment.Tracker{}
	for part := range slices.Chunk(ids, 500) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		type row struct{ id, state string }
		rs, err := collect(tx, `SELECT CAST(sensor_id AS TEXT), state FROM environment_trackers WHERE sensor_id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`,
			args, func(sc scanner, r *row) error { return sc.Scan(&r.id, &r.state) })
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			tr := &environment.Tracker{}
			if err := json.Unmarshal([]byte(r.state), tr); err != nil {
				return nil, err
			}
			out[r.id] = tr
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
// batch's room (and its background room when the line stands in a grade
// A zone) and on its line while it was in progress.
func (tx *Tx) releaseExcursions(b *production.Batch) ([]text.Msg, error) {
	if b.LineID == "" {
		return nil, nil
	}
	var room, grade, background string
	var to *string
	if err := tx.queryRow(`SELECT CAST(r.id AS TEXT), r.grade, CAST(r.cascades_to AS TEXT) FROM lines l JOIN rooms r ON r.id = l.room_id WHERE l.id = ?`,
		b.LineID).Scan(&room, &grade, &to); err != nil {
		return nil, notFound(err, "store.no_such_production_line")
	}
	if to != nil && site.Grade(grade) == site.GradeA {
		background = *to
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
		AND ((s.place IN (?, ?) AND s.place_id IN (?, ?)) OR (s.place = ? AND s.place_id = ?) OR (s.place = ? AND s.place_id IN (SELECT id FROM equipment WHERE line_id = ?)))
		ORDER BY a.start_at, a.id`,
		[]any{string(environment.AlarmLimit), end, span.Start, string(environment.PlaceRoom), string(environment.PlaceColdRoom), room, cmp.Or(background, room),
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
		switch {
		case kind == environment.PlaceEquipment:
			kind, id = environment.PlaceLine, b.LineID
		case id == background:
			id = room // the span is the zone's: its background's excursion is its own
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
