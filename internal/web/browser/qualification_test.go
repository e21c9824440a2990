package browser_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserQualifications: the demo's operator3, whose gowning lapsed, fills in a step of Alpha's batch on a portrait tablet and is
// refused it, the page saying which qualification and since when, in
// French; quality assurance, at a desktop in English, finds the lapsed
// gowning in the person's matrix and the gowning lapsing within the month.
func TestBrowserQualifications(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "qa")
	lineID, n := numericTarget(t, api)
	// What the refusal must say: the line's room's grade, and the day the
	// gowning lapsed.
	var line struct {
		RoomID string `json:"room_id"`
	}
	api.get("/api/v1/lines/"+url.PathEscape(lineID), &line)
	var room struct {
		Grade string `json:"grade"`
	}
	api.get("/api/v1/rooms/"+url.PathEscape(line.RoomID), &room)
	gowns := items[struct {
		ValidUntil time.Time `json:"valid_until"`
	}](api, "/api/v1/qualifications?kind=gowning&q=Lucas")
	if len(gowns) != 1 || !gowns[0].ValidUntil.Before(time.Now()) {
		t.Fatalf("operator3's gowning: %+v", gowns)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	want := "Qualification échue le " + gowns[0].ValidUntil.In(paris).Format("02/01/2006") + " : habillage, classe " + room.Grade + "."

	op := newUser(t, newBrowser(t, ctx, execPath), "operator3")
	op.do("a portrait tablet", chromedp.EmulateViewport(768, 1024))
	op.signIn(base, "/floor/lines/"+lineID, "#next", true)
	op.fill(api, lineID, n, false)
	op.load("record step "+n.Label(), "#next", chromedp.Click(chromedp.CSS("#next form.floor-form button[type=submit]")))
	if op.lastStatus != http.StatusForbidden {
		t.Fatalf("operator3's step answered %d, want 403:\n%.1500s", op.lastStatus, op.text("main"))
	}
	if got := op.text("#next .alert"); strings.TrimSpace(got) != want {
		t.Errorf("the tablet says %q, want %q", got, want)
	}
	op.noViolations("the refused step")
	op.screenshot(shots, "qualification-refused-step-768x1024")

	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.do("a desktop", chromedp.EmulateViewport(1366, 900))
	qa.signIn(base, "/qualifications?q=Lucas", "#list", false)
	qa.navigate(base+"/lang?to=en&next=/qualifications?q=Lucas", "#list")
	list := qa.text("#list")
	if !strings.Contains(list, "Lucas Martin") || !strings.Contains(list, "Lapsed") || !strings.Contains(list, "Gowning") {
		t.Errorf("operator3's matrix in English: %q", list)
	}
	if soon := qa.text("#expiring"); !strings.Contains(soon, "Claire Dubois") {
		t.Errorf("the gowning lapsing within the month: %q", soon)
	}
	qa.noViolations("the qualifications")
	qa.screenshot(shots, "qualifications-qa-en-1366")
}
