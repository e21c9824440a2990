package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"

	"galenix/docs"
	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/testpg"
	"galenix/internal/web"
)

// TestMain runs the suite against its own PostgreSQL. Many parallel tests
// sign with real argon2id keys: under the race detector on a small machine
// one key takes seconds, and the process's hash queue (identity.HashWait,
// a few seconds for people) would answer "busy" to a test that checks
// something else. The queue's bounds are tested in identity.
func TestMain(m *testing.M) {
	identity.HashWait = 5 * time.Minute
	testpg.Main(m)
}

const testPassword = "correct horse battery staple"

// passwordHash is the seeded accounts' hash: argon2id in the PHC format
// galenix writes, at the smallest cost its check accepts (1 MiB, one pass)
// instead of the 64 MiB and 3 passes of identity.HashPassword. The web
// suite signs in and signs thousands of times, and a real key takes a
// second under the race detector on a small machine; what these tests
// check is that the web layer asks for the password and refuses a wrong
// one, not the cost of a guess, which identity's and the store's tests
// check on real hashes (and every password set through the API here is
// still hashed at the real cost).
var passwordHash = sync.OnceValues(func() (string, error) { return cheapHash(testPassword) })

// memoKeys computes each argon2id key once per test binary, at the cost
// the hash names: a key is a function of the password, the salt and the
// parameters alone, and the suite signs the same accounts in again and
// again (the demo's, and those whose password it set at the real cost).
// A check still compares the key with the hash's, so a wrong password is
// still refused. The suite's stores compute their keys with it.
var memoKeys identity.KeyDeriver = &memoDeriver{}

type memoDeriver struct{ keys sync.Map }

func (m *memoDeriver) IDKey(urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	k := fmt.Sprintf("%q %x %d %d %d %d", password, salt, time, memory, threads, keyLen)
	if key, ok := m.keys.Load(k); ok {
		return key.([]byte)
	}
	key := argon2.IDKey(password, salt, time, memory, threads, keyLen)
	m.keys.Store(k, key)
	return key
}

func cheapHash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	const memory, passes, lanes = 1024, 1, 1
	key := argon2.IDKey([]byte(password), salt, passes, memory, lanes, 32)
	b64 := base64.RawStdEncoding
	hash := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
	if !identity.CheckPassword(hash, password) || identity.CheckPassword(hash, password+"!") {
		return "", fmt.Errorf("identity does not check the test hash %s as galenix's own", hash)
	}
	return hash, nil
}

// env is a running galenix on a fresh, seeded database.
type env struct {
	db  *store.DB
	cfg store.Config // how db was opened: a second node opens it again
	web *web.Server
	srv *httptest.Server

	building     site.Building
	roomB, roomD site.Room // grade B and grade D, both in building
	line         site.Line // sterile, in roomB
	equipment    site.Equipment
	shift        site.Shift
	team         site.Team
	person       site.Person
	alpha, beta  client.Client
	// accounts by username: admin, operator (no edit rights) and
	// client-alpha (a user of the client alpha).
	accounts map[string]identity.Account
	// adminBeta assigns the admin to the client beta; machine is a
	// machine token of scope site:read, and machineSecret its secret.
	adminBeta     identity.Assignment
	machine       identity.Token
	machineSecret string

	mu     sync.Mutex
	tokens map[string]string
}

// setPolicy sets the site's sign-in policy through the identity service,
// as the system.
func setPolicy(ctx context.Context, db *store.DB, p identity.Policy) error {
	_, err := db.Identity().SetSignInPolicy(ctx, p, "test: the sign-in policy the test needs")
	return err
}

// eachDB runs fn on a fresh, seeded galenix on SQLite and on PostgreSQL.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

// testSecretKey is the key of the second-factor secrets of the test
// databases.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef")

// testMasterKey is the master key of documents of the test databases.
var testMasterKey = []byte("documents-master-key-0123456789a")

func newEnv(t *testing.T, d store.Dialect) *env {
	t.Helper()
	cfg := store.Config{DataDir: storetest.DataDir(t), SecretKey: testSecretKey, MasterKey: testMasterKey, Keys: memoKeys}
	if d == store.Postgres {
		cfg = store.Config{DSN: storetest.DSN(t), SecretKey: testSecretKey, MasterKey: testMasterKey, Keys: memoKeys}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}

	e := &env{db: db, cfg: cfg, accounts: map[string]identity.Account{}, tokens: map[string]string{}}
	err = db.WriteHistory(identity.WithActor(ctx, identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		e.building = site.Building{Code: "B30", Name: "Bâtiment 30", Role: site.RoleSterileProduction}
		e.roomB = site.Room{Code: "R-B", Name: "Aseptic filling", Grade: site.GradeB, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
		e.roomD = site.Room{Code: "R-D", Name: "Packaging", Grade: site.GradeD, TempMin: 15, TempMax: 25, HumidityMin: 20, HumidityMax: 70}
		e.line = site.Line{Code: "L1", Name: "Vial filling", Sterile: true, Forms: []site.Form{site.FormVial}, CapacityPerHour: 6000}
		e.equipment = site.Equipment{Code: "E1", Name: "Filler", Kind: "filler", QualificationDue: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}
		e.shift = site.Shift{Code: "DAY", Name: "Day shift", Kind: site.ShiftDay, Start: "06:00", End: "14:00"}
		e.team = site.Team{Code: "T1", Name: "Team one"}
		e.person = site.Person{Badge: "0001", Name: "Claire Dubois", Job: "Operator"}
		e.alpha = client.Client{Code: "ALPHA", Name: "Alpha Laboratories"}
		e.beta = client.Client{Code: "BETA", Name: "Beta Pharma"}
		steps := []func() error{
			func() error {
				return db.Site().CreateSite(ctx, &site.Site{Code: "GX", Name: "Test site", Timezone: "Europe/Paris"})
			},
			func() error { return db.Site().CreateBuilding(ctx, &e.building) },
			func() error { e.roomB.BuildingID = e.building.ID; return db.Site().CreateRoom(ctx, &e.roomB) },
			func() error { e.roomD.BuildingID = e.building.ID; return db.Site().CreateRoom(ctx, &e.roomD) },
			func() error { e.line.RoomID = e.roomB.ID; return db.Site().CreateLine(ctx, &e.line) },
			func() error { e.equipment.LineID = e.line.ID; return db.Site().CreateEquipment(ctx, &e.equipment) },
			func() error { return db.Site().CreateShift(ctx, &e.shift) },
			func() error {
				e.team.BuildingID, e.team.ShiftID = e.building.ID, e.shift.ID
				return db.Site().CreateTeam(ctx, &e.team)
			},
			func() error { e.person.TeamID = e.team.ID; return db.Site().CreatePerson(ctx, &e.person) },
			func() error { return db.Clients().CreateClient(ctx, &e.alpha) },
			func() error { return db.Clients().CreateClient(ctx, &e.beta) },
			// The tests sign the administrator in with a password alone,
			// as the demo does; TestAdminTOTPGate turns the requirement on.
			func() error { p := identity.DefaultPolicy(); p.AdminTOTP = false; return setPolicy(ctx, db, p) },
		}
		for _, a := range []identity.Account{
			{Username: "admin", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}},
			{Username: "operator", Name: "Otto Operator", Roles: []identity.Role{identity.RoleOperator}},
			{Username: "client-alpha", Name: "Carla Client", Roles: []identity.Role{identity.RoleClientUser}},
		} {
			steps = append(steps, func() error {
				if a.Username == "client-alpha" {
					a.ClientID = e.alpha.ID
				}
				if err := h.CreateAccount(&a, hash); err != nil {
					return err
				}
				e.accounts[a.Username] = a
				return nil
			})
		}
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
	sys := identity.WithActor(ctx, identity.System)
	e.adminBeta = identity.Assignment{AccountID: e.accounts["admin"].ID, ClientID: e.beta.ID}
	if err := db.Identity().Admin().Assign(sys, &e.adminBeta, ""); err != nil {
		t.Fatalf("seed assignment: %v", err)
	}
	e.machine = identity.Token{Name: "Gateway B30", Scopes: []identity.TokenScope{identity.ScopeSiteRead}}
	if e.machineSecret, err = db.Identity().Admin().CreateToken(sys, &e.machine, ""); err != nil {
		t.Fatalf("seed machine token: %v", err)
	}

	e.web = web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db, OpenAPI: docs.OpenAPI, Idempotency: db.Idempotency(),
		Lab: db.Lab(), Deviations: db.Deviations(), Agreements: db.Agreements(), Qualifications: db.Qualifications(), Access: db.Access(), Controlled: db.Controlled(), Infra: db.Infra(), Documents: db.Documents(), Projects: db.Projects(), Notices: db.Outbox(), Environment: db.Environment(), Readings: &ingest.StoreSink{Env: db.Environment()}, EnvironmentViews: db.Environment()})
	e.srv = httptest.NewServer(checkContract(t, e.web.Handler()))
	t.Cleanup(e.srv.Close)
	return e
}

// token signs who in through the API, once per environment.
func (e *env) token(t *testing.T, who string) string {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if tok, ok := e.tokens[who]; ok {
		return tok
	}
	r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": who, "password": testPassword})
	if r.status != http.StatusOK {
		t.Fatalf("login %s: status %d: %s", who, r.status, r.body)
	}
	var out struct{ Token string }
	r.decode(t, &out)
	if out.Token == "" {
		t.Fatalf("login %s: no token in %s", who, r.body)
	}
	e.tokens[who] = out.Token
	return out.Token
}

// reply is an answer of the server.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request signed in as who ("" for nobody) and returns the
// answer. A string body is sent as it is, anything else as JSON. hdr holds
// extra header name, value pairs.
func (e *env) call(t *testing.T, who, method, path string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(t, who))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(t, req)
}

func (e *env) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// decode decodes the JSON answer into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if ct, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json (status %d, body %s)", r.header.Get("Content-Type"), r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// object decodes a JSON object answer.
func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// items decodes a list answer, checking its envelope: its items and, for
// a searched list, the page's total, limit and offset (whole numbers).
func (r reply) items(t *testing.T) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var env map[string]json.RawMessage
	r.decode(t, &env)
	raw, ok := env["items"]
	for k, v := range env {
		var n uint
		if k != "items" && ((k != "total" && k != "limit" && k != "offset") || json.Unmarshal(v, &n) != nil) {
			ok = false
		}
	}
	if !ok {
		t.Fatalf("list answer %s, want exactly {\"items\": [...]} (with a page's \"total\", \"limit\" and \"offset\")", r.body)
	}
	var items []map[string]any
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		t.Fatalf("items %s: want an array (never null): %v", raw, err)
	}
	return items
}

// apiError is the error envelope's content.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	// RequestID is the answer's X-Request-Id.
	RequestID string `json:"request_id"`
}

// requestIDField is the request id of an error envelope, which differs
// from one request to the next.
var requestIDField = regexp.MustCompile(`,"request_id":"[^"]*"`)

// sameAnswer reports whether two error answers are the same but for their
// request ids: an answer must not tell one refusal from another.
func sameAnswer(a, b []byte) bool {
	return bytes.Equal(requestIDField.ReplaceAll(a, nil), requestIDField.ReplaceAll(b, nil))
}

// wantError checks the answer is the error envelope with the status, code
// and field (field "" means none), and returns it.
func (r reply) wantError(t *testing.T, status int, code, field string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var body map[string]json.RawMessage
	r.decode(t, &body)
	if len(body) != 1 || body["error"] == nil {
		t.Fatalf("error answer %s, want exactly {\"error\": {...}}", r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(body["error"]))
	dec.DisallowUnknownFields()
	var got apiError
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("error envelope %s: %v", body["error"], err)
	}
	if got.Code != code || got.Field != field {
		t.Errorf("error code %q field %q, want %q %q (message %q)", got.Code, got.Field, code, field, got.Message)
	}
	if got.RequestID == "" || got.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("error %s: request_id is not the answer's X-Request-Id %q", r.body, r.header.Get("X-Request-Id"))
	}
	if got.Message == "" {
		t.Errorf("error %s has no message", r.body)
	}
	return got
}

// tables are the tables whose rows a refused request must leave as they are.
var tables = []string{"sites", "buildings", "rooms", "lines", "equipment", "shifts", "teams", "people", "clients", "accounts", "sessions", "audit_log",
	"environment_sensors", "environment_limits", "environment_readings", "environment_gaps", "environment_alarms",
	"infra_zones", "infra_assets", "infra_dependencies", "infra_conduits", "infra_flows", "infra_checks", "infra_plans"}

// snapshot counts the rows of every table, the audit trail's (audit_log)
// included.
func (e *env) snapshot(t *testing.T) map[string]int {
	t.Helper()
	out, err := e.db.Counts(identity.WithActor(context.Background(), identity.System), tables...)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	return out
}

// unchanged checks that nothing was written since the snapshot.
func (e *env) unchanged(t *testing.T, before map[string]int) {
	t.Helper()
	after := e.snapshot(t)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d rows, want %d unchanged: a refused request wrote", k, after[k], n)
		}
	}
}

// auditEntries reads the trail's entries f selects, every page of them
// (the store answers at most 1,000 at a time) unless f sets a limit or
// asks for the newest.
func (e *env) auditEntries(t *testing.T, f audit.Filter) []audit.Entry {
	t.Helper()
	var all []audit.Entry
	for {
		entries, err := e.db.Audit().Entries(identity.WithActor(context.Background(), identity.System), f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, entries...)
		if f.Limit > 0 || f.Newest || len(entries) < 1000 {
			return all
		}
		f.AfterSeq = entries[len(entries)-1].Seq
	}
}

// withID puts id in place of the route pattern's {id}.
func withID(path, id string) string { return strings.ReplaceAll(path, "{id}", id) }

func newUUID(t *testing.T) string {
	t.Helper()
	return uuid.Must(uuid.NewV7()).String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
