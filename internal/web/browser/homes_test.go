package browser_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// browserHome is a demo account, the home it must land on after signing
// in, and a phrase of that home's heading, in French and in English.
type browserHome struct {
	username, name, home string
	// prefix: the home is an address starting with home (the operator's
	// line, or the list of lines to choose it from).
	prefix     bool
	fr, en     string
	roleFR     string
	clientUser bool
}

// TestBrowserHomes signs each role in through the login page on a
// portrait tablet (768×1024): it lands on its home (address and heading),
// the header is compact (at most 100 px high) and names the person and
// their role in white, each menu entry is a 48 px touch target, and every
// entry of the menu opens with a 200, never a 403 or a 404. The home is
// then seen in English.
func TestBrowserHomes(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)
	root := newUser(t, newBrowser(t, ctx, execPath), "root")

	for _, h := range []browserHome{
		{username: "operator", name: "Camille Lefèvre", home: "/floor", prefix: true, fr: "", en: "", roleFR: "Opérateur de production"},
		{username: "supervisor", name: "Karim Benali", home: "/floor", fr: "Atelier", en: "Shop floor", roleFR: "Superviseur de production"},
		{username: "qa", name: "Isabelle Fontaine", home: "/batches?state=in_review", fr: "Lots de fabrication", en: "Batches", roleFR: "Assurance qualité"},
		{username: "qp", name: "Hélène Rousseau", home: "/release", fr: "Libération des lots", en: "Batch release", roleFR: "Personne qualifiée"},
		{username: "lab", name: "Sébastien Nguyen", home: "/lab", fr: "Travail à faire", en: "Worklist", roleFR: "Laboratoire"},
		{username: "maintenance", name: "Nicolas Garnier", home: "/equipment", fr: "Équipements à traiter", en: "Equipment to attend to", roleFR: "Maintenance"},
		{username: "security", name: "Franck Dumont", home: "/security/events", fr: "Événements de sécurité", en: "Security events", roleFR: "Sécurité"},
		{username: "admin", name: "Julien Moreau", home: "/admin/accounts", fr: "Comptes", en: "Accounts", roleFR: "Administrateur"},
		{username: "client-alpha", name: "Sophie Marchand", home: "/portal", fr: "Votre espace client", en: "Your client space", roleFR: "Utilisateur client", clientUser: true},
		{username: "client-gamma", name: "Laura Schmitt", home: "/portal", fr: "Votre espace client", en: "Your client space", roleFR: "Responsable client", clientUser: true},
	} {
		t.Run(h.username, func(t *testing.T) {
			u := newUser(t, root.another(), h.username)
			u.t = t
			u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
			u.navigate(base+"/login", "#username")
			u.do("type the credentials",
				chromedp.SendKeys(chromedp.CSS(`#username`), h.username),
				chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password))
			u.load("sign in", "main h1", chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
			if u.lastStatus != http.StatusOK {
				t.Fatalf("after signing in: status %d:\n%.1500s", u.lastStatus, u.text("main"))
			}
			loc := strings.TrimPrefix(u.location(), base)
			if loc != h.home && !(h.prefix && strings.HasPrefix(loc, h.home)) {
				t.Errorf("after signing in %s is at %s, want %s", h.username, loc, h.home)
			}
			heading := u.text("main h1")
			switch {
			case h.fr != "" && !strings.Contains(heading, h.fr):
				t.Errorf("the home's heading is %q, want %q", heading, h.fr)
			case h.username == "operator" && loc != "/floor" && !strings.HasPrefix(loc, "/floor/lines/"):
				t.Errorf("the operator's home %s is neither the list of lines nor a line's page", loc)
			}
			header(t, u, h)
			searchForm(t, u)
			u.screenshot(shots, "home-"+h.username+"-fr-768")
			// At a desktop's size the header keeps its one wide row, the
			// person named in white there too.
			u.do("desktop", chromedp.EmulateViewport(1280, 800))
			if c, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header a.who")).color`)); err != nil || c != "rgb(255, 255, 255)" {
				t.Errorf("on a desktop the person's name is drawn in %q (%v), want white", c, err)
			}
			u.screenshot(shots, "home-"+h.username+"-fr-1280")
			// A landscape tablet has the compact header too.
			u.do("landscape tablet", chromedp.EmulateViewport(1024, 768))
			if hh, err := chromedp.Run(u.ctx, chromedp.Evaluate[float64](`document.querySelector("header.top").getBoundingClientRect().height`)); err != nil || hh > 100 {
				t.Errorf("on a landscape tablet the header is %.0f px high (%v), want 100 at most", hh, err)
			}
			u.screenshot(shots, "home-"+h.username+"-fr-1024")
			u.do("portrait tablet again", chromedp.EmulateViewport(768, 1024))

			// No link of the home's content leads to a refusal (asked from
			// the page, with its session).
			bad, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`(async () => {
				const hrefs = [...new Set([...document.querySelectorAll("main a[href]")].map(a => a.getAttribute("href")).filter(h => h.startsWith("/")))];
				const out = [];
				for (const h of hrefs) { const r = await fetch(h, {redirect: "manual"}); if (r.status !== 200) out.push(h + " " + r.status); }
				return out;
			})()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("the home's links: %v", err)
			}
			for _, b := range bad {
				t.Errorf("%s: the home links to %s", h.username, b)
			}
			t.Logf("%s: %d links of the home checked", h.username, u.count("main a[href^='/']"))

			// Every menu entry opens.
			links, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("header .nav a, header a.who")].map(a => a.getAttribute("href"))`))
			if err != nil || len(links) < 2 {
				t.Fatalf("the menu's links: %v (%v)", links, err)
			}
			for _, l := range links {
				if h.clientUser {
					for _, staff := range []string{"/site", "/floor", "/people", "/teams", "/shifts", "/audit", "/release", "/equipment", "/deviations", "/security/events"} {
						if l == staff {
							t.Errorf("a client's menu offers %s", l)
						}
					}
				}
				u.load("open "+l, "main", chromedp.Navigate(base+l))
				if u.lastStatus != http.StatusOK {
					t.Errorf("%s: the menu entry %s answers %d, want 200:\n%.600s", h.username, l, u.lastStatus, u.text("main"))
				}
			}

			// In English, the same home.
			u.load("switch to English", "main h1", chromedp.Navigate(base+"/lang?to=en&next=/"))
			if loc := strings.TrimPrefix(u.location(), base); loc != h.home && !(h.prefix && strings.HasPrefix(loc, h.home)) {
				t.Errorf("in English %s is at %s, want %s", h.username, loc, h.home)
			}
			if heading := u.text("main h1"); h.en != "" && !strings.Contains(heading, h.en) {
				t.Errorf("the English home's heading is %q, want %q", heading, h.en)
			}
			u.screenshot(shots, "home-"+h.username+"-en-768")
			u.noViolations(h.username)
		})
	}
}

// searchForm checks a searched list's form, when the page has one: a GET
// form (its address can be bookmarked) whose fields and button are touch
// targets of 48 px at least.
func searchForm(t *testing.T, u *user) {
	t.Helper()
	if u.count(`form[role=search]`) == 0 {
		return
	}
	got, err := chromedp.Run(u.ctx, chromedp.Evaluate[map[string]any](`(() => { const f = document.querySelector("form[role=search]");
		return {method: f.method, q: !!f.querySelector("input[name=q]"), smallest: Math.min(...[...f.querySelectorAll("input, select, button")].map(e => e.getBoundingClientRect().height))}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if got["method"] != "get" || got["q"] != true || got["smallest"].(float64) < 48 {
		t.Errorf("the list's search form is %v, want a GET form with a search box, every field 48 px high at least", got)
	}
}

// header checks the tablet header: at most 100 px high, the person's name
// and role shown in white, every entry a touch target of 48 px at least.
func header(t *testing.T, u *user, h browserHome) {
	t.Helper()
	height, err := chromedp.Run(u.ctx, chromedp.Evaluate[float64](`document.querySelector("header.top").getBoundingClientRect().height`))
	if err != nil {
		t.Fatal(err)
	}
	if height > 100 {
		t.Errorf("the header is %.0f px high on a portrait tablet, want 100 at most", height)
	}
	smallest, err := chromedp.Run(u.ctx, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("header .nav a, header .lang a, header a.who, header .logout button")].map(a => a.getBoundingClientRect().height))`))
	if err != nil {
		t.Fatal(err)
	}
	if smallest < 48 {
		t.Errorf("a header's touch target is %.0f px high, want 48 at least", smallest)
	}
	who, err := chromedp.Run(u.ctx, chromedp.Evaluate[map[string]any](`(() => { const w = document.querySelector("header a.who"); const s = getComputedStyle(w);
		return {name: w.querySelector(".who-name").innerText, roles: w.querySelector(".who-roles").innerText, color: s.color, width: w.getBoundingClientRect().width}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if who["name"] != h.name || !strings.Contains(who["roles"].(string), h.roleFR) {
		t.Errorf("the header names %v, want %s, %s", who, h.name, h.roleFR)
	}
	if who["color"] != "rgb(255, 255, 255)" || who["width"].(float64) < 40 {
		t.Errorf("the person's name is drawn %v, want white and visible", who)
	}
}
