package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
)

// siteRead are the routes a site:read token reaches, and nothing else.
var siteRead = []string{
	"GET /api/v1/buildings", "GET /api/v1/buildings/{id}", "GET /api/v1/rooms", "GET /api/v1/rooms/{id}",
	"GET /api/v1/lines", "GET /api/v1/lines/{id}", "GET /api/v1/equipment", "GET /api/v1/equipment/{id}",
}

// TestMachineToken: a machine signed in with a site:read token reads the
// site model and reaches no other route — API or page — whatever it sends;
// a revoked, expired or malformed token is not valid.
func TestMachineToken(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.withToken("machine", e.machineSecret)
		ids := map[string]string{"buildings": e.building.ID, "rooms": e.roomB.ID, "lines": e.line.ID, "equipment": e.equipment.ID}

		t.Run("reads the site model", func(t *testing.T) {
			items := e.call(t, "machine", "GET", "/api/v1/lines", nil).items(t)
			if len(items) != 1 || items[0]["id"] != e.line.ID {
				t.Errorf("lines %v", items)
			}
			for _, p := range siteRead {
				path := strings.TrimPrefix(p, "GET ")
				for kind, id := range ids {
					path = strings.Replace(path, "/"+kind+"/{id}", "/"+kind+"/"+id, 1)
				}
				if r := e.call(t, "machine", "GET", path, nil); r.status != http.StatusOK {
					t.Errorf("GET %s: %d %s", path, r.status, r.body)
				}
			}
		})

		t.Run("reaches nothing else", func(t *testing.T) {
			seen := 0
			for _, rt := range e.web.Routes() {
				pattern := rt.Method + " " + rt.Path
				if rt.Public || slices.Contains(siteRead, pattern) {
					continue
				}
				seen++
				path := strings.ReplaceAll(strings.TrimSuffix(rt.Path, "{$}"), "{id}", e.line.ID)
				var body any
				if rt.Method != "GET" {
					body = map[string]any{"code": "X", "name": "X", "reason": "x"}
				}
				t.Run(pattern, func(t *testing.T) {
					before := e.adminSnapshot(t)
					e.call(t, "machine", rt.Method, path, body).wantError(t, http.StatusForbidden, "forbidden", "")
					e.adminUnchanged(t, before)
				})
			}
			if seen < 40 {
				t.Errorf("only %d routes tried", seen)
			}
			// A page asked with the token in the session cookie is refused
			// too: a machine never reaches a page.
			for _, path := range []string{"/", "/lines/" + e.line.ID, "/admin/accounts"} {
				req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
				req.AddCookie(&http.Cookie{Name: "galenix_session", Value: e.machineSecret})
				e.do(t, req).wantError(t, http.StatusForbidden, "forbidden", "")
			}
		})

		t.Run("not valid", func(t *testing.T) {
			revoke := func(tok identity.Token) {
				t.Helper()
				if r := e.call(t, "admin", "POST", "/api/v1/tokens/"+tok.ID+"/revoke", map[string]string{"reason": "test"}); r.status != http.StatusOK {
					t.Fatalf("revoke: %d %s", r.status, r.body)
				}
			}
			// Five seconds: time enough for the token to be made and used
			// once on a busy machine.
			expiry := time.Now().Add(5 * time.Second)
			other := e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": "Short-lived", "scopes": []string{"site:read"},
				"expires_at": expiry.UTC().Format(time.RFC3339Nano)})
			if other.status != http.StatusCreated {
				t.Fatalf("a short-lived token: %d %s", other.status, other.body)
			}
			expiring, _ := other.object(t)["secret"].(string)
			e.withToken("expiring", expiring)
			if r := e.call(t, "expiring", "GET", "/api/v1/lines", nil); r.status != http.StatusOK {
				t.Fatalf("a fresh token: %d %s", r.status, r.body)
			}

			revoke(e.machine)
			for name, tok := range map[string]string{
				"revoked":        e.machineSecret,
				"unknown":        "gxm_" + strings.Repeat("A", 43),
				"malformed":      "gxm_not-a-token",
				"no prefix":      strings.TrimPrefix(e.machineSecret, "gxm_"),
				"trailing bytes": e.machineSecret + "A",
			} {
				e.withToken(name, tok)
				before := e.adminSnapshot(t)
				got := e.call(t, name, "GET", "/api/v1/lines", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
				if got.Message == "" {
					t.Errorf("%s: no message", name)
				}
				e.adminUnchanged(t, before)
			}
			time.Sleep(time.Until(expiry) + 100*time.Millisecond)
			e.call(t, "expiring", "GET", "/api/v1/lines", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		})
	})
}
