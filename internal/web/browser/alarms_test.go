package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// TestBrowserAlarmAcknowledged: on the demo site, QA on a portrait tablet
// goes from the environment's site view to its alarms, opens one not yet
// acknowledged and signs its acknowledgement with a comment; the alarm
// then reads acknowledged, in French and in English.
func TestBrowserAlarmAcknowledged(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	qa.signIn(base, "/environment", "main h1", false)
	qa.load("open the alarms", "main h1", chromedp.Click(chromedp.CSS(`#env-see-alarms`)))
	qa.load("the alarms not acknowledged", "main h1", chromedp.SetValue(chromedp.CSS(`#alarm-state`), "unacknowledged"),
		chromedp.Click(chromedp.CSS(`form[role=search] button[type=submit]`)))
	if n := qa.count(`.alarm-link`); n == 0 {
		t.Fatalf("the demo has no alarm to acknowledge:\n%.1500s", qa.text("main"))
	}
	qa.screenshot(shots, "alarms-tablet-fr")
	qa.load("open the first", "#acknowledge", chromedp.Click(chromedp.CSS(`.alarm-link`)))
	qa.do("acknowledge it",
		chromedp.SendKeys(chromedp.CSS(`#ack-comment`), "Porte du sas restée ouverte pendant le transfert, refermée"),
		chromedp.SendKeys(chromedp.CSS(`#acknowledge #s-username`), "qa"),
		chromedp.SendKeys(chromedp.CSS(`#acknowledge #s-password`), demo.Password))
	qa.screenshot(shots, "alarm-ack-form-tablet-fr")
	qa.load("sign the acknowledgement", "main h1", chromedp.Click(chromedp.CSS(`#acknowledge button[type=submit]`)))
	got := qa.text("main")
	for _, want := range []string{"Alarme acquittée.", "Acquittée", "Porte du sas restée ouverte", "Pris en compte / Acknowledged"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the signature the alarm's page lacks %q:\n%.2000s", want, got)
		}
	}
	if qa.count(`#acknowledge`) != 0 {
		t.Error("the acknowledgement is still offered")
	}
	qa.screenshot(shots, "alarm-acknowledged-tablet-fr")
	qa.noViolations("the alarm's page")

	// In English, the same alarm acknowledged.
	qa.load("switch to English", "main h1", chromedp.Click(chromedp.CSS(`.lang a[lang=en]`)))
	if got := qa.text("main"); !strings.Contains(got, "Acknowledged") || strings.Contains(got, "Acquittée") {
		t.Errorf("the alarm in English:\n%.1500s", got)
	}
	qa.screenshot(shots, "alarm-acknowledged-tablet-en")
}
