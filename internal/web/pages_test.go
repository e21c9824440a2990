package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/text"
)

const pageTestPassword = "correct horse battery staple"

// pageHash is the seeded accounts' hash: argon2id in the PHC format
// galenix writes, at the least cost its check accepts, as the API suite's
// (passwordHash). A key at the real cost takes seconds under the race
// detector, and the page tests sign in dozens of times; identity's and the
// store's tests check real hashes, and a password set through the pages is
// still hashed at the real cost.
var pageHash = sync.OnceValues(func() (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	hash := "$argon2id$v=19$m=8,t=1,p=1$" + b64.EncodeToString(salt) + "$" +
		b64.EncodeToString(argon2.IDKey([]byte(pageTestPassword), salt, 1, 8, 1, 16))
	if !identity.CheckPassword(hash, pageTestPassword) || identity.CheckPassword(hash, pageTestPassword+"!") {
		return "", fmt.Errorf("identity does not check the test hash %s as galenix's own", hash)
	}
	return hash, nil
})

// pageEnv is a galenix serving its pages from a fresh, seeded SQLite
// database.
type pageEnv struct {
	db  *store.DB
	srv *httptest.Server
	web *Server

	b30, b40      site.Building
	roomB, roomD  site.Room // grade B and grade D, in b30
	roomN         site.Room // CNC, in b40
	sterile, tabs site.Line // a sterile line in roomB, a non-sterile one in roomN
	filler        site.Equipment
	overdue       site.Equipment
	team          site.Team
}

// setPolicy sets the site's sign-in policy through the identity service,
// as the system.
func setPolicy(ctx context.Context, db *store.DB, p identity.Policy) error {
	_, err := db.Identity().SetSignInPolicy(ctx, p, "test: the sign-in policy the test needs")
	return err
}

// people is how many people the seed records: more than one page.
const seedPeople = 60

// testSecretKey is the key of the second-factor secrets of the test
// databases.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef")

func newPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: storetest.DataDir(t), SecretKey: testSecretKey})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	hash, err := pageHash()
	if err != nil {
		t.Fatal(err)
	}
	e := &pageEnv{db: db}
	err = db.WriteHistory(identity.WithActor(ctx, identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		e.b30 = site.Building{Code: "B30", Name: "Bâtiment 30", Role: site.RoleSterileProduction}
		e.b40 = site.Building{Code: "B40", Name: "Bâtiment 40", Role: site.RoleProduction}
		e.roomB = site.Room{Code: "B30-B01", Name: "Remplissage aseptique", Grade: site.GradeB, TempMin: 18, TempMax: 22, HumidityMin: 35, HumidityMax: 55}
		e.roomD = site.Room{Code: "B30-D01", Name: "Couloir propre", Grade: site.GradeD, TempMin: 18, TempMax: 24.5, HumidityMin: 30, HumidityMax: 60}
		e.roomN = site.Room{Code: "B40-N01", Name: "Compression", Grade: site.GradeCNC, TempMin: 18, TempMax: 25, HumidityMin: 30, HumidityMax: 65}
		e.sterile = site.Line{Code: "L30-01", Name: "Ligne flacons 1", Sterile: true, Forms: []site.Form{site.FormVial, site.FormSyringe}, Status: site.LineRunning, CapacityPerHour: 12000}
		e.tabs = site.Line{Code: "L40-01", Name: "Ligne comprimés 1", Forms: []site.Form{site.FormTablet}, Status: site.LineCleaning, CapacityPerHour: 90000}
		e.filler = site.Equipment{Code: "L30-01-E1", Name: "Remplisseuse", Kind: "remplisseuse", QualificationDue: time.Date(2099, 3, 31, 0, 0, 0, 0, time.UTC)}
		e.overdue = site.Equipment{Code: "L30-01-E2", Name: "Autoclave", Kind: "autoclave", Status: site.EquipmentDirty, QualificationDue: time.Date(2020, 1, 15, 0, 0, 0, 0, time.UTC)}
		shift := site.Shift{Code: "JOUR", Name: "Équipe de jour", Kind: site.ShiftDay, Start: "06:00", End: "14:00"}
		e.team = site.Team{Code: "T30-A", Name: "Équipe A"}
		steps := []func() error{
			func() error {
				return db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Site de test", Timezone: "Europe/Paris"})
			},
			func() error { return db.Site().CreateBuilding(ctx, &e.b30) },
			func() error { return db.Site().CreateBuilding(ctx, &e.b40) },
			func() error { e.roomD.BuildingID = e.b30.ID; return db.Site().CreateRoom(ctx, &e.roomD) },
			func() error {
				e.roomB.BuildingID, e.roomB.CascadesTo, e.roomB.PressureDiffPa = e.b30.ID, e.roomD.ID, 15
				return db.Site().CreateRoom(ctx, &e.roomB)
			},
			func() error { e.roomN.BuildingID = e.b40.ID; return db.Site().CreateRoom(ctx, &e.roomN) },
			func() error { e.sterile.RoomID = e.roomB.ID; return db.Site().CreateLine(ctx, &e.sterile) },
			func() error { e.tabs.RoomID = e.roomN.ID; return db.Site().CreateLine(ctx, &e.tabs) },
			func() error { e.filler.LineID = e.sterile.ID; return db.Site().CreateEquipment(ctx, &e.filler) },
			func() error { e.overdue.LineID = e.sterile.ID; return db.Site().CreateEquipment(ctx, &e.overdue) },
			func() error { return db.Site().CreateShift(ctx, &shift) },
			func() error {
				e.team.BuildingID, e.team.ShiftID = e.b30.ID, shift.ID
				return db.Site().CreateTeam(ctx, &e.team)
			},
			func() error {
				for i := 1; i <= seedPeople; i++ {
					p := site.Person{Badge: fmt.Sprintf("P%04d", i), Name: fmt.Sprintf("Personne %d", i), Job: "Opérateur", TeamID: e.team.ID}
					if err := db.Site().CreatePerson(ctx, &p); err != nil {
						return err
					}
				}
				return nil
			},
		}
		for _, a := range []identity.Account{
			{Username: "admin", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}},
			{Username: "operator", Name: "Otto Opérateur", Roles: []identity.Role{identity.RoleOperator}},
		} {
			steps = append(steps, func() error { return h.CreateAccount(&a, hash) })
		}
		// The administrator signs in with a password alone, as in the demo.
		steps = append(steps, func() error { p := identity.DefaultPolicy(); p.AdminTOTP = false; return setPolicy(ctx, db, p) })
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	e.web = New(Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), Deviations: db.Deviations(), DB: db, Drills: db, Idempotency: db.Idempotency()})
	e.srv = httptest.NewServer(e.web.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// browser is a client with its own cookies that does not follow
// redirects, so that the tests see them.
type browser struct {
	t   *testing.T
	e   *pageEnv
	jar *cookiejar.Jar
	c   *http.Client
}

func (e *pageEnv) browser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, jar: jar, c: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn is a browser signed in as who through the login form.
func (e *pageEnv) signedIn(t *testing.T, who string) *browser {
	t.Helper()
	b := e.browser(t)
	p := b.post("/login", url.Values{"username": {who}, "password": {pageTestPassword}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("login %s: status %d:\n%s", who, p.status, p.body)
	}
	return b
}

// page is an answer of the server.
type page struct {
	status int
	header http.Header
	body   string
	// text is the body with its markup removed and its entities decoded,
	// to look for words the way a reader sees them.
	text string
}

var tags = regexp.MustCompile(`<[^>]*>`)
var spaces = regexp.MustCompile(`\s+`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	text := spaces.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(string(body), " ")), " ")
	return page{status: resp.StatusCode, header: resp.Header, body: string(body), text: text}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.e.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// want checks the status and that the page's text holds each phrase.
func (p page) want(t *testing.T, status int, phrases ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; page:\n%s", p.status, status, p.text)
	}
	for _, s := range phrases {
		if !strings.Contains(p.text, s) {
			t.Errorf("the page lacks %q; its text:\n%s", s, p.text)
		}
	}
}

// lacks checks that the page's text holds none of the phrases.
func (p page) lacks(t *testing.T, phrases ...string) {
	t.Helper()
	for _, s := range phrases {
		if strings.Contains(p.text, s) {
			t.Errorf("the page shows %q; it should not", s)
		}
	}
}

func (p page) location(t *testing.T) string {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect (303); page:\n%s", p.status, p.text)
	}
	return p.header.Get("Location")
}

// counts is how many rows each site table holds, to check that a refused
// form wrote nothing.
func (e *pageEnv) counts(t *testing.T) map[string]int {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	s := e.db.Site()
	bs, err1 := s.Buildings(ctx)
	rs, err2 := s.Rooms(ctx, site.RoomFilter{})
	ls, err3 := s.Lines(ctx, site.LineFilter{})
	eq, err4 := s.Equipment(ctx, site.EquipmentFilter{})
	au, err5 := e.db.Audit().Entries(ctx, audit.Filter{})
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return map[string]int{"buildings": len(bs), "rooms": len(rs), "lines": len(ls), "equipment": len(eq), "audit": len(au)}
}

func (e *pageEnv) unchanged(t *testing.T, before map[string]int) {
	t.Helper()
	after := e.counts(t)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows after a refused form, %d before", k, after[k], v)
		}
	}
}

func TestLoginPage(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(t)

	p := b.get("/login")
	p.want(t, http.StatusOK, "Connexion", "Identifiant", "Mot de passe", "Se connecter")
	if !strings.Contains(p.body, `<html lang="fr">`) {
		t.Errorf("the login page is not marked as French")
	}

	t.Run("pages need a session", func(t *testing.T) {
		for _, path := range []string{"/", "/lines/" + e.sterile.ID, "/rooms/new", "/people"} {
			loc := b.get(path).location(t)
			if want := "/login?next=" + url.QueryEscape(path); loc != want {
				t.Errorf("GET %s: redirected to %q, want %q", path, loc, want)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		p := b.post("/login", url.Values{"username": {"admin"}, "password": {"wrong"}})
		p.want(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect.")
		if !strings.Contains(p.body, `value="admin"`) {
			t.Errorf("the form lost the username typed")
		}
		if c := p.header.Get("Set-Cookie"); c != "" {
			t.Errorf("a refused login sets a cookie: %s", c)
		}
		b.post("/login", url.Values{"username": {"nobody"}, "password": {"x"}}).want(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect.")
	})

	t.Run("success sets a strict session cookie", func(t *testing.T) {
		p := b.post("/login", url.Values{"username": {"admin"}, "password": {pageTestPassword}, "next": {"/lines/" + e.sterile.ID}})
		if loc := p.location(t); loc != "/lines/"+e.sterile.ID {
			t.Errorf("redirected to %q, want the page asked for", loc)
		}
		resp := http.Response{Header: p.header}
		var c *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == sessionCookie {
				c = k
			}
		}
		if c == nil {
			t.Fatalf("no %s cookie in %v", sessionCookie, p.header["Set-Cookie"])
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Value == "" || c.Secure {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure without TLS", c)
		}
		// A session cookie: it ends with the browser (the server's
		// timeouts end the session).
		if raw := strings.Join(p.header["Set-Cookie"], "\n"); c.MaxAge != 0 || !c.Expires.IsZero() ||
			strings.Contains(strings.ToLower(raw), "max-age") || strings.Contains(strings.ToLower(raw), "expires") {
			t.Errorf("Set-Cookie %q: want a session cookie, without Max-Age or Expires", raw)
		}
		// "/" leads the administrator to their home; the site's overview
		// has its own address.
		if loc := b.get("/").location(t); loc != "/admin/accounts" {
			t.Errorf("GET / went to %q, want the administrator's home", loc)
		}
		b.get("/site").want(t, http.StatusOK, "Site de test", "Ada Admin", "Se déconnecter")
	})

	t.Run("logout", func(t *testing.T) {
		if loc := b.post("/logout", nil).location(t); loc != "/login" {
			t.Errorf("logout went to %q, want /login", loc)
		}
		if loc := b.get("/").location(t); !strings.HasPrefix(loc, "/login") {
			t.Errorf("after logout GET / went to %q, want the login page", loc)
		}
	})
}

func TestLoginRefusesOpenRedirects(t *testing.T) {
	e := newPageEnv(t)
	for _, tt := range []struct{ next, want string }{
		{"", "/"},
		{"/people?page=2", "/people?page=2"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/ok\r\nSet-Cookie: x=y", "/"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			b := e.browser(t)
			if got := b.post("/login", url.Values{"username": {"admin"}, "password": {pageTestPassword}, "next": {tt.next}}).location(t); got != tt.want {
				t.Errorf("login with next=%q went to %q, want %q", tt.next, got, tt.want)
			}
			if got := b.get("/lang?to=en&next=" + url.QueryEscape(tt.next)).location(t); got != tt.want {
				t.Errorf("language switch with next=%q went to %q, want %q", tt.next, got, tt.want)
			}
			if p := b.get("/login?next=" + url.QueryEscape(tt.next)); !strings.Contains(p.body, `name="next" value="`+html.EscapeString(tt.want)+`"`) {
				t.Errorf("the login form keeps next=%q as something else than %q", tt.next, tt.want)
			}
		})
	}
}

func TestOverview(t *testing.T) {
	e := newPageEnv(t)
	p := e.signedIn(t, "admin").get("/site")
	p.want(t, http.StatusOK,
		"Site de test", "Bâtiment 30", "Bâtiment 40", "Production stérile", "Production non stérile",
		"B30-B01", "Remplissage aseptique", "B30-D01", "B40-N01", "→ B30-D01 (15 Pa)",
		"18–22 °C", "18–24,5 °C", "35–55 %",
		// The states are derived: the sterile line, stored "running" with
		// no batch, has a piece whose qualification lapsed; the tablet
		// line, stored "cleaning", has no equipment and no batch.
		"L30-01 Qualification échue", "L40-01 Disponible",
		"2 bâtiments", "3 salles", "2 lignes")
	for _, want := range []string{
		`href="/lines/` + e.sterile.ID + `"`, `class="badge grade grade-B"`, `class="badge status state-qualification_overdue"`,
		`href="/buildings/` + e.b30.ID + `/edit"`, `href="/rooms/` + e.roomB.ID + `/edit"`, `href="/lines/new"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	// Buildings come before their rooms, rooms before their lines.
	if i, j := strings.Index(p.text, "Bâtiment 30"), strings.Index(p.text, "B30-B01"); i < 0 || j < i {
		t.Errorf("room B30-B01 is not under Bâtiment 30")
	}
}

func TestOverviewWithoutSite(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, _ := pageHash()
	if err := db.WriteHistory(identity.WithActor(ctx, identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		p := identity.DefaultPolicy()
		p.AdminTOTP = false // the administrator signs in with a password alone, as in the demo
		if err := setPolicy(ctx, db, p); err != nil {
			return err
		}
		return h.CreateAccount(&identity.Account{Username: "admin", Name: "Ada", Roles: []identity.Role{identity.RoleAdmin}}, hash)
	}); err != nil {
		t.Fatal(err)
	}
	e := &pageEnv{db: db}
	e.srv = httptest.NewServer(New(Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), Deviations: db.Deviations(), DB: db, Drills: db, Idempotency: db.Idempotency()}).Handler())
	defer e.srv.Close()
	e.signedIn(t, "admin").get("/site").want(t, http.StatusOK, "Le site n'est pas encore configuré.")
}

func TestLinePage(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	p := b.get("/lines/" + e.sterile.ID)
	p.want(t, http.StatusOK,
		"L30-01 — Ligne flacons 1", "Bâtiment 30", "B30-B01", "Remplissage aseptique", "Ligne stérile",
		"flacon", "seringue préremplie", "Qualification échue", "12\u202f000 unités/h",
		"L30-01-E1", "Remplisseuse", "remplisseuse", "Propre", "31/03/2099",
		"L30-01-E2", "Autoclave", "À nettoyer", "15/01/2020 échue", "Modifier la ligne", "Ajouter un équipement")
	if n := strings.Count(p.body, `class="overdue"`); n != 1 {
		t.Errorf("%d rows marked overdue, want 1 (the autoclave)", n)
	}
	if !strings.Contains(p.body, `href="/equipment/new?line_id=`+e.sterile.ID+`"`) {
		t.Errorf("the link to add equipment does not name the line")
	}
	b.get("/lines/"+e.tabs.ID).want(t, http.StatusOK, "L40-01", "Ligne non stérile", "comprimé", "Disponible", "90\u202f000 unités/h",
		"Aucun équipement enregistré sur cette ligne.")
}

func TestNotFoundPages(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	for _, path := range []string{
		"/lines/not-an-id", "/lines/01890a5d-ac96-774b-bcce-b302099a8057",
		"/buildings/01890a5d-ac96-774b-bcce-b302099a8057/edit", "/rooms/nope/edit", "/equipment/nope/edit",
		"/shifts/nope/edit", "/teams/nope/edit", "/people/nope/edit", "/no-such-page", "/assets/nope.css",
	} {
		p := b.get(path)
		p.want(t, http.StatusNotFound, "Page introuvable", "Retour au site")
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q, want an HTML page", path, ct)
		}
	}
	b.get("/lines/not-an-id").want(t, http.StatusNotFound, "Cette ligne de production n'existe pas.")
	// Updating a record that does not exist writes nothing.
	before := e.counts(t)
	b.post("/buildings/01890a5d-ac96-774b-bcce-b302099a8057", url.Values{"code": {"X"}, "name": {"X"}, "role": {"offices"}, "reason": {"test"}}).
		want(t, http.StatusNotFound, "Page introuvable")
	e.unchanged(t, before)
}

func TestCreateRoomThroughTheForm(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")

	p := b.get("/rooms/new?building_id=" + e.b30.ID)
	p.want(t, http.StatusOK, "Nouvelle salle", "Bâtiment", "Classe de propreté", "Température minimale (°C)", "Cascade de pression vers")
	if !strings.Contains(p.body, `<option value="`+e.b30.ID+`" selected>`) {
		t.Errorf("the building asked for is not chosen in the form")
	}
	if !strings.Contains(p.body, `hx-get="/rooms/cascade-options"`) {
		t.Errorf("the building select does not reload the cascade choices")
	}

	loc := b.post("/rooms", url.Values{
		"building_id": {e.b30.ID}, "grade": {"C"}, "code": {"B30-C09"}, "name": {"Préparation 9"},
		"temp_min": {"18,5"}, "temp_max": {"24"}, "humidity_min": {"30"}, "humidity_max": {"60"},
		"cascades_to": {e.roomD.ID}, "pressure_diff_pa": {"10"},
	}).location(t)
	rooms, err := e.db.Site().Rooms(identity.WithActor(context.Background(), identity.System), site.RoomFilter{BuildingID: e.b30.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got *site.Room
	for i := range rooms {
		if rooms[i].Code == "B30-C09" {
			got = &rooms[i]
		}
	}
	if got == nil {
		t.Fatalf("the room was not recorded")
	}
	if got.TempMin != 18.5 || got.Grade != site.GradeC || got.CascadesTo != e.roomD.ID || got.PressureDiffPa != 10 {
		t.Errorf("recorded %+v", *got)
	}
	if want := "/site?saved=1#room-" + got.ID; loc != want {
		t.Errorf("went to %q, want %q", loc, want)
	}
	b.get(loc).want(t, http.StatusOK, "Modifications enregistrées.", "B30-C09", "Préparation 9", "18,5–24 °C")
}

func TestRefusedFormsWriteNothing(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	room := url.Values{"building_id": {e.b30.ID}, "grade": {"C"}, "code": {"B30-C10"}, "name": {"Salle refusée"},
		"temp_min": {"25"}, "temp_max": {"20"}, "humidity_min": {"30"}, "humidity_max": {"60"}}
	with := func(v url.Values, k, val string) url.Values {
		c := url.Values{}
		for key, vals := range v {
			c[key] = append([]string(nil), vals...)
		}
		c.Set(k, val)
		return c
	}
	for _, tt := range []struct {
		name, path string
		form       url.Values
		status     int
		field      string
		message    string
	}{
		{"sterile line in a grade D room", "/lines", url.Values{"code": {"L30-99"}, "name": {"Ligne refusée"}, "room_id": {e.roomD.ID},
			"sterile": {"on"}, "forms": {"vial"}, "status": {"available"}, "capacity_per_hour": {"1000"}}, http.StatusBadRequest, "room_id",
			"Une ligne stérile doit se trouver dans une salle propre de classe A, B ou C ; la salle B30-D01 est de classe D."},
		{"sterile line with a tablet form", "/lines", url.Values{"code": {"L30-98"}, "name": {"Ligne refusée"}, "room_id": {e.roomB.ID},
			"sterile": {"on"}, "forms": {"vial", "tablet"}, "status": {"available"}}, http.StatusBadRequest, "forms",
			"Une ligne stérile ne peut pas produire la forme non stérile « tablet »."},
		{"temperatures the wrong way", "/rooms", room, http.StatusBadRequest, "temp_min",
			"La température minimale (25 °C) doit être inférieure à la maximale (20 °C)."},
		{"a temperature that is not a number", "/rooms", with(room, "temp_max", "vingt"), http.StatusBadRequest, "temp_max",
			"Écrivez un nombre, par exemple 20,5."},
		{"a duplicate code", "/rooms", with(with(room, "temp_min", "18"), "code", "B30-D01"), http.StatusConflict, "code",
			"Ce code ne peut pas être utilisé : choisissez-en un autre (il doit être unique sur tout le site)."},
		{"a building without a role", "/buildings", url.Values{"code": {"B99"}, "name": {"Bâtiment 99"}}, http.StatusBadRequest, "role",
			"Le rôle du bâtiment doit être l'un de"},
		{"equipment without a due date", "/equipment", url.Values{"line_id": {e.sterile.ID}, "code": {"E9"}, "name": {"Pompe"}, "kind": {"pompe"},
			"status": {"clean"}}, http.StatusBadRequest, "qualification_due", "La date d'échéance de qualification est requise."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts(t)
			p := b.post(tt.path, tt.form)
			p.want(t, tt.status, tt.message)
			e.unchanged(t, before)
			// The message stands next to its field, and the form keeps
			// what was typed.
			if !strings.Contains(p.body, `id="e-`+tt.field+`"`) || !strings.Contains(p.body, `aria-describedby="e-`+tt.field+`"`) {
				t.Errorf("the message is not attached to the field %s", tt.field)
			}
			if c := tt.form.Get("code"); !strings.Contains(p.body, `value="`+html.EscapeString(c)+`"`) {
				t.Errorf("the form lost the code typed, %q", c)
			}
			// The language switch leads back to the form, not to the
			// address of the post.
			if want := "next=" + strings.ReplaceAll(tt.path+"/new", "/", "%2f"); !strings.Contains(p.body, want) {
				t.Errorf("the language switch does not lead to %s", want)
			}
		})
	}

	t.Run("the checked forms stay checked", func(t *testing.T) {
		p := b.post("/lines", url.Values{"code": {"L30-97"}, "name": {"x"}, "room_id": {e.roomD.ID}, "sterile": {"on"}, "forms": {"vial", "ampoule"}})
		for _, f := range []string{"vial", "ampoule"} {
			if !strings.Contains(p.body, `value="`+f+`" checked`) {
				t.Errorf("the form %s is no longer checked", f)
			}
		}
		if strings.Contains(p.body, `value="tablet" checked`) {
			t.Errorf("a form not typed is checked")
		}
		if !strings.Contains(p.body, `id="f-sterile" name="sterile" checked`) {
			t.Errorf("the sterile box is no longer checked")
		}
	})
}

func TestEditNeedsAReason(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	ctx := identity.WithActor(context.Background(), identity.System)

	p := b.get("/buildings/" + e.b30.ID + "/edit")
	p.want(t, http.StatusOK, "Modifier le bâtiment", "Raison de la modification")
	if !strings.Contains(p.body, `value="Bâtiment 30"`) || !strings.Contains(p.body, `<option value="production_sterile" selected>`) {
		t.Errorf("the edit form does not show the building's values")
	}

	form := url.Values{"version": {"1"}, "code": {"B30"}, "name": {"Bâtiment 30 — stérile"}, "role": {"production_sterile"}}
	before := e.counts(t)
	p = b.post("/buildings/"+e.b30.ID, form)
	p.want(t, http.StatusBadRequest, "Indiquez pourquoi vous faites cette modification")
	if !strings.Contains(p.body, `id="e-reason"`) {
		t.Errorf("the message is not next to the reason field")
	}
	if !strings.Contains(p.body, `value="Bâtiment 30 — stérile"`) {
		t.Errorf("the form lost the new name typed")
	}
	e.unchanged(t, before)
	if got, _ := e.db.Site().Building(ctx, e.b30.ID); got.Name != "Bâtiment 30" {
		t.Errorf("the name changed to %q without a reason", got.Name)
	}

	form.Set("reason", "Nom plus précis")
	loc := b.post("/buildings/"+e.b30.ID, form).location(t)
	if got, _ := e.db.Site().Building(ctx, e.b30.ID); got.Name != "Bâtiment 30 — stérile" {
		t.Errorf("the name is %q after the change", got.Name)
	}
	entries, err := e.db.Audit().Entries(ctx, audit.Filter{Entity: "building", EntityID: e.b30.ID})
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Field != "name" || last.Reason != "Nom plus précis" || last.ActorName != "Ada Admin" {
		t.Errorf("audit entry %+v: want the name change by Ada Admin with the reason", last)
	}
	b.get(loc).want(t, http.StatusOK, "Modifications enregistrées.", "Bâtiment 30 — stérile")

	t.Run("line", func(t *testing.T) {
		p := b.get("/lines/" + e.sterile.ID + "/edit")
		p.want(t, http.StatusOK, "Modifier la ligne", "Formes galéniques")
		for _, s := range []string{`value="vial" checked`, `value="prefilled_syringe" checked`, `id="f-sterile" name="sterile" checked`, `value="12000"`} {
			if !strings.Contains(p.body, s) {
				t.Errorf("the line's edit form lacks %s", s)
			}
		}
		loc := b.post("/lines/"+e.sterile.ID, url.Values{"version": {"1"}, "code": {"L30-01"}, "name": {"Ligne flacons 1"}, "room_id": {e.roomB.ID},
			"sterile": {"on"}, "forms": {"vial"}, "status": {"maintenance"}, "capacity_per_hour": {"12 000"}, "reason": {"Révision annuelle"}}).location(t)
		if want := "/lines/" + e.sterile.ID + "?saved=1"; loc != want {
			t.Errorf("went to %q, want %q", loc, want)
		}
		b.get(loc).want(t, http.StatusOK, "Modifications enregistrées.", "Maintenance")
	})

	t.Run("equipment", func(t *testing.T) {
		p := b.get("/equipment/" + e.overdue.ID + "/edit")
		p.want(t, http.StatusOK, "Modifier l'équipement")
		if !strings.Contains(p.body, `value="2020-01-15"`) {
			t.Errorf("the due date is not in the date field")
		}
		b.post("/equipment/"+e.overdue.ID, url.Values{"version": {"1"}, "line_id": {e.sterile.ID}, "code": {"L30-01-E2"}, "name": {"Autoclave"}, "kind": {"autoclave"},
			"status": {"clean"}, "qualification_due": {"2099-06-30"}, "reason": {"Requalification faite"}}).location(t)
		got, err := e.db.Site().EquipmentItem(ctx, e.overdue.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2099, 6, 30, 0, 0, 0, 0, time.UTC); !got.QualificationDue.Equal(want) || got.Status != site.EquipmentClean {
			t.Errorf("recorded due %v status %s", got.QualificationDue, got.Status)
		}
		b.get("/lines/"+e.sterile.ID).want(t, http.StatusOK, "30/06/2099")
	})
}

func TestOnlyEditorsSeeEditing(t *testing.T) {
	e := newPageEnv(t)
	op := e.signedIn(t, "operator")
	p := op.get("/site")
	p.want(t, http.StatusOK, "Bâtiment 30", "L30-01")
	for _, s := range []string{"/edit", "/rooms/new", "/lines/new", "/buildings/new"} {
		if strings.Contains(p.body, s) {
			t.Errorf("an operator's overview links to %s", s)
		}
	}
	if strings.Contains(op.get("/lines/"+e.sterile.ID).body, "/edit") {
		t.Errorf("an operator's line page links to an edit form")
	}
	for _, path := range []string{"/buildings/new", "/rooms/new", "/lines/" + e.sterile.ID + "/edit", "/people/new"} {
		op.get(path).want(t, http.StatusForbidden, "Accès refusé", "Seul un administrateur ou un superviseur de production peut modifier le modèle du site.")
	}
	before := e.counts(t)
	op.post("/buildings", url.Values{"code": {"B99"}, "name": {"Bâtiment 99"}, "role": {"offices"}}).
		want(t, http.StatusForbidden, "Seul un administrateur ou un superviseur de production peut modifier le modèle du site.")
	e.unchanged(t, before)
}

func TestLanguageSwitch(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	line := "/lines/" + e.sterile.ID

	p := b.get("/lang?to=en&next=" + url.QueryEscape(line))
	if loc := p.location(t); loc != line {
		t.Errorf("the switch went to %q, want %q", loc, line)
	}
	resp := http.Response{Header: p.header}
	if c := resp.Cookies(); len(c) != 1 || c[0].Name != langCookie || c[0].Value != "en" || !c[0].HttpOnly {
		t.Errorf("the switch set %v", c)
	}

	p = b.get(line)
	p.want(t, http.StatusOK, "Sterile line", "vial", "prefilled syringe", "Qualification overdue", "12,000 units/h", "Qualification due", "overdue",
		"15 Jan 2020", "Edit the line", "Sign out")
	p.lacks(t, "seringue", "Modifier", "Se déconnecter", "Qualification échue")
	if !strings.Contains(p.body, `<html lang="en">`) {
		t.Errorf("the English page is not marked as English")
	}
	b.get("/site").want(t, http.StatusOK, "Sterile production", "Non-sterile production", "Cascades to", "18–24.5 °C", "2 buildings")
	b.get("/rooms/new").want(t, http.StatusOK, "New room", "Clean-room grade", "Grade A", "Controlled not classified (CNC)")
	b.post("/lines", url.Values{"code": {"L30-99"}, "name": {"x"}, "room_id": {e.roomD.ID}, "sterile": {"on"}, "forms": {"vial"}}).
		want(t, http.StatusBadRequest, "A sterile line must stand in a clean room of grade A, B or C; room B30-D01 is grade D.")
	b.get("/nope").want(t, http.StatusNotFound, "Page not found")

	b.get("/lang?to=fr&next=/site").location(t)
	b.get("/site").want(t, http.StatusOK, "Production stérile")
	// Anything but "en" is French.
	b.get("/lang?to=de&next=/site").location(t)
	b.get("/site").want(t, http.StatusOK, "Production stérile")
}

func TestStaffPages(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")

	p := b.get("/people")
	p.want(t, http.StatusOK, "Personnel", "P0001", "Personne 1", "Opérateur", "Équipe A", "P0050", "1–50 sur 60", "Suivants →")
	p.lacks(t, "P0051", "← Précédents")
	p = b.get("/people?page=2")
	p.want(t, http.StatusOK, "P0051", "P0060", "51–60 sur 60", "← Précédents")
	p.lacks(t, "P0050", "Suivants →")
	b.get("/people?team_id="+e.team.ID).want(t, http.StatusOK, "Personnel — Équipe A", "P0001")
	b.get("/people?team_id=01890a5d-ac96-774b-bcce-b302099a8057").want(t, http.StatusNotFound, "Page introuvable")

	b.get("/teams").want(t, http.StatusOK, "T30-A", "Équipe A", "Bâtiment 30", "Équipe de jour (06:00–14:00)")
	b.get("/shifts").want(t, http.StatusOK, "JOUR", "Équipe de jour", "Jour", "06:00 – 14:00")

	loc := b.post("/shifts", url.Values{"code": {"NUIT"}, "name": {"Équipe de nuit"}, "kind": {"night"}, "start": {"22:00"}, "end": {"06:00"}}).location(t)
	b.get(loc).want(t, http.StatusOK, "NUIT", "Nuit", "22:00 – 06:00")
	b.post("/shifts", url.Values{"code": {"X"}, "name": {"x"}, "kind": {"day"}, "start": {"25:00"}, "end": {"06:00"}}).
		want(t, http.StatusBadRequest, "Les heures s'écrivent HH:MM sur 24 heures, pas « 25:00 ».")

	loc = b.post("/people", url.Values{"badge": {"P9999"}, "name": {"Zoé Nouvelle"}, "job": {"Pharmacienne"}, "team_id": {e.team.ID}}).location(t)
	b.get("/people?page=2").want(t, http.StatusOK, "P9999", "Zoé Nouvelle")
	_ = loc
}

func TestCascadeOptions(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	p := b.get("/rooms/cascade-options?building_id=" + e.b30.ID + "&cascades_to=" + e.roomD.ID)
	p.want(t, http.StatusOK, "B30-B01", "B30-D01", "— aucune —")
	p.lacks(t, "B40-N01", "<html")
	if !strings.Contains(p.body, `<option value="`+e.roomD.ID+`" selected>`) {
		t.Errorf("the chosen room is not kept: %s", p.body)
	}
}

func TestAssets(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(t)
	for _, tt := range []struct{ path, ctype string }{
		{"/assets/app.css", "text/css"}, {"/assets/htmx.min.js", "text/javascript"}, {"/assets/favicon.svg", "image/svg+xml"},
	} {
		p := b.get(tt.path)
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), tt.ctype) {
			t.Errorf("GET %s: status %d, Content-Type %q", tt.path, p.status, p.header.Get("Content-Type"))
		}
		if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s: Cache-Control %q, want a long cache", tt.path, cc)
		}
	}
	if !strings.Contains(b.get("/login").body, `href="/assets/app.css?v=`) {
		t.Errorf("the pages do not fingerprint the style sheet's address")
	}
}

// TestPagesKeepTheCSP renders every page and checks that none needs what
// the Content-Security-Policy forbids: inline scripts, inline styles and
// event-handler attributes.
func TestPagesKeepTheCSP(t *testing.T) {
	e := newPageEnv(t)
	b := e.signedIn(t, "admin")
	inline := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
	}
	for _, path := range []string{
		"/site", "/equipment", "/lines/" + e.sterile.ID, "/login", "/people", "/teams", "/shifts",
		"/buildings/new", "/rooms/new", "/lines/new", "/equipment/new", "/shifts/new", "/teams/new", "/people/new",
		"/buildings/" + e.b30.ID + "/edit", "/rooms/" + e.roomB.ID + "/edit", "/lines/" + e.sterile.ID + "/edit",
		"/equipment/" + e.filler.ID + "/edit", "/no-such-page",
	} {
		p := b.get(path)
		if p.status != http.StatusOK && p.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d", path, p.status)
		}
		for _, re := range inline {
			if m := re.FindString(p.body); m != "" {
				t.Errorf("GET %s holds %q, which the CSP forbids", path, m)
			}
		}
		for _, m := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(p.body, -1) {
			if !strings.Contains(m, `src="/assets/`) {
				t.Errorf("GET %s: a script not from /assets/: %s", path, m)
			}
		}
		if !strings.Contains(p.body, `<meta name="viewport"`) {
			t.Errorf("GET %s: no viewport, the page will not fit a tablet", path)
		}
	}
}

func TestPageRoutes(t *testing.T) {
	e := newPageEnv(t)
	have := map[string]bool{}
	for _, r := range e.web.Routes() {
		have[fmt.Sprintf("%s %s %v", r.Method, r.Path, r.Public)] = true
	}
	want := []string{
		"GET /login true", "POST /login true", "POST /logout true", "GET /lang true", "GET /assets/ true", "GET / true",
		"GET /{$} false", "GET /site false", "GET /equipment false", "GET /lines/{id} false", "GET /rooms/cascade-options false",
		"GET /shifts false", "GET /teams false", "GET /people false",
	}
	for _, kind := range []string{"buildings", "rooms", "lines", "equipment", "shifts", "teams", "people"} {
		want = append(want, "GET /"+kind+"/new false", "POST /"+kind+" false", "GET /"+kind+"/{id}/edit false", "POST /"+kind+"/{id} false")
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("route %q is not registered", w)
		}
	}
}

// TestCatalogue checks that every message the templates ask for exists in
// both languages, and that every enum value has its labels.
func TestCatalogue(t *testing.T) {
	for _, k := range text.Keys(text.FR) {
		if fr, en := tr(langFR, k), tr(langEN, k); fr == "" || en == "" {
			t.Errorf("message %q lacks a language: %q %q", k, fr, en)
		}
	}
	use := regexp.MustCompile(`\{\{-?\s*(?:t|tf)\s+"([^"]+)"`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			if !hasMsg(m[1]) {
				t.Errorf("%s asks for the message %q, which the catalogue lacks", n, m[1])
			}
		}
	}
	var keys []string
	add := func(prefix string, vals ...string) {
		for _, v := range vals {
			keys = append(keys, prefix+"."+v)
		}
	}
	for _, g := range site.Grades {
		add("grade", string(g))
		add("gradeshort", string(g))
	}
	for _, f := range site.Forms {
		add("form", string(f))
	}
	for _, r := range site.BuildingRoles {
		add("role", string(r))
	}
	for _, s := range site.LineStatuses {
		add("linestatus", string(s))
	}
	for _, s := range site.LineStates {
		add("linestate", string(s))
	}
	for _, s := range site.EquipmentStatuses {
		add("eqstatus", string(s))
	}
	for _, k := range site.ShiftKinds {
		add("shiftkind", string(k))
	}
	for _, code := range statusOf {
		keys = append(keys, fmt.Sprintf("error.title.%d", code))
	}
	for _, k := range keys {
		if !hasMsg(k) {
			t.Errorf("the catalogue lacks %q", k)
		}
	}
	wantFR := map[site.Form]string{site.FormAmpoule: "ampoule", site.FormVial: "flacon", site.FormSyringe: "seringue préremplie",
		site.FormTablet: "comprimé", site.FormCapsule: "gélule", site.FormDrops: "gouttes", site.FormLotion: "lotion", site.FormPaste: "pâte", site.FormSyrup: "sirop"}
	for f, want := range wantFR {
		if got := tr(langFR, "form."+string(f)); got != want {
			t.Errorf("form %s is %q in French, want %q", f, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{{langFR, 0, "0"}, {langFR, 999, "999"}, {langFR, 1000, "1\u202f000"}, {langEN, 1234567, "1,234,567"}, {langEN, -12000, "-12,000"}} {
		if got := formatInt(tt.lang, tt.n); got != tt.want {
			t.Errorf("formatInt(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := formatDecimal(langFR, 24.5); got != "24,5" {
		t.Errorf("formatDecimal(fr, 24.5) = %q", got)
	}
	// Late in the evening UTC is already the next day in Paris.
	if got := formatDate(langFR, time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC), site.DefaultLocation()); got != "01/07/2026" {
		t.Errorf("formatDate in Paris = %q, want 01/07/2026", got)
	}
	// The site's zone, not Paris's, when the site names another.
	if montreal, err := time.LoadLocation("America/Montreal"); err != nil {
		t.Fatal(err)
	} else if got := formatDate(langFR, time.Date(2026, 7, 1, 2, 30, 0, 0, time.UTC), montreal); got != "30/06/2026" {
		t.Errorf("formatDate in Montreal = %q, want 30/06/2026", got)
	}
}

// TestPaginate: a page read with one item more than its size shows a link
// to the next page, and every page after the first a link back.
func TestPaginate(t *testing.T) {
	link := func(p int) string { return "/x?page=" + strconv.Itoa(p) }
	items, p := paginate([]int{1, 2, 3}, 1, 2, link)
	if want := (Pager{Page: 1, First: 1, Last: 2, Next: "/x?page=2"}); !slices.Equal(items, []int{1, 2}) || p != want {
		t.Errorf("page 1: %v %+v, want [1 2] %+v", items, p, want)
	}
	items, p = paginate([]int{3}, 2, 2, link)
	if want := (Pager{Page: 2, First: 3, Last: 3, Prev: "/x?page=1"}); !slices.Equal(items, []int{3}) || p != want {
		t.Errorf("page 2: %v %+v, want [3] %+v", items, p, want)
	}
	for q, want := range map[string]int{"": 1, "page=3": 3, "page=0": 1, "page=-2": 1, "page=x": 1, "page=100001": 1} {
		v, _ := url.ParseQuery(q)
		if got := pageNumber(v); got != want {
			t.Errorf("pageNumber(%q) = %d, want %d", q, got, want)
		}
	}
}
