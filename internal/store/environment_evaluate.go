package store

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
)

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
	// late holds, for the sensors whose fresh readings are not later
	// than their machine's last one, their replay window's readings and
	// the limit alarms overlapping it, read for all in one query each
	// (prepareLate); nil until prepared.
	late map[string]*lateRead
}

// lateRead is what replaying a sensor's late readings needs.
type lateRead struct {
	from     time.Time
	window   []environment.Reading
	recorded []environment.Alarm
}

// prepareLate finds the sensors whose fresh readings are late (at or
// before their machine's last one: a gateway's buffer, batches committed
// out of order) and reads their replay windows and recorded limit alarms,
// a chunk of sensors per query.
func (c *evalCache) prepareLate(tx *Tx, fresh []environment.Reading) error {
	c.late = map[string]*lateRead{}
	earliest := map[string]time.Time{}
	for _, r := range fresh {
		m := c.machines[r.SensorID]
		if m == nil || m.Last.IsZero() || r.At.After(m.Last) {
			continue
		}
		if e, ok := earliest[r.SensorID]; !ok || r.At.Before(e) {
			earliest[r.SensorID] = r.At
		}
	}
	if len(earliest) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(earliest))
	for _, id := range ids {
		c.late[id] = &lateRead{from: environment.ReplayFrom(c.limits[id], earliest[id])}
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		from, to := c.late[chunk[0]].from, c.machines[chunk[0]].Last
		args := []any{}
		for _, id := range chunk {
			from, to = minTime(from, c.late[id].from), maxTime(to, c.machines[id].Last)
			args = append(args, id)
		}
		in := `sensor_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rs, err := collect(tx, `SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE `+in+` AND at >= ? AND at <= ?
			ORDER BY sensor_id, at, seq`, append(slices.Clone(args), from, to), func(sc scanner, r *environment.Reading) error {
			var err error
			*r, err = scanReading(sc)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rs {
			lr, last := c.late[r.SensorID], c.machines[r.SensorID].Last
			if !r.At.Before(lr.from) && !r.At.After(last) && len(lr.window) < MaxEvaluated {
				lr.window = append(lr.window, r)
			}
		}
		as, err := collect(tx, `SELECT `+alarmCols+` FROM environment_alarms WHERE `+in+` AND kind = ? AND (end_at IS NULL OR end_at >= ?)
			ORDER BY start_at, id`, append(args, string(environment.AlarmLimit), from), scanAlarm)
		if err != nil {
			return err
		}
		for _, a := range as {
			lr, last := c.late[a.SensorID], c.machines[a.SensorID].Last
			if lr != nil && !a.Start.After(last) && (a.End.IsZero() || !a.End.Before(lr.from)) {
				lr.recorded = append(lr.recorded, a)
			}
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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
	if c.late == nil {
		if err := c.prepareLate(tx, fresh); err != nil {
			return nil, err
		}
	}
	if lr, ok := c.late[sensorID]; ok {
		ev.Late, ev.Window, ev.Recorded = true, lr.window, lr.recorded
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

// evaluationOf reads, under the machine's lock, what evaluating a sensor
// needs, with what the command read already (nil when the sensor has no
// limits); the first call locks the machines of every sensor of the batch, in id
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
