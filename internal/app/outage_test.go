package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

// setPolicy sets the site's sign-in policy through the identity service,
// as the system.
func setPolicy(ctx context.Context, db *store.DB, p identity.Policy) error {
	_, err := db.Identity().SetSignInPolicy(ctx, p, "test: the sign-in policy the test needs")
	return err
}

// outageNode starts a node on a test PostgreSQL database reached through a
// proxy the test can cut, with an administrator account; it returns the
// node, the proxy and the administrator's token.
func outageNode(t *testing.T) (*app.Main, *testpg.Proxy, string) {
	t.Helper()
	proxy, dsn := testpg.NewProxy(t, testpg.DSN(t))
	m := app.New(app.Config{Addr: "127.0.0.1:0", DSN: dsn, DataDir: t.TempDir(),
		RequestTimeout: 3 * time.Second, DrainTimeout: -1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		proxy.Up()
		cancel()
		<-done
		m.Close()
	})
	hash, err := identity.HashPassword("Outage-Resilient-2026")
	if err != nil {
		t.Fatal(err)
	}
	err = m.DB.WriteHistory(identity.WithActor(ctx, identity.System), "test.setup", func(ctx context.Context, h *store.History) error {
		p := identity.DefaultPolicy()
		p.AdminTOTP = false
		if err := setPolicy(ctx, m.DB, p); err != nil {
			return err
		}
		return h.CreateAccount(&identity.Account{Username: "ada", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}}, hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The sign-in checks a real argon2id key within the node's request
	// timeout, kept short for the outage's bounds: on a machine loaded
	// with other tests under the race detector it may answer busy (503)
	// before the outage; that is the setup's, so it tries again.
	code, body := post(t, m.URL()+"/api/v1/login", `{"username":"ada","password":"Outage-Resilient-2026"}`)
	for deadline := time.Now().Add(time.Minute); code == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		code, body = post(t, m.URL()+"/api/v1/login", `{"username":"ada","password":"Outage-Resilient-2026"}`)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); code != 200 || err != nil {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	return m, proxy, tok.Token
}

type answer struct {
	status     int
	retryAfter string
	body       string
	took       time.Duration
}

func call(t *testing.T, method, url, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.AddCookie(&http.Cookie{Name: "galenix_session", Value: token})
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b), time.Since(start)}
}

// TestDatabaseOutageAnswers503: while the database is away, a signed-in
// request answers 503 with Retry-After and the error envelope (never 401
// "sign in first", never 500), pages say the site is degraded, /readyz
// says not ready while /healthz says the process lives, and sign-ins that
// fail for it use up no sign-in attempts; when it is back the node serves
// again by itself, the same token still good.
func TestDatabaseOutageAnswers503(t *testing.T) {
	m, proxy, token := outageNode(t)
	u := m.URL()
	if a := call(t, "GET", u+"/api/v1/buildings", token, ""); a.status != 200 {
		t.Fatalf("before the outage: %+v", a)
	}
	proxy.Down()
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/buildings", ""},
		{"POST", "/api/v1/buildings", `{"code":"B99","name":"Outage"}`},
		{"GET", "/api/v1/me", ""},
	} {
		a := call(t, c.method, u+c.path, token, c.body)
		if a.status != 503 || a.retryAfter == "" || !strings.Contains(a.body, `"code":"unavailable"`) {
			t.Errorf("%s %s during the outage: %d Retry-After=%q %s", c.method, c.path, a.status, a.retryAfter, a.body)
		}
	}
	if a := call(t, "GET", u+"/", token, ""); a.status != 503 || !strings.Contains(a.body, "mode dégradé") {
		t.Errorf("a page during the outage: %d %.300s", a.status, a.body)
	}
	if a := call(t, "GET", u+"/readyz", "", ""); a.status != 503 {
		t.Errorf("/readyz during the outage: %+v", a)
	}
	if a := call(t, "GET", u+"/healthz", "", ""); a.status != 200 {
		t.Errorf("/healthz during the outage: %+v", a)
	}
	// More sign-ins than the limit's burst, all failing for the outage.
	for range 15 {
		if a := call(t, "POST", u+"/api/v1/login", "", `{"username":"ada","password":"Outage-Resilient-2026"}`); a.status != 503 {
			t.Fatalf("a sign-in during the outage: %+v", a)
		}
	}
	proxy.Up()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := call(t, "GET", u+"/api/v1/buildings", token, "")
		if a.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not serve again after the database came back: %+v", a)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a := call(t, "POST", u+"/api/v1/login", "", `{"username":"ada","password":"Outage-Resilient-2026"}`); a.status != 200 {
		t.Errorf("sign-ins failed by the outage used up the limit: %+v", a)
	}
	if a := call(t, "GET", u+"/readyz", "", ""); a.status != 200 {
		t.Errorf("/readyz after the outage: %+v", a)
	}
}

// TestFrozenDatabaseIsBounded: a database that accepts connections and
// answers nothing holds a request no longer than the request bound: it
// answers 503 instead of hanging as long as the database does.
func TestFrozenDatabaseIsBounded(t *testing.T) {
	m, proxy, token := outageNode(t)
	proxy.Freeze()
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/buildings", ""},
		{"POST", "/api/v1/buildings", `{"code":"B98","name":"Frozen"}`},
	} {
		a := call(t, c.method, m.URL()+c.path, token, c.body)
		if a.status != 503 || a.took > 6*time.Second {
			t.Errorf("%s %s on a frozen database: %d after %v: %s", c.method, c.path, a.status, a.took, a.body)
		}
	}
	proxy.Up()
}

// TestStopDrainsFirst: asked to stop, a node first turns /readyz to 503
// while it still serves requests, for the drain time, so that the balancer
// moves traffic away before any connection is refused; then it stops.
func TestStopDrainsFirst(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DrainTimeout: 1500 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	if a := call(t, "GET", m.URL()+"/readyz", "", ""); a.status != 200 {
		t.Fatalf("/readyz before the stop: %+v", a)
	}
	stopped := time.Now()
	cancel()
	time.Sleep(200 * time.Millisecond)
	if a := call(t, "GET", m.URL()+"/readyz", "", ""); a.status != 503 || !strings.Contains(a.body, "draining") {
		t.Errorf("/readyz while draining: %+v", a)
	}
	if a := call(t, "GET", m.URL()+"/api/v1/openapi.yaml", "", ""); a.status == 0 || a.status >= 500 {
		t.Errorf("a request while draining: %+v", a)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(stopped); took < 1500*time.Millisecond {
		t.Errorf("the node stopped %v after the stop was asked, before its drain time", took)
	}
}
