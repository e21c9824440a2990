package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// navLinks are the addresses of the header's menu, and the person's own
// page beside it.
var (
	navBlock = regexp.MustCompile(`(?s)<nav class="nav"[^>]*>(.*?)</nav>`)
	hrefOf   = regexp.MustCompile(`href="([^"]+)"`)
	whoLink  = regexp.MustCompile(`<a class="who" href="([^"]+)"`)
	whoBlock = regexp.MustCompile(`(?s)<a class="who".*?</a>`)
)

func navLinks(t *testing.T, p webPage) []string {
	t.Helper()
	m := navBlock.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page has no menu:\n%s", p.text)
	}
	var out []string
	for _, h := range hrefOf.FindAllStringSubmatch(m[1], -1) {
		out = append(out, html.UnescapeString(h[1]))
	}
	if w := whoLink.FindStringSubmatch(p.body); w != nil {
		out = append(out, html.UnescapeString(w[1]))
	} else {
		t.Error("the header has no link to the person's own page")
	}
	return out
}

// landing follows the redirects from the answer to a page, as a browser
// does, and returns the address it stops at with its answer.
func (b *webBrowser) landing(t *testing.T, p webPage) (string, webPage) {
	t.Helper()
	at := ""
	for range 5 {
		if p.status != http.StatusSeeOther && p.status != http.StatusFound {
			return at, p
		}
		at = p.location
		p = b.get(at)
	}
	t.Fatalf("more than 5 redirects, the last to %s", at)
	return "", p
}

// homeCase is a person signing in, and the home they must land on.
type homeCase struct {
	who, home string
	// heading is a phrase of the home's French page.
	heading string
	// name and role are what the header says of them.
	name, role string
	// lacks are menu entries the person must not see.
	lacks []string
}

// TestHomeAndMenuPerRole signs each role in through the login form: it
// lands on its home (the operator on its line once it records a step
// there, on the list of lines before), every entry of its menu answers 200,
// a client's user sees no entry of the site's staff, and the header names
// the person and their role. A person with two roles lands on the home of
// the first in identity.HomeOrder.
func TestHomeAndMenuPerRole(t *testing.T) {
	f := newFloorEnvOn(t, store.SQLite)
	f.seedAccounts(t,
		identity.Account{Username: "lab", Name: "Laure Labo", Roles: []identity.Role{identity.RoleLab}},
		identity.Account{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}},
		identity.Account{Username: "security", Name: "Serge Sécurité", Roles: []identity.Role{identity.RoleSecurity}},
		identity.Account{Username: "admin-security", Name: "Alice Double", Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity}},
		identity.Account{Username: "manager-alpha", Name: "Manon Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: f.alpha.ID})
	staffOnly := []string{`href="/site"`, `href="/people"`, `href="/teams"`, `href="/shifts"`, `href="/floor"`, `href="/audit"`,
		`href="/release"`, `href="/equipment"`, `href="/security/events"`, `href="/deviations"`}
	cases := []homeCase{
		{"operator", "/floor", "Atelier", "Otto Operator", "Opérateur de production", []string{`href="/admin/accounts"`, `href="/certificates"`}},
		{"supervisor", "/floor", "Atelier", "Sonia Superviseure", "Superviseur de production", nil},
		{"qa", "/batches?state=in_review", "Lots de fabrication", "Quentin Qualité", "Assurance qualité", nil},
		{"qp", "/release", "Libération des lots", "Paula Personne Qualifiée", "Personne qualifiée", nil},
		{"lab", "/lab", "Travail à faire", "Laure Labo", "Laboratoire", nil},
		{"maintenance", "/equipment", "Équipements à traiter", "Marc Maintenance", "Maintenance", nil},
		{"security", "/security/events", "Événements de sécurité", "Serge Sécurité", "Sécurité", nil},
		{"admin", "/admin/accounts", "Comptes", "Ada Admin", "Administrateur", nil},
		{"admin-security", "/security/events", "Événements de sécurité", "Alice Double", "Sécurité", nil},
		{"client-alpha", "/portal", "Votre espace client", "Carla Client", "Utilisateur client", append([]string{`href="/admin/accounts"`}, staffOnly...)},
		{"manager-alpha", "/portal", "Votre espace client", "Manon Manager", "Responsable client", staffOnly},
	}
	check := func(t *testing.T, c homeCase) {
		// The sign-in form leads to the home, and so does "/".
		b := f.signInForm(t, c.who)
		if at, _ := b.landing(t, b.get("/")); at != c.home {
			t.Errorf("%s: / leads to %q, want %q", c.who, at, c.home)
		}
		// The home, then the whole menu, from the page the form led to.
		at, home := b.landing(t, b.lastLogin)
		if at != c.home {
			t.Errorf("%s: the sign-in form leads to %q, want %q", c.who, at, c.home)
		}
		home.has(t, http.StatusOK, c.heading)
		// The header names the person and their role.
		who := whoBlock.FindString(home.body)
		if !strings.Contains(who, html.EscapeString(c.name)) || !strings.Contains(who, html.EscapeString(c.role)) {
			t.Errorf("%s: the header says %q, want %s and %s", c.who, who, c.name, c.role)
		}
		for _, ph := range c.lacks {
			if m := navBlock.FindString(home.body); strings.Contains(m, ph) {
				t.Errorf("%s: the menu shows %s", c.who, ph)
			}
		}
		links := navLinks(t, home)
		if len(links) < 2 {
			t.Errorf("%s: the menu has %d entries: %v", c.who, len(links), links)
		}
		for _, l := range links {
			if p := b.get(l); p.status != http.StatusOK {
				t.Errorf("%s: the menu entry %s answers %d, want 200", c.who, l, p.status)
			}
		}
		// Nor does any link of the home's own content lead to a refusal.
		for _, h := range hrefOf.FindAllStringSubmatch(regexp.MustCompile(`(?s)<main.*</main>`).FindString(home.body), -1) {
			l := html.UnescapeString(h[1])
			if strings.HasPrefix(l, "#") {
				continue
			}
			if p := b.get(l); p.status != http.StatusOK {
				t.Errorf("%s: the home links to %s, which answers %d", c.who, l, p.status)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.who, func(t *testing.T) { check(t, c) })
	}
	// The site's overview, out of a client's menu, still answers them, and
	// no link of it, nor of the line pages it leads to, answers a 403 or a
	// 404.
	cl := f.browserWith(t, "client-alpha", testPassword, "")
	mainLinks := func(p webPage) []string {
		var out []string
		for _, h := range hrefOf.FindAllStringSubmatch(regexp.MustCompile(`(?s)<main.*</main>`).FindString(p.body), -1) {
			if l := html.UnescapeString(h[1]); !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	site := cl.get("/site")
	site.has(t, http.StatusOK, "Test site")
	lines := 0
	for _, l := range mainLinks(site) {
		p := cl.get(l)
		if p.status != http.StatusOK {
			t.Errorf("a client's overview links to %s, which answers %d", l, p.status)
			continue
		}
		if !strings.HasPrefix(l, "/lines/") {
			continue
		}
		lines++
		p.has(t, http.StatusOK, "Équipements de la ligne")
		for _, ll := range mainLinks(p) {
			if st := cl.get(ll).status; st != http.StatusOK {
				t.Errorf("a client's line page links to %s, which answers %d", ll, st)
			}
		}
	}
	if lines == 0 {
		t.Error("the overview links to no line")
	}

	// The operator records the line clearance on its line: its home is
	// now that line's tablet page, in English too.
	op := f.browserWith(t, "operator", testPassword, "")
	line := "/floor/lines/" + f.line.ID
	if p := op.post(line+"/step", url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[0]}, "items": {"2"}, "check": {"0", "1"},
		"reason": {"Test slot two weeks ahead."}}); p.status != http.StatusSeeOther {
		t.Fatalf("the line clearance: status %d:\n%s", p.status, p.text)
	}
	t.Run("operator on its line", func(t *testing.T) {
		check(t, homeCase{"operator", line, f.line.Code, "Otto Operator", "Opérateur de production", nil})
		en := f.browserWith(t, "operator", testPassword, "en")
		at, p := en.landing(t, en.get("/"))
		if at != line {
			t.Errorf("in English / leads to %q, want %q", at, line)
		}
		p.has(t, http.StatusOK, "Production operator", "Otto Operator")
	})
}

// signedInBrowser is a browser signed in through the login form, with the
// form's answer.
type signedInBrowser struct {
	*webBrowser
	lastLogin webPage
}

// signInForm opens the login page as a person does, without a next page,
// and signs in with its form.
func (e *env) signInForm(t *testing.T, who string) signedInBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &webBrowser{t: t, e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login").has(t, http.StatusOK, `name="username"`)
	p := b.post("/login", url.Values{"username": {who}, "password": {testPassword}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("login %s: status %d:\n%s", who, p.status, p.text)
	}
	return signedInBrowser{webBrowser: b, lastLogin: p}
}

// seedAccounts records the accounts, with the test password, as the system.
func (e *env) seedAccounts(t *testing.T, accounts ...identity.Account) {
	t.Helper()
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, a := range accounts {
			if err := h.CreateAccount(&a, hash); err != nil {
				return err
			}
			e.accounts[a.Username] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHomeEquipmentPage: maintenance's home lists the equipment to clean,
// the equipment in maintenance, and the qualifications lapsed or lapsing
// within 30 days, the soonest first; clean equipment qualified for longer
// is not there. In English too.
func TestHomeEquipmentPage(t *testing.T) {
	e := newEnv(t, store.SQLite)
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		a := identity.Account{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}}
		if err := h.CreateAccount(&a, hash); err != nil {
			return err
		}
		for _, eq := range []site.Equipment{
			{Code: "E-DIRTY", Name: "Dirty filler", Kind: "filler", Status: site.EquipmentDirty, QualificationDue: day(400)},
			{Code: "E-MAINT", Name: "Capper under repair", Kind: "capper", Status: site.EquipmentMaintenance, QualificationDue: day(400)},
			{Code: "E-SOON", Name: "Washer due soon", Kind: "washer", Status: site.EquipmentClean, QualificationDue: day(10)},
			{Code: "E-LATE", Name: "Tunnel lapsed", Kind: "tunnel", Status: site.EquipmentClean, QualificationDue: day(-5)},
			{Code: "E-LATER", Name: "Balance due later", Kind: "balance", Status: site.EquipmentClean, QualificationDue: day(60)},
		} {
			eq.LineID = e.line.ID
			if err := e.db.Site().CreateEquipment(ctx, &eq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	section := func(p webPage, id string) string {
		t.Helper()
		m := regexp.MustCompile(`(?s)<section class="card" id="` + id + `".*?</section>`).FindString(p.body)
		if m == "" {
			t.Fatalf("the page has no list %q:\n%s", id, p.text)
		}
		return m
	}
	p := e.browserWith(t, "maintenance", testPassword, "").get("/equipment")
	p.has(t, http.StatusOK, "Équipements à traiter", "À nettoyer", "En maintenance", "Qualification échue ou à renouveler", "30 jours")
	for id, want := range map[string][]string{"dirty": {"E-DIRTY"}, "maintenance": {"E-MAINT"}, "due": {"E-LATE", "E-SOON"}} {
		s := section(p, id)
		last := -1
		for _, code := range want {
			i := strings.Index(s, code)
			if i < 0 {
				t.Errorf("the list %s lacks %s", id, code)
			}
			if i < last {
				t.Errorf("the list %s is not in order: %v", id, want)
			}
			last = i
		}
		for _, code := range []string{"E-DIRTY", "E-MAINT", "E-SOON", "E-LATE", "E-LATER"} {
			if !slices.Contains(want, code) && strings.Contains(s, code+"<") {
				t.Errorf("the list %s shows %s", id, code)
			}
		}
	}
	if !strings.Contains(section(p, "due"), "échue") {
		t.Error("the lapsed qualification is not marked")
	}
	if strings.Contains(p.body, "E-LATER") {
		t.Error("the page lists equipment qualified for two months more")
	}
	e.browserWith(t, "maintenance", testPassword, "en").get("/equipment").has(t, http.StatusOK, "Equipment to attend to", "To clean", "In maintenance", "overdue")
}
