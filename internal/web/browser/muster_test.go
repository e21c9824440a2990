package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserMuster: the PC Sécurité's guard, on a tablet in French,
// sees who is on site (the floor in the sterile building's grade B area),
// starts the muster at the alarm, checks people off as they arrive, big
// buttons in portrait, the unaccounted highlighted and counted down; then,
// at a desktop in English, the muster as it stands.
func TestBrowserMuster(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "security")
	type presence struct {
		PersonID string `json:"person_id"`
		Name     string `json:"name"`
		Zone     string `json:"zone"`
		Badge    string `json:"badge"`
	}
	present := items[presence](api, "/api/v1/access/presence")
	var camille, lucas presence
	for _, p := range present {
		switch p.Name {
		case "Camille Lefèvre":
			camille = p
		case "Lucas Martin":
			lucas = p
		}
	}
	if camille.Zone != "Bâtiment 30, zone B" || lucas.Zone != "Bâtiment 30" {
		t.Fatalf("the floor on site: %+v %+v", camille, lucas)
	}

	guard := newUser(t, newBrowser(t, ctx, execPath), "security")
	guard.do("a landscape tablet", chromedp.EmulateViewport(1024, 768))
	guard.signIn(base, "/security/presence", "#people", true)
	if txt := guard.text("#people"); !strings.Contains(txt, "Camille Lefèvre") || !strings.Contains(txt, "Bâtiment 30, zone B") {
		t.Errorf("the presence list: %.500s", txt)
	}
	if txt := guard.text("#counts"); !strings.Contains(txt, fmt.Sprintf("%d personnes sur le site", len(present))) || !strings.Contains(txt, "Pelouse est") {
		t.Errorf("the counts: %q", txt)
	}
	guard.noViolations("presence")
	guard.screenshot(shots, "presence-1024x768")

	guard.do("type the alarm's reason", chromedp.SendKeys(chromedp.CSS(`#m-reason`), "Alarme incendie, Bâtiment 30"))
	guard.load("start the muster", ".muster-list", chromedp.Click(chromedp.CSS(`#start button[type=submit]`)))
	n := guard.count(".muster-list li")
	if n != len(present) || guard.count(".muster-list li.muster-missing") != n {
		t.Fatalf("the muster lists %d people (%d present), %d unaccounted", n, len(present), guard.count(".muster-list li.muster-missing"))
	}
	guard.do("a portrait tablet", chromedp.EmulateViewport(768, 1024))
	small, err := chromedp.Run(guard.ctx, chromedp.Evaluate[[]string](smallTargets))
	if err != nil {
		t.Fatal(err)
	}
	if len(small) > 0 {
		t.Errorf("the muster has controls under 48 px:\n%s", strings.Join(small, "\n"))
	}
	for _, p := range []presence{camille, lucas} {
		guard.load("check "+p.Name+" off", ".muster-list", chromedp.Click(chromedp.CSS(`#p-`+p.PersonID+` button`)))
		if cls, err := chromedp.Run(guard.ctx, chromedp.Evaluate[string](`document.getElementById("p-`+p.PersonID+`").className`)); err != nil || cls != "muster-ok" {
			t.Errorf("%s after the check: %q %v", p.Name, cls, err)
		}
	}
	if got, want := guard.text("#unaccounted"), fmt.Sprintf("%d manquants sur %d", n-2, n); got != want {
		t.Errorf("the count: %q, want %q", got, want)
	}
	guard.noViolations("the muster")
	guard.screenshot(shots, "muster-768x1024")

	url := guard.location()
	guard.do("a desktop", chromedp.EmulateViewport(1366, 900))
	guard.navigate(base+"/lang?to=en&next="+strings.TrimPrefix(url, base), ".muster-list")
	if got := guard.text("#unaccounted"); got != fmt.Sprintf("%d unaccounted of %d", n-2, n) {
		t.Errorf("in English: %q", got)
	}
	guard.screenshot(shots, "muster-en-1366")

	// The journal: Lucas Martin, whose gowning lapsed, refused at the
	// grade B airlock, the reason in words.
	guard.navigate(base+"/lang?to=fr&next=/security/journal%3Frefused%3D1%26badge%3D"+lucas.Badge, "#records")
	if txt := guard.text("#records"); !strings.Contains(txt, "Lucas Martin") || !strings.Contains(txt, "Refusé") ||
		!strings.Contains(txt, "Qualification échue le") || !strings.Contains(txt, "habillage, classe B") {
		t.Errorf("the journal of Lucas Martin's refusals: %.600s", txt)
	}
	guard.noViolations("the journal")
	guard.screenshot(shots, "journal-1366")
}
