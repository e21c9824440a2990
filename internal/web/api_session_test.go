package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestLogin(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		var wrongMessage string
		for _, tt := range []struct {
			name, username, password string
			status                   int
		}{
			{"right password", "admin", testPassword, http.StatusOK},
			{"username with spaces around", "  operator ", testPassword, http.StatusOK},
			{"wrong password", "admin", "not the password", http.StatusUnauthorized},
			{"unknown user", "nobody", testPassword, http.StatusUnauthorized},
			{"empty credentials", "", "", http.StatusUnauthorized},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": tt.username, "password": tt.password})
				if tt.status == http.StatusOK {
					if r.status != http.StatusOK {
						t.Fatalf("status %d, want 200: %s", r.status, r.body)
					}
					if got := r.object(t); len(got) != 1 || got["token"] == "" || got["token"] == nil {
						t.Errorf("answer %s, want {\"token\": \"...\"}", r.body)
					}
					return
				}
				got := r.wantError(t, http.StatusUnauthorized, "unauthorized", "")
				if wrongMessage == "" {
					wrongMessage = got.Message
				}
				if got.Message != wrongMessage {
					t.Errorf("message %q, want the same as for a wrong password, %q: it must not say which part was wrong", got.Message, wrongMessage)
				}
				if strings.Contains(r.header.Get("Set-Cookie"), "galenix_session") {
					t.Errorf("a refused login set a session cookie")
				}
			})
		}

		t.Run("session lifecycle", func(t *testing.T) {
			r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "admin", "password": testPassword})
			var out struct{ Token string }
			r.decode(t, &out)
			me := func(auth string) reply {
				req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
				req.Header.Set("Authorization", auth)
				return e.do(t, req)
			}
			for _, auth := range []string{"Bearer " + out.Token, "bearer " + out.Token, "BEARER  " + out.Token + " "} {
				r := me(auth)
				if r.status != http.StatusOK {
					t.Fatalf("GET /api/v1/me with %q: status %d: %s", auth[:8], r.status, r.body)
				}
				if got := r.object(t); got["username"] != "admin" || got["id"] != e.accounts["admin"].ID {
					t.Errorf("me: got %s, want the admin", r.body)
				}
			}
			for _, auth := range []string{"Bearer not-a-token", "Basic " + out.Token, out.Token, "Bearer " + strings.Repeat("x", 300)} {
				me(auth).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			}

			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/logout", nil)
			req.Header.Set("Authorization", "Bearer "+out.Token)
			if r := e.do(t, req); r.status != http.StatusNoContent {
				t.Fatalf("logout: status %d, want 204: %s", r.status, r.body)
			}
			me("Bearer "+out.Token).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			if r := e.do(t, req); r.status != http.StatusUnauthorized {
				t.Errorf("logout twice: status %d, want 401", r.status)
			}
		})

		t.Run("in French", func(t *testing.T) {
			r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "admin", "password": "wrong"}, "Accept-Language", "fr-CA")
			if got := r.wantError(t, http.StatusUnauthorized, "unauthorized", ""); got.Message != "Identifiant ou mot de passe incorrect." {
				t.Errorf("message %q, want the French one", got.Message)
			}
			r = e.call(t, "", "GET", "/api/v1/me", nil, "Accept-Language", "fr")
			if got := r.wantError(t, http.StatusUnauthorized, "unauthorized", ""); !strings.HasPrefix(got.Message, "Connectez-vous") {
				t.Errorf("message %q, want the French one", got.Message)
			}
			r = e.call(t, "", "GET", "/api/v1/me", nil, "Accept-Language", "en-GB, fr;q=0.8")
			if got := r.wantError(t, http.StatusUnauthorized, "unauthorized", ""); !strings.HasPrefix(got.Message, "Sign in") {
				t.Errorf("message %q, want the English one", got.Message)
			}
		})

		t.Run("me", func(t *testing.T) {
			got := e.call(t, "client-alpha", "GET", "/api/v1/me", nil).object(t)
			want := map[string]any{"id": e.accounts["client-alpha"].ID, "username": "client-alpha", "name": "Carla Client",
				"roles": []any{"client_user"}, "client_id": e.alpha.ID}
			for k, v := range want {
				if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, v) {
					t.Errorf("me.%s: got %s, want %s", k, g, mustJSON(t, v))
				}
			}
		})
	})
}

// TestAPINeedsSession checks that every API route but login refuses a
// request without a valid session, in the error envelope, and writes nothing.
func TestAPINeedsSession(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		seen := 0
		for _, rt := range e.web.Routes() {
			if !strings.HasPrefix(rt.Path, "/api/") || rt.Path == "/api/" {
				continue
			}
			public := rt.Method == "POST" && rt.Path == "/api/v1/login"
			if rt.Public != public {
				t.Errorf("%s %s: public %v, want %v", rt.Method, rt.Path, rt.Public, public)
			}
			if public {
				continue
			}
			seen++
			path := withID(rt.Path, newUUID(t))
			for _, c := range []struct{ name, auth string }{{"no token", ""}, {"unknown token", "Bearer " + newUUID(t)}} {
				auth := c.auth
				t.Run(rt.Method+" "+rt.Path+" "+c.name, func(t *testing.T) {
					var body io.Reader
					if rt.Method != "GET" {
						body = strings.NewReader(`{"reason": "x"}`)
					}
					req, _ := http.NewRequest(rt.Method, e.srv.URL+path, body)
					if auth != "" {
						req.Header.Set("Authorization", auth)
					}
					before := e.snapshot(t)
					e.do(t, req).wantError(t, http.StatusUnauthorized, "unauthorized", "")
					e.unchanged(t, before)
				})
			}
		}
		if seen < 30 {
			t.Errorf("only %d API routes checked; are the routes registered?", seen)
		}

		t.Run("unknown endpoint", func(t *testing.T) {
			for _, who := range []string{"", "operator"} {
				e.call(t, who, "GET", "/api/v1/nothing-here", nil).wantError(t, http.StatusNotFound, "not_found", "")
				e.call(t, who, "GET", "/api/v2/lines", nil).wantError(t, http.StatusNotFound, "not_found", "")
			}
		})
	})
}
