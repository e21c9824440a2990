package browser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/site"
)

// TestBrowserScheduleMove: on the demo site, in Chromium at 1024×768, the
// supervisor opens the Gantt chart, taps a scheduled batch's bar, whose
// tooltip (a popover) leads to the move form; a start in the past is
// refused in words and changes nothing; the batch moved to the next day
// is back on the chart, where the API finds it.
func TestBrowserScheduleMove(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)
	zone := site.DefaultLocation()

	// A batch of its own, far enough ahead to find its line free: an
	// order of one batch of a product with an effective master, placed
	// through the API on the first line that can run it.
	api := signInAPI(t, ctx, base, "supervisor")
	masters := items[struct {
		ProductID string  `json:"product_id"`
		BatchSize float64 `json:"batch_size"`
	}](api, "/api/v1/masters?status=effective")
	if len(masters) == 0 {
		t.Fatal("the demo has no effective master")
	}
	monday := time.Now().In(zone)
	monday = time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, zone)
	monday = monday.AddDate(0, 0, 7*10-(int(monday.Weekday())+6)%7)
	body, _ := json.Marshal(map[string]any{"product_id": masters[0].ProductID, "quantity": masters[0].BatchSize,
		"due_on": monday.AddDate(0, 1, 0).Format(time.DateOnly)})
	var order struct {
		Batches []struct {
			ID  string `json:"id"`
			Lot string `json:"lot"`
		} `json:"batches"`
	}
	if st := api.call("POST", "/api/v1/orders", body, nil); st != http.StatusCreated {
		t.Fatalf("the order answered %d", st)
	}
	// The order's batch: the newest planned batch of the product.
	for _, o := range items[struct {
		ID        string `json:"id"`
		ProductID string `json:"product_id"`
	}](api, "/api/v1/orders") {
		if o.ProductID == masters[0].ProductID {
			api.get("/api/v1/orders/"+o.ID, &order)
			break
		}
	}
	if len(order.Batches) != 1 {
		t.Fatalf("the order has %d batches, want 1", len(order.Batches))
	}
	batch := order.Batches[0]
	lines := items[struct {
		ID         string `json:"id"`
		Code       string `json:"code"`
		BuildingID string `json:"building_id"`
	}](api, "/api/v1/lines")
	start := monday.AddDate(0, 0, 1).Add(7 * time.Hour) // Tuesday 07:00
	var lineID, building, lineCode string
	for _, l := range lines {
		b, _ := json.Marshal(map[string]any{"line_id": l.ID, "start": start.Format(time.RFC3339), "reason": "Test"})
		if api.call("POST", "/api/v1/batches/"+batch.ID+"/schedule", b, nil) == http.StatusOK {
			lineID, building, lineCode = l.ID, l.BuildingID, l.Code
			break
		}
	}
	if lineID == "" {
		t.Fatalf("no line of the demo takes the batch on %s", start)
	}

	sup := newUser(t, newBrowser(t, ctx, execPath), "supervisor")
	sup.do("a 1024×768 screen", chromedp.EmulateViewport(1024, 768))
	chart := "/schedule?" + url.Values{"building": {building}, "from": {monday.Format(time.DateOnly)}}.Encode()
	bar := `button.gantt-bar[popovertarget="tip-` + batch.ID + `"]`
	tip := `#tip-` + batch.ID
	sup.signIn(base, chart, bar, false)
	if sup.count(bar+`.bar-scheduled`) != 1 {
		t.Errorf("the batch's bar is not coloured as scheduled")
	}
	sup.screenshot(shots, "schedule-gantt-1024")
	sup.do("tap the bar", chromedp.Click(chromedp.CSS(bar)), chromedp.WaitVisible(chromedp.CSS(tip)))
	got := sup.text(tip)
	for _, want := range []string{batch.Lot, "Ordonnancé", lineCode, "Ouvrir le lot", "Déplacer"} {
		if !strings.Contains(got, want) {
			t.Errorf("the bar's tooltip lacks %q:\n%s", want, got)
		}
	}
	sup.screenshot(shots, "schedule-tooltip-1024")
	sup.load("open the move form", "#f-start_on", chromedp.Click(chromedp.CSS(tip+` a.btn-primary`)))
	sup.noViolations("the move form")

	// A start in the past is refused in words; nothing moves.
	yesterday := time.Now().In(zone).AddDate(0, 0, -1)
	sup.do("type yesterday", chromedp.SetValue(chromedp.CSS(`#f-start_on`), yesterday.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS(`#f-start`), "08:00"), chromedp.SendKeys(chromedp.CSS(`#f-reason`), "Avancé"))
	sup.load("submit the past", ".form-card .alert", chromedp.Click(chromedp.CSS(`.form-card button[type=submit]`)))
	if got := sup.text(".form-card .alert"); !strings.Contains(got, "un lot ne peut pas être planifié dans le passé") || !strings.Contains(got, "Rien n'a été changé") {
		t.Errorf("the refusal says %q", got)
	}
	sup.screenshot(shots, "schedule-move-refused-1024")

	// Moved to Wednesday 07:00: back on the chart, with the notice.
	moved := start.AddDate(0, 0, 1)
	sup.do("type Wednesday", chromedp.SetValue(chromedp.CSS(`#f-start_on`), moved.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS(`#f-start`), "07:00"), chromedp.SetValue(chromedp.CSS(`#f-line_id`), lineID))
	sup.load("move the batch", bar, chromedp.Click(chromedp.CSS(`.form-card button[type=submit]`)))
	if loc := sup.location(); !strings.HasPrefix(loc, base+"/schedule?") || !strings.Contains(loc, "done=schedule") {
		t.Errorf("the move returned to %s", loc)
	}
	if got := sup.text("main"); !strings.Contains(got, "Lot de fabrication planifié.") {
		t.Errorf("the chart does not confirm the move:\n%.800s", got)
	}
	sup.screenshot(shots, "schedule-moved-1024")
	var b struct {
		Start  time.Time `json:"start"`
		LineID string    `json:"line_id"`
		State  string    `json:"state"`
	}
	api.get("/api/v1/batches/"+batch.ID, &b)
	if !b.Start.Equal(moved) || b.LineID != lineID || b.State != "scheduled" {
		t.Errorf("after the move the batch starts %s on %s (%s), want %s on %s", b.Start, b.LineID, b.State, moved, lineID)
	}
	sup.noViolations("the chart")

	// This week's chart marks today and now.
	sup.navigate(base+"/schedule?"+url.Values{"building": {building}}.Encode(), "svg.gantt-track")
	if sup.count(`line.gantt-now`) == 0 || sup.count(`rect.gantt-today`) == 0 {
		t.Error("this week's chart marks neither today nor now")
	}
	sup.screenshot(shots, "schedule-this-week-1024")

	// The batch's page offers the move and the release, with their reason.
	sup.navigate(base+"/batches/"+batch.ID, "#plan")
	if sup.count(`#plan form[action="/batches/`+batch.ID+`/move"] input[name=reason]`) != 2 {
		t.Errorf("the batch's page lacks the release and unschedule forms:\n%.1500s", sup.text("#plan"))
	}
	sup.screenshot(shots, "schedule-batch-page-1024")
	sup.navigate(base+"/orders", "main table")
	if got := sup.text("main"); !strings.Contains(got, batch.Lot) {
		t.Errorf("the orders' page lacks the batch %s", batch.Lot)
	}
	sup.screenshot(shots, "schedule-orders-1024")
}
