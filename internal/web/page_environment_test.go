package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/pdf/pdftest"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

func fptr(f float64) *float64 { return &f }

// alarmMessage is the message of the test's alarm, as the domain words it.
var alarmMessage = text.Code("stored.environment.alarm.above", text.Code("stored.environment.level.action").Arg(), text.Num(24, 2), text.Str("°C"))

// envEnv is the test environment with sensors in its grade B room: a
// temperature sensor with three days of readings every 30 s, in an
// action-level alarm, and a particle counter on the room's line; the
// grade D room has none.
type envEnv struct {
	*env
	temp, part environment.Sensor
	// last is the time of the last readings; count the temperature's.
	last  time.Time
	count int
}

func newEnvEnv(t *testing.T) *envEnv {
	t.Helper()
	e := &envEnv{env: newEnv(t, store.SQLite)}
	db := e.db
	ctx := identity.WithActor(context.Background(), identity.System)
	env := db.Environment()
	now := time.Now().UTC().Truncate(time.Second)
	e.temp = environment.Sensor{Code: "T-B-01", Name: "Température remplissage", Kind: environment.KindTemperature, Place: environment.PlaceRoom,
		PlaceID: e.roomB.ID, Location: "Mur nord", LocationSince: now.AddDate(0, -2, 0), CalibrationDue: now.AddDate(1, 0, 0), Decimals: 2}
	e.part = environment.Sensor{Code: "P-B-01", Name: "Compteur particules", Kind: environment.KindParticles05, Place: environment.PlaceLine,
		PlaceID: e.line.ID, Location: "Au-dessus de la remplisseuse", LocationSince: now.AddDate(0, -2, 0), CalibrationDue: now.AddDate(1, 0, 0)}
	for _, s := range []*environment.Sensor{&e.temp, &e.part} {
		if err := env.CreateSensor(ctx, s); err != nil {
			t.Fatalf("sensor %s: %v", s.Code, err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.SetLimits(ctx, &environment.Limits{SensorID: e.temp.ID,
		AtRest: environment.Thresholds{AlertLow: fptr(19), AlertHigh: fptr(23), ActionLow: fptr(18), ActionHigh: fptr(24)}}, ""))
	must(env.SetLimits(ctx, &environment.Limits{SensorID: e.part.ID,
		AtRest:      environment.Thresholds{AlertHigh: fptr(3000), ActionHigh: fptr(3520)},
		InOperation: &environment.Thresholds{AlertHigh: fptr(300000), ActionHigh: fptr(352000)}}, ""))

	// The readings arrive five minutes ago (the roll-up job leaves the last
	// minute to its next run).
	real := db.Now
	db.Now = func() time.Time { return now.Add(-5 * time.Minute) }
	e.last = now.Add(-6 * time.Minute)
	start := e.last.Add(-72 * time.Hour)
	var batch []environment.Reading
	for at := start; !at.After(e.last); at = at.Add(30 * time.Second) {
		e.count++
		v := 20 + float64(e.count%300)/100
		if at.Equal(e.last) {
			v = 21.5
		}
		batch = append(batch, environment.Reading{SensorID: e.temp.ID, Seq: uint64(e.count), At: at, Value: v})
		if len(batch) == store.MaxReadingBatch-1 {
			_, err := env.AppendReadings(ctx, batch, nil)
			must(err)
			batch = batch[:0]
		}
	}
	batch = append(batch, environment.Reading{SensorID: e.part.ID, Seq: 1, At: e.last, Value: 1234567})
	_, err := env.AppendReadings(ctx, batch, nil)
	must(err)
	db.Now = real
	_, err = env.RollUp(ctx)
	must(err)

	// The temperature went beyond its action limit: its machine and its
	// open alarm; the particle counter is heard, normal.
	m := environment.NewMachine(&e.temp, now)
	m.Level, m.Last = environment.Action, e.last
	must(env.RecordAlarms(ctx, m, []environment.Event{{Kind: environment.Opened, Alarm: environment.Alarm{SensorID: e.temp.ID,
		Kind: environment.AlarmLimit, Level: environment.Action, Side: environment.High, Limit: 24, Start: e.last.Add(-time.Hour),
		Raised: e.last.Add(-time.Hour), Peak: 24.8, PeakAt: e.last.Add(-50 * time.Minute),
		Message: alarmMessage}}}))
	mp := environment.NewMachine(&e.part, now)
	mp.Last = e.last
	must(env.RecordAlarms(ctx, mp, nil))
	return e
}

// TestSensorSeries: the series API answers the finest resolution within
// 2,000 points (raw, 1 minute, 1 hour, hours merged) and refuses bad
// input.
func TestSensorSeries(t *testing.T) {
	e := newEnvEnv(t)
	path := func(from, to time.Time) string {
		return "/api/v1/sensors/" + e.temp.ID + "/series?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	}
	end := e.last.Add(time.Second)
	for _, tt := range []struct {
		name       string
		span       time.Duration
		resolution string
		min, max   int
	}{
		{"ten minutes raw", 10 * time.Minute, "raw", 20, 21},
		{"a day in minutes", 24 * time.Hour, "1m", 1440, 1441},
		{"three days in hours", 72 * time.Hour, "1h", 72, 73},
		{"a year in six hours", 365 * 24 * time.Hour, "6h", 12, 14},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body struct {
				Resolution string
				WidthS     int64 `json:"width_s"`
				Unit       string
				T          []float64
				Mean, Min  []float64
				Max        []float64
				Count      []int64
			}
			r := e.call(t, "operator", "GET", path(end.Add(-tt.span), end), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			r.decode(t, &body)
			n := len(body.T)
			if body.Resolution != tt.resolution || n < tt.min || n > tt.max || n > 2000 || len(body.Mean) != n || len(body.Count) != n || body.Unit != "°C" {
				t.Errorf("resolution %s, %d points (want %s, %d to %d)", body.Resolution, n, tt.resolution, tt.min, tt.max)
			}
			inSpan := int64(0)
			for k := 1; k <= e.count; k++ {
				at := e.last.Add(-time.Duration(e.count-k) * 30 * time.Second)
				if !at.Before(end.Add(-tt.span)) && at.Before(end) {
					inSpan++
				}
			}
			var total int64
			for i := 1; i < n; i++ {
				if body.T[i] <= body.T[i-1] || body.Min[i] > body.Mean[i] || body.Mean[i] > body.Max[i] {
					t.Fatalf("point %d out of order or inconsistent", i)
				}
			}
			for _, c := range body.Count {
				total += c
			}
			// The first interval may hold readings before the span; the hour
			// still open is not rolled up yet.
			slack := int64(2)
			if tt.resolution != "raw" && tt.resolution != "1m" {
				slack = 121
			}
			if total < inSpan-slack || total > inSpan+slack {
				t.Errorf("the points count %d readings, the span holds %d", total, inSpan)
			}
		})
	}
	// Bad input changes nothing and is named.
	for _, bad := range []struct {
		path, field string
		status      int
	}{
		{"/api/v1/sensors/" + e.temp.ID + "/series?to=" + url.QueryEscape(end.Format(time.RFC3339)), "from", 400},
		{"/api/v1/sensors/" + e.temp.ID + "/series?from=yesterday&to=" + url.QueryEscape(end.Format(time.RFC3339)), "from", 400},
		{path(end, end.Add(-time.Hour)), "to", 400},
		{path(end.AddDate(-30, 0, 0), end), "from", 400},
		{"/api/v1/sensors/" + e.part.ID + "x/series?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", "", 404},
	} {
		r := e.call(t, "operator", "GET", bad.path, nil)
		if r.status != bad.status {
			t.Errorf("GET %s: status %d, want %d: %s", bad.path, r.status, bad.status, r.body)
			continue
		}
		if bad.field != "" {
			r.wantError(t, bad.status, "invalid", bad.field)
		}
	}
	if r := e.call(t, "", "GET", path(end.Add(-time.Hour), end), nil); r.status != http.StatusUnauthorized {
		t.Errorf("the series without a session: %d", r.status)
	}
}

// TestEnvironmentPages: the site view colours rooms by state, the room
// view shows last values in the reader's format with the limits in force,
// the sensor page carries its plot; the reports read back (CSV in the
// reader's format, PDF with its text and embedded font); in French and
// English; the menu shows the environment to staff who watch it, not to
// clients.
func TestEnvironmentPages(t *testing.T) {
	e := newEnvEnv(t)
	get := func(who, lang, path string) reply {
		t.Helper()
		r := e.call(t, who, "GET", path, nil, "Cookie", "lang="+lang)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s (%s): status %d: %s", path, lang, r.status, r.body)
		}
		return r
	}
	visible := func(b []byte) string {
		return strings.Join(strings.Fields(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(b), " "))), " ")
	}
	inline := []*regexp.Regexp{regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style`), regexp.MustCompile(`(?i)\son[a-z]+\s*=`)}
	csp := func(path string, body []byte) {
		for _, re := range inline {
			if m := re.Find(body); m != nil {
				t.Errorf("GET %s holds %q, which the CSP forbids", path, m)
			}
		}
	}

	for _, tt := range []struct {
		lang, title, alarms, value, particles, limits, now, same string
	}{
		{"fr", "Surveillance de l'environnement", "1 alarme ouverte", "21,50 °C", "1\u202f234\u202f567", "alerte 19,00 – 23,00 · action 18,00 – 24,00", "en vigueur", "Comme au repos"},
		{"en", "Environmental monitoring", "1 open alarm", "21.50 °C", "1,234,567", "alert 19.00 – 23.00 · action 18.00 – 24.00", "in force now", "As at rest"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			site := get("admin", tt.lang, "/environment")
			csp("/environment", site.body)
			txt := visible(site.body)
			if !strings.Contains(txt, tt.title) || !strings.Contains(txt, tt.alarms) {
				t.Errorf("the site view lacks its title or its open alarms: %s", txt)
			}
			for room, state := range map[string]string{e.roomB.ID: "action", e.roomD.ID: "nodata"} {
				if !regexp.MustCompile(`class="env-room env-` + state + `" href="/environment/rooms/` + room + `"`).Match(site.body) {
					t.Errorf("room %s is not shown %s", room, state)
				}
			}
			// The view renews itself: colours and counts follow the alarms.
			if !strings.Contains(string(site.body), `<div id="env-live" hx-get="/environment" hx-trigger="every 30s" hx-select="#env-live"`) {
				t.Error("the site view does not renew itself")
			}
			if !strings.Contains(string(site.body), `href="/environment"`) {
				t.Error("the administrator's menu lacks the environment")
			}

			room := get("admin", tt.lang, "/environment/rooms/"+e.roomB.ID)
			csp("/environment/rooms", room.body)
			txt = visible(room.body)
			for _, want := range []string{tt.value, tt.limits, tt.now, tt.same, e.line.Code} {
				if !strings.Contains(txt, want) {
					t.Errorf("the room view lacks %q: %s", want, txt)
				}
			}
			// The count grouped the reader's way (French: narrow no-break spaces).
			if !strings.Contains(string(room.body), "<strong>"+tt.particles+"</strong> /m³") {
				t.Errorf("the room view lacks the particle count %q", tt.particles)
			}
			sensor := get("admin", tt.lang, "/environment/sensors/"+e.temp.ID)
			csp("/environment/sensors", sensor.body)
			m := regexp.MustCompile(`data-limits="([^"]*)"`).FindSubmatch(sensor.body)
			var lines []struct {
				Level string
				Value float64
			}
			if m == nil || json.Unmarshal([]byte(htmlUnescape(string(m[1]))), &lines) != nil || len(lines) != 4 || lines[0].Value != 18 || lines[3].Value != 24 {
				t.Errorf("the plot's limit lines: %s", m)
			}
			for _, src := range regexp.MustCompile(`<script src="([^"]+)"`).FindAllSubmatch(sensor.body, -1) {
				if a := e.call(t, "", "GET", string(src[1]), nil); a.status != http.StatusOK || len(a.body) < 1000 {
					t.Errorf("GET %s: %d", src[1], a.status)
				}
			}
			if !strings.Contains(string(sensor.body), `/assets/vendor/uplot/uPlot.iife.min.js`) {
				t.Error("the sensor page does not load uPlot")
			}
		})
	}
	// Neither a client user's menu nor an operator's shows it.
	if page := e.call(t, "client-alpha", "GET", "/certificates", nil); strings.Contains(string(page.body), `href="/environment"`) {
		t.Error("a client user's menu shows the environment")
	}
	if page := e.call(t, "operator", "GET", "/floor", nil); strings.Contains(string(page.body), `href="/environment"`) {
		t.Error("an operator's menu shows the environment")
	}
	// The rooms' conditions are the site's: a client's user is refused
	// the pages, the reports and the series.
	for _, path := range []string{"/environment", "/environment/rooms/" + e.roomB.ID, "/environment/sensors/" + e.temp.ID,
		"/environment/rooms/" + e.roomB.ID + "/report.csv", "/api/v1/sensors/" + e.temp.ID + "/series?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"} {
		if r := e.call(t, "client-alpha", "GET", path, nil); r.status != http.StatusForbidden {
			t.Errorf("a client's user GET %s: %d, want 403", path, r.status)
		}
	}

	// The reports of the room over the last two days.
	zone := site.DefaultLocation()
	day := e.last.In(zone)
	from, to := day.AddDate(0, 0, -1).Format(time.DateOnly), day.Format(time.DateOnly)
	dayStart := time.Date(day.Year(), day.Month(), day.Day()-1, 0, 0, 0, 0, zone)
	want := 1 // the particle count
	for at := e.last; !at.Before(dayStart); at = at.Add(-30 * time.Second) {
		want++
	}
	report := "/environment/rooms/" + e.roomB.ID + "/report"
	for _, tt := range []struct {
		lang   string
		comma  rune
		header string
		value  string
	}{{"fr", ';', "Salle", "21,50"}, {"en", ',', "Room", "21.50"}} {
		r := get("admin", tt.lang, report+".csv?from="+from+"&to="+to+"&lang="+tt.lang)
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF"))))
		cr.Comma = tt.comma
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("CSV (%s): %v", tt.lang, err)
		}
		if len(rows) != want+1 || rows[0][0] != tt.header {
			t.Errorf("CSV (%s): %d rows, want %d and a header; first %v", tt.lang, len(rows), want+1, rows[0])
		}
		found := false
		for _, row := range rows[1:] {
			if row[1] == e.temp.Code && row[7] == tt.value && row[8] == "°C" {
				found = true
			}
		}
		if !found {
			t.Errorf("CSV (%s): no reading %s °C of %s", tt.lang, tt.value, e.temp.Code)
		}
	}
	pdftest.Tools(t)
	for _, tt := range []struct{ lang, title, alarms, value string }{
		{"fr", "Rapport d'environnement", "Alarmes de la période", "22,99"},
		{"en", "Environment report", "Alarms of the period", "22.99"},
	} {
		r := get("admin", tt.lang, report+".pdf?from="+from+"&to="+to+"&lang="+tt.lang)
		if r.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("PDF: %s", r.header.Get("Content-Type"))
		}
		txt := pdftest.Check(t, r.body)
		for _, w := range []string{tt.title, tt.alarms, e.temp.Code, e.part.Code, e.roomB.Code, tt.value, peak(tt.lang), alarmMessage.Render(tt.lang)} {
			if !strings.Contains(txt, w) {
				t.Errorf("PDF (%s) lacks %q: %s", tt.lang, w, txt)
			}
		}
	}
	for _, bad := range []struct{ query, field string }{
		{"?from=" + to + "&to=" + from, "to"},
		{"?from=2020-01-01&to=" + to, "from"},
		{"?from=yesterday", "from"},
	} {
		r := e.call(t, "admin", "GET", report+".pdf"+bad.query, nil)
		r.wantError(t, http.StatusBadRequest, "invalid", bad.field)
	}
}

func peak(lang string) string {
	if lang == "fr" {
		return "24,80"
	}
	return "24.80"
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}
