package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/quality"
	"galenix/internal/store"
	"galenix/internal/text"
)

// The environmental alarms' pages: the list, an alarm with its
// deviations, and its acknowledgement by an electronic signature (meaning
// acknowledged, with a comment), on a tablet as at a desk.

// alarmEntity is the alarms' kind of signed record.
const alarmEntity = "environment_alarm"

func (s *Server) routesAlarmPages() {
	s.handle("GET", "/alarms", false, s.alarmsPage)
	s.handle("GET", "/alarms/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		notice := ""
		if r.URL.Query().Get("done") == "acknowledged" {
			notice = tr(langOf(r), "alarm.done.acknowledged")
		}
		s.renderAlarm(w, r, http.StatusOK, nil, notice)
	})
	s.formWrite("/alarms/{id}/acknowledge", s.alarmAcknowledge)
}

// alarmRow is an alarm as the pages show it.
type alarmRow struct {
	environment.Alarm
	SensorCode, SensorName, Message string
	Start, End, Peak, AckAt         string
	Lasting                         bool
}

func (s *Server) alarmRowOf(lang string, a *environment.Alarm, sensor *environment.Sensor) alarmRow {
	zone := s.zone()
	row := alarmRow{Alarm: *a, Message: a.Message.Render(lang), Start: formatStamp(lang, a.Start, zone), Lasting: a.Open()}
	if !a.End.IsZero() {
		row.End = formatStamp(lang, a.End, zone)
	}
	if !a.AckAt.IsZero() {
		row.AckAt = formatStamp(lang, a.AckAt, zone)
	}
	if sensor != nil {
		row.SensorCode, row.SensorName = sensor.Code, sensor.Name
		if a.Kind == environment.AlarmLimit {
			row.Peak = text.FormatFixed(lang, a.Peak, sensor.Decimals) + " " + sensor.Kind.Unit()
		}
	}
	return row
}

type alarmsPage struct {
	base
	State   string
	States  []store.AlarmState
	Alarms  []alarmRow
	Refused string
}

func (s *Server) alarmsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := s.envRead(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := alarmsPage{base: s.base(r, "environment"), States: store.AlarmStates, State: r.URL.Query().Get("state")}
	if d.State != "" && !slices.Contains(store.AlarmStates, store.AlarmState(d.State)) {
		s.pageError(w, r, errs.Field("state", "environment.alarm.state_must"))
		return
	}
	as, err := env.AlarmList(ctx, store.AlarmFilter{State: store.AlarmState(d.State), Limit: 200})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	sensors := map[string]*environment.Sensor{}
	for i := range as {
		id := as[i].SensorID
		if _, ok := sensors[id]; !ok {
			sensor, err := env.Sensor(ctx, id)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			sensors[id] = sensor
		}
		d.Alarms = append(d.Alarms, s.alarmRowOf(d.Lang, &as[i], sensors[id]))
	}
	s.render(w, r, http.StatusOK, "alarms", d)
}

type alarmPage struct {
	base
	Alarm      alarmRow
	Sensor     *environment.Sensor
	Deviations []quality.Deviation
	// CanAcknowledge shows the acknowledgement's form.
	CanAcknowledge bool
	Ack            *form
	Signatures     []esign.Signature
	Notice         string
}

func (s *Server) renderAlarm(w http.ResponseWriter, r *http.Request, status int, ack *form, notice string) {
	ctx := r.Context()
	env, err := s.envRead(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	content := s.contentOf(r, alarmEntity, id)
	a, err := env.Alarm(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	sensor, err := env.Sensor(ctx, a.SensorID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := alarmPage{base: s.base(r, "environment"), Alarm: s.alarmRowOf(langOf(r), a, sensor), Sensor: sensor, Notice: notice}
	if d.Deviations, err = env.AlarmDeviations(ctx, id); err != nil && !errs.Is(err, errs.Forbidden) {
		s.pageError(w, r, err)
		return
	}
	d.CanAcknowledge = !a.Acknowledged() && esign.Permit(d.Actor, alarmEntity, esign.Acknowledged) == nil
	if ack == nil {
		ack = &form{Values: url.Values{}, lang: d.Lang}
	}
	ack.shown = slices.Clip(signFields)
	ack.Values.Set("content_sha256", content)
	d.Ack = ack
	if svc := s.Signatures; svc != nil {
		if d.Signatures, err = svc.Signatures(ctx, alarmEntity, id); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "alarm", d)
}

// alarmAcknowledge acknowledges an alarm: the person's electronic
// signature on it (meaning acknowledged) with their comment, which the
// alarm keeps.
func (s *Server) alarmAcknowledge(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	a, _ := identity.ActorFrom(r.Context())
	err := esign.Permit(a, alarmEntity, esign.Acknowledged)
	if err == nil && strings.TrimSpace(vals.Get("reason")) == "" {
		err = errs.Field("reason", "alarm.comment_required")
	}
	if err == nil && vals.Get("password") == "" {
		err = errs.Field("password", "web.lot.password")
	}
	if err == nil {
		_, err = s.signRecord(r, alarmEntity, id, string(esign.Acknowledged), vals)
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderAlarm(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)}, "")
		return
	}
	http.Redirect(w, r, "/alarms/"+url.PathEscape(id)+"?done=acknowledged", http.StatusSeeOther)
}
