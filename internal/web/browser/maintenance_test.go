package browser_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// maintenanceDay is the maintenance technician's day, in the session of
// TestBrowserRoles: they sign in through the login page, land on the
// equipment to attend to and open every entry of their menu; on a dirty
// piece's page they record its cleaning (the status becomes clean, the
// history says it in words); they take a piece out of service with the
// reason and put it back; on a portrait tablet, every field and button a
// 48 px target, they renew an overdue qualification with their electronic
// signature. The pages are seen at desktop and tablet sizes, in French and
// English.
func maintenanceDay(t *testing.T, u *user, base, shots string) {
	if loc := signInPage(t, u, base, "maintenance", demo.Password, "main h1"); loc != "/equipment" {
		t.Errorf("maintenance landed on %s, want /equipment", loc)
	}
	if h := u.text("main h1"); h != "Équipements à traiter" {
		t.Errorf("the home's heading is %q", h)
	}
	u.screenshot(shots, "maintenance-home-fr-1280")
	walkMenu(t, u, base)

	// A dirty piece of equipment, cleaned from its page.
	u.navigate(base+"/equipment", "main h1")
	if n := u.count(`#dirty tbody tr`); n == 0 {
		t.Fatal("the demo has no equipment to clean")
	}
	dirty := attr(t, u, `#dirty tbody tr td.mono a`, "href")
	u.load("open the dirty piece", "#actions", chromedp.Click(chromedp.CSS(`#dirty tbody tr td.mono a`)))
	if got := u.text("main .facts .badge.status"); got != "À nettoyer" {
		t.Errorf("the dirty piece's status reads %q", got)
	}
	const cleaned = "Trémie et goulotte nettoyées à l'eau purifiée puis à l'IPA 70 %"
	u.do("say how it was cleaned", chromedp.SendKeys(chromedp.CSS(`#r-clean`), cleaned))
	u.screenshot(shots, "maintenance-clean-fr-1280")
	u.load("record the cleaning", "main h1", submitOf(`#r-clean`))
	if u.lastStatus != http.StatusOK || strings.TrimPrefix(u.location(), base) != dirty+"?done=clean" {
		t.Fatalf("after the cleaning: %d at %s:\n%.1000s", u.lastStatus, u.location(), u.text("main"))
	}
	if got := u.text("main .flash"); got != "Nettoyage enregistré : l'équipement est propre." {
		t.Errorf("the notice reads %q", got)
	}
	if got := u.text("main .facts .badge.status"); got != "Propre" {
		t.Errorf("after the cleaning the status reads %q", got)
	}
	first := u.text("#history tbody tr")
	for _, w := range []string{"Nettoyage d'un équipement", "Statut", "À nettoyer → Propre", "Nicolas Garnier", cleaned} {
		if !strings.Contains(first, w) {
			t.Errorf("the history's newest line lacks %q: %q", w, first)
		}
	}
	if regexp.MustCompile(`\b(dirty|clean|equipment\.clean)\b`).MatchString(first) {
		t.Errorf("the history shows a stored value raw: %q", first)
	}

	// Out of service with the reason, and back in service.
	u.do("say why", chromedp.SendKeys(chromedp.CSS(`#r-out_of_service`), "Fuite au joint de la pompe doseuse"))
	u.load("take it out of service", "main h1", submitOf(`#r-out_of_service`))
	if got := u.text("main .flash"); got != "Équipement mis hors service." {
		t.Errorf("the notice reads %q", got)
	}
	if got := u.text("main .facts .badge.status"); got != "Maintenance" {
		t.Errorf("out of service, the status reads %q", got)
	}
	if got := u.text("#history tbody tr"); !strings.Contains(got, "Mise hors service d'un équipement") || !strings.Contains(got, "Fuite au joint") {
		t.Errorf("the history's newest line: %q", got)
	}
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.screenshot(shots, "maintenance-out-fr-768")
	noSideways(u, "equipment out of service on a portrait tablet")
	u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
	u.do("say what was done", chromedp.SendKeys(chromedp.CSS(`#r-in_service`), "Joint remplacé, essai d'étanchéité conforme"))
	u.load("put it back in service", "main h1", submitOf(`#r-in_service`))
	if got := u.text("main .facts .badge.status"); got != "À nettoyer" {
		t.Errorf("back in service, the status reads %q (it must be cleaned before use)", got)
	}
	if got := u.text("#history tbody tr"); !strings.Contains(got, "Remise en service d'un équipement") {
		t.Errorf("the history's newest line: %q", got)
	}

	// In English, the same page and its history in words.
	u.load("switch to English", "main h1", chromedp.Navigate(base+"/lang?to=en&next="+dirty))
	hist := u.text("#history")
	for _, w := range []string{"Cleaning of a piece of equipment", "Equipment taken out of service", "Equipment put back in service", "Dirty → Clean"} {
		if !strings.Contains(hist, w) {
			t.Errorf("the English history lacks %q:\n%.1500s", w, hist)
		}
	}
	u.screenshot(shots, "maintenance-history-en-1280")
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.screenshot(shots, "maintenance-item-en-768")
	u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
	u.load("back to French", "main h1", chromedp.Navigate(base+"/lang?to=fr&next=/equipment"))

	// An overdue qualification renewed by signature, on a portrait tablet.
	if n := u.count(`#due tbody tr.overdue`); n == 0 {
		t.Fatal("the demo has no overdue qualification")
	}
	late := attr(t, u, `#due tbody tr.overdue td.mono a`, "href")
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.load("open the overdue piece", "#renew", chromedp.Navigate(base+late+"#renew"))
	if got := u.text("main p.alert"); !strings.Contains(got, "est échue depuis le") {
		t.Errorf("the overdue alert reads %q", got)
	}
	small, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#renew input:not([type=hidden]), #renew button, #actions input:not([type=hidden]), #actions button")]
		.filter(e => e.getBoundingClientRect().height < 48).map(e => (e.id || e.name || e.innerText) + " " + Math.round(e.getBoundingClientRect().height))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(small) > 0 {
		t.Errorf("on a portrait tablet these targets are under 48 px: %v", small)
	}
	due := time.Now().AddDate(1, 0, 0)
	u.do("fill the renewal",
		chromedp.SetValue(chromedp.CSS(`#q-due`), due.Format(time.DateOnly)),
		chromedp.SendKeys(chromedp.CSS(`#q-report`), "RQ-2026-117"),
		chromedp.SendKeys(chromedp.CSS(`#s-username`), "maintenance"),
		chromedp.SendKeys(chromedp.CSS(`#s-password`), demo.Password),
		chromedp.SendKeys(chromedp.CSS(`#s-reason`), "Requalification IQ/OQ conforme"))
	u.do("scroll to the renewal", chromedp.Evaluate[chromedp.Void](`document.querySelector("#renew").scrollIntoView()`))
	u.screenshot(shots, "maintenance-renew-fr-768")
	noSideways(u, "the renewal on a portrait tablet")
	u.load("sign the renewal", "main h1", submitOf(`#q-report`))
	if u.lastStatus != http.StatusOK || strings.TrimPrefix(u.location(), base) != late+"?done=renewed" {
		t.Fatalf("after the renewal: %d at %s:\n%.1500s", u.lastStatus, u.location(), u.text("main"))
	}
	if got := u.text("main .flash"); got != "Qualification renouvelée et signée." {
		t.Errorf("the notice reads %q", got)
	}
	if n := u.count("main p.alert"); n != 0 {
		t.Errorf("after the renewal the page still alerts: %q", u.text("main p.alert"))
	}
	if got := u.text("dl.props"); !strings.Contains(got, due.Format("02/01/2006")) || !strings.Contains(got, "RQ-2026-117") {
		t.Errorf("the renewed qualification reads %q", got)
	}
	if got := u.text("ul.signatures"); !strings.Contains(got, "Nicolas Garnier") || !strings.Contains(got, "Requalification IQ/OQ conforme") {
		t.Errorf("the signature reads %q", got)
	}
	// The history says the new due date the reader's way, not as stored.
	if got := u.text("#history"); !strings.Contains(got, "→ "+due.Format("02/01/2006")) || strings.Contains(got, due.Format(time.DateOnly)) {
		t.Errorf("the history of the renewal:\n%.1500s", got)
	}
	u.do("scroll to the history", chromedp.Evaluate[chromedp.Void](`document.querySelector("#history").scrollIntoView()`))
	u.screenshot(shots, "maintenance-renewed-history-fr-768")
	noSideways(u, "the renewed equipment on a portrait tablet")
	u.do("back to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	u.screenshot(shots, "maintenance-renewed-fr-768")
	u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
	u.noViolations("maintenance")
}

// attr is an attribute of the first element the selector finds.
func attr(t *testing.T, u *user, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, sel, name)))
	if err != nil || v == "" {
		t.Fatalf("%s of %s: %q (%v)", name, sel, v, err)
	}
	return v
}

// submitOf clicks the submit button of the form holding the field.
func submitOf(field string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).form.querySelector("button[type=submit]").click()`, field))
}

// searchLists is the supervisor's search of the lists, in the session of
// TestBrowserRoles: a batch's lot number typed into the search box finds
// that batch alone ("1–1 sur 1"); a state chosen in the filter stays
// chosen on the next page, the range following. A batch in progress
// offers the correction of its entries.
func searchLists(t *testing.T, u *user, base, shots string) {
	signInPage(t, u, base, "supervisor", demo.Password, "main h1")
	u.navigate(base+"/batches?state=all", "main h1")
	lot := u.text(`main tbody tr[id^=batch-] td:first-child`)
	if lot == "" {
		t.Fatal("no batch in the list")
	}
	u.do("type the lot", chromedp.SendKeys(chromedp.CSS(`#list-q`), lot))
	u.load("search", "main h1", chromedp.Evaluate[chromedp.Void](`document.querySelector("#list-q").form.submit()`))
	if got := u.text("main .list-range"); got != "1–1 sur 1" {
		t.Errorf("the search for %s reads %q, want 1–1 sur 1", lot, got)
	}
	if n := u.count(`main tbody tr[id^=batch-]`); n != 1 || !strings.Contains(u.text(`main tbody tr[id^=batch-]`), lot) {
		t.Errorf("the search for %s shows %d rows", lot, n)
	}
	if v, err := chromedp.Run(u.ctx, chromedp.Value(chromedp.CSS(`#list-q`))); err != nil || v != lot {
		t.Errorf("the search box holds %q after the search (%v)", v, err)
	}
	u.screenshot(shots, "search-batch-fr-1280")

	// A lot of material, by part of its code, in English.
	u.navigate(base+"/lots", "main h1")
	code := u.text(`main tbody tr td.mono`)
	u.load("switch to English", "main h1", chromedp.Navigate(base+"/lang?to=en&next=/lots"))
	u.do("type the lot's code", chromedp.SendKeys(chromedp.CSS(`#list-q`), code))
	u.load("search", "main h1", chromedp.Evaluate[chromedp.Void](`document.querySelector("#list-q").form.submit()`))
	if got := u.text("main .list-range"); !regexp.MustCompile(`^1–\d+ of \d+$`).MatchString(got) || !strings.Contains(u.text("main tbody"), code) {
		t.Errorf("the search for the lot %s reads %q", code, got)
	}
	u.screenshot(shots, "search-lots-en-1280")
	u.load("back to French", "main h1", chromedp.Navigate(base+"/lang?to=fr&next=/batches"))

	// A filter kept on the next page.
	u.do("choose every state", chromedp.SetValue(chromedp.CSS(`#b-state`), "all"))
	u.load("filter", "main h1", chromedp.Evaluate[chromedp.Void](`document.querySelector("#b-state").form.submit()`))
	total := u.text("main .list-range")
	if !strings.HasPrefix(total, "1–100 sur ") {
		t.Fatalf("every state reads %q, want more than a page", total)
	}
	u.load("next page", "main h1", chromedp.Click(chromedp.CSS(`main a[rel=next]`)))
	if loc := u.location(); !strings.Contains(loc, "state=all") {
		t.Errorf("the next page is %s, without the filter", loc)
	}
	if v, err := chromedp.Run(u.ctx, chromedp.Value(chromedp.CSS(`#b-state`))); err != nil || v != "all" {
		t.Errorf("on the next page the state filter is %q (%v)", v, err)
	}
	if got := u.text("main .list-range"); !strings.HasPrefix(got, "101–") || !strings.HasSuffix(got, strings.TrimPrefix(total, "1–100")) {
		t.Errorf("the next page reads %q after %q", got, total)
	}
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.screenshot(shots, "search-next-fr-768")
	u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))

	// A batch in progress offers the correction of its entries, closed
	// until asked for.
	u.navigate(base+"/batches?state=in_progress", "main h1")
	hrefs, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main tbody tr[id^=batch-] td:first-child a")].slice(0, 8).map(a => a.getAttribute("href"))`))
	if err != nil || len(hrefs) == 0 {
		t.Fatalf("no batch in progress (%v)", err)
	}
	found := false
	for _, h := range hrefs {
		u.navigate(base+h, "main h1")
		if u.count(`details.correct`) > 0 {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("none of %d batches in progress offers a correction", len(hrefs))
	}
	if n := u.count(`details.correct[open]`); n != 0 {
		t.Errorf("%d correction forms open before being asked for", n)
	}
	u.do("open a correction", chromedp.Evaluate[chromedp.Void](`(() => { const d = document.querySelector("details.correct"); d.open = true; d.scrollIntoView(); })()`))
	if got := u.text(`details.correct[open] summary`); got != "Corriger la saisie" {
		t.Errorf("the correction's summary reads %q", got)
	}
	if h, err := chromedp.Run(u.ctx, chromedp.Evaluate[float64](`document.querySelector("details.correct summary").getBoundingClientRect().height`)); err != nil || h < 48 {
		t.Errorf("the correction's summary is %.0f px high, want a 48 px target (%v)", h, err)
	}
	u.screenshot(shots, "correct-fr-1280")
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.do("scroll", chromedp.Evaluate[chromedp.Void](`document.querySelector("details.correct").scrollIntoView()`))
	u.screenshot(shots, "correct-fr-768")
	u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
	u.noViolations("supervisor's search")
}
