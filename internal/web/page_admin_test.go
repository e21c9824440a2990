package web_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
)

// webPage is a page as a browser gets it.
type webPage struct {
	status   int
	location string
	body     string
	// text is the body without markup, its entities decoded.
	text string
}

var markup = regexp.MustCompile(`<[^>]*>`)
var blanks = regexp.MustCompile(`\s+`)

// has fails the test unless the page has the status and every phrase.
func (p webPage) has(t *testing.T, status int, phrases ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d:\n%s", p.status, status, p.text)
	}
	for _, ph := range phrases {
		if !strings.Contains(p.text, ph) && !strings.Contains(p.body, ph) {
			t.Errorf("the page lacks %q:\n%s", ph, p.text)
		}
	}
}

// webBrowser is a signed-in browser: a cookie jar, no redirects followed.
type webBrowser struct {
	t *testing.T
	e *env
	c *http.Client
}

func (e *env) adminBrowser(t *testing.T, who, lang string) *webBrowser {
	t.Helper()
	return e.browserWith(t, who, testPassword, lang)
}

// browserWith is a browser signed in with the password, in the language.
func (e *env) browserWith(t *testing.T, who, password, lang string) *webBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &webBrowser{t: t, e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	u, _ := url.Parse(e.srv.URL)
	if lang != "" {
		jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang}})
	}
	if p := b.post("/login", url.Values{"username": {who}, "password": {password}}); p.status != http.StatusSeeOther {
		t.Fatalf("login %s: status %d:\n%s", who, p.status, p.text)
	}
	return b
}

func (b *webBrowser) do(req *http.Request) webPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := blanks.ReplaceAllString(html.UnescapeString(markup.ReplaceAllString(string(body), " ")), " ")
	return webPage{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), text: text}
}

func (b *webBrowser) get(path string) webPage {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

func (b *webBrowser) post(path string, form url.Values) webPage {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// TestAdminPages walks the administration pages as an administrator, in
// French first: accounts, their changes, client assignments and machine
// tokens; each refusal shows the form again, says why and writes nothing.
func TestAdminPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		b := e.adminBrowser(t, "admin", "")
		b.get("/admin/accounts").has(t, http.StatusOK, "Administration", `href="/admin/accounts"`, "Comptes", "Nouveau compte",
			"client-alpha", "Alpha Laboratories", "Utilisateur client", "Personnel du site", "Affectations aux clients", "Jetons d'API")
		b.get("/admin/accounts/new").has(t, http.StatusOK, "Nouveau compte", "Identifiant", "Mot de passe initial", "Opérateur de production",
			"Responsable client", `type="password"`)

		form := url.Values{"username": {"bruno"}, "name": {"Bruno Petit"}, "roles": {"operator", "lab"}, "password": {"short"}, "client_id": {""}}
		before := e.adminSnapshot(t)
		p := b.post("/admin/accounts", form)
		p.has(t, http.StatusBadRequest, "au moins 12 caractères", "Bruno Petit")
		if strings.Contains(p.body, `value="short"`) {
			t.Error("the refused form shows the password typed")
		}
		e.adminUnchanged(t, before)

		form.Set("password", adminPassword)
		p = b.post("/admin/accounts", form)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/admin/accounts/") {
			t.Fatalf("create: status %d, location %q:\n%s", p.status, p.location, p.text)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(p.location, "/admin/accounts/"), "?saved=1")
		b.get(p.location).has(t, http.StatusOK, "Modifications enregistrées.", "bruno", "Bruno Petit", "Opérateur de production",
			"Laboratoire de contrôle qualité", "Mot de passe galenix", "Création d'un compte", "Ada Admin", "Affecté aux clients", "Retirer le compte")

		t.Run("edit", func(t *testing.T) {
			b.get("/admin/accounts/"+id+"/edit").has(t, http.StatusOK, "Modifier le compte", "Compte actif", "Raison de la modification")
			change := url.Values{"version": {"1"}, "name": {"Bruno Petit"}, "roles": {"supervisor"}, "active": {"on"}}
			before := e.adminSnapshot(t)
			b.post("/admin/accounts/"+id, change).has(t, http.StatusBadRequest, "une raison est exigée")
			e.adminUnchanged(t, before)
			change.Set("reason", "promoted")
			if p := b.post("/admin/accounts/"+id, change); p.status != http.StatusSeeOther {
				t.Fatalf("edit: %d\n%s", p.status, p.text)
			}
			b.get("/admin/accounts/"+id).has(t, http.StatusOK, "Superviseur de production", "Modification d'un compte", "promoted")
		})

		t.Run("assignments", func(t *testing.T) {
			// The admin is assigned to beta: they see the trail of beta's
			// grants (an entry about a client is for that client's scope).
			if p := b.post("/admin/assignments", url.Values{"account_id": {id}, "client_id": {e.beta.ID}, "reason": {"Beta launch"}}); p.status != http.StatusSeeOther {
				t.Fatalf("assign: %d\n%s", p.status, p.text)
			}
			b.get("/admin/accounts/"+id).has(t, http.StatusOK, "Beta Pharma", "Affectation d'un compte à un client", "Beta launch")
			b.get("/admin/assignments").has(t, http.StatusOK, "bruno", "admin", "Beta Pharma")
			if p := b.get("/admin/assignments?client_id=" + e.alpha.ID); strings.Contains(p.text, "bruno") {
				t.Error("the assignments of alpha list bruno, assigned to beta")
			}
			items := e.call(t, "admin", "GET", "/api/v1/assignments?account_id="+id, nil).items(t)
			asg := items[0]["id"].(string)
			before := e.adminSnapshot(t)
			b.post("/admin/assignments/"+asg+"/withdraw", url.Values{"reason": {""}}).has(t, http.StatusBadRequest, "une raison est exigée")
			e.adminUnchanged(t, before)
			if p := b.post("/admin/assignments/"+asg+"/withdraw", url.Values{"reason": {"launch over"}, "back": {"list"}}); p.status != http.StatusSeeOther || p.location != "/admin/assignments?saved=1" {
				t.Fatalf("unassign: %d %q\n%s", p.status, p.location, p.text)
			}
			b.get("/admin/accounts/"+id).has(t, http.StatusOK, "Fin de l'affectation d'un compte à un client", "launch over", "Aucune affectation.")
		})

		t.Run("password and withdrawal", func(t *testing.T) {
			before := e.adminSnapshot(t)
			b.post("/admin/accounts/"+id+"/password", url.Values{"password": {"short"}, "reason": {"lost"}}).has(t, http.StatusBadRequest, "au moins 12 caractères")
			e.adminUnchanged(t, before)
			if p := b.post("/admin/accounts/"+id+"/password", url.Values{"password": {adminPassword + "?"}, "reason": {"lost"}}); p.status != http.StatusSeeOther {
				t.Fatalf("reset: %d\n%s", p.status, p.text)
			}
			b.post("/admin/accounts/"+id+"/withdraw", url.Values{"reason": {""}}).has(t, http.StatusBadRequest, "une raison est exigée")
			if p := b.post("/admin/accounts/"+id+"/withdraw", url.Values{"reason": {"left"}}); p.status != http.StatusSeeOther {
				t.Fatalf("withdraw: %d\n%s", p.status, p.text)
			}
			p := b.get("/admin/accounts/" + id)
			p.has(t, http.StatusOK, "Retiré", "Retrait d'un compte", "left")
			if strings.Contains(p.body, `action="/admin/accounts/`+id+`/withdraw"`) {
				t.Error("a withdrawn account still offers its withdrawal")
			}
		})

		t.Run("tokens", func(t *testing.T) {
			b.get("/admin/tokens").has(t, http.StatusOK, "Jetons d'API", "Gateway B30", "site:read", "Actif", "Nouveau jeton d'API")
			b.get("/admin/tokens/new").has(t, http.StatusOK, "Nom de la machine", "Portées", "telemetry:write", "access:write", "Expire le")
			before := e.adminSnapshot(t)
			b.post("/admin/tokens", url.Values{"name": {"Reader"}, "expires_on": {"2001-01-01"}, "scopes": {"access:write"}}).
				has(t, http.StatusBadRequest, "L'expiration doit être dans le futur.")
			b.post("/admin/tokens", url.Values{"name": {"Reader"}}).has(t, http.StatusBadRequest, "Un jeton doit avoir au moins une portée.")
			e.adminUnchanged(t, before)
			p := b.post("/admin/tokens", url.Values{"name": {"Reader gate 2"}, "scopes": {"access:write"}, "expires_on": {"2099-12-31"}})
			p.has(t, http.StatusOK, "Jeton d'API créé", "Copiez ce secret maintenant", "31/12/2099")
			secret := regexp.MustCompile(`gxm_[A-Za-z0-9_-]{43}`).FindString(p.body)
			if secret == "" {
				t.Fatalf("the page does not show the secret:\n%s", p.body)
			}
			list := b.get("/admin/tokens")
			list.has(t, http.StatusOK, "Reader gate 2")
			if strings.Contains(list.body, secret[4:]) {
				t.Error("the list shows a token's secret")
			}
			var id string
			for _, it := range e.call(t, "admin", "GET", "/api/v1/tokens", nil).items(t) {
				if it["name"] == "Reader gate 2" {
					id = it["id"].(string)
					// It stops working as the day chosen begins, in Paris.
					if it["expires_at"] != "2099-12-30T23:00:00Z" {
						t.Errorf("expires_at %v, want the start of 31/12/2099 in Paris", it["expires_at"])
					}
				}
			}
			b.post("/admin/tokens/"+id+"/revoke", url.Values{"reason": {""}}).has(t, http.StatusBadRequest, "une raison est exigée")
			if p := b.post("/admin/tokens/"+id+"/revoke", url.Values{"reason": {"reader replaced"}}); p.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d\n%s", p.status, p.text)
			}
			b.get("/admin/tokens").has(t, http.StatusOK, "Révoqué")
		})

		t.Run("in English", func(t *testing.T) {
			en := e.adminBrowser(t, "admin", "en")
			en.get("/admin/accounts").has(t, http.StatusOK, "Accounts", "New account", "Client user", "Site staff")
			en.get("/admin/tokens").has(t, http.StatusOK, "API tokens", "Revoke")
		})
	})
}

// TestAdminPagesRefused: the administration pages refuse those who may not
// see them, 403 — and 404 for an account out of sight — and a refused form
// writes nothing; the navigation shows the link only to those who may.
func TestAdminPagesRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		op := e.adminBrowser(t, "operator", "")
		if p := op.get("/site"); strings.Contains(p.body, `href="/admin/accounts"`) {
			t.Error("the operator's navigation shows the administration")
		}
		for _, path := range []string{"/admin/accounts", "/admin/accounts/new", "/admin/tokens", "/admin/tokens/new", "/admin/assignments"} {
			op.get(path).has(t, http.StatusForbidden, "Accès refusé")
		}
		op.get("/admin/accounts/"+e.accounts["admin"].ID).has(t, http.StatusNotFound, "Page introuvable")
		before := e.adminSnapshot(t)
		for _, rq := range []struct {
			path string
			form url.Values
		}{
			{"/admin/accounts", url.Values{"username": {"x"}, "name": {"X"}, "roles": {"admin"}, "password": {adminPassword}}},
			{"/admin/tokens", url.Values{"name": {"x"}, "scopes": {"site:read"}}},
			{"/admin/tokens/" + e.machine.ID + "/revoke", url.Values{"reason": {"x"}}},
			{"/admin/assignments", url.Values{"account_id": {e.accounts["operator"].ID}, "client_id": {e.alpha.ID}}},
		} {
			if p := op.post(rq.path, rq.form); p.status != http.StatusForbidden && p.status != http.StatusNotFound {
				t.Errorf("POST %s as the operator: status %d", rq.path, p.status)
			}
		}
		e.adminUnchanged(t, before)

		cl := e.adminBrowser(t, "client-alpha", "")
		cl.get("/admin/accounts").has(t, http.StatusForbidden, "Accès refusé")
		cl.get("/admin/accounts/"+e.accounts["operator"].ID).has(t, http.StatusNotFound, "Page introuvable")
		cl.get("/admin/accounts/"+e.accounts["client-alpha"].ID+"/edit").has(t, http.StatusNotFound, "Page introuvable")
	})
}

// TestClientManagerPages: a client manager manages their own laboratory's
// users through the same pages, and sees nothing else.
func TestClientManagerPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		if r := e.createAccount(t, "admin", map[string]any{"username": "manager-alpha", "name": "Mia Manager",
			"roles": []string{"client_manager"}, "client_id": e.alpha.ID, "password": adminPassword}); r.status != http.StatusCreated {
			t.Fatalf("create the manager: %d %s", r.status, r.body)
		}
		m := e.browserWith(t, "manager-alpha", adminPassword, "")
		m.get("/batches").has(t, http.StatusOK, `href="/admin/accounts"`)
		p := m.get("/admin/accounts")
		p.has(t, http.StatusOK, "client-alpha", "Mia Manager", "Nouveau compte")
		for _, hidden := range []string{e.accounts["operator"].ID, e.accounts["admin"].ID, `href="/admin/tokens"`, `href="/admin/assignments"`, "Beta Pharma"} {
			if strings.Contains(p.body, hidden) {
				t.Errorf("the manager's list shows %q", hidden)
			}
		}
		p = m.get("/admin/accounts/new")
		p.has(t, http.StatusOK, "Utilisateur client", "Alpha Laboratories")
		// The form, not the header, which names the manager's own role.
		form := p.body[strings.Index(p.body, `<main`):]
		for _, hidden := range []string{"Administrateur", "Responsable client", "Beta Pharma", "Personnel du site"} {
			if strings.Contains(form, hidden) {
				t.Errorf("the manager's form offers %q", hidden)
			}
		}
		p = m.post("/admin/accounts", url.Values{"username": {"user-alpha2"}, "name": {"Ulla Alpha"}, "roles": {"client_user"},
			"client_id": {e.alpha.ID}, "password": {adminPassword}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.status, p.text)
		}
		page := m.get(p.location)
		page.has(t, http.StatusOK, "user-alpha2", "Alpha Laboratories", "Retirer le compte", "Création d'un compte")
		for _, hidden := range []string{"Modifier le compte", "Réinitialiser le mot de passe", "Affecté aux clients"} {
			if strings.Contains(page.text, hidden) {
				t.Errorf("the manager's account page offers %q", hidden)
			}
		}
		before := e.adminSnapshot(t)
		m.post("/admin/accounts", url.Values{"username": {"x"}, "name": {"X"}, "roles": {"client_user"}, "client_id": {e.beta.ID},
			"password": {adminPassword}}).has(t, http.StatusForbidden, "Un responsable client ne peut créer")
		e.adminUnchanged(t, before)
		id := strings.TrimSuffix(strings.TrimPrefix(p.location, "/admin/accounts/"), "?saved=1")
		if p := m.post("/admin/accounts/"+id+"/withdraw", url.Values{"reason": {"left Alpha"}}); p.status != http.StatusSeeOther {
			t.Fatalf("withdraw: %d\n%s", p.status, p.text)
		}
		m.get("/admin/accounts/"+id).has(t, http.StatusOK, "Retiré", "left Alpha")
		m.get("/admin/accounts/"+e.accounts["operator"].ID).has(t, http.StatusNotFound, "Page introuvable")
		m.get("/admin/tokens").has(t, http.StatusForbidden, "Accès refusé")
	})
}

// TestAdminAuditKeyFingerprint: the administrator's accounts page shows the
// fingerprint of the site's audit signing key, in French and in English, so
// that it can be given to clients out of band; a client manager, on the same
// page, does not see it, nor does anyone when no key is served.
func TestAdminAuditKeyFingerprint(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.adminBrowser(t, "admin", "").get("/admin/accounts").has(t, http.StatusOK, "Comptes")
		if p := e.adminBrowser(t, "admin", "").get("/admin/accounts"); strings.Contains(p.body, `id="audit-key"`) {
			t.Error("the page shows a key section without a key")
		}
		key := withAuditKey(t, e)
		fp := audit.KeyFingerprintOf(key)
		grouped := regexp.MustCompile(`SHA-256 ((?:[0-9a-f]{8} ){7}[0-9a-f]{8})`)
		for lang, words := range map[string]string{"": "Clé de signature du journal d'audit", "en": "Audit trail signing key"} {
			p := e.adminBrowser(t, "admin", lang).get("/admin/accounts")
			p.has(t, http.StatusOK, words, "galenix audit key")
			m := grouped.FindStringSubmatch(p.text)
			if m == nil || strings.ReplaceAll(m[1], " ", "") != fp {
				t.Errorf("%s: the page shows %q, want the fingerprint %s:\n%s", lang, m, fp, p.text)
			}
		}
		if r := e.createAccount(t, "admin", map[string]any{"username": "manager-alpha", "name": "Mia Manager",
			"roles": []string{"client_manager"}, "client_id": e.alpha.ID, "password": adminPassword}); r.status != http.StatusCreated {
			t.Fatalf("create the manager: %d %s", r.status, r.body)
		}
		p := e.browserWith(t, "manager-alpha", adminPassword, "").get("/admin/accounts")
		p.has(t, http.StatusOK, "Mia Manager")
		if strings.Contains(p.body, fp[:8]) || strings.Contains(p.body, `id="audit-key"`) {
			t.Error("a client manager's accounts page shows the site's key")
		}
	})
}
