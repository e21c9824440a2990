package browser_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The site's IT engineer, in Chromium, on the demo: from the home page
// they land on, the demo's deliberate single point of failure (one OT
// switch behind a grade A line's PLC and both sensor gateways of its
// zone) stands first, and its page says what its loss stops; then a
// what-if for Bâtiment 90's first server room: the LIMS stops, galenix
// and the lines go on, the cluster's groups lose their margin; the
// planned shutdown is drafted from it. On a desktop in French, then the
// what-if again on a portrait tablet in English.
func TestBrowserInfra(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)
	api := signInAPI(t, ctx, base, "it")
	var room string
	for _, r := range items[struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}](api, "/api/v1/rooms") {
		if r.Code == "B90-S01" {
			room = r.ID
		}
	}
	if room == "" {
		t.Fatal("the demo has no room B90-S01")
	}

	it := newUser(t, newBrowser(t, ctx, execPath), "it")
	it.do("desktop", chromedp.EmulateViewport(1366, 900))
	it.signIn(base, "/", "#spof", false)
	if loc := it.location(); !strings.HasSuffix(loc, "/infra") {
		t.Errorf("IT landed on %s, want the infrastructure's home", loc)
	}
	first := it.text("#spof li")
	for _, want := range []string{"B30-OT-SW-B14-B", "L30-07", "B30-A07-MON"} {
		if !strings.Contains(first, want) {
			t.Errorf("the home's first single point of failure does not show %q: %q", want, first)
		}
	}
	it.noViolations("IT's home")
	it.screenshot(shots, "infra-home-fr")

	// The full list, then the switch's own page.
	it.load("open the single points of failure", "#shared", chromedp.Click(chromedp.CSS(`#spof a[href="/infra/spof"]`)))
	if row := it.text("#shared tbody tr"); !strings.Contains(row, "B30-OT-SW-B14-B") {
		t.Errorf("the list's first shared point: %q", row)
	}
	it.screenshot(shots, "infra-spof-fr")
	it.load("open the switch", "main", chromedp.Click(chromedp.CSS(`#shared tbody tr a.mono`)))
	page := it.text("main")
	for _, want := range []string{"B30-OT-SW-B14-B", "L30-07", "B30-A07-MON", "L30-07-PLC"} {
		if !strings.Contains(page, want) {
			t.Errorf("the switch's page does not show %q", want)
		}
	}
	it.screenshot(shots, "infra-asset-fr")

	// The what-if of the first server room of Bâtiment 90.
	it.load("open the what-if", "#scope", chromedp.Click(chromedp.CSS(`nav.prod-tabs a[href="/infra/whatif"]`)))
	it.load("shut the server room down", "#result",
		chromedp.SetValue(chromedp.CSS(`#w-room`), room),
		chromedp.Click(chromedp.CSS(`#scope button[type=submit]`)))
	result := it.text("#result")
	if !strings.Contains(result, "LIMS") {
		t.Errorf("the what-if of B90-S01 does not stop the LIMS:\n%s", result)
	}
	if strings.Contains(it.text("#result .infra-list"), "GALENIX") || it.count(`#stopped-line li`) != 0 {
		t.Errorf("the what-if of B90-S01 stops galenix or a line:\n%s", result)
	}
	if it.count(`#weakened li`) < 3 {
		t.Errorf("the cluster's groups without margin: %q", it.text("#weakened"))
	}
	it.noViolations("the what-if")
	it.screenshot(shots, "infra-whatif-fr")

	// The planned shutdown drafted from it.
	from := time.Now().In(parisZone(t)).Add(72 * time.Hour).Truncate(time.Hour)
	it.load("draft the planned shutdown", "#plan-impact",
		chromedp.SendKeys(chromedp.CSS(`#p-title`), "Remplacement des onduleurs de la salle serveurs 1"),
		chromedp.SetValue(chromedp.CSS(`#p-from`), from.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS(`#p-to`), from.Add(4*time.Hour).Format("2006-01-02T15:04")),
		chromedp.SendKeys(chromedp.CSS(`#p-measures`), "LIMS arrêté : saisies du laboratoire reportées."),
		chromedp.Click(chromedp.CSS(`#draft button[type=submit]`)))
	plan := it.text("main")
	if !strings.Contains(plan, "PS-") || !strings.Contains(it.text("#plan-impact"), "LIMS") {
		t.Errorf("the drafted plan:\n%s", plan)
	}
	it.screenshot(shots, "infra-plan-fr")

	// The what-if again, on a portrait tablet, in English.
	it.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	next := "/infra/whatif?" + url.Values{"room_id": {room}}.Encode()
	it.navigate(base+"/lang?to=en&next="+url.QueryEscape(next), "#result")
	if h := it.text("h1"); !strings.Contains(h, "What") {
		t.Errorf("the English what-if's title: %q", h)
	}
	if r := it.text("#result"); !strings.Contains(r, "LIMS") || strings.Contains(r, "Relevés") {
		t.Errorf("the English what-if:\n%s", r)
	}
	noSideways(it, "the what-if on a portrait tablet")
	it.screenshot(shots, "infra-whatif-en-tablet")
	it.navigate(base+"/infra/map", "main")
	noSideways(it, "the site map on a portrait tablet")
	it.screenshot(shots, "infra-map-en-tablet")
}

// parisZone is the demo site's time zone.
func parisZone(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return z
}
