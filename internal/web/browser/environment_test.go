package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/app"
	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// plotState is what the sensor's plot shows: the points the series API
// answered and their resolution, and the points uPlot holds.
type plotState struct {
	Points     int
	Resolution string
	Shown      int
}

// TestBrowserSensorPlot: a month of a sensor's readings, seeded through
// the store and rolled up, then on the demo site in Chromium QA opens the
// sensor's plot over thirty days (hourly roll-ups) and zooms, through
// uPlot's setScale, to a day (1-minute roll-ups) and to a minute (the raw
// readings): each zoom fetches its finer series, and the plot shows its
// points. On a desktop and on a tablet in portrait, within the CSP.
func TestBrowserSensorPlot(t *testing.T) {
	// Runs beside TestBrowserFloor, which spends most of its time waiting
	// out a real minute of idleness.
	t.Parallel()
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	shots := screenshotDir(t)

	// The demo site, and a sensor in its first grade B room with a month
	// of readings: one every ten minutes, one a minute over the last day,
	// and one every two seconds over the last hour.
	dir := t.TempDir()
	copyDemo(t, ctx, dir)
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sys := identity.WithActor(ctx, identity.System)
	rooms, err := db.Site().Rooms(sys, site.RoomFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var room site.Room
	for _, r := range rooms {
		if r.Grade == site.GradeB {
			room = r
			break
		}
	}
	if room.ID == "" {
		t.Fatal("the demo has no grade B room")
	}
	now := time.Now().UTC().Truncate(time.Second)
	s := environment.Sensor{Code: "BRW-T-01", Name: "Température de la salle", Kind: environment.KindTemperature, Place: environment.PlaceRoom,
		PlaceID: room.ID, Location: "Mur nord, 1,5 m", LocationSince: now.AddDate(0, -2, 0), CalibrationDue: now.AddDate(1, 0, 0), Decimals: 2}
	if err := db.Environment().CreateSensor(sys, &s); err != nil {
		t.Fatal(err)
	}
	lo, hi, alo, ahi := 18.0, 24.0, 19.0, 23.0
	if err := db.Environment().SetLimits(sys, &environment.Limits{SensorID: s.ID,
		AtRest: environment.Thresholds{ActionLow: &lo, AlertLow: &alo, AlertHigh: &ahi, ActionHigh: &hi}}, ""); err != nil {
		t.Fatal(err)
	}
	last := now.Add(-4 * time.Minute)
	var readings []environment.Reading
	seq := uint64(0)
	add := func(at time.Time) {
		seq++
		day := float64(at.Hour()*60+at.Minute()) / (24 * 60)
		v := 21 + 1.5*(2*day-1)*(2*day-1) - 0.75 + float64(seq%7)/100
		readings = append(readings, environment.Reading{SensorID: s.ID, Seq: seq, At: at, Value: float64(int(v*100)) / 100})
	}
	// Every ten minutes is enough for the month's hourly roll-ups; the
	// day's zoom needs each minute.
	for at := last.Add(-30 * 24 * time.Hour); at.Before(last.Add(-24 * time.Hour)); at = at.Add(10 * time.Minute) {
		add(at)
	}
	for at := last.Add(-24 * time.Hour); at.Before(last.Add(-time.Hour)); at = at.Add(time.Minute) {
		add(at)
	}
	for at := last.Add(-time.Hour); !at.After(last); at = at.Add(2 * time.Second) {
		add(at)
	}
	// Received just past the roll-up's lag, so that the roll-up job, run
	// now, finds every closed minute; and after the mark the demo's own
	// roll-ups left when it was loaded (at least a lag before that), which
	// may have been a moment ago when this test runs first.
	db.Now = func() time.Time { return now.Add(-store.RollupLag - 2*time.Second) }
	for i := 0; i < len(readings); i += store.MaxReadingBatch {
		if _, err := db.Environment().AppendReadings(sys, readings[i:min(i+store.MaxReadingBatch, len(readings))], nil); err != nil {
			t.Fatal(err)
		}
	}
	db.Now = time.Now
	if _, err := db.Environment().RollUp(sys); err != nil {
		t.Fatal(err)
	}
	m := environment.NewMachine(&s, now)
	m.Last = last
	if err := db.Environment().RecordAlarms(sys, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	base := startGalenix(t, ctx, func(c *app.Config) { c.DataDir, c.Demo = dir, false })

	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.signIn(base, "/environment/sensors/"+s.ID+"?span=30d", "#env-plot", false)
	ready := func(what string) (points int, resolution string) {
		t.Helper()
		if err := qa.poll(`document.querySelector("#env-plot").dataset.state === "ready"`, 20*time.Second); err != nil {
			t.Fatalf("%s: the plot did not load: %v (%s)", what, err, qa.text("#env-plot-status"))
		}
		got, err := chromedp.Run(qa.ctx, chromedp.Evaluate[plotState](`(() => { const el = document.querySelector("#env-plot"), u = el.uplot;
			return {points: +el.dataset.points, resolution: el.dataset.resolution, shown: u.data[0].length}; })()`))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.Shown != got.Points || got.Points > 2000 {
			t.Errorf("%s: the plot shows %d points of the %d answered", what, got.Shown, got.Points)
		}
		return got.Points, got.Resolution
	}
	// zoom sets the plot's x scale as a drag would, and waits for the
	// finer series of that span.
	zoom := func(what string, from, to time.Time) (int, string) {
		t.Helper()
		qa.do(what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector("#env-plot");
			el.dataset.state = "zooming"; el.uplot.setScale("x", {min: %d, max: %d}); })()`, from.Unix(), to.Unix())))
		// An answer refused ends the wait at once: the plot says so.
		if err := qa.poll(fmt.Sprintf(`(el => el.dataset.loadedFrom === %q || el.dataset.state === "error")(document.querySelector("#env-plot"))`, from.Format(time.RFC3339)), 60*time.Second); err != nil {
			t.Fatalf("%s: the finer series did not load: %v (%s)", what, err, qa.text("#env-plot-status"))
		}
		if attr(t, qa, "#env-plot", "data-state") == "error" {
			t.Fatalf("%s: the finer series was refused (%s)", what, qa.text("#env-plot-status"))
		}
		return ready(what)
	}

	// asks counts the series asked for so far: the plot asks once for
	// each span, never again for the span it has just shown.
	asks := func() int {
		t.Helper()
		n, err := chromedp.Run(qa.ctx, chromedp.Evaluate[int](`performance.getEntriesByType("resource").filter(e => e.name.includes("/series?")).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, res := ready("a month")
	if res != "1h" || n < 700 || n > 721 {
		t.Errorf("a month: %d points at %s, want about 720 hours", n, res)
	}
	if got := qa.text("#env-plot-status"); !strings.Contains(got, "points") {
		t.Errorf("the plot's status reads %q", got)
	}
	qa.noViolations("the sensor's plot")
	qa.do("show the whole plot", chromedp.ScrollIntoView(chromedp.CSS("#env-plot-status")))
	qa.screenshot(shots, "environment-plot-month-desktop-fr")

	n, res = zoom("zoom to a day", last.Add(-24*time.Hour), last)
	if res != "1m" || n < 1380 || n > 1441 {
		t.Errorf("a day: %d points at %s, want about 1,440 minutes", n, res)
	}
	time.Sleep(time.Second) // what a second load would have waited
	if got := asks(); got != 2 {
		t.Errorf("a month then a day: the plot asked for %d series, want 2", got)
	}
	n, res = zoom("zoom to a minute", last.Add(-time.Minute), last)
	if res != "raw" || n != 31 {
		t.Errorf("a minute: %d points at %s, want its 31 raw readings (both ends)", n, res)
	}
	qa.noViolations("the zoomed plot")
	qa.do("show the whole plot", chromedp.ScrollIntoView(chromedp.CSS("#env-plot-status")))
	qa.screenshot(shots, "environment-plot-minute-desktop-fr")

	// On a tablet in portrait: the plot fits, the site view and the room.
	qa.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	qa.navigate(base+"/environment/sensors/"+s.ID+"?span=7d", "#env-plot")
	n, res = ready("a week on the tablet")
	if res != "1h" || n < 160 {
		t.Errorf("a week: %d points at %s", n, res)
	}
	if fits, err := chromedp.Run(qa.ctx, chromedp.Evaluate[bool](`document.querySelector("#env-plot .uplot").getBoundingClientRect().right <= window.innerWidth`)); err != nil || !fits {
		t.Errorf("the plot overflows the portrait tablet (%v)", err)
	}
	qa.screenshot(shots, "environment-plot-week-tablet-fr")
	qa.navigate(base+"/environment", "section.env-building")
	if got := qa.count(fmt.Sprintf(`a.env-room.env-normal[href="/environment/rooms/%s"]`, room.ID)); got != 1 {
		t.Errorf("the site view does not show the sensor's room as normal")
	}
	qa.noViolations("the site view")
	qa.screenshot(shots, "environment-site-tablet-fr")
	qa.navigate(base+"/environment/rooms/"+room.ID, "table.env-sensors")
	if got := qa.text("table.env-sensors"); !strings.Contains(got, "BRW-T-01") || !strings.Contains(got, "°C") || !strings.Contains(got, "en vigueur") {
		t.Errorf("the room view reads:\n%.1000s", got)
	}
	qa.screenshot(shots, "environment-room-tablet-fr")
}
