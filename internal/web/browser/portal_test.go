package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserClientPortal: client-alpha signs in and lands on its space:
// its batches by phase, what its quality agreement owes it with the
// demo's notification running late, counted, its latest news and its
// volumes; it follows the late notification to its deviation, whose page
// shows the same deadline; at tablet size nothing scrolls sideways; in
// English the same words are its own.
func TestBrowserClientPortal(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	u := newUser(t, newBrowser(t, ctx, execPath), "client-alpha")
	u.do("desktop", chromedp.EmulateViewport(1280, 900))
	u.signIn(base, "/", "main h1", false)
	if loc := u.location(); loc != base+"/portal" {
		t.Fatalf("client-alpha's home is %s, want its space", loc)
	}
	page := u.text("main")
	for _, w := range []string{"Votre espace client", "En fabrication", "Ce que l'accord qualité vous doit", "1 en retard", "Notification au client",
		"en retard de", "Dernières nouvelles", "Commandé et livré", "Vos lots en fabrication"} {
		if !strings.Contains(page, w) {
			t.Errorf("the client's space lacks %q:\n%.3000s", w, page)
		}
	}
	u.screenshot(shots, "portal-client-desktop-fr")
	u.noViolations("the client's space")

	u.load("open the late deviation", "main h1", chromedp.Click(chromedp.CSS(`#due a[href^="/deviations/"]`)))
	agreement := u.text("#agreement")
	for _, w := range []string{"Notification au client", "En retard", "en retard de"} {
		if !strings.Contains(agreement, w) {
			t.Errorf("the deviation's deadlines lack %q:\n%s", w, agreement)
		}
	}
	if strings.Contains(agreement, "Notifier le client") {
		t.Error("the client is offered the site's form")
	}
	u.screenshot(shots, "portal-deviation-desktop-fr")

	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	for _, path := range []string{"/portal", u.location()[len(base):]} {
		u.navigate(base+path, "main h1")
		if wide, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
			t.Errorf("%s scrolls sideways on a portrait tablet (%v)", path, err)
		}
	}
	u.screenshot(shots, "portal-deviation-tablet-fr")

	u.navigate(base+"/lang?to=en&next=/portal", "main h1")
	page = u.text("main")
	for _, w := range []string{"Your client space", "Being made", "What the quality agreement owes you", "1 late", "late by", "Latest news"} {
		if !strings.Contains(page, w) {
			t.Errorf("the client's space in English lacks %q:\n%.3000s", w, page)
		}
	}
	u.screenshot(shots, "portal-client-tablet-en")
}
