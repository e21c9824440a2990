package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// navLinks are the addresses of the header's menu, and the person's own
// page beside it.
var (
	navBlock = regexp.MustCompile(`(?s)<nav class="nav"[^>]*>(.*?)</nav>`)
	hrefOf   = regexp.MustCompile(`href="([^"]+)"`)
	whoLink  = regexp.MustCompile(`<a class="who" href="([^"]+)"`)
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
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, a := range []identity.Account{
			{Username: "lab", Name: "Laure Labo", Roles: []identity.Role{identity.RoleLab}},
			{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}},
			{Username: "security", Name: "Serge Sécurité", Roles: []identity.Role{identity.RoleSecurity}},
			{Username: "admin-security", Name: "Alice Double", Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity}},
			{Username: "manager-alpha", Name: "Manon Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: f.alpha.ID},
		} {
			if err := h.CreateAccount(&a, hash); err != nil {
				return err
			}
			f.accounts[a.Username] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
		{"client-alpha", "/batches", "Lots de fabrication", "Carla Client", "Utilisateur client", append([]string{`href="/admin/accounts"`}, staffOnly...)},
		{"manager-alpha", "/batches", "Lots de fabrication", "Manon Manager", "Responsable client", staffOnly},
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
		home.has(t, http.StatusOK, c.heading, c.name, c.role)
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
	}
	for _, c := range cases {
		t.Run(c.who, func(t *testing.T) { check(t, c) })
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
