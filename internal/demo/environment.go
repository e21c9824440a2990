package demo

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"galenix/internal/environment"
	"galenix/internal/production"
	"galenix/internal/simulate"
	"galenix/internal/site"
	"galenix/internal/store"
)

// The demo's environmental monitoring: sensors in every room, cold room and
// line, their limits from the room's grade and targets, and the last day of
// their readings made by the simulator's model (internal/simulate),
// appended through the store as the intake would have, their alarms
// evaluated by the domain's machine as the readings came. The day shows:
//
//   - an action-level excursion of the particle counts (≥ 0.5 µm) of a grade
//     B aseptic room while a batch is in progress on a line of its grade A
//     zones (envExcursionAgo before the load, for 25 minutes);
//   - an alert in a grade C preparation room (the temperature drifting
//     near its limit envDriftAgo before the load), closed, waiting to be
//     acknowledged;
//   - a humidity sensor silent since envSilentAgo, its silence alarm open;
//   - a cold room's gateway that lost its network for 45 minutes and sent
//     its buffered readings an hour later: the gap, its data-gap alarm,
//     both closed when the readings came;
//   - a sensor overdue for calibration and one moved since it was
//     calibrated, their readings flagged.
//
// The sensors that show these (and every sensor of the excursion's room)
// have the whole day at one reading a minute; the others the last quarter
// of an hour, so that every place has live values without making the load
// slow (a whole day for each of the 462 sensors is some 665,000 readings:
// tens of seconds more to load).

// The demo's environment events, before the load.
const (
	envExcursionAgo = 2 * time.Hour
	envDriftAgo     = 8 * time.Hour
	envSilentAgo    = 3 * time.Hour
	envGapFrom      = 6 * time.Hour // the gateway's outage began
	envGapLength    = 45 * time.Minute
	envGapFilledAgo = 4 * time.Hour
	envHistory      = 24 * time.Hour
	envShort        = 15 * time.Minute
	envSlot         = time.Hour // readings are appended an hour at a time
	envSeed         = 15
)

// The sensors the events fall on, by code (the excursion's depends on the
// batches: see environment()).
const (
	envDriftSensor   = "B30-C04-T1"
	envMovedSensor   = "B30-C04-H1"
	envSilentSensor  = "B30-C05-H1"
	envGapSensor     = "B70-F01-T1"
	envOverdueSensor = "B70-F02-T1"
)

// envFull are the sensors that have the whole day, besides those of the
// grade B room of the excursion.
var envFull = []string{envDriftSensor, envMovedSensor, envSilentSensor, envGapSensor, envOverdueSensor}

// demoSensor is a sensor of the demo with its limits and model.
type demoSensor struct {
	s    environment.Sensor
	l    environment.Limits
	spec simulate.Spec
}

// sensorKind is one kind of sensor a place has: its code's suffix, name
// and location.
type sensorKind struct {
	kind           environment.Kind
	suffix, name   string
	location       string
	decimals       int
	place          environment.PlaceKind
	placeID, where string // where: the room code its model follows
}

// environment writes the sensors, their limits and their last day.
func (l *loader) environment() error {
	ctx := l.ctx
	now := l.h.Now().Truncate(time.Minute)
	defer l.h.Backdate(l.h.Now())
	rooms, err := l.plant.Rooms(ctx, site.RoomFilter{})
	if err != nil {
		return err
	}
	lines, err := l.plant.Lines(ctx, site.LineFilter{})
	if err != nil {
		return err
	}
	roomByID := map[string]*site.Room{}
	for i := range rooms {
		roomByID[rooms[i].ID] = &rooms[i]
	}

	// The sensors, room by room, then line by line.
	var kinds []sensorKind
	for _, r := range rooms {
		place := environment.PlaceRoom
		if r.TempMin <= 8 && r.TempMax <= 8 {
			place = environment.PlaceColdRoom
		}
		add := func(k environment.Kind, suffix, name, location string, decimals int) {
			kinds = append(kinds, sensorKind{k, suffix, name + " — " + r.Name, location, decimals, place, r.ID, r.Code})
		}
		add(environment.KindTemperature, "T1", "Température", "Mur nord, 1,5 m du sol", 2)
		if place == environment.PlaceColdRoom {
			add(environment.KindTemperature, "T2", "Température basse", "Étagère basse, fond de la chambre", 2)
			add(environment.KindDoor, "D1", "Contact de porte", "Porte d'accès", 0)
			for _, p := range extraProbes(&r) {
				add(p.kind, p.suffix, p.name, p.location, p.decimals)
			}
			continue
		}
		add(environment.KindHumidity, "H1", "Humidité relative", "Mur nord, 1,5 m du sol", 1)
		if r.CascadesTo != "" {
			add(environment.KindPressureDiff, "DP1", "Pression différentielle", "Gaine de reprise, vers "+roomByID[r.CascadesTo].Code, 1)
		}
		if r.Grade.SterileCapable() {
			add(environment.KindParticles05, "PA1", "Particules ≥ 0,5 µm", "Sonde isocinétique au poste de travail", 0)
			add(environment.KindParticles5, "PB1", "Particules ≥ 5 µm", "Sonde isocinétique au poste de travail", 0)
		}
		if r.Grade.Graded() && r.Grade != site.GradeA {
			add(environment.KindDoor, "D1", "Contact de porte", "Porte d'accès", 0)
		}
		for _, p := range extraProbes(&r) {
			add(p.kind, p.suffix, p.name, p.location, p.decimals)
		}
	}
	lineRoom := map[string]string{} // line id → room id
	for _, ln := range lines {
		lineRoom[ln.ID] = ln.RoomID
		kinds = append(kinds, sensorKind{environment.KindTemperature, "T1", "Température — " + ln.Name, "Au poste de remplissage", 2,
			environment.PlaceLine, ln.ID, roomByID[ln.RoomID].Code},
			sensorKind{environment.KindHumidity, "H1", "Humidité relative — " + ln.Name, "Au poste de remplissage", 1,
				environment.PlaceLine, ln.ID, roomByID[ln.RoomID].Code})
	}
	// Each piece of equipment: the air at its working height and at its
	// infeed (its process values are its own controller's).
	equipment, err := l.plant.Equipment(ctx, site.EquipmentFilter{})
	if err != nil {
		return err
	}
	for _, e := range equipment {
		room := roomByID[lineRoom[e.LineID]]
		if room == nil {
			continue
		}
		for i, loc := range []string{"À hauteur de travail", "À l'entrée de la machine"} {
			kinds = append(kinds, sensorKind{environment.KindTemperature, fmt.Sprintf("T%d", i+1), "Température — " + e.Name, loc, 2,
				environment.PlaceEquipment, e.ID, room.Code})
		}
	}

	roomByCode := map[string]*site.Room{}
	for i := range rooms {
		roomByCode[rooms[i].Code] = &rooms[i]
	}
	today := day(now)
	var sensors []*demoSensor
	byCode := map[string]*demoSensor{}
	for k, sk := range kinds {
		r := roomByCode[sk.where]
		code := sk.where + "-" + sk.suffix
		switch sk.place {
		case environment.PlaceLine:
			for _, ln := range lines {
				if ln.ID == sk.placeID {
					code = ln.Code + "-" + sk.suffix
				}
			}
		case environment.PlaceEquipment:
			for _, e := range equipment {
				if e.ID == sk.placeID {
					code = e.Code + "-" + sk.suffix
				}
			}
		}
		calibrated := today.AddDate(0, 0, -(40 + (k*53)%300))
		s := environment.Sensor{Code: code, Name: sk.name, Kind: sk.kind, Place: sk.place, PlaceID: sk.placeID,
			Location: sk.location, LocationSince: calibrated, CalibratedOn: calibrated, CalibrationDue: calibrated.AddDate(1, 0, 0),
			Decimals: sk.decimals}
		switch code {
		case envOverdueSensor:
			s.CalibratedOn = today.AddDate(-1, 0, -15)
			s.LocationSince, s.CalibrationDue = s.CalibratedOn, s.CalibratedOn.AddDate(1, 0, 0)
		case envMovedSensor:
			s.LocationSince, s.Location = today.AddDate(0, 0, -5), "Mur est, au-dessus de la paillasse (déplacée)"
		}
		d := &demoSensor{s: s}
		if d.l, d.spec, err = envLimits(r, sk.kind); err != nil {
			return fmt.Errorf("sensor %s: %w", code, err)
		}
		d.spec.Code, d.spec.Room, d.spec.Kind, d.spec.Decimals = code, sk.where, sk.kind, sk.decimals
		if err := l.db.Environment().CreateSensor(ctx, &d.s); err != nil {
			return fmt.Errorf("sensor %s: %w", code, err)
		}
		d.l.SensorID = d.s.ID
		if err := l.db.Environment().SetLimits(ctx, &d.l, ""); err != nil {
			return fmt.Errorf("limits of %s: %w", code, err)
		}
		sensors = append(sensors, d)
		byCode[code] = d
	}

	// The rooms' states, from the batches' time in progress: a batch on a
	// line of a grade A zone holds the zone in operation, and the grade B
	// room the zone stands in.
	spans, err := l.batchSpans()
	if err != nil {
		return err
	}
	background := map[string]string{} // line id → the room its zone stands in
	for _, ln := range lines {
		if z := roomByID[ln.RoomID]; z.Grade == site.GradeA && z.CascadesTo != "" {
			background[ln.ID] = z.CascadesTo
		}
	}
	stateAt := func(roomCode string, t time.Time) environment.RoomState {
		id := roomByCode[roomCode].ID
		if environment.RoomStateAt(id, t, spans, lineRoom) == environment.InOperation {
			return environment.InOperation
		}
		return environment.RoomStateAt(id, t, spans, background)
	}

	// The model, from a day ago to now.
	start := now.Add(-envHistory + time.Minute)
	m := &simulate.Model{Seed: envSeed, Start: start, Step: time.Minute, Silent: map[int]time.Time{},
		InOperation: func(room string, t time.Time) bool { return stateAt(room, t) == environment.InOperation }}
	index := map[string]int{}
	for i, d := range sensors {
		m.Specs = append(m.Specs, d.spec)
		index[d.s.Code] = i
	}
	exc, err := envExcursion(spans, lines, roomByID, now)
	if err != nil {
		return err
	}
	excSensor, ok := index[exc+"-PA1"]
	if !ok {
		return fmt.Errorf("no particle counter in room %s", exc)
	}
	at := now.Add(-envExcursionAgo)
	m.Pinned = map[int64]simulate.Excursion{0: {Sensor: excSensor, Start: at, End: at.Add(25 * time.Minute)}}
	at = now.Add(-envDriftAgo)
	m.Drifts = []simulate.Excursion{{Sensor: index[envDriftSensor], Start: at, End: at.Add(30 * time.Minute)}}
	m.Silent[index[envSilentSensor]] = now.Add(-envSilentAgo)

	// Each reading arrives when taken; the gateway's buffered ones when it
	// is back. The store takes them an hour at a time, at the hour's end
	// (one transaction a minute would make the load slow, and decides
	// nothing else: the alarms are evaluated as the readings came).
	gapFrom, gapTo, filled := now.Add(-envGapFrom), now.Add(-envGapFrom+envGapLength), now.Add(-envGapFilledAgo)
	// The last slot ends with the load: nothing is received later.
	slot := func(t time.Time) time.Time {
		end := start.Add((t.Sub(start) + envSlot - 1) / envSlot * envSlot)
		if end.After(now) {
			return now
		}
		return end
	}
	type arrival struct {
		at time.Time
		r  environment.Reading
		i  int
	}
	var arrivals []arrival
	steps := m.Steps(now)
	for i, d := range sensors {
		first := int64(0)
		if d.spec.Room != exc && !slices.Contains(envFull, d.s.Code) {
			first = steps - int64(envShort/time.Minute)
		}
		for n := first; n < steps; n++ {
			r, ok := m.At(i, n)
			if !ok {
				break
			}
			a := arrival{at: r.At, r: environment.Reading{SensorID: d.s.ID, Seq: r.Seq, At: r.At, Value: r.Value}, i: i}
			if d.s.Code == envGapSensor && !r.At.Before(gapFrom) && r.At.Before(gapTo) {
				a.at = filled
			}
			arrivals = append(arrivals, a)
		}
	}
	sort.SliceStable(arrivals, func(a, b int) bool { return arrivals[a].at.Before(arrivals[b].at) })

	// Append slot by slot, at the slot's end.
	for lo := 0; lo < len(arrivals); {
		hi, end := lo, slot(arrivals[lo].at)
		for hi < len(arrivals) && slot(arrivals[hi].at).Equal(end) && hi-lo < store.MaxReadingBatch {
			hi++
		}
		if err := l.h.Backdate(end); err != nil {
			return err
		}
		batch := make([]environment.Reading, 0, hi-lo)
		for _, a := range arrivals[lo:hi] {
			batch = append(batch, a.r)
		}
		res, err := l.db.Environment().AppendReadings(ctx, batch, nil)
		if err != nil {
			return fmt.Errorf("readings at %s: %w", end.Format(time.RFC3339), err)
		}
		if res.New != len(batch) {
			return fmt.Errorf("readings at %s: %d of %d stored, refused %v", end.Format(time.RFC3339), res.New, len(batch), res.Refused)
		}
		lo = hi
	}

	// The alarms, sensor by sensor, as the readings arrived: each reading
	// stepped when it came, time ticking every minute (silence, data gap).
	perSensor := make([][]arrival, len(sensors))
	for _, a := range arrivals {
		perSensor[a.i] = append(perSensor[a.i], a)
	}
	for i, d := range sensors {
		mc := environment.NewMachine(&d.s, start)
		tr := &environment.Tracker{}
		as := perSensor[i]
		if len(as) == 0 {
			continue
		}
		record := func(at time.Time, evs []environment.Event) error {
			if len(evs) == 0 {
				return nil
			}
			if err := l.h.Backdate(at); err != nil {
				return err
			}
			return l.db.Environment().RecordAlarms(ctx, mc, evs)
		}
		mc.Heard = as[0].r.At
		k := 0
		for t := as[0].r.At; !t.After(now); t = t.Add(time.Minute) {
			for k < len(as) && !as[k].at.After(t) {
				a := as[k]
				tr.Observe(a.r.Seq, a.at)
				evs, _ := mc.Step(&d.l, stateAt(d.spec.Room, a.r.At), &a.r, t)
				if err := record(t, evs); err != nil {
					return fmt.Errorf("alarms of %s: %w", d.s.Code, err)
				}
				k++
			}
			if err := record(t, mc.Tick(&d.l, tr, t)); err != nil {
				return fmt.Errorf("alarms of %s: %w", d.s.Code, err)
			}
		}
		// The machine's state, where the live evaluation resumes.
		if err := l.h.Backdate(now); err != nil {
			return err
		}
		if err := l.db.Environment().RecordAlarms(ctx, mc, nil); err != nil {
			return fmt.Errorf("alarm state of %s: %w", d.s.Code, err)
		}
	}
	// The plots' roll-ups of the day, made in the load up to its end: the
	// server's job then has only the intervals still open to close,
	// instead of holding the database's writer for the day's readings
	// while people sign in.
	if _, err := l.db.Environment().RollUp(ctx); err != nil {
		return fmt.Errorf("roll-ups: %w", err)
	}
	return nil
}

// envLimits are the demo's limits of a sensor of kind k in room r, and
// the model's band for it: the room's targets as action limits, alert
// limits a tenth of the range inside them; the Annex 1 maxima of the
// room's grade for particles, at rest and in operation, two counts in
// three beyond the limit to raise; a door open five minutes.
func envLimits(r *site.Room, k environment.Kind) (environment.Limits, simulate.Spec, error) {
	base := environment.Limits{SilenceS: 900, GapS: 600}
	var spec simulate.Spec
	switch k {
	case environment.KindTemperature, environment.KindHumidity, environment.KindPressureDiff:
		l, _ := environment.RoomLimits(r, k)
		l.SilenceS, l.GapS = base.SilenceS, base.GapS
		t := &l.AtRest
		switch k {
		case environment.KindPressureDiff:
			alert := *t.ActionLow + 2
			t.AlertLow = &alert
			l.DelayS, l.Deadband = 120, 0.5
			spec.Low, spec.High = *t.ActionLow, *t.ActionLow+30
		default:
			lo, hi := *t.ActionLow, *t.ActionHigh
			alo, ahi := lo+(hi-lo)/10, hi-(hi-lo)/10
			t.AlertLow, t.AlertHigh = &alo, &ahi
			l.DelayS, l.Deadband = 300, 0.2
			if k == environment.KindHumidity {
				l.Deadband = 1
			}
			spec.Low, spec.High = lo, hi
		}
		return l, spec, nil
	case environment.KindParticles05, environment.KindParticles5:
		l, siteSets, ok := environment.DefaultLimits(r.Grade, k)
		if !ok {
			return l, spec, errors.New("particle counter in a room without a grade")
		}
		if siteSets {
			op := l.AtRest
			l.InOperation = &op
		}
		l.N, l.M, l.SilenceS, l.GapS = 2, 3, base.SilenceS, base.GapS
		spec.High = 29 // grades A and B at rest set no limit at ≥ 5 µm
		if h := l.AtRest.ActionHigh; h != nil {
			spec.High = *h
		}
		spec.OpHigh = spec.High
		if h := l.For(environment.InOperation).ActionHigh; h != nil {
			spec.OpHigh = *h
		}
		return l, spec, nil
	case environment.KindDoor:
		open := 0.5
		base.AtRest.AlertHigh = &open
		base.DelayS = 300
		return base, spec, nil
	}
	return base, spec, fmt.Errorf("no demo limits for a %s sensor", k)
}

// probe is a further sensor of a room (see extraProbes).
type probe struct {
	kind         environment.Kind
	suffix, name string
	location     string
	decimals     int
}

// extraProbes are a room's sensors beyond the one of each kind every room
// has, as a site this size instruments them (about 2,000 points): more
// particle counting points in the grade A and B rooms (Annex 1 §9.23:
// where the risk to the product is), a second temperature and humidity
// in the clean rooms, the mapping grid of the warehouses (positions at
// three heights) and cold rooms, the servers' racks and the air-handling
// units of the plant room.
func extraProbes(r *site.Room) []probe {
	var out []probe
	add := func(k environment.Kind, suffix, name, location string, decimals int) {
		out = append(out, probe{k, suffix, name, location, decimals})
	}
	switch r.Grade {
	case site.GradeA:
		for i, loc := range []string{"Sonde isocinétique à l'alimentation des bouchons", "Sonde isocinétique à la sortie de la zone"} {
			add(environment.KindParticles05, fmt.Sprintf("PA%d", i+2), "Particules ≥ 0,5 µm", loc, 0)
			add(environment.KindParticles5, fmt.Sprintf("PB%d", i+2), "Particules ≥ 5 µm", loc, 0)
		}
		add(environment.KindTemperature, "T2", "Température", "Sous le flux unidirectionnel", 2)
	case site.GradeB:
		add(environment.KindParticles05, "PA2", "Particules ≥ 0,5 µm", "Sonde isocinétique près de la porte", 0)
		add(environment.KindParticles5, "PB2", "Particules ≥ 5 µm", "Sonde isocinétique près de la porte", 0)
		fallthrough
	case site.GradeC, site.GradeD:
		add(environment.KindTemperature, "T2", "Température", "Mur sud, 1,5 m du sol", 2)
		add(environment.KindHumidity, "H2", "Humidité relative", "Mur sud, 1,5 m du sol", 1)
	}
	switch {
	case r.TempMin <= 8 && r.TempMax <= 8: // a cold room's mapping
		for i := 3; i <= 12; i++ {
			add(environment.KindTemperature, fmt.Sprintf("T%d", i), "Température (cartographie)", fmt.Sprintf("Position de cartographie %d", i), 2)
		}
	case r.Code >= "B70-N01" && r.Code <= "B70-N05": // a warehouse's mapping
		for i := 1; i <= 40; i++ {
			for h, height := range []string{"bas", "milieu", "haut"} {
				add(environment.KindTemperature, fmt.Sprintf("M%02d-%d", i, h+1), "Température (cartographie)",
					fmt.Sprintf("Position %d, rayonnage niveau %s", i, height), 2)
			}
		}
		for i := 1; i <= 10; i++ {
			add(environment.KindHumidity, fmt.Sprintf("MH%02d", i), "Humidité relative (cartographie)", fmt.Sprintf("Allée %d, niveau milieu", i), 1)
		}
	case strings.HasPrefix(r.Code, "B90-S"): // the servers' racks
		for i := 1; i <= 6; i++ {
			add(environment.KindTemperature, fmt.Sprintf("R%02d", i), "Température d'entrée de baie", fmt.Sprintf("Baie %d, face avant", i), 2)
		}
	case r.Code == "CHA-02": // the air-handling units
		for i := 1; i <= 30; i++ {
			add(environment.KindTemperature, fmt.Sprintf("CTA%02d-T", i), "Température de soufflage", fmt.Sprintf("Centrale de traitement d'air %d", i), 2)
			add(environment.KindHumidity, fmt.Sprintf("CTA%02d-H", i), "Humidité de soufflage", fmt.Sprintf("Centrale de traitement d'air %d", i), 1)
		}
	}
	return out
}

// batchSpans are the batches' time in progress, from their records: from
// their start to their end once completed.
func (l *loader) batchSpans() ([]environment.BatchSpan, error) {
	bs, err := l.prod.Batches(l.ctx, production.BatchFilter{States: []production.BatchState{production.BatchInProgress,
		production.BatchCompleted, production.BatchInReview, production.BatchQAReviewed, production.BatchCertified, production.BatchRejected}})
	if err != nil {
		return nil, err
	}
	var out []environment.BatchSpan
	for _, b := range bs {
		if b.Start == nil || b.LineID == "" {
			continue
		}
		s := environment.BatchSpan{BatchID: b.ID, Lot: b.Lot, LineID: b.LineID, Start: *b.Start}
		if b.State != production.BatchInProgress && b.End != nil {
			s.End = *b.End
		}
		out = append(out, s)
	}
	return out, nil
}

// envExcursion is the grade B room the excursion falls in: the room of
// the grade A zone of a sterile line with a batch in progress since
// before the excursion, the one in progress longest.
func envExcursion(spans []environment.BatchSpan, lines []site.Line, rooms map[string]*site.Room, now time.Time) (string, error) {
	line := map[string]site.Line{}
	for _, ln := range lines {
		line[ln.ID] = ln
	}
	var cands []environment.BatchSpan
	for _, s := range spans {
		z := rooms[line[s.LineID].RoomID]
		if s.End.IsZero() && z.Grade == site.GradeA && z.CascadesTo != "" && s.Start.Before(now.Add(-envExcursionAgo-10*time.Minute)) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return "", errors.New("no batch in progress on a sterile line since before the excursion")
	}
	slices.SortStableFunc(cands, func(a, b environment.BatchSpan) int { return a.Start.Compare(b.Start) })
	return rooms[rooms[line[cands[0].LineID].RoomID].CascadesTo].Code, nil
}
