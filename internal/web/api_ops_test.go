package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"galenix/internal/store"
	"galenix/internal/web"
)

func TestOperationalEndpoints(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, tt := range []struct{ path, status string }{{"/healthz", "ok"}, {"/readyz", "ready"}} {
			r := e.call(t, "", "GET", tt.path, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", tt.path, r.status)
			}
			if got := r.object(t)["status"]; got != tt.status {
				t.Errorf("GET %s: status %q, want %q", tt.path, got, tt.status)
			}
		}

		e.call(t, "operator", "GET", "/api/v1/lines", nil).items(t)
		e.call(t, "operator", "GET", "/api/v1/lines/"+e.line.ID, nil)
		e.call(t, "operator", "GET", "/api/v1/lines/"+newUUID(t), nil)
		r := e.call(t, "", "GET", "/metrics", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
		}
		metrics := string(r.body)
		for _, want := range []string{
			`galenix_http_requests_total{code="200",method="GET",route="/api/v1/lines"} 1`,
			`galenix_http_requests_total{code="200",method="GET",route="/api/v1/lines/{id}"} 1`,
			`galenix_http_requests_total{code="404",method="GET",route="/api/v1/lines/{id}"} 1`,
			`galenix_http_requests_total{code="200",method="POST",route="/api/v1/login"} 1`,
			`galenix_http_request_duration_seconds_bucket{method="GET",route="/api/v1/lines",le="`,
			`galenix_http_request_duration_seconds_count{method="GET",route="/api/v1/lines"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(metrics, e.line.ID) {
			t.Errorf("/metrics labels a request by its id; the route pattern is expected")
		}
	})

	t.Run("not ready", func(t *testing.T) {
		db, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		s := web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db})
		srv := httptest.NewServer(checkContract(t, s.Handler()))
		defer srv.Close()
		for path, want := range map[string]int{"/readyz": http.StatusServiceUnavailable, "/healthz": http.StatusOK} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s with the database closed: status %d, want %d", path, resp.StatusCode, want)
			}
		}
	})
}

func TestSecurity(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {

		t.Run("headers", func(t *testing.T) {
			for _, tt := range []struct{ who, method, path string }{
				{"", "GET", "/healthz"},
				{"", "GET", "/metrics"},
				{"", "GET", "/api/v1/me"},
				{"admin", "GET", "/api/v1/lines"},
				{"admin", "GET", "/api/v1/lines/not-an-id"},
				{"admin", "POST", "/api/v1/lines"},
				{"", "GET", "/no-such-page"},
			} {
				r := e.call(t, tt.who, tt.method, tt.path, nil)
				for h, want := range map[string]string{
					"X-Frame-Options":        "DENY",
					"X-Content-Type-Options": "nosniff",
				} {
					if got := r.header.Get(h); got != want {
						t.Errorf("%s %s: %s %q, want %q", tt.method, tt.path, h, got, want)
					}
				}
				csp := r.header.Get("Content-Security-Policy")
				for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
					if !strings.Contains(csp, d) {
						t.Errorf("%s %s: Content-Security-Policy %q lacks %s", tt.method, tt.path, csp, d)
					}
				}
			}
		})

		t.Run("cross-origin writes with the session cookie", func(t *testing.T) {
			tok := e.token(t, "admin")
			send := func(method, path string, body any, hdr ...string) reply {
				req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(mustJSON(t, body)))
				req.AddCookie(&http.Cookie{Name: "galenix_session", Value: tok})
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				return e.do(t, req)
			}
			newLine := map[string]any{"code": "L-CSRF", "name": "Tablets", "room_id": e.roomD.ID, "forms": []string{"tablet"}}
			change := map[string]any{"code": "L1", "name": "Renamed", "room_id": e.roomB.ID, "sterile": true, "forms": []string{"vial"},
				"capacity_per_hour": 6000, "reason": "cross-site"}
			for _, tt := range []struct {
				name   string
				method string
				path   string
				body   any
				hdr    []string
			}{
				{"create, Sec-Fetch-Site cross-site", "POST", "/api/v1/lines", newLine, []string{"Sec-Fetch-Site", "cross-site"}},
				{"create, foreign Origin", "POST", "/api/v1/lines", newLine, []string{"Origin", "https://evil.example"}},
				{"update, Sec-Fetch-Site cross-site", "PUT", "/api/v1/lines/" + e.line.ID, change, []string{"Sec-Fetch-Site", "cross-site"}},
				{"logout, Sec-Fetch-Site cross-site", "POST", "/api/v1/logout", map[string]any{}, []string{"Sec-Fetch-Site", "cross-site"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := e.snapshot(t)
					if r := send(tt.method, tt.path, tt.body, tt.hdr...); r.status != http.StatusForbidden {
						t.Errorf("status %d, want 403: %s", r.status, r.body)
					}
					e.unchanged(t, before)
				})
			}
			// The same cookie, same-origin, works: the refusals above are the
			// cross-origin protection's, not a missing session.
			if r := send("POST", "/api/v1/lines", newLine, "Sec-Fetch-Site", "same-origin"); r.status != http.StatusCreated {
				t.Errorf("same-origin create with the cookie: status %d, want 201: %s", r.status, r.body)
			}
			if r := send("GET", "/api/v1/me", nil, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusOK {
				t.Errorf("cross-site GET with the cookie: status %d, want 200 (reads are not refused)", r.status)
			}
		})
	})
}
