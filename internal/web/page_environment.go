package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/text"
)

// EnvironmentViews reads what the environmental monitoring pages, their
// reports and the series API show (the store's EnvironmentStore).
type EnvironmentViews interface {
	Sensor(ctx context.Context, id string) (*environment.Sensor, error)
	Limits(ctx context.Context, sensorID string) (*environment.Limits, error)
	SensorStatuses(ctx context.Context, places []string, detail bool) ([]environment.SensorStatus, error)
	RoomsInOperation(ctx context.Context) (map[string]bool, time.Time, error)
	Series(ctx context.Context, sensorID string, from, to time.Time) (*environment.Series, error)
	Readings(ctx context.Context, sensorID string, from, to time.Time, limit int) ([]environment.Reading, error)
	Alarms(ctx context.Context, sensorID string, limit int) ([]environment.Alarm, error)
	// BatchReport is the environment of a batch's room while it was made
	// (a document of the batch's dossier).
	BatchReport(ctx context.Context, batchID string) (*environment.BatchReport, error)
}

// The states the pages colour a room, a building or a sensor by, worst
// last: normal, no data (never heard, or gone silent), alert, action.
const (
	envNormal = "normal"
	envNoData = "nodata"
	envAlert  = "alert"
	envAction = "action"
)

var envStates = []string{envNormal, envNoData, envAlert, envAction}

func envRank(s string) int { return slices.Index(envStates, s) }

// worse is the worse of two states.
func worse(a, b string) string {
	if envRank(b) > envRank(a) {
		return b
	}
	return a
}

// sensorState is the state a sensor is shown in.
func sensorState(s *environment.SensorStatus) string {
	switch {
	case s.Level == environment.Action:
		return envAction
	case s.Level == environment.Alert:
		return envAlert
	case s.NoData():
		return envNoData
	}
	return envNormal
}

func (s *Server) routesEnvironmentPages() {
	s.handle("GET", "/environment", false, s.environmentPage)
	s.handle("GET", "/environment/rooms/{id}", false, s.environmentRoomPage)
	s.handle("GET", "/environment/rooms/{id}/report.csv", false, s.environmentRoomCSV)
	s.handle("GET", "/environment/rooms/{id}/report.pdf", false, s.environmentRoomPDF)
	s.handle("GET", "/environment/sensors/{id}", false, s.environmentSensorPage)
	s.handle("GET", "/api/v1/sensors/{id}/series", false, s.apiSensorSeries)
}

// envViews is the environment's reader for the request's actor: site
// staff only, as the environment's API (envRead) — a client laboratory's
// user is refused, the rooms' conditions are the site's.
func (s *Server) envViews(ctx context.Context) (EnvironmentViews, error) {
	if _, err := s.envRead(ctx); err != nil {
		return nil, err
	}
	if s.EnvironmentViews == nil {
		return nil, errs.E(errs.Internal, "web.environment_unavailable")
	}
	return s.EnvironmentViews, nil
}

// plant is the site's rooms, lines and equipment, read once each, and
// where each sensor place stands.
type plant struct {
	buildings []site.Building
	rooms     []site.Room
	roomOf    map[string]string // a line's or a piece of equipment's room
	codeOf    map[string]string // a room's, line's or equipment's code
}

func (s *Server) readPlant(ctx context.Context) (*plant, error) {
	p := &plant{roomOf: map[string]string{}, codeOf: map[string]string{}}
	var err error
	if p.buildings, err = s.Site.Buildings(ctx); err != nil {
		return nil, err
	}
	if p.rooms, err = s.Site.Rooms(ctx, site.RoomFilter{}); err != nil {
		return nil, err
	}
	lines, err := s.Site.Lines(ctx, site.LineFilter{})
	if err != nil {
		return nil, err
	}
	equipment, err := s.Site.Equipment(ctx, site.EquipmentFilter{})
	if err != nil {
		return nil, err
	}
	for _, r := range p.rooms {
		p.roomOf[r.ID], p.codeOf[r.ID] = r.ID, r.Code
	}
	for _, l := range lines {
		p.roomOf[l.ID], p.codeOf[l.ID] = l.RoomID, l.Code
	}
	for _, e := range equipment {
		p.roomOf[e.ID], p.codeOf[e.ID] = p.roomOf[e.LineID], e.Code
	}
	return p, nil
}

// places lists the room and what stands in it: a sensor placed on any of
// them is the room's.
func (p *plant) places(roomID string) []string {
	out := []string{}
	for place, room := range p.roomOf {
		if room == roomID {
			out = append(out, place)
		}
	}
	slices.Sort(out)
	return out
}

// envSitePage is the live view of the site: each building and room
// coloured by the worst state of its sensors.
type envSitePage struct {
	base
	Buildings  []envBuilding
	OpenAlarms int
	Sensors    int
	// Tally counts the rooms of each state, worst first.
	Tally []envTally
}

type envTally struct {
	State string
	Count int
}

type envBuilding struct {
	site.Building
	State string
	Rooms []envRoom
}

type envRoom struct {
	site.Room
	State       string
	InOperation bool
	Sensors     int
	OpenAlarms  int
}

func (s *Server) environmentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := s.envViews(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p, err := s.readPlant(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	statuses, err := ev.SensorStatuses(ctx, nil, false)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	inOp, _, err := ev.RoomsInOperation(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := envSitePage{base: s.base(r, "environment"), Sensors: len(statuses)}
	rooms := map[string]*envRoom{}
	var ordered []*envRoom
	for _, rm := range p.rooms {
		er := &envRoom{Room: rm, State: envNoData, InOperation: inOp[rm.ID]}
		rooms[rm.ID] = er
		ordered = append(ordered, er)
	}
	for i := range statuses {
		st := &statuses[i]
		d.OpenAlarms += st.OpenAlarms
		er := rooms[p.roomOf[st.Sensor.PlaceID]]
		if er == nil {
			continue
		}
		state := sensorState(st)
		if er.Sensors == 0 {
			er.State = state
		} else {
			er.State = worse(er.State, state)
		}
		er.Sensors++
		er.OpenAlarms += st.OpenAlarms
	}
	tally := map[string]int{}
	byBuilding := map[string][]envRoom{}
	for _, er := range ordered {
		tally[er.State]++
		byBuilding[er.BuildingID] = append(byBuilding[er.BuildingID], *er)
	}
	for i := len(envStates) - 1; i >= 0; i-- {
		if n := tally[envStates[i]]; n > 0 {
			d.Tally = append(d.Tally, envTally{envStates[i], n})
		}
	}
	for _, b := range p.buildings {
		eb := envBuilding{Building: b, State: envNormal, Rooms: byBuilding[b.ID]}
		for _, er := range eb.Rooms {
			eb.State = worse(eb.State, er.State)
		}
		if len(eb.Rooms) == 0 {
			eb.State = envNoData
		}
		d.Buildings = append(d.Buildings, eb)
	}
	s.render(w, r, http.StatusOK, "environment", d)
}

// envRoomPage is one room: its sensors with their last value, state and
// the limits in force.
type envRoomPage struct {
	base
	Room        site.Room
	Building    string
	State       string
	InOperation bool
	OpenAlarms  int
	Sensors     []envSensorRow
	// The report's default period: the last seven days, as days.
	From, To string
}

type envSensorRow struct {
	ID, Code, Name string
	Kind           environment.Kind
	// Place is where it stands when not the room itself: a line's or a
	// piece of equipment's code.
	Place      string
	State      string
	OpenAlarms int
	Value      string
	When       string
	Unit       string
	// AtRest and InOperation are the limits in words; InOperationSame:
	// the at-rest limits hold in operation too.
	AtRest, InOperation string
	InOperationSame     bool
	NoLimits            bool
}

func (s *Server) environmentRoomPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := s.envViews(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	room, err := s.Site.Room(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p, err := s.readPlant(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	statuses, err := ev.SensorStatuses(ctx, p.places(room.ID), true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	inOp, now, err := ev.RoomsInOperation(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := envRoomPage{base: s.base(r, "environment"), Room: *room, State: envNoData, InOperation: inOp[room.ID]}
	for _, b := range p.buildings {
		if b.ID == room.BuildingID {
			d.Building = b.Name
		}
	}
	zone := s.zone()
	today := now.In(zone)
	d.From, d.To = today.AddDate(0, 0, -6).Format(time.DateOnly), today.Format(time.DateOnly)
	for i := range statuses {
		st := &statuses[i]
		row := envSensorRow{ID: st.Sensor.ID, Code: st.Sensor.Code, Name: st.Sensor.Name, Kind: st.Sensor.Kind, State: sensorState(st),
			OpenAlarms: st.OpenAlarms, Unit: st.Sensor.Kind.Unit(), Value: "—"}
		if st.Sensor.PlaceID != room.ID {
			row.Place = p.codeOf[st.Sensor.PlaceID]
		}
		if st.Last != nil {
			row.Value, row.When = text.FormatFixed(d.Lang, st.Last.Value, st.Sensor.Decimals), formatStamp(d.Lang, st.Last.At, zone)
		}
		if st.Limits == nil {
			row.NoLimits = true
		} else {
			row.AtRest = thresholdsText(d.Lang, st.Limits.AtRest, st.Sensor.Decimals)
			row.InOperationSame = st.Limits.InOperation == nil
			if !row.InOperationSame {
				row.InOperation = thresholdsText(d.Lang, *st.Limits.InOperation, st.Sensor.Decimals)
			}
		}
		if i == 0 {
			d.State = row.State
		} else {
			d.State = worse(d.State, row.State)
		}
		d.OpenAlarms += st.OpenAlarms
		d.Sensors = append(d.Sensors, row)
	}
	s.render(w, r, http.StatusOK, "environment_room", d)
}

// thresholdsText writes a state's limits for reading: "alert 19.00 to
// 23.00 · action 18.00 to 24.00", a missing side as "≤" or "≥".
func thresholdsText(lang string, t environment.Thresholds, decimals int) string {
	if t.Empty() {
		return tr(lang, "env.limits.none")
	}
	var parts []string
	for _, lv := range []struct {
		key    string
		lo, hi *float64
	}{{"env.limits.alert", t.AlertLow, t.AlertHigh}, {"env.limits.action", t.ActionLow, t.ActionHigh}} {
		if r := rangeText(lang, lv.lo, lv.hi, decimals); r != "" {
			parts = append(parts, tr(lang, lv.key)+" "+r)
		}
	}
	return strings.Join(parts, " · ")
}

func rangeText(lang string, lo, hi *float64, decimals int) string {
	f := func(v *float64) string { return text.FormatFixed(lang, *v, decimals) }
	switch {
	case lo != nil && hi != nil:
		return f(lo) + " – " + f(hi)
	case lo != nil:
		return "≥ " + f(lo)
	case hi != nil:
		return "≤ " + f(hi)
	}
	return ""
}

// envSensorPage is a sensor's plot: the series API feeds it as it zooms.
type envSensorPage struct {
	base
	Sensor      environment.Sensor
	Room        site.Room
	State       string
	InOperation bool
	Unit        string
	// Limits is the JSON of the lines drawn: the limits in force now.
	Limits string
	// From and To are the plot's first span (RFC 3339), Span its name.
	From, To string
	Span     string
	Spans    []string
	Zone     string
}

// envSpans are the spans the sensor page offers, by name.
var envSpans = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
	"1y": 365 * 24 * time.Hour}

var envSpanOrder = []string{"1h", "24h", "7d", "30d", "1y"}

type envLimitLine struct {
	Label string  `json:"label"`
	Level string  `json:"level"`
	Value float64 `json:"value"`
}

func (s *Server) environmentSensorPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := s.envViews(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	sensor, err := ev.Sensor(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := envSensorPage{base: s.base(r, "environment"), Sensor: *sensor, Unit: sensor.Kind.Unit(), Spans: envSpanOrder, Zone: s.zone().String()}
	statuses, err := ev.SensorStatuses(ctx, []string{sensor.PlaceID}, true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var limits *environment.Limits
	d.State = envNoData
	for i := range statuses {
		if statuses[i].Sensor.ID == sensor.ID {
			d.State, limits = sensorState(&statuses[i]), statuses[i].Limits
		}
	}
	p, err := s.readPlant(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	roomID := p.roomOf[sensor.PlaceID]
	for _, rm := range p.rooms {
		if rm.ID == roomID {
			d.Room = rm
		}
	}
	inOp, now, err := ev.RoomsInOperation(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.InOperation = inOp[roomID]
	lines := []envLimitLine{}
	if limits != nil {
		state := environment.AtRest
		if d.InOperation {
			state = environment.InOperation
		}
		t := limits.For(state)
		for _, l := range []struct {
			key, level string
			v          *float64
		}{{"env.limit.action_low", envAction, t.ActionLow}, {"env.limit.alert_low", envAlert, t.AlertLow},
			{"env.limit.alert_high", envAlert, t.AlertHigh}, {"env.limit.action_high", envAction, t.ActionHigh}} {
			if l.v != nil {
				lines = append(lines, envLimitLine{Label: tr(d.Lang, l.key), Level: l.level, Value: *l.v})
			}
		}
	}
	b, err := json.Marshal(lines)
	if err != nil {
		s.pageError(w, r, errs.Wrap(err, "limit lines"))
		return
	}
	d.Limits = string(b)
	d.Span = r.URL.Query().Get("span")
	span, ok := envSpans[d.Span]
	if !ok {
		d.Span, span = "24h", envSpans["24h"]
	}
	to := now.Truncate(time.Second).Add(time.Second)
	d.From, d.To = to.Add(-span).Format(time.RFC3339), to.Format(time.RFC3339)
	s.render(w, r, http.StatusOK, "environment_sensor", d)
}

// seriesBody is a sensor's series as the API answers it, in columns for
// a plot: times in Unix seconds (with their fraction), and for each the
// mean, least and greatest value and the readings counted (1 for a raw
// reading).
type seriesBody struct {
	SensorID   string    `json:"sensor_id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Resolution string    `json:"resolution"`
	WidthS     int64     `json:"width_s"`
	Unit       string    `json:"unit"`
	Decimals   int       `json:"decimals"`
	T          []float64 `json:"t"`
	Mean       []float64 `json:"mean"`
	Min        []float64 `json:"min"`
	Max        []float64 `json:"max"`
	Count      []int64   `json:"count"`
}

// resolutionOf names a series' width: raw, or 1m, 1h, 6h, 2d...
func resolutionOf(w time.Duration) string {
	switch {
	case w == 0:
		return "raw"
	case w < time.Hour:
		return strings.TrimSuffix(w.String(), "0s")
	case w < 24*time.Hour:
		return strings.TrimSuffix(w.String(), "0m0s")
	}
	return strconv.Itoa(int(w/(24*time.Hour))) + "d"
}

// apiSensorSeries answers GET /api/v1/sensors/{id}/series?from&to: the
// sensor's readings over the span at the finest resolution that keeps
// the plot within environment.MaxSeriesPoints points.
func (s *Server) apiSensorSeries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := s.envViews(ctx)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	sensor, err := ev.Sensor(ctx, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		t, ok, err := timeParam(q, p.name, false, s.zone())
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if !ok {
			s.apiError(w, r, errs.Field(p.name, "env.series.required"))
			return
		}
		*p.dst = t
	}
	series, err := ev.Series(ctx, sensor.ID, from, to)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	n := len(series.Points)
	out := seriesBody{SensorID: series.SensorID, From: series.From, To: series.To, Resolution: resolutionOf(series.Width),
		WidthS: int64(series.Width / time.Second), Unit: sensor.Kind.Unit(), Decimals: sensor.Decimals,
		T: make([]float64, n), Mean: make([]float64, n), Min: make([]float64, n), Max: make([]float64, n), Count: make([]int64, n)}
	for i, p := range series.Points {
		out.T[i] = float64(p.At.UnixMicro()) / 1e6
		out.Mean[i], out.Min[i], out.Max[i], out.Count[i] = p.Mean, p.Min, p.Max, p.Count
	}
	writeJSON(w, http.StatusOK, out)
}
