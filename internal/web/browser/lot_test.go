package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// TestBrowserLotReceivedAndReleased: on the demo site, in Chromium, the
// supervisor receives a lot through the form (it enters quarantine); QA,
// on a tablet in portrait, opens the lot's page and releases it with a
// signature; the status history shows the change.
func TestBrowserLotReceivedAndReleased(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "supervisor")
	materials := items[struct{ ID, Code string }](api, "/api/v1/materials")
	if len(materials) == 0 {
		t.Fatal("the demo has no materials")
	}

	sup := newUser(t, newBrowser(t, ctx, execPath), "supervisor")
	sup.signIn(base, "/lots", "main h1", false)
	if sup.count(`a[href="/lots/new"]`) != 1 {
		t.Fatalf("the supervisor's lots page offers no receipt:\n%.1500s", sup.text("main"))
	}
	sup.load("open the receipt form", "#f-material_id", chromedp.Click(chromedp.CSS(`a[href="/lots/new"]`)))
	sup.do("fill the receipt",
		chromedp.SetValue(chromedp.CSS(`#f-material_id`), materials[0].ID),
		chromedp.SendKeys(chromedp.CSS(`#f-code`), "BRW-LOT-1"),
		chromedp.SendKeys(chromedp.CSS(`#f-quantity`), "12,5"),
		chromedp.SetValue(chromedp.CSS(`#f-expires_on`), time.Now().AddDate(2, 0, 0).Format(time.DateOnly)))
	sup.screenshot(shots, "lot-receipt-form-fr")
	sup.load("receive the lot", "main h1", chromedp.Click(chromedp.CSS(`.form-card form button[type=submit]`)))
	got := sup.text("main")
	if !strings.Contains(got, "BRW-LOT-1") || !strings.Contains(got, "Quarantaine") || !strings.Contains(got, "12,5") {
		t.Fatalf("after the receipt the page says:\n%.1500s", got)
	}
	if sup.count(`form[action$="/status"]`) != 0 {
		t.Error("the supervisor is offered quality's decision")
	}
	lotURL := strings.SplitN(sup.location(), "?", 2)[0]

	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	qa.signIn(base, strings.TrimPrefix(lotURL, base), "form.sign-form", false)
	qa.do("decide the release",
		chromedp.SetValue(chromedp.CSS(`#s-status`), "released"),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-username`), "qa"),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-password`), demo.Password),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-reason`), "Certificat d'analyse conforme"))
	qa.load("sign the decision", "main h1", chromedp.Click(chromedp.CSS(`.sign-form button[type=submit]`)))
	got = qa.text("main")
	for _, want := range []string{"Décision enregistrée et signée.", "Libéré", "Quarantaine → Libéré", "Certificat d'analyse conforme", "Approuvé / Approved"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the signature the lot's page lacks %q:\n%.2000s", want, got)
		}
	}
	qa.screenshot(shots, "lot-released-tablet-fr")
	qa.noViolations("the lot's page")
}
