package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"galenix/internal/identity"
)

// pageClock is a database clock the test moves; the server reads it.
type pageClock struct{ ns atomic.Int64 }

func (c *pageClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *pageClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// clocked gives the environment's database a clock the test moves, before
// any request.
func (e *pageEnv) clocked() *pageClock {
	c := &pageClock{}
	c.ns.Store(time.Now().UnixNano())
	e.db.Now = c.now
	return c
}

func (e *pageEnv) policy(t *testing.T, p identity.Policy) {
	t.Helper()
	err := setPolicy(identity.WithActor(context.Background(), identity.System), e.db, p)
	if err != nil {
		t.Fatal(err)
	}
}

// TestRateLimiter checks the token buckets: the burst, the refill, the
// token given back by a success, IPv6 networks, and the bound on entries.
func TestRateLimiter(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	l := newRateLimiter(10, 10, 3)
	l.now = func() time.Time { return at }
	for i := range 10 {
		if ok, _ := l.take("192.0.2.1"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := l.take("192.0.2.1")
	if ok || wait <= 0 || wait > 6*time.Second {
		t.Fatalf("11th attempt: %v, wait %v; want refused, a token in 6 s", ok, wait)
	}
	if ok, _ := l.take("192.0.2.2"); !ok {
		t.Error("another address is refused")
	}
	at = at.Add(6 * time.Second)
	if ok, _ := l.take("192.0.2.1"); !ok {
		t.Error("no token after 6 s")
	}
	if ok, _ := l.take("192.0.2.1"); ok {
		t.Error("two tokens after 6 s")
	}
	l.give("192.0.2.1")
	if ok, _ := l.take("192.0.2.1"); !ok {
		t.Error("the token given back is not there")
	}

	for range 10 {
		l.take("2001:db8::1")
	}
	if ok, _ := l.take("2001:db8::ffff"); ok {
		t.Error("another address of the same IPv6 /64 is not limited")
	}
	if got := limitKey("2001:db8:0:1::5"); got != "2001:db8:0:1::/64" {
		t.Errorf("IPv6 key %q", got)
	}
	if l.size() > 3 {
		t.Errorf("%d buckets kept, bound 3", l.size())
	}
	for i := range 50 {
		l.take("198.51.100." + string(rune('0'+i%10)) + string(rune('0'+i/10)))
	}
	if l.size() > 3 {
		t.Errorf("%d buckets kept after a flood of addresses, bound 3", l.size())
	}
}

// TestLoginRateLimit checks that sign-in attempts are limited per client
// address, the API and the login page alike: 429 after the burst from one
// address, others unaffected; successes cost nothing.
func TestLoginRateLimit(t *testing.T) {
	e := newPageEnv(t)
	at := time.Now()
	e.web.loginLimit.now = func() time.Time { return at }
	h := e.web.Handler()
	api := func(addr, user, pw string) *httptest.ResponseRecorder {
		body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
		req := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(string(body)))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	page := func(addr, user, pw string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"username": {user}, "password": {pw}}.Encode()))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	for i := range 12 {
		if r := api("192.0.2.1:4000", "operator", pageTestPassword); r.Code != http.StatusOK {
			t.Fatalf("sign-in %d: status %d; successes must not be limited", i+1, r.Code)
		}
	}
	for i := range 10 {
		if r := api("192.0.2.1:4000", "nobody", "guess"); r.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.Code)
		}
	}
	sys := identity.WithActor(context.Background(), identity.System)
	before, err := e.db.Count(sys, "security_events")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*httptest.ResponseRecorder{
		api("192.0.2.1:4001", "operator", pageTestPassword),
		api("192.0.2.1:4002", "nobody", "guess"),
	} {
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(r.Body.Bytes(), &body); err != nil || r.Code != http.StatusTooManyRequests || body.Error.Code != "rate_limited" || body.Error.Message == "" {
			t.Fatalf("over the limit: status %d, body %s", r.Code, r.Body)
		}
		if s := r.Header().Get("Retry-After"); s == "" || s == "0" {
			t.Errorf("Retry-After %q", s)
		}
	}
	r := page("192.0.2.1:4003", "operator", pageTestPassword)
	if r.Code != http.StatusTooManyRequests || !strings.Contains(r.Body.String(), "Trop de tentatives de connexion") {
		t.Fatalf("login page over the limit: status %d", r.Code)
	}
	if after, _ := e.db.Count(sys, "security_events"); after != before {
		t.Errorf("a refused attempt was recorded: %d security events, %d before", after, before)
	}
	if r := api("192.0.2.2:4000", "operator", pageTestPassword); r.Code != http.StatusOK {
		t.Errorf("another address: status %d, want 200", r.Code)
	}
	if r := page("192.0.2.2:4000", "operator", pageTestPassword); r.Code != http.StatusSeeOther {
		t.Errorf("another address, login page: status %d, want 303", r.Code)
	}
	at = at.Add(6 * time.Second)
	if r := api("192.0.2.1:4000", "operator", pageTestPassword); r.Code != http.StatusOK {
		t.Errorf("a token later: status %d, want 200", r.Code)
	}
}

// TestLoginShopfloorAndCode checks the login page's shared-device box and
// its second step: the code field shown when the account has a second
// factor.
func TestLoginShopfloorAndCode(t *testing.T) {
	e := newPageEnv(t)
	c := e.clocked()
	b := e.browser(t)
	b.get("/login").want(t, http.StatusOK, "Poste partagé d'atelier")

	p := b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}, "shopfloor": {"1"}})
	resp := http.Response{Header: p.header}
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie && (k.MaxAge != 0 || k.Expires.After(time.Now())) {
			t.Errorf("a shared device's cookie outlives the browser: %+v", k)
		}
	}
	b.get("/site").want(t, http.StatusOK, "Otto Opérateur")
	c.add(5*time.Minute + time.Second)
	if loc := b.get("/").location(t); !strings.HasPrefix(loc, "/login") {
		t.Errorf("a shop-floor session idle 5 minutes: went to %q, want the login page", loc)
	}

	// Set up the operator's second factor, then sign in in two steps.
	b = e.signedIn(t, "operator")
	p = b.post("/account/totp", url.Values{})
	p.want(t, http.StatusOK, "Clé secrète")
	secret := regexp.MustCompile(`<dd class="mono">([A-Z2-7]{32})</dd>`).FindStringSubmatch(p.body)
	if secret == nil || !strings.Contains(p.body, `src="data:image/png;base64,`) {
		t.Fatalf("the enrollment page shows no secret or no QR code:\n%s", p.body)
	}
	b.post("/account/totp/confirm", url.Values{"code": {"000000"}}).want(t, http.StatusBadRequest, "Le code est incorrect", secret[1])
	code, err := identity.TOTPCode(secret[1], c.now())
	if err != nil {
		t.Fatal(err)
	}
	if loc := b.post("/account/totp/confirm", url.Values{"code": {code}}).location(t); loc != "/account?saved=1" {
		t.Errorf("confirmed: went to %q", loc)
	}
	b.get("/account").want(t, http.StatusOK, "La double authentification est activée")

	b = e.browser(t)
	p = b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}})
	p.want(t, http.StatusUnauthorized, "Saisissez le code à 6 chiffres")
	if !strings.Contains(p.body, `name="totp"`) {
		t.Fatal("the code field is not shown")
	}
	b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}, "totp": {"999999"}}).
		want(t, http.StatusUnauthorized, "Le code est incorrect")
	// The confirmation used its code: it does not sign in; the next one does.
	b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}, "totp": {code}}).
		want(t, http.StatusUnauthorized, "Ce code a déjà été utilisé")
	c.add(30 * time.Second)
	if code, err = identity.TOTPCode(secret[1], c.now()); err != nil {
		t.Fatal(err)
	}
	if loc := b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}, "totp": {code}}).location(t); loc != "/" {
		t.Errorf("signed in with the code: went to %q", loc)
	}
}

// TestPendingPages checks the pages of a pending step: an expired password
// leads from the login to the change, every other page refusing with 403
// until it is done; an administrator is led to set up the second factor.
func TestPendingPages(t *testing.T) {
	e := newPageEnv(t)
	c := e.clocked()
	p := identity.DefaultPolicy()
	p.MaxAge = 30 * 24 * time.Hour
	e.policy(t, p)
	c.add(31 * 24 * time.Hour)

	b := e.browser(t)
	loc := b.post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}, "next": {"/people"}}).location(t)
	if loc != "/account/password?next=%2Fpeople" {
		t.Fatalf("expired password: went to %q", loc)
	}
	for _, path := range []string{"/", "/people", "/account", "/account/totp"} {
		pg := b.get(path)
		pg.want(t, http.StatusForbidden, "Votre mot de passe a expiré", "Y aller")
		if !strings.Contains(pg.body, `href="/account/password"`) {
			t.Errorf("GET %s: no link to the change", path)
		}
	}
	b.get(loc).want(t, http.StatusOK, "Changer mon mot de passe", "Votre mot de passe a expiré", "Au moins 12 caractères")
	b.post("/account/password", url.Values{"current": {pageTestPassword}, "new": {"une-phrase-assez-longue"}, "confirm": {"autre-chose"}, "next": {"/people"}}).
		want(t, http.StatusBadRequest, "Les deux nouveaux mots de passe diffèrent.")
	b.post("/account/password", url.Values{"current": {pageTestPassword}, "new": {"azerty123456"}, "confirm": {"azerty123456"}, "next": {"/people"}}).
		want(t, http.StatusBadRequest, "trop courant")
	if loc := b.post("/account/password", url.Values{"current": {pageTestPassword}, "new": {"une-phrase-assez-longue"}, "confirm": {"une-phrase-assez-longue"}, "next": {"/people"}}).location(t); loc != "/people" {
		t.Errorf("changed: went to %q, want the page first asked for", loc)
	}
	b.get("/people").want(t, http.StatusOK, "Personnel")

	// An administrator without a second factor, where the policy asks one.
	p.AdminTOTP = true
	e.policy(t, p)
	c.add(-31 * 24 * time.Hour)
	b = e.browser(t)
	if loc := b.post("/login", url.Values{"username": {"admin"}, "password": {pageTestPassword}}).location(t); loc != "/account/totp?next=%2F" {
		t.Fatalf("admin without a second factor: went to %q", loc)
	}
	b.get("/").want(t, http.StatusForbidden, "Configurez d'abord votre second facteur")
	b.get("/account/totp?next=%2F").want(t, http.StatusOK, "Les administrateurs doivent activer la double authentification", "Commencer")
	pg := b.post("/account/totp", url.Values{"next": {"/"}})
	secret := regexp.MustCompile(`<dd class="mono">([A-Z2-7]{32})</dd>`).FindStringSubmatch(pg.body)
	if secret == nil {
		t.Fatalf("no secret:\n%s", pg.text)
	}
	code, _ := identity.TOTPCode(secret[1], c.now())
	if loc := b.post("/account/totp/confirm", url.Values{"code": {code}, "next": {"/"}}).location(t); loc != "/" {
		t.Errorf("confirmed: went to %q", loc)
	}
	b.get("/site").want(t, http.StatusOK, "Site de test")
}

// TestAccountPage checks "my account": the sessions open, and signing out
// everywhere.
func TestAccountPage(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "operator")
	other := e.signedIn(t, "operator")
	p := b.get("/account")
	p.want(t, http.StatusOK, "Mon compte", "Otto Opérateur", "operator", "Opérateur de production", "Changer mon mot de passe", "Double authentification",
		"Sessions ouvertes", "cette session", "Se déconnecter partout", "N'expire pas")
	if n := strings.Count(p.body, "<tr>"); n != 3 {
		t.Errorf("%d table rows, want the head and two sessions", n)
	}
	if !strings.Contains(b.get("/site").body, `<a class="who" href="/account"`) {
		t.Error("the name in the header is no link to the account page")
	}
	if loc := b.post("/account/sessions/revoke-all", url.Values{}).location(t); loc != "/login" {
		t.Errorf("signed out everywhere: went to %q", loc)
	}
	for _, br := range []*browser{b, other} {
		if loc := br.get("/account").location(t); !strings.HasPrefix(loc, "/login") {
			t.Errorf("after signing out everywhere: went to %q", loc)
		}
	}
	b = e.signedIn(t, "operator")
	b.post("/account/password", url.Values{"current": {"wrong"}, "new": {"x"}, "confirm": {"x"}}).want(t, http.StatusBadRequest, "Le mot de passe actuel est incorrect.")
	if loc := b.post("/account/password", url.Values{"current": {pageTestPassword}, "new": {"une-phrase-assez-longue"}, "confirm": {"une-phrase-assez-longue"}}).location(t); loc != "/account?saved=1" {
		t.Errorf("changed: went to %q", loc)
	}
	b.get("/account?saved=1").want(t, http.StatusOK, "Modifications enregistrées.")
}

// TestSecurityEventsPage checks the security role's page: the events, in
// French first, those nobody acknowledged first, and acknowledging one.
func TestSecurityEventsPage(t *testing.T) {
	e := newPageEnv(t)
	for _, u := range []string{"operator", "inconnu"} {
		e.browser(t).post("/login", url.Values{"username": {u}, "password": {"devinette"}})
	}
	b := e.signedIn(t, "admin")
	p := b.get("/security/events")
	p.want(t, http.StatusOK, "Événements de sécurité", "Identifiant inconnu", "Mot de passe erroné", "inconnu", "127.0.0.1", "À prendre en compte : 2.")
	if !strings.Contains(p.body, `href="/security/events"`) {
		t.Error("the navigation has no link to the security events")
	}
	ids := regexp.MustCompile(`action="/security/events/([0-9a-f-]{36})/acknowledge"`).FindAllStringSubmatch(p.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d acknowledge buttons, want 2", len(ids))
	}
	// The account a wrong password was typed for opens from its event;
	// a username no account has is no link.
	if n := len(regexp.MustCompile(`<a class="mono" href="/admin/accounts/[0-9a-f-]{36}">operator</a>`).FindAllString(p.body, -1)); n != 1 {
		t.Errorf("%d links to the operator's account, want 1", n)
	}
	if strings.Contains(p.body, `">inconnu</a>`) {
		t.Error("an unknown username links to an account")
	}
	// The newest, the unknown username's, acknowledged goes after the other.
	table := p.body[strings.Index(p.body, "<table"):]
	if strings.Index(table, "Identifiant inconnu") > strings.Index(table, "Mot de passe erroné") {
		t.Error("the newest event is not first")
	}
	if loc := b.post("/security/events/"+ids[0][1]+"/acknowledge", url.Values{}).location(t); loc != "/security/events?saved=1" {
		t.Errorf("acknowledged: went to %q", loc)
	}
	p = b.get("/security/events")
	p.want(t, http.StatusOK, "À prendre en compte : 1.", "par admin le")
	table = p.body[strings.Index(p.body, "<table"):]
	if strings.Index(table, "Identifiant inconnu") < strings.Index(table, "Mot de passe erroné") {
		t.Error("the acknowledged event is not after the other")
	}

	// Filtered by kind, and to those still to acknowledge: the wrong
	// password only; acknowledging it comes back to the same filter.
	p = b.get("/security/events?kind=login_failed&open=1")
	p.want(t, http.StatusOK, "À prendre en compte : 1.")
	if !strings.Contains(p.body, `<option value="login_failed" selected>`) || !strings.Contains(p.body, `name="open" value="1" checked`) {
		t.Error("the filter's form does not show the filter chosen")
	}
	table = p.body[strings.Index(p.body, "<table"):]
	if strings.Contains(table, "Identifiant inconnu") || !strings.Contains(table, "Mot de passe erroné") {
		t.Error("the filter by kind shows another kind")
	}
	if loc := b.post("/security/events/"+ids[1][1]+"/acknowledge", url.Values{"filter": {"kind=login_failed&open=1"}}).location(t); loc != "/security/events?kind=login_failed&open=1&saved=1" {
		t.Errorf("acknowledged from the filter: went to %q", loc)
	}
	b.get("/security/events?kind=login_failed&open=1").want(t, http.StatusOK, "À prendre en compte : 0.", "Aucun événement de sécurité.")
	b.get("/security/events?kind=intrusion").want(t, http.StatusBadRequest, "Le type d'événement doit être l'un de")
	// By days: none after, none before, both within.
	b.get("/security/events?from=2099-01-01").want(t, http.StatusOK, "Aucun événement de sécurité.")
	b.get("/security/events?to=2000-01-01").want(t, http.StatusOK, "Aucun événement de sécurité.")
	p = b.get("/security/events?from=2000-01-01&to=2099-12-31")
	if n := strings.Count(p.body, `<tr>`) - 1; n != 2 {
		t.Errorf("%d events between 2000 and 2099, want 2", n)
	}
	if !strings.Contains(p.body, `name="from" type="date" value="2000-01-01"`) {
		t.Error("the filter's form does not show the day chosen")
	}
	b.get("/security/events?from=hier").want(t, http.StatusBadRequest, "AAAA-MM-JJ")
	b.post("/security/events/"+ids[0][1]+"/acknowledge", url.Values{}).want(t, http.StatusConflict, "déjà été pris en compte")

	op := e.signedIn(t, "operator")
	op.get("/security/events").want(t, http.StatusForbidden, "Seuls la sécurité et les administrateurs")
	if strings.Contains(op.get("/site").body, `href="/security/events"`) {
		t.Error("an operator is shown the security events link")
	}
}

// TestSignInCatalogue checks the labels of the security events' kinds and
// of the kinds of session, which the templates ask for by value.
func TestSignInCatalogue(t *testing.T) {
	var keys []string
	for _, k := range identity.EventKinds {
		keys = append(keys, "secevent.kind."+k)
	}
	for _, d := range []string{identity.DeviceBrowser, identity.DeviceShopfloor, identity.DeviceAPI} {
		keys = append(keys, "device."+d)
	}
	for _, k := range keys {
		if !hasMsg(k) {
			t.Errorf("the catalogue lacks %q", k)
		}
	}
	for p := range pendingRoutes {
		if pendingPage[p] == "" || !pendingAllows(p, "GET "+pendingPage[p]) {
			t.Errorf("pending %q: its page %q is not among its routes", p, pendingPage[p])
		}
	}
}

// TestAccountUnlockPage: five wrong passwords lock the operator's account;
// the administrator, led from the lock's security event to the account,
// sees it locked; an unlock without a reason is refused and changes
// nothing; one with its reason ends the lock, audited, and the operator
// signs in again.
func TestAccountUnlockPage(t *testing.T) {
	e := newPageEnv(t)
	for range 5 {
		e.browser(t).post("/login", url.Values{"username": {"operator"}, "password": {"devinette"}})
	}
	if p := e.browser(t).post("/login", url.Values{"username": {"operator"}, "password": {pageTestPassword}}); p.status == http.StatusSeeOther {
		t.Fatal("the operator signed in while locked")
	}
	b := e.signedIn(t, "admin")
	m := regexp.MustCompile(`href="/admin/accounts/([0-9a-f-]{36})">operator<`).FindStringSubmatch(b.get("/security/events?kind=account_locked").body)
	if m == nil {
		t.Fatal("the lock's event does not lead to the operator's account")
	}
	acc := "/admin/accounts/" + m[1]
	b.get(acc).want(t, http.StatusOK, "Verrouillé", "le compte est verrouillé jusqu'au", "Déverrouiller le compte")

	b.post(acc+"/unlock", url.Values{"reason": {" "}}).want(t, http.StatusBadRequest, "Indiquez pourquoi", "le compte est verrouillé jusqu'au")
	b.get(acc).want(t, http.StatusOK, "le compte est verrouillé jusqu'au")

	if loc := b.post(acc+"/unlock", url.Values{"reason": {"Otto au téléphone, reconnu par son chef d'équipe"}}).location(t); loc != acc+"?saved=1" {
		t.Errorf("unlocked: went to %q", loc)
	}
	p := b.get(acc)
	p.want(t, http.StatusOK, "Déverrouillage d'un compte", "Otto au téléphone, reconnu par son chef d'équipe")
	if strings.Contains(p.text, "verrouillé jusqu'au") || strings.Contains(p.body, `action="`+acc+`/unlock"`) {
		t.Error("the account is still shown locked")
	}
	e.signedIn(t, "operator")
}
