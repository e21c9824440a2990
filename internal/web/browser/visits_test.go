package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserVisits: quality assurance registers a visitor from a desktop,
// in French; the guard, on a portrait tablet, sees the contractor past his
// departure highlighted, hands the new visitor her badge at the gate and,
// in English, takes it back.
func TestBrowserVisits(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	host := newUser(t, newBrowser(t, ctx, execPath), "qa")
	host.do("a desktop", chromedp.EmulateViewport(1366, 900))
	host.signIn(base, "/visits", "#register", false)
	if host.count(`nav[aria-label] a[href="/visits"][aria-current=page]`) != 1 {
		t.Error("the staff's tabs do not lead to the visits")
	}
	if txt := host.text("#on-site"); !strings.Contains(txt, "Sophie Marchand") || strings.Contains(txt, "Marc Lefèvre") {
		t.Errorf("the host's own visitors on site: %.400s", txt)
	}
	host.do("fill the registration",
		chromedp.SendKeys(chromedp.CSS(`#v-visitor`), "Nadia Benoît"),
		chromedp.SendKeys(chromedp.CSS(`#v-company`), "Laboratoires Alpha"),
		chromedp.SendKeys(chromedp.CSS(`#v-purpose`), "Revue des écarts du lot"))
	host.load("register", "#v-status", chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
	if txt := host.text("main"); !strings.Contains(txt, "Visite enregistrée") || !strings.Contains(txt, "Isabelle Fontaine") || !strings.Contains(txt, "Attendue") {
		t.Errorf("the registered visit: %.600s", txt)
	}
	visit := strings.SplitN(host.location(), "?", 2)[0]
	host.noViolations("the visit")
	host.screenshot(shots, "visit-host-1366")

	guard := newUser(t, newBrowser(t, ctx, execPath), "security")
	guard.do("a portrait tablet", chromedp.EmulateViewport(768, 1024))
	guard.signIn(base, "/visits", "#on-site", true)
	if txt := guard.text("#on-site"); !strings.Contains(txt, "Marc Lefèvre") || !strings.Contains(txt, "départ dépassé") || !strings.Contains(txt, "1 en retard") {
		t.Errorf("the overdue contractor: %.500s", txt)
	}
	if guard.count("#on-site tr.late") != 1 {
		t.Errorf("%d rows highlighted, want the contractor's", guard.count("#on-site tr.late"))
	}
	guard.noViolations("the visits")
	noSideways(guard, "the visits")
	guard.screenshot(shots, "visits-768x1024")
	// The PC Sécurité's other pages fit the portrait tablet too.
	for _, page := range []struct{ path, wait, shot string }{
		{"/security/presence", "#people", "presence-768x1024"},
		{"/security/journal", "#records", "journal-768x1024"},
		{"/security/zones", "#zones", "zones-768x1024"},
	} {
		guard.navigate(base+page.path, page.wait)
		guard.noViolations(page.path)
		noSideways(guard, page.path)
		guard.screenshot(shots, page.shot)
	}
	if txt := guard.text("#zones"); !strings.Contains(txt, "Laboratoire de contrôle qualité") || !strings.Contains(txt, "visiteurs accompagnés seulement") {
		t.Errorf("the zones: %.500s", txt)
	}
	guard.navigate(visit, "#arrive")
	guard.do("type the badge", chromedp.SendKeys(chromedp.CSS(`#a-badge`), "V-0001"))
	guard.load("hand a badge another visitor holds", "#arrive", chromedp.Click(chromedp.CSS(`#arrive button[type=submit]`)))
	if txt := guard.text("#arrive"); !strings.Contains(txt, "Le badge V-0001 est déjà porté par quelqu'un sur le site.") {
		t.Errorf("a badge taken: %.400s", txt)
	}
	guard.do("type another badge", chromedp.Clear(chromedp.CSS(`#a-badge`)), chromedp.SendKeys(chromedp.CSS(`#a-badge`), "V-0010"))
	guard.load("hand the badge", "#depart", chromedp.Click(chromedp.CSS(`#arrive button[type=submit]`)))
	if txt := guard.text("main"); !strings.Contains(txt, "Badge remis") || !strings.Contains(txt, "V-0010") {
		t.Errorf("the badge handed: %.500s", txt)
	}
	guard.screenshot(shots, "visit-gate-768x1024")
	guard.navigate(base+"/lang?to=en&next="+strings.TrimPrefix(visit, base), "#depart")
	guard.load("take the badge back", "#v-status", chromedp.Click(chromedp.CSS(`#depart button[type=submit]`)))
	if txt := guard.text("main"); !strings.Contains(txt, "Badge taken back: the visit is over.") || !strings.Contains(txt, "Left") {
		t.Errorf("the badge taken back: %.500s", txt)
	}
	guard.screenshot(shots, "visit-left-en-768x1024")
}
