package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

// EnvironmentService is environmental monitoring as the web layer reads
// and edits it: sensors, their limits, readings, gaps, the intake's
// quarantine and counters, alarms. The store checks every permission.
type EnvironmentService interface {
	Sensors(ctx context.Context, placeID string) ([]environment.Sensor, error)
	Sensor(ctx context.Context, id string) (*environment.Sensor, error)
	CreateSensor(ctx context.Context, s *environment.Sensor) error
	UpdateSensor(ctx context.Context, s *environment.Sensor, reason string) error
	Limits(ctx context.Context, sensorID string) (*environment.Limits, error)
	SetLimits(ctx context.Context, l *environment.Limits, reason string) error
	Readings(ctx context.Context, sensorID string, from, to time.Time, limit int) ([]environment.Reading, error)
	Gaps(ctx context.Context, sensorID string) ([]store.Gap, error)
	Quarantined(ctx context.Context, limit int) ([]store.Quarantined, error)
	Refusals(ctx context.Context) (environment.Counts, error)
	Alarm(ctx context.Context, id string) (*environment.Alarm, error)
	AlarmList(ctx context.Context, f store.AlarmFilter) ([]environment.Alarm, error)
	AlarmDeviations(ctx context.Context, alarmID string) ([]quality.Deviation, error)
}

// MaxReadingsBody bounds the body of the bulk intake, in bytes: room for
// store.MaxReadingBatch readings of 200 bytes each. A bigger body is
// refused with 413 before it is decoded.
const MaxReadingsBody = 4 << 20

// intakePattern is the bulk intake's route.
const intakePattern = "POST /api/v1/readings"

// ownBody reports whether the request is the bulk intake's: it reads,
// bounds and checks its own body (invalid text included), so that a
// malformed body is counted with the intake's refusals, not only
// answered. An upload of a document reads its own body too.
func ownBody(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/api/v1/readings" || isUpload(r)
}

// bodyLimit is the largest body the request's route reads.
func bodyLimit(r *http.Request) int64 {
	if isUpload(r) {
		return maxUpload
	}
	if ownBody(r) {
		return MaxReadingsBody
	}
	return MaxBody
}

// maxReadingsPage bounds the readings one request lists.
const maxReadingsPage = 10000

// routesEnvironment registers environmental monitoring's JSON API. Its
// data are the site's rooms, not a client's: site staff only.
func (s *Server) routesEnvironment() {
	s.handle("GET", "/api/v1/sensors", false, list(s, func(r *http.Request) ([]environment.Sensor, error) {
		env, err := s.envRead(r.Context())
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		kind := environment.Kind(q.Get("kind"))
		if kind != "" && !slices.Contains(environment.Kinds, kind) {
			return nil, errs.Field("kind", "environment.sensor.kind_must", kindList())
		}
		ss, err := env.Sensors(r.Context(), q.Get("place_id"))
		if kind != "" {
			ss = slices.DeleteFunc(ss, func(x environment.Sensor) bool { return x.Kind != kind })
		}
		return ss, err
	}))
	s.handle("POST", "/api/v1/sensors", false, create(s, func(ctx context.Context, v *environment.Sensor) error {
		env, err := s.envRead(ctx)
		if err != nil {
			return err
		}
		return env.CreateSensor(ctx, v)
	}))
	s.handle("GET", "/api/v1/sensors/{id}", false, get(s, func(ctx context.Context, id string) (*environment.Sensor, error) {
		env, err := s.envRead(ctx)
		if err != nil {
			return nil, err
		}
		return env.Sensor(ctx, id)
	}))
	s.handle("PUT", "/api/v1/sensors/{id}", false, update(s, func(v *environment.Sensor, id string) { v.ID = id },
		func(ctx context.Context, v *environment.Sensor, reason string) error {
			env, err := s.envRead(ctx)
			if err != nil {
				return err
			}
			return env.UpdateSensor(ctx, v, reason)
		}))
	s.handle("GET", "/api/v1/sensors/{id}/limits", false, s.apiSensorLimits)
	// The limits are sent back as GET answers them: their source is
	// ignored, and the answer's is "set".
	s.handle("PUT", "/api/v1/sensors/{id}/limits", false, update(s, func(v *limitsAnswer, id string) { v.SensorID = id },
		func(ctx context.Context, v *limitsAnswer, reason string) error {
			env, err := s.envRead(ctx)
			if err != nil {
				return err
			}
			v.Source, v.SiteSets = "set", false
			return env.SetLimits(ctx, &v.Limits, reason)
		}))
	s.handle("GET", "/api/v1/sensors/{id}/readings", false, list(s, s.apiReadings))
	s.handle("GET", "/api/v1/sensors/{id}/gaps", false, list(s, func(r *http.Request) ([]store.Gap, error) {
		env, err := s.envSensor(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		gs, err := env.Gaps(r.Context(), r.PathValue("id"))
		if gs == nil {
			gs = []store.Gap{}
		}
		return gs, err
	}))

	s.handle("POST", "/api/v1/readings", false, s.apiIntake)
	s.handle("GET", "/api/v1/readings/quarantine", false, list(s, func(r *http.Request) ([]store.Quarantined, error) {
		env, err := s.envAdmin(r.Context())
		if err != nil {
			return nil, err
		}
		limit, _, err := pageOf(r.URL.Query())
		if err != nil {
			return nil, err
		}
		return env.Quarantined(r.Context(), limit)
	}))
	s.handle("GET", "/api/v1/readings/refusals", false, list(s, s.apiRefusals))

	s.handle("GET", "/api/v1/alarms", false, list(s, s.apiAlarms))
	s.handle("GET", "/api/v1/alarms/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		env, err := s.envRead(r.Context())
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		a, err := env.Alarm(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, alarmAnswer(apiLang(r), a))
	})
}

// envRead is the environment service for a reader: site staff (and
// galenix itself); a client laboratory's user is refused, as the rooms'
// conditions are the site's, not the client's data.
func (s *Server) envRead(ctx context.Context) (EnvironmentService, error) {
	if s.Environment == nil {
		return nil, errs.E(errs.Internal, "web.environment_unavailable")
	}
	a, _ := identity.ActorFrom(ctx)
	if !a.IsSystem() && (a.IsClient() || len(a.Roles) == 0) {
		return nil, errs.E(errs.Forbidden, "environment.refused.site_staff")
	}
	return s.Environment, nil
}

// envSensor is envRead for a route of one sensor, which must exist.
func (s *Server) envSensor(ctx context.Context, id string) (EnvironmentService, error) {
	env, err := s.envRead(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := env.Sensor(ctx, id); err != nil {
		return nil, err
	}
	return env, nil
}

// envAdmin is envRead for the intake's quarantine and counters:
// administrators and security, who watch what machines send.
func (s *Server) envAdmin(ctx context.Context) (EnvironmentService, error) {
	env, err := s.envRead(ctx)
	if err != nil {
		return nil, err
	}
	a, _ := identity.ActorFrom(ctx)
	if !a.Can(identity.PermSecurityEvents) {
		return nil, errs.E(errs.Forbidden, "environment.refused.intake")
	}
	return env, nil
}

func kindList() string {
	out := ""
	for i, k := range environment.Kinds {
		if i > 0 {
			out += ", "
		}
		out += string(k)
	}
	return out
}

// limitsAnswer is a sensor's limits as the API answers them: those set,
// or, while none are, the defaults its place proposes (source "default":
// the room's grade for particles, Annex 1; the room's own ranges for
// temperature, humidity and pressure), or none.
type limitsAnswer struct {
	environment.Limits
	// Source: "set", "default" or "none".
	Source string `json:"source"`
	// SiteSets: a state has no default, the site must set it (grade D in
	// operation).
	SiteSets bool `json:"site_sets,omitempty"`
}

func (s *Server) apiSensorLimits(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	env, err := s.envRead(ctx)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	sn, err := env.Sensor(ctx, id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	l, err := env.Limits(ctx, sn.ID)
	switch {
	case err == nil:
		setETag(w, l)
		writeJSON(w, http.StatusOK, limitsAnswer{Limits: *l, Source: "set"})
		return
	case errs.CodeOf(err) != errs.NotFound:
		s.apiError(w, r, err)
		return
	}
	out := limitsAnswer{Limits: environment.Limits{SensorID: sn.ID}, Source: "none"}
	room, err := s.sensorRoom(ctx, sn)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if room != nil {
		if d, siteSets, ok := environment.DefaultLimits(room.Grade, sn.Kind); ok {
			out.Limits, out.Source, out.SiteSets = d, "default", siteSets
		} else if d, ok := environment.RoomLimits(room, sn.Kind); ok && !(d.AtRest.Empty() && d.InOperation == nil) {
			out.Limits, out.Source = d, "default"
		}
		out.SensorID = sn.ID
	}
	writeJSON(w, http.StatusOK, out)
}

// sensorRoom is the room a sensor is in: its room, or the room of its
// line or of its equipment's line; nil when it has none.
func (s *Server) sensorRoom(ctx context.Context, sn *environment.Sensor) (*site.Room, error) {
	roomID := ""
	switch sn.Place {
	case environment.PlaceRoom, environment.PlaceColdRoom:
		roomID = sn.PlaceID
	case environment.PlaceLine, environment.PlaceEquipment:
		lineID := sn.PlaceID
		if sn.Place == environment.PlaceEquipment {
			eq, err := s.Site.EquipmentItem(ctx, sn.PlaceID)
			if err != nil {
				return nil, err
			}
			lineID = eq.LineID
		}
		if lineID == "" {
			return nil, nil
		}
		ln, err := s.Site.Line(ctx, lineID)
		if err != nil {
			return nil, err
		}
		roomID = ln.RoomID
	}
	if roomID == "" {
		return nil, nil
	}
	return s.Site.Room(ctx, roomID)
}

// apiReadings lists a sensor's readings from from (included) to to
// (excluded), RFC 3339; the last 24 hours up to now unless told; at most
// limit (1,000 unless told, 10,000 at most).
func (s *Server) apiReadings(r *http.Request) ([]environment.Reading, error) {
	ctx, id := r.Context(), r.PathValue("id")
	env, err := s.envSensor(ctx, id)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	to, ok, err := timeParam(q, "to", false, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		to = time.Now()
	}
	from, ok, err := timeParam(q, "from", false, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		from = to.Add(-24 * time.Hour)
	}
	if !from.Before(to) {
		return nil, errs.Field("from", "environment.readings.period")
	}
	limit := 1000
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxReadingsPage {
			return nil, errs.Field("limit", "environment.readings.limit", text.Int(maxReadingsPage))
		}
	}
	rs, err := env.Readings(ctx, id, from, to, limit)
	if rs == nil {
		rs = []environment.Reading{}
	}
	return rs, err
}

// refusalCount is one counter of the intake's refusals.
type refusalCount struct {
	Reason environment.Refusal `json:"reason"`
	Label  string              `json:"label"`
	Count  int64               `json:"count"`
}

func (s *Server) apiRefusals(r *http.Request) ([]refusalCount, error) {
	env, err := s.envAdmin(r.Context())
	if err != nil {
		return nil, err
	}
	c, err := env.Refusals(r.Context())
	if err != nil {
		return nil, err
	}
	lang := apiLang(r)
	out := make([]refusalCount, len(environment.Refusals))
	for i, why := range environment.Refusals {
		out[i] = refusalCount{Reason: why, Label: text.Render(lang, why.Key()), Count: c[why]}
	}
	return out, nil
}

// alarmItem is an alarm as the API answers it: its message written in the
// reader's language beside its coded form, and where its audit trail is.
type alarmItem struct {
	environment.Alarm
	MessageText string `json:"message_text"`
	Open        bool   `json:"open"`
	Trail       string `json:"trail"`
}

func alarmAnswer(lang string, a *environment.Alarm) alarmItem {
	return alarmItem{Alarm: *a, MessageText: a.Message.Render(lang), Open: a.Open(),
		Trail: "/api/v1/audit?entity=environment_alarm&entity_id=" + url.QueryEscape(a.ID)}
}

// apiAlarms lists alarms, those lasting first, then newest: of a sensor
// (sensor_id), of a place (place_id), in a state (open, ended,
// unacknowledged); at most limit (100 unless told).
func (s *Server) apiAlarms(r *http.Request) ([]alarmItem, error) {
	env, err := s.envRead(r.Context())
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	limit, _, err := pageOf(q)
	if err != nil {
		return nil, err
	}
	st := store.AlarmState(q.Get("state"))
	if st != "" && !slices.Contains(store.AlarmStates, st) {
		return nil, errs.Field("state", "environment.alarm.state_must")
	}
	as, err := env.AlarmList(r.Context(), store.AlarmFilter{SensorID: q.Get("sensor_id"), PlaceID: q.Get("place_id"), State: st, Limit: limit})
	if err != nil {
		return nil, err
	}
	lang := apiLang(r)
	out := make([]alarmItem, len(as))
	for i := range as {
		out[i] = alarmAnswer(lang, &as[i])
	}
	return out, nil
}

// --- the bulk intake

// intakeReading is one reading of the bulk body as sent: a field missing
// is told from a zero.
type intakeReading struct {
	Sensor *string    `json:"sensor"`
	Seq    *uint64    `json:"seq"`
	At     *time.Time `json:"at"`
	Value  *float64   `json:"value"`
}

// refusedReading is a reading of the batch refused, by its index.
type refusedReading struct {
	Index   int                 `json:"index"`
	Sensor  string              `json:"sensor,omitempty"`
	Seq     uint64              `json:"seq,omitempty"`
	Reason  environment.Refusal `json:"reason"`
	Field   string              `json:"field,omitempty"`
	Message string              `json:"message"`
}

// intakeAnswer is what the bulk intake did with a batch.
type intakeAnswer struct {
	// BatchID names the batch's seal in the audit trail (empty when it
	// stored nothing new).
	BatchID    string `json:"batch_id,omitempty"`
	Received   int    `json:"received"`
	Stored     int    `json:"stored"`
	Duplicates int    `json:"duplicates"`
	// Late counts the stored readings that filled a gap.
	Late int `json:"late"`
	// Refused lists the refused readings; RefusedCounts counts them per
	// reason.
	Refused       []refusedReading   `json:"refused"`
	RefusedCounts environment.Counts `json:"refused_counts"`
	GapsOpened    []store.Gap        `json:"gaps_opened"`
	GapsClosed    []store.Gap        `json:"gaps_closed"`
}

// apiIntake takes a gateway's batch of readings in: only a machine token
// of scope telemetry:write sends one. A body that cannot be read (too
// big, not UTF-8, not the format, wrong types) is refused whole and
// counted as one malformed message, nothing stored; otherwise each
// reading is taken or refused alone, with its reason, and the batch is
// committed (idempotent on sensor and sequence) before the answer.
func (s *Server) apiIntake(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, _ := identity.ActorFrom(ctx)
	if !a.IsMachine() || !a.HasScope(identity.ScopeTelemetryWrite) {
		s.apiError(w, r, errs.E(errs.Forbidden, "environment.intake.token_required"))
		return
	}
	if s.Readings == nil {
		s.apiError(w, r, errs.E(errs.Internal, "web.environment_unavailable"))
		return
	}
	malformed := func(err error) {
		if _, cerr := s.Readings.Submit(ctx, nil, environment.Counts{environment.RefusedMessageMalformed: 1}); cerr != nil {
			err = cerr
		}
		s.apiError(w, r, err)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReadingsBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		malformed(errs.E(errs.TooLarge, "web.request_body_larger_than", MaxReadingsBody))
		return
	case err != nil:
		malformed(errs.E(errs.Invalid, "web.request_body_unreadable"))
		return
	case !bounds.Text(string(b)):
		malformed(errs.E(errs.Invalid, "environment.intake.not_text"))
		return
	}
	var body struct {
		Readings []json.RawMessage `json:"readings"`
	}
	if err := decodeStrict(b, &body); err != nil {
		malformed(err)
		return
	}
	if len(body.Readings) == 0 {
		malformed(errs.Field("readings", "environment.intake.readings_required"))
		return
	}
	if len(body.Readings) > store.MaxReadingBatch {
		malformed(errs.Field("readings", "environment.reading.batch_too_large", text.Int(store.MaxReadingBatch)))
		return
	}
	// Each reading decoded alone: a wrong type refuses the body whole,
	// naming the reading; a missing field refuses the reading alone.
	msgs := make([]ingest.Message, 0, len(body.Readings))
	index := make([]int, 0, len(body.Readings)) // msgs' indexes in the body
	ans := intakeAnswer{Received: len(body.Readings), Refused: []refusedReading{}, RefusedCounts: environment.Counts{},
		GapsOpened: []store.Gap{}, GapsClosed: []store.Gap{}}
	early := environment.Counts{}
	refuse := func(i int, sensor string, seq uint64, why environment.Refusal) {
		early.Add(why)
		ans.Refused = append(ans.Refused, refusedReading{Index: i, Sensor: sensor, Seq: seq, Reason: why})
	}
	for i, raw := range body.Readings {
		var in intakeReading
		if err := decodeStrict(raw, &in); err != nil {
			malformed(errs.Field("readings", "environment.intake.reading_unreadable", text.Int(i), errs.MessageOf(err, apiLang(r))))
			return
		}
		var sensor string
		var seq uint64
		if in.Sensor != nil {
			sensor = *in.Sensor
		}
		if in.Seq != nil {
			seq = *in.Seq
		}
		switch {
		case in.Sensor == nil || sensor == "" || len(sensor) > 200 || !bounds.Text(sensor):
			refuse(i, "", seq, environment.RefusedMessageMalformed)
		case in.Seq == nil:
			refuse(i, sensor, 0, environment.RefusedSeqMissing)
		case in.At == nil:
			refuse(i, sensor, seq, environment.RefusedTimeMissing)
		case in.Value == nil:
			refuse(i, sensor, seq, environment.RefusedMessageMalformed)
		default:
			msgs = append(msgs, ingest.Message{Sensor: sensor, Seq: seq, At: *in.At, Value: *in.Value})
			index = append(index, i)
		}
	}
	res, err := s.Readings.Submit(ctx, msgs, early)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	for k, why := range res.Refusals {
		m := msgs[k]
		ans.Refused = append(ans.Refused, refusedReading{Index: index[k], Sensor: m.Sensor, Seq: m.Seq, Reason: why})
	}
	slices.SortFunc(ans.Refused, func(x, y refusedReading) int { return x.Index - y.Index })
	lang := apiLang(r)
	for i := range ans.Refused {
		why := ans.Refused[i].Reason
		ans.Refused[i].Field, ans.Refused[i].Message = why.Field(), errs.MessageOf(why.Err(), lang)
	}
	for why, n := range res.Refused {
		ans.RefusedCounts[why] = n
	}
	ans.BatchID, ans.Stored, ans.Duplicates, ans.Late = res.BatchID, res.New, res.Duplicates, res.Late
	ans.GapsOpened = append(ans.GapsOpened, res.Opened...)
	ans.GapsClosed = append(ans.GapsClosed, res.Closed...)
	writeJSON(w, http.StatusOK, ans)
}
