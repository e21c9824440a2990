package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// walkMenu opens every entry of the header's menu (and the person's own
// page) and fails on any answer but 200: no 403, no 404.
func walkMenu(t *testing.T, u *user, base string) {
	t.Helper()
	links, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("header .nav a, header a.who")].map(a => a.getAttribute("href"))`))
	if err != nil || len(links) < 2 {
		t.Fatalf("%s: the menu's links: %v (%v)", u.username, links, err)
	}
	for _, l := range links {
		u.load("open "+l, "main", chromedp.Navigate(base+l))
		if u.lastStatus != http.StatusOK {
			t.Errorf("%s: the menu entry %s answers %d, want 200:\n%.600s", u.username, l, u.lastStatus, u.text("main"))
		}
	}
	t.Logf("%s: %d menu entries opened", u.username, len(links))
}

// signInPage signs in through the login page and checks where it lands.
func signInPage(t *testing.T, u *user, base, username, password, wait string) string {
	t.Helper()
	u.navigate(base+"/login", "#username")
	u.do("type the credentials",
		chromedp.SendKeys(chromedp.CSS(`#username`), username),
		chromedp.SendKeys(chromedp.CSS(`#password`), password))
	u.load("sign in", wait, chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
	if u.lastStatus != http.StatusOK {
		t.Fatalf("%s: after signing in: status %d:\n%.1500s", username, u.lastStatus, u.text("main"))
	}
	return strings.TrimPrefix(u.location(), base)
}

// TestBrowserRoles: the security guard and the administrator each sign in
// through the login page, land on their home, do a real task of their role
// through the pages and open every entry of their menu without a refusal.
//
// First someone tries, at the login page, a username nobody has and five
// wrong passwords for qa, which lock the account.
//
// Security reviews the security events: the unknown username is found by
// filtering on its kind, its day and those still to acknowledge, and
// acknowledged; a wrong password's event opens qa's account, where security
// is offered no change; the page is seen in English too.
//
// The administrator unlocks qa's account with the reason; creates a
// quality-assurance account (a password too short refused first), assigns
// it to a client laboratory and signs out; the new account signs in in the
// same browser, must first choose its own password (the header offering
// nothing else meanwhile), lands on its home and sees that client's
// batches only.
//
// Maintenance does its day's work (maintenanceDay) and a supervisor
// searches the lists (searchLists).
func TestBrowserRoles(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)
	root := newUser(t, newBrowser(t, ctx, execPath), "root")

	// Someone tries a username nobody has.
	intruder := newUser(t, root.another(), "intruder")
	intruder.navigate(base+"/login", "#username")
	intruder.do("type a username nobody has",
		chromedp.SendKeys(chromedp.CSS(`#username`), "intrus.nocturne"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "devinette-du-soir"))
	intruder.load("try to sign in", ".login .alert", chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
	// And five wrong passwords for a real account, which lock it.
	for i := range 5 {
		intruder.navigate(base+"/login", "#username")
		intruder.do("type a wrong password for qa",
			chromedp.SendKeys(chromedp.CSS(`#username`), "qa"),
			chromedp.SendKeys(chromedp.CSS(`#password`), fmt.Sprintf("devinette-%d", i)))
		intruder.load("try to sign in", ".login .alert", chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
	}
	intruder.close()

	t.Run("security", func(t *testing.T) {
		u := newUser(t, root.another(), "security")
		u.t = t
		if loc := signInPage(t, u, base, "security", demo.Password, "main h1"); loc != "/security/events" {
			t.Errorf("security landed on %s, want /security/events", loc)
		}
		if h := u.text("main h1"); h != "Événements de sécurité" {
			t.Errorf("the home's heading is %q", h)
		}
		u.screenshot(shots, "roles-security-fr-1280")

		// The attempt's row, found by its username.
		const row = `[...document.querySelectorAll("main tbody tr")].find(tr => tr.cells[2].querySelector(".mono").innerText.trim() === "intrus.nocturne")`
		cell := func(col int) string {
			t.Helper()
			s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const tr = %s; return tr ? tr.cells[%d].innerText.trim() : "(no row)"; })()`, row, col)))
			if err != nil {
				t.Fatalf("the attempt's row: %v", err)
			}
			return s
		}
		// The day of the attempt, as the page writes it (DD/MM/YYYY).
		when := cell(0)
		if len(when) < 10 {
			t.Fatalf("the attempt is not on the page, or its time reads %q", when)
		}
		day := when[6:10] + "-" + when[3:5] + "-" + when[0:2]

		// Filter: unknown usernames of that day still to acknowledge.
		u.do("choose the kind, the day and those to acknowledge",
			chromedp.SetValue(chromedp.CSS(`#e-kind`), "unknown_user"),
			chromedp.SetValue(chromedp.CSS(`#e-from`), day),
			chromedp.SetValue(chromedp.CSS(`#e-to`), day),
			chromedp.Click(chromedp.CSS(`#e-open`)))
		u.load("filter", "main h1", chromedp.Click(chromedp.CSS(`form.filter button[type=submit]`)))
		if loc := strings.TrimPrefix(u.location(), base); loc != "/security/events?kind=unknown_user&from="+day+"&to="+day+"&open=1" {
			t.Errorf("the filter led to %s", loc)
		}
		kinds, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main tbody tr td:nth-child(2) .pill")].map(p => p.innerText.trim())`))
		if err != nil || len(kinds) == 0 {
			t.Fatalf("the filtered events: %v (%v)", kinds, err)
		}
		for _, k := range kinds {
			if k != "Identifiant inconnu" {
				t.Errorf("the filter on unknown usernames shows an event %q", k)
			}
		}
		if n := u.count("main tbody tr"); n != len(kinds) {
			t.Fatalf("%d rows, %d kinds", n, len(kinds))
		}
		if got := cell(2); got != "intrus.nocturne\n127.0.0.1" {
			t.Errorf("the attempt's address reads %q", got)
		}
		u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
		u.screenshot(shots, "roles-security-filtered-fr-768")
		noSideways(u, "security events on a portrait tablet")
		u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))

		// Acknowledge it: it leaves the list of those to acknowledge, the
		// filter kept.
		u.load("acknowledge", "main h1", chromedp.Evaluate[chromedp.Void](row+`.querySelector("button[type=submit]").click()`))
		if loc := strings.TrimPrefix(u.location(), base); loc != "/security/events?from="+day+"&kind=unknown_user&open=1&to="+day+"&saved=1" {
			t.Errorf("after acknowledging the page is %s, want the same filter", loc)
		}
		if got := cell(0); got != "(no row)" {
			t.Errorf("the acknowledged attempt is still among those to acknowledge (%s)", got)
		}
		// Among all the events, it says who acknowledged it.
		u.navigate(base+"/security/events?kind=unknown_user", "main h1")
		if got := cell(3); !strings.HasPrefix(got, "par security le ") {
			t.Errorf("the acknowledgement reads %q, want by security", got)
		}

		// The wrong password's event opens the account it was typed for.
		u.navigate(base+"/security/events?kind=login_failed&open=1", "main h1")
		link := `main tbody tr td:nth-child(3) a[href^="/admin/accounts/"]`
		if got := u.text(link); got != "qa" {
			t.Fatalf("the wrong password's event names %q, want qa", got)
		}
		u.load("open the account", "main h1", chromedp.Click(chromedp.CSS(link)))
		if u.lastStatus != http.StatusOK || !strings.Contains(u.text("main h1"), "Isabelle Fontaine") {
			t.Errorf("the account's page: %d %q", u.lastStatus, u.text("main h1"))
		}
		// The account is locked; security, who may not change accounts, is
		// offered no change of it, unlocking included.
		if n := u.count(`form[action$="/password"], form[action$="/withdraw"], form[action$="/unlock"], a[href$="/edit"]`); n != 0 {
			t.Errorf("security is offered %d changes of the account", n)
		}
		u.screenshot(shots, "roles-security-account-fr-1280")

		walkMenu(t, u, base)

		// In English, the same page and its kinds.
		u.load("switch to English", "main h1", chromedp.Navigate(base+"/lang?to=en&next=/security/events?kind=unknown_user"))
		if h := u.text("main h1"); h != "Security events" {
			t.Errorf("the English heading is %q", h)
		}
		if got := cell(1); !strings.HasPrefix(got, "Unknown username") {
			t.Errorf("in English the kind reads %q", got)
		}
		if got := cell(3); !strings.HasPrefix(got, "by security on ") {
			t.Errorf("in English the acknowledgement reads %q", got)
		}
		u.screenshot(shots, "roles-security-en-1280")
		u.noViolations("security")
	})

	t.Run("maintenance", func(t *testing.T) {
		u := newUser(t, root.another(), "maintenance")
		u.t = t
		maintenanceDay(t, u, base, shots)
	})

	t.Run("supervisor search", func(t *testing.T) {
		u := newUser(t, root.another(), "supervisor")
		u.t = t
		searchLists(t, u, base, shots)
	})

	t.Run("admin", func(t *testing.T) {
		u := newUser(t, root.another(), "admin")
		u.t = t
		if loc := signInPage(t, u, base, "admin", demo.Password, "main h1"); loc != "/admin/accounts" {
			t.Errorf("admin landed on %s, want /admin/accounts", loc)
		}
		u.screenshot(shots, "roles-admin-fr-1280")
		walkMenu(t, u, base)

		// The account five wrong passwords locked: unlocked with the reason.
		u.navigate(base+"/admin/accounts", "main h1")
		qaLink, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("main tbody td.mono a")].find(a => a.innerText.trim() === "qa").getAttribute("href")`))
		if err != nil {
			t.Fatalf("qa's account in the list: %v", err)
		}
		u.navigate(base+qaLink, "#lock")
		if got := u.text("#lock"); !strings.Contains(got, "le compte est verrouillé jusqu'au") {
			t.Errorf("the lock reads %q", got)
		}
		u.screenshot(shots, "roles-admin-locked-fr-1280")
		u.do("say who asked", chromedp.SendKeys(chromedp.CSS(`#unlock-reason`), "Isabelle Fontaine, reconnue au poste AQ"))
		u.load("unlock", "main h1", chromedp.Click(chromedp.CSS(`#lock button[type=submit]`)))
		if n := u.count("#lock"); n != 0 || !strings.Contains(u.text("#trail"), "Déverrouillage d'un compte") {
			t.Errorf("after unlocking: %d lock sections, trail:\n%.1500s", n, u.text("#trail"))
		}

		// A new account: a password too short is refused, and nothing is
		// created.
		u.navigate(base+"/admin/accounts", "main h1")
		u.load("new account", "#f-username", chromedp.Click(chromedp.CSS(`.head-actions a[href="/admin/accounts/new"]`)))
		u.do("fill the form",
			chromedp.SendKeys(chromedp.CSS(`#f-username`), "claire.petit"),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), "Claire Petit"),
			chromedp.Click(chromedp.CSS(`input[name=roles][value=qa]`)),
			chromedp.SendKeys(chromedp.CSS(`#f-password`), "court"),
			chromedp.SendKeys(chromedp.CSS(`#f-reason`), "Arrivée au service assurance qualité"))
		u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
		u.screenshot(shots, "roles-admin-new-fr-768")
		u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
		u.load("save", "#e-password", chromedp.Click(chromedp.CSS(`.actions button[type=submit]`)))
		if u.lastStatus != http.StatusBadRequest {
			t.Errorf("a password too short answered %d, want 400", u.lastStatus)
		}
		if got := u.text("#e-password"); !strings.Contains(got, "12") {
			t.Errorf("the refusal of a short password reads %q", got)
		}
		if checked, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.querySelector("input[name=roles][value=qa]").checked && document.querySelector("#f-username").value === "claire.petit"`)); err != nil || !checked {
			t.Errorf("the refused form lost what was typed (%v)", err)
		}
		u.screenshot(shots, "roles-admin-refused-fr-1280")
		admin := signInAPI(t, ctx, base, "admin")
		var list struct {
			Items []struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			} `json:"items"`
		}
		admin.get("/api/v1/accounts", &list)
		for _, a := range list.Items {
			if a.Username == "claire.petit" {
				t.Fatal("the refused form created the account")
			}
		}

		const first = "premier-mot-de-passe-2026"
		u.do("a long password", chromedp.SendKeys(chromedp.CSS(`#f-password`), first))
		u.load("save", "main h1", chromedp.Click(chromedp.CSS(`.actions button[type=submit]`)))
		if u.lastStatus != http.StatusOK || !strings.Contains(u.location(), "/admin/accounts/") {
			t.Fatalf("the account was not created: %d at %s:\n%.1000s", u.lastStatus, u.location(), u.text("main"))
		}
		if h := u.text("main h1"); !strings.Contains(h, "claire.petit") || !strings.Contains(h, "Claire Petit") {
			t.Errorf("the new account's page is headed %q", h)
		}
		if got := u.text("dl.props"); !strings.Contains(got, "Assurance qualité") || !strings.Contains(got, "Personnel du site") {
			t.Errorf("the new account's facts: %q", got)
		}

		// Assigned to a client laboratory.
		client, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector("#assign-client"); const o = [...s.options].find(o => o.text.includes("Alpha")); s.value = o.value; return o.text; })()`))
		if err != nil {
			t.Fatalf("choose the client: %v", err)
		}
		u.do("reason", chromedp.SendKeys(chromedp.CSS(`#assign-reason`), "Revue des lots du client Alpha"))
		u.load("assign", "#assignments", chromedp.Click(chromedp.CSS(`#assignments .actions button[type=submit]`)))
		if got := u.text("#assignments table"); !strings.Contains(got, strings.TrimSuffix(client, " (ALPHA)")) {
			t.Errorf("the assignments read %q, want %s", got, client)
		}
		// The account's trail, in words: who created it with which role,
		// and who assigned it to which client.
		trail := u.text("#trail")
		for _, w := range []string{"Création d'un compte", "Julien Moreau", "Assurance qualité", "Mot de passe à changer par son titulaire", "Affectation d'un compte à un client", "ALPHA", "Revue des lots du client Alpha"} {
			if !strings.Contains(trail, w) {
				t.Errorf("the account's trail lacks %q:\n%.1500s", w, trail)
			}
		}
		u.screenshot(shots, "roles-admin-account-fr-1280")
		u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
		u.do("scroll to the trail", chromedp.Evaluate[chromedp.Void](`document.querySelector("#trail").scrollIntoView()`))
		u.screenshot(shots, "roles-admin-account-fr-768")
		noSideways(u, "the account's page on a portrait tablet")
		u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))

		// The administrator signs out; the new account signs in in the same
		// browser and must choose its own password first.
		u.load("sign out", "#username", chromedp.Click(chromedp.CSS(`header .logout button`)))
		u.username = "claire.petit"
		loc := signInPage(t, u, base, "claire.petit", first, "#current")
		if !strings.HasPrefix(loc, "/account/password") {
			t.Errorf("the new account landed on %s, want the password change", loc)
		}
		if got := u.text("main .alert"); !strings.Contains(got, "défini par un administrateur") {
			t.Errorf("the password page says %q", got)
		}
		// Until then every other page is refused, and the header offers
		// none: no menu, the person named but not a link.
		if n := u.count("header .nav a, header a.who"); n != 0 {
			t.Errorf("before choosing a password the header offers %d links to pages that refuse", n)
		}
		if got := u.text("header .who-name"); got != "Claire Petit" {
			t.Errorf("the header names %q", got)
		}
		u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
		u.screenshot(shots, "roles-newaccount-password-fr-768")
		u.do("landscape tablet", chromedp.EmulateViewport(1280, 800))
		u.load("try the batches first", "main", chromedp.Navigate(base+"/batches"))
		if u.lastStatus != http.StatusForbidden {
			t.Errorf("before changing its password the account opened /batches: %d", u.lastStatus)
		}
		u.navigate(base+"/account/password?next=/", "#current")
		const own = "un-mot-de-passe-a-moi-seule"
		u.do("choose a password",
			chromedp.SendKeys(chromedp.CSS(`#current`), first),
			chromedp.SendKeys(chromedp.CSS(`#new`), own),
			chromedp.SendKeys(chromedp.CSS(`#confirm`), own))
		u.load("change", "main h1", chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
		if loc := strings.TrimPrefix(u.location(), base); loc != "/batches?state=in_review" {
			t.Errorf("after choosing a password the new account is at %s, want the QA home", loc)
		}
		if got := u.text("header .who-name"); got != "Claire Petit" {
			t.Errorf("the header names %q", got)
		}

		// It sees the assigned client's batches, and only those.
		u.navigate(base+"/batches?state=all", "main h1")
		ids, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main tbody tr[id^=batch-]")].map(tr => tr.id.slice(6))`))
		if err != nil || len(ids) == 0 {
			t.Fatalf("the new QA sees no batch (%v)", err)
		}
		alpha := signInAPI(t, ctx, base, "client-alpha")
		for _, id := range ids {
			var b apiBatch
			if status := alpha.call("GET", "/api/v1/batches/"+id, nil, &b); status != http.StatusOK {
				t.Errorf("the new QA sees batch %s, which is not the client's (%d)", id, status)
			}
		}
		t.Logf("the new QA sees %d batches, all the client's", len(ids))
		walkMenu(t, u, base)
		u.noViolations("admin")
	})
}
