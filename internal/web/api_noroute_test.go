package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPINoRoute: a request no API route serves still answers the error
// envelope: 405 naming the methods the path takes, or 404.
func TestAPINoRoute(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.token(t, "admin") // sign in before counting rows
		for _, tt := range []struct {
			method, path string
			status       int
			code, allow  string
		}{
			{"POST", "/api/v1/lines/" + e.line.ID, http.StatusMethodNotAllowed, "method_not_allowed", "GET, PUT"},
			{"DELETE", "/api/v1/buildings", http.StatusMethodNotAllowed, "method_not_allowed", "GET, POST"},
			{"PATCH", "/api/v1/login", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
			{"GET", "/api/v1/no-such-thing", http.StatusNotFound, "not_found", ""},
			{"POST", "/api/v2/lines", http.StatusNotFound, "not_found", ""},
		} {
			t.Run(tt.method+" "+tt.path, func(t *testing.T) {
				before := e.snapshot(t)
				r := e.call(t, "admin", tt.method, tt.path, map[string]string{})
				r.wantError(t, tt.status, tt.code, "")
				if got := r.header.Get("Allow"); got != tt.allow {
					t.Errorf("Allow %q, want %q", got, tt.allow)
				}
				e.unchanged(t, before)
			})
		}
	})
}

// TestCrossOriginEnvelope: the CSRF refusal of an API write is the error
// envelope, not plain text.
func TestCrossOriginEnvelope(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/buildings", strings.NewReader(`{"code":"X","name":"X","role":"offices"}`))
		req.AddCookie(&http.Cookie{Name: "galenix_session", Value: e.token(t, "admin")})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		before := e.snapshot(t)
		e.do(t, req).wantError(t, http.StatusForbidden, "forbidden", "")
		e.unchanged(t, before)
	})
}
