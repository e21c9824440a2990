package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/keyworker"
	"galenix/internal/ldap"
	"galenix/internal/testldap"
	"galenix/internal/testpg"
)

// TestMain: the test binary is also the argon2id worker the servers of
// these tests start (keyworker).
func TestMain(m *testing.M) {
	keyworker.ServeIfWorker()
	testpg.Main(m)
}

// withoutRequestID strips an error envelope's request id, which differs
// from one request to the next.
var withoutRequestID = regexp.MustCompile(`,"request_id":"[^"]*"`)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLDAPSignInOverHTTP signs a person of the directory in through the
// JSON API of a galenix built with directory sign-in on, on SQLite and on
// PostgreSQL: their groups give their roles, and a person whose groups map
// to nothing is refused like a wrong password.
func TestLDAPSignInOverHTTP(t *testing.T) {
	for _, db := range []struct {
		name string
		cfg  func(t *testing.T) app.Config
	}{
		{"sqlite", func(t *testing.T) app.Config { return app.Config{DataDir: t.TempDir()} }},
		{"postgres", func(t *testing.T) app.Config { return app.Config{DSN: testpg.DSN(t), DataDir: t.TempDir()} }},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			dir := testldap.Start(t)
			alice := dir.AddUser(t, "alice", "Alice Martin", "Sarbacane-Thermostat-42")
			bob := dir.AddUser(t, "bob", "Bob Petit", "Pelican-Vanille-7")
			dir.AddGroup(t, "galenix-qa", alice)
			dir.AddGroup(t, "canteen", bob)

			cfg := db.cfg(t)
			cfg.Addr = "127.0.0.1:0"
			cfg.LDAP = ldap.Config{
				URL: dir.URL, StartTLS: true, CAFile: dir.CAFile,
				BindDN: testldap.BindDN, BindPassword: ldap.Secret(dir.BindPassword),
				UserBase: testldap.UserBase, GroupBase: testldap.GroupBase, GroupRoles: "galenix-qa=qa",
			}
			var logs syncBuffer
			m := app.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			ctx, cancel := context.WithCancel(context.Background())
			if err := m.Open(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
				m.Close()
			})

			for _, want := range []string{"LDAP sign-in on", dir.URL, testldap.UserBase} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log does not say %q:\n%s", want, logs.String())
				}
			}
			if strings.Contains(logs.String(), "not reachable") {
				t.Errorf("the directory was not reachable at start:\n%s", logs.String())
			}

			code, body := post(t, m.URL()+"/api/v1/login", `{"username":"alice","password":"Sarbacane-Thermostat-42"}`)
			var tok struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(body, &tok); code != 200 || err != nil || tok.Token == "" {
				t.Fatalf("alice: %d %s", code, body)
			}
			req, _ := http.NewRequest("GET", m.URL()+"/api/v1/buildings", nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("alice's token: GET /api/v1/buildings answered %d", resp.StatusCode)
			}

			// A sign-in the password workers are too busy to check now
			// answers 503 "try again in a moment" (a busy machine, both
			// databases' subtests at once): it is tried again, as a client
			// would, for what it refuses.
			login := func(body string) (int, []byte) {
				t.Helper()
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
					code, got := post(t, m.URL()+"/api/v1/login", body)
					if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
						return code, got
					}
				}
			}
			code, wrong := login(`{"username":"alice","password":"wrong"}`)
			if code != 401 {
				t.Fatalf("a wrong password: %d %s", code, wrong)
			}
			for _, body := range []string{
				`{"username":"bob","password":"Pelican-Vanille-7"}`,
				`{"username":"alice","password":""}`,
				`{"username":"*)(uid=*","password":"Sarbacane-Thermostat-42"}`,
			} {
				code, got := login(body)
				if code != 401 || !bytes.Equal(withoutRequestID.ReplaceAll(got, nil), withoutRequestID.ReplaceAll(wrong, nil)) {
					t.Errorf("%s: %d %s; want 401 %s", body, code, got, wrong)
				}
			}
			if strings.Contains(logs.String(), dir.BindPassword) || strings.Contains(logs.String(), "Sarbacane") {
				t.Errorf("the log carries a password:\n%s", logs.String())
			}
		})
	}
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, bytes.TrimSpace(b.Bytes())
}
