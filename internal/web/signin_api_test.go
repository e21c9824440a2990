package web_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// testClock is a database clock the test moves; the server's goroutines
// read it.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// setClock gives the environment's database a clock the test moves. It is
// set before any request.
func setClock(e *env) *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	e.db.Now = c.now
	return c
}

// storePolicy stores a sign-in policy, as galenix setting up a site does.
func storePolicy(t *testing.T, e *env, p identity.Policy) {
	t.Helper()
	err := setPolicy(identity.WithActor(context.Background(), identity.System), e.db, p)
	if err != nil {
		t.Fatal(err)
	}
}

// login posts to the API's login; fields are name, value pairs.
func (e *env) login(t *testing.T, fields ...string) reply {
	t.Helper()
	body := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		body[fields[i]] = fields[i+1]
	}
	return e.call(t, "", "POST", "/api/v1/login", body)
}

// tokenOf returns the token of a successful login.
func tokenOf(t *testing.T, r reply) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("login: status %d: %s", r.status, r.body)
	}
	var out struct{ Token string }
	r.decode(t, &out)
	return out.Token
}

// with sends a request carrying the token.
func (e *env) with(t *testing.T, tok, method, path string, body any) reply {
	t.Helper()
	return e.call(t, "", method, path, body, "Authorization", "Bearer "+tok)
}

// TestSignInFailuresAPI checks through the API that failed sign-ins lock
// the account, answering as a wrong password, that each is in the audit
// trail and raised to the security role, who acknowledge them.
func TestSignInFailuresAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		c := setClock(e)
		var wrong apiError
		for range 5 {
			wrong = e.login(t, "username", "operator", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		}
		got := e.login(t, "username", "operator", "password", testPassword).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		got.RequestID, wrong.RequestID = "", ""
		if got != wrong {
			t.Errorf("locked: %+v, want a wrong password's %+v", got, wrong)
		}
		e.login(t, "username", "nobody", "password", testPassword).wantError(t, http.StatusUnauthorized, "unauthorized", "")

		items := e.call(t, "admin", "GET", "/api/v1/security/events", nil).items(t)
		var kinds []string
		for _, it := range items {
			kinds = append(kinds, it["kind"].(string))
			if it["address"] != "127.0.0.1" || it["acknowledged_at"] != nil {
				t.Errorf("event %v", it)
			}
		}
		want := []string{"unknown_user", "login_locked", "account_locked", "login_failed", "login_failed", "login_failed", "login_failed", "login_failed"}
		if !slices.Equal(kinds, want) {
			t.Errorf("events %v, want %v", kinds, want)
		}
		e.call(t, "client-alpha", "GET", "/api/v1/security/events", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "admin", "GET", "/api/v1/security/events?open=maybe", nil).wantError(t, http.StatusBadRequest, "invalid", "open")
		// The filter by kind keeps that kind only; an unknown kind is refused.
		locked := e.call(t, "admin", "GET", "/api/v1/security/events?kind=account_locked&open=true", nil).items(t)
		if len(locked) != 1 || locked[0]["kind"] != "account_locked" || locked[0]["username"] != "operator" {
			t.Errorf("the locked accounts: %v, want operator's lock only", locked)
		}
		e.call(t, "admin", "GET", "/api/v1/security/events?kind=intrusion", nil).wantError(t, http.StatusBadRequest, "invalid", "kind")
		if later := e.call(t, "admin", "GET", "/api/v1/security/events?from=2099-01-01", nil).items(t); len(later) != 0 {
			t.Errorf("events from 2099: %v", later)
		}
		if within := e.call(t, "admin", "GET", "/api/v1/security/events?from=2000-01-01&to=2099-12-31", nil).items(t); len(within) != len(want) {
			t.Errorf("%d events between 2000 and 2099, want %d", len(within), len(want))
		}
		e.call(t, "admin", "GET", "/api/v1/security/events?to=31/12/2099", nil).wantError(t, http.StatusBadRequest, "invalid", "to")

		var commands []string
		for _, en := range e.auditEntries(t, audit.Filter{Entity: "account", EntityID: e.accounts["operator"].ID}) {
			if en.Command != "test.seed" {
				commands = append(commands, en.Command)
				if en.Address != "127.0.0.1" {
					t.Errorf("entry %d (%s %s=%s): address %q", en.Seq, en.Command, en.Field, en.New, en.Address)
				}
			}
		}
		if n := strings.Count(strings.Join(commands, " "), "session.login_failed"); n != 11 || !slices.Contains(commands, "account.locked") {
			t.Errorf("audited commands %v: want the failures (two entries each, one for the locked attempt) and the lock", commands)
		}

		t.Run("acknowledge", func(t *testing.T) {
			id := items[1]["id"].(string)
			before := e.snapshot(t)
			e.call(t, "client-alpha", "POST", "/api/v1/security/events/"+id+"/acknowledge", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.call(t, "admin", "POST", "/api/v1/security/events/"+newUUID(t)+"/acknowledge", nil).wantError(t, http.StatusNotFound, "not_found", "")
			e.call(t, "admin", "POST", "/api/v1/security/events/"+id+"/acknowledge", `{"note": 1}`).wantError(t, http.StatusBadRequest, "invalid", "note")
			e.unchanged(t, before)
			got := e.call(t, "admin", "POST", "/api/v1/security/events/"+id+"/acknowledge", nil).object(t)
			if got["acknowledged_by"] != "admin" || got["acknowledged_at"] == nil || got["id"] != id {
				t.Errorf("acknowledged: %v", got)
			}
			e.call(t, "admin", "POST", "/api/v1/security/events/"+id+"/acknowledge", "{}").wantError(t, http.StatusConflict, "conflict", "")
			open := e.call(t, "admin", "GET", "/api/v1/security/events?open=true", nil).items(t)
			if len(open) != len(items)-1 {
				t.Errorf("%d open events, want %d", len(open), len(items)-1)
			}
		})

		c.add(15 * time.Minute)
		tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
	})
}

// TestPasswordAPI checks the self-service password change.
func TestPasswordAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		other := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		e.token(t, "operator")
		before := e.snapshot(t)
		for _, tt := range []struct {
			body  any
			field string
		}{
			{map[string]string{"current": testPassword, "new": "court"}, "new"},
			{map[string]string{"current": testPassword, "new": "Motdepasse2024!"}, "new"},
			{map[string]string{"current": testPassword, "new": "operator-is-my-name"}, "new"},
			{map[string]string{"current": testPassword, "new": testPassword}, "new"},
			{map[string]string{"current": testPassword, "new": "une-phrase-assez-longue", "confirm": "x"}, "confirm"},
			{`{"current": 12}`, "current"},
		} {
			e.call(t, "operator", "POST", "/api/v1/password", tt.body).wantError(t, http.StatusBadRequest, "invalid", tt.field)
		}
		e.unchanged(t, before)
		e.call(t, "operator", "POST", "/api/v1/password", map[string]string{"current": "wrong", "new": "une-phrase-assez-longue"}).
			wantError(t, http.StatusBadRequest, "invalid", "current")

		r := e.call(t, "operator", "POST", "/api/v1/password", map[string]string{"current": testPassword, "new": "une-phrase-assez-longue"})
		if r.status != http.StatusNoContent {
			t.Fatalf("change: status %d: %s", r.status, r.body)
		}
		if r := e.call(t, "operator", "GET", "/api/v1/me", nil); r.status != http.StatusOK {
			t.Errorf("the session that changed the password: status %d", r.status)
		}
		e.with(t, other, "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		e.login(t, "username", "operator", "password", testPassword).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		tokenOf(t, e.login(t, "username", "operator", "password", "une-phrase-assez-longue"))
		var n int
		for _, en := range e.auditEntries(t, audit.Filter{Entity: "account", EntityID: e.accounts["operator"].ID}) {
			if en.Field == "password" {
				n++
				if en.Old != "***" || en.New != "***" || en.Command != "account.password.change" {
					t.Errorf("entry %+v", en)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d password changes audited, want 1", n)
		}
	})
}

// TestExpiredPasswordAPI checks that a person whose password expired signs
// in to a session good only for changing it.
func TestExpiredPasswordAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		c := setClock(e)
		p := identity.DefaultPolicy()
		p.AdminTOTP, p.MaxAge = false, 30*24*time.Hour
		storePolicy(t, e, p)
		c.add(30 * 24 * time.Hour)
		tok := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		for _, rq := range []struct{ method, path string }{{"GET", "/api/v1/lines"}, {"GET", "/api/v1/policy"}, {"POST", "/api/v1/totp/enroll"}, {"POST", "/api/v1/sessions/revoke-all"}} {
			got := e.with(t, tok, rq.method, rq.path, nil).wantError(t, http.StatusForbidden, "password_change_required", "")
			if !strings.Contains(got.Message, "expired") {
				t.Errorf("%s %s: %q, want the reason", rq.method, rq.path, got.Message)
			}
		}
		if got := e.with(t, tok, "GET", "/api/v1/me", nil).object(t); got["pending"] != "password_change" {
			t.Errorf("me: %v", got)
		}
		if r := e.with(t, tok, "POST", "/api/v1/password", map[string]string{"current": testPassword, "new": "une-phrase-assez-longue"}); r.status != http.StatusNoContent {
			t.Fatalf("change: status %d: %s", r.status, r.body)
		}
		if got := e.with(t, tok, "GET", "/api/v1/me", nil).object(t); got["pending"] != "" {
			t.Errorf("me after the change: %v", got)
		}
		e.with(t, tok, "GET", "/api/v1/lines", nil).items(t)
	})
}

// TestAdminTOTPGate checks the second factor required of administrators:
// until set up, every route but its own, who am I and logout answers 403;
// then sign-in asks for a code and takes only a valid one.
func TestAdminTOTPGate(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		c := setClock(e)
		storePolicy(t, e, identity.DefaultPolicy())
		tok := tokenOf(t, e.login(t, "username", "admin", "password", testPassword))
		spare := tokenOf(t, e.login(t, "username", "admin", "password", testPassword))
		for _, rq := range []struct {
			method, path string
			body         any
		}{{"GET", "/api/v1/lines", nil}, {"PUT", "/api/v1/policy", "{}"}, {"GET", "/api/v1/security/events", nil},
			{"POST", "/api/v1/password", map[string]string{"current": testPassword, "new": "une-phrase-assez-longue"}}} {
			before := e.snapshot(t)
			got := e.with(t, tok, rq.method, rq.path, rq.body).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(got.Message, "second factor") {
				t.Errorf("%s %s: %q", rq.method, rq.path, got.Message)
			}
			e.unchanged(t, before)
		}
		if got := e.with(t, tok, "GET", "/api/v1/me", nil).object(t); got["pending"] != "totp_enrollment" {
			t.Errorf("me: %v", got)
		}
		if r := e.with(t, spare, "POST", "/api/v1/logout", nil); r.status != http.StatusNoContent {
			t.Errorf("logout while pending: status %d", r.status)
		}
		e.call(t, "operator", "GET", "/api/v1/lines", nil).items(t)

		var en struct{ Secret, URL string }
		e.with(t, tok, "POST", "/api/v1/totp/enroll", nil).decode(t, &en)
		if en.Secret == "" || !strings.HasPrefix(en.URL, "otpauth://totp/galenix:admin?") {
			t.Fatalf("enrollment %+v", en)
		}
		e.with(t, tok, "POST", "/api/v1/totp/confirm", map[string]string{"code": "000000"}).wantError(t, http.StatusBadRequest, "invalid", "code")
		code := func() string {
			s, err := identity.TOTPCode(en.Secret, c.now())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if r := e.with(t, tok, "POST", "/api/v1/totp/confirm", map[string]string{"code": code()}); r.status != http.StatusNoContent {
			t.Fatalf("confirm: status %d: %s", r.status, r.body)
		}
		e.with(t, tok, "GET", "/api/v1/lines", nil).items(t)
		c.add(30 * time.Second) // the confirmation's code is used

		asked := e.login(t, "username", "admin", "password", testPassword).wantError(t, http.StatusUnauthorized, "unauthorized", "totp")
		if !strings.Contains(asked.Message, "code") {
			t.Errorf("no code: %q, want it asked for", asked.Message)
		}
		e.login(t, "username", "admin", "password", testPassword, "totp", "123456").wantError(t, http.StatusUnauthorized, "unauthorized", "totp")
		e.login(t, "username", "admin", "password", "wrong", "totp", code()).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		fresh := tokenOf(t, e.login(t, "username", "admin", "password", testPassword, "totp", code()))
		e.with(t, fresh, "GET", "/api/v1/lines", nil).items(t)
	})
}

// TestSessionsAPI checks the idle timeout of a shop-floor session and of an
// API one, and signing out everywhere.
func TestSessionsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		c := setClock(e)
		shop := tokenOf(t, e.login(t, "username", "operator", "password", testPassword, "device", "shopfloor"))
		api := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		c.add(4 * time.Minute)
		for _, tok := range []string{shop, api} {
			if r := e.with(t, tok, "GET", "/api/v1/me", nil); r.status != http.StatusOK {
				t.Fatalf("after 4 minutes: status %d", r.status)
			}
		}
		c.add(5*time.Minute + time.Second)
		e.with(t, shop, "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		e.with(t, api, "GET", "/api/v1/me", nil).object(t)
		c.add(30*time.Minute + time.Second)
		e.with(t, api, "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		e.login(t, "username", "operator", "password", testPassword, "device", "toaster").wantError(t, http.StatusBadRequest, "invalid", "device")

		a := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		b := tokenOf(t, e.login(t, "username", "operator", "password", testPassword, "device", "shopfloor"))
		admin := tokenOf(t, e.login(t, "username", "admin", "password", testPassword))
		e.with(t, a, "POST", "/api/v1/sessions/revoke-all", `{"all": true}`).wantError(t, http.StatusBadRequest, "invalid", "all")
		var out struct{ Ended int }
		e.with(t, a, "POST", "/api/v1/sessions/revoke-all", nil).decode(t, &out)
		if out.Ended != 2 {
			t.Errorf("%d sessions ended, want 2", out.Ended)
		}
		for _, tok := range []string{a, b} {
			e.with(t, tok, "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		}
		e.with(t, admin, "GET", "/api/v1/me", nil).object(t)
	})
}

// TestPolicyAPI checks reading and changing the sign-in policy.
func TestPolicyAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		got := e.call(t, "client-alpha", "GET", "/api/v1/policy", nil).object(t)
		if mustJSON(t, got) != `{"absolute_minutes":720,"admin_totp":false,"history":5,"idle_minutes":30,"lock_after":5,"lock_for_minutes":15,"max_age_days":0,"min_length":12,"shopfloor_idle_minutes":5,"version":2}` {
			t.Errorf("policy %s", mustJSON(t, got))
		}
		full := func(change map[string]any) map[string]any {
			p := map[string]any{}
			for k, v := range got {
				p[k] = v
			}
			for k, v := range change {
				p[k] = v
			}
			return p
		}
		e.token(t, "operator")
		e.token(t, "admin")
		before := e.snapshot(t)
		e.call(t, "operator", "PUT", "/api/v1/policy", full(map[string]any{"reason": "x"})).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "admin", "PUT", "/api/v1/policy", full(map[string]any{"min_length": 14})).wantError(t, http.StatusBadRequest, "invalid", "reason")
		e.call(t, "admin", "PUT", "/api/v1/policy", full(map[string]any{"min_length": 8, "reason": "x"})).wantError(t, http.StatusBadRequest, "invalid", "min_length")
		e.call(t, "admin", "PUT", "/api/v1/policy", full(map[string]any{"lock_after": 1e9, "reason": "x"})).wantError(t, http.StatusBadRequest, "invalid", "lock_after")
		e.call(t, "admin", "PUT", "/api/v1/policy", full(map[string]any{"colour": "red", "reason": "x"})).wantError(t, http.StatusBadRequest, "invalid", "colour")
		partial := full(map[string]any{"reason": "x"})
		delete(partial, "admin_totp")
		e.call(t, "admin", "PUT", "/api/v1/policy", partial).wantError(t, http.StatusBadRequest, "invalid", "admin_totp")
		e.unchanged(t, before)

		set := e.call(t, "admin", "PUT", "/api/v1/policy", full(map[string]any{"min_length": 14, "max_age_days": 365, "reason": "Revue 2026"})).object(t)
		if set["min_length"] != float64(14) || set["max_age_days"] != float64(365) {
			t.Errorf("stored %v", set)
		}
		var fields []string
		for _, en := range e.auditEntries(t, audit.Filter{Entity: "policy"}) {
			if en.Command == "policy.update" {
				fields = append(fields, en.Field+"="+en.New)
				if en.Reason != "Revue 2026" || en.ActorID != e.accounts["admin"].ID {
					t.Errorf("entry %+v", en)
				}
			}
		}
		if !slices.Equal(fields, []string{"min_length=14", "max_age=8760h0m0s"}) {
			t.Errorf("audited %v", fields)
		}
		e.call(t, "operator", "POST", "/api/v1/password", map[string]string{"current": testPassword, "new": "treize-lettr"}).
			wantError(t, http.StatusBadRequest, "invalid", "new")
	})
}

// TestOpenAPISignInSchemas checks the schemas of the sign-in answers
// against what the server answers and the Go types it encodes.
func TestOpenAPISignInSchemas(t *testing.T) {
	_, doc := openapiDoc(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	props := func(name string) []string {
		var out []string
		for k := range at(t, schemas, name, "properties").(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	e := newEnv(t, store.SQLite)
	for name, v := range map[string]any{"SecurityEvent": identity.SecurityEvent{}, "TOTPEnrollment": identity.TOTPEnrollment{}} {
		if got, want := props(name), jsonFields(reflect.TypeOf(v)); !slices.Equal(got, want) {
			t.Errorf("schema %s has %v; the API encodes %v", name, got, want)
		}
	}
	var keys []string
	for k := range e.call(t, "operator", "GET", "/api/v1/policy", nil).object(t) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := props("Policy"); !slices.Equal(got, keys) {
		t.Errorf("schema Policy has %v; GET /api/v1/policy answers %v", got, keys)
	}
	var kinds []string
	for _, k := range at(t, schemas, "SecurityEvent", "properties", "kind", "enum").([]any) {
		kinds = append(kinds, k.(string))
	}
	if !slices.Equal(kinds, identity.EventKinds) {
		t.Errorf("event kinds %v, want %v", kinds, identity.EventKinds)
	}
}

// TestPendingGateCoversEveryRoute walks every route the router has, as a
// session whose password expired and as one whose password an administrator
// set: each answers 403 (password_change_required in the API) and writes
// nothing, signatures included, but the change of the password, who am I
// and signing out.
func TestPendingGateCoversEveryRoute(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := setClock(e)
	p := identity.DefaultPolicy()
	p.AdminTOTP, p.MaxAge = false, 24*time.Hour
	storePolicy(t, e, p)
	c.add(25 * time.Hour)
	tok := tokenOf(t, e.login(t, "username", "admin", "password", testPassword))
	adminAcc := e.accounts["admin"]
	admin := adminAcc.Actor()
	admin.SessionID = "session-admin"
	if err := e.db.Identity().Admin().ResetPassword(identity.WithActor(context.Background(), admin), e.accounts["operator"].ID, adminPassword, "Forgotten"); err != nil {
		t.Fatal(err)
	}
	sessions := map[string]string{
		"whose password expired":              tok,
		"whose password an administrator set": tokenOf(t, e.login(t, "username", "operator", "password", adminPassword)),
	}
	allowed := []string{"POST /api/v1/password", "GET /api/v1/me", "POST /api/v1/logout", "GET /account/password", "POST /account/password"}
	before := e.snapshot(t)
	seen := 0
	for _, rt := range e.web.Routes() {
		pattern := rt.Method + " " + rt.Path
		if rt.Public || slices.Contains(allowed, pattern) {
			continue
		}
		seen++
		path := strings.TrimSuffix(strings.NewReplacer("{id}", newUUID(t), "{$}", "").Replace(rt.Path), "/")
		if path == "" {
			path = "/"
		}
		var body any
		if rt.Method != "GET" {
			body = "{}"
		}
		for who, tok := range sessions {
			r := e.with(t, tok, rt.Method, path, body)
			if r.status != http.StatusForbidden {
				t.Errorf("%s as a session %s: status %d, want 403", pattern, who, r.status)
			}
			if strings.HasPrefix(path, "/api/") && !strings.Contains(string(r.body), `"code":"password_change_required"`) {
				t.Errorf("%s as a session %s: %s, want the code password_change_required", pattern, who, r.body)
			}
		}
	}
	e.unchanged(t, before)
	if seen < 40 {
		t.Errorf("only %d routes walked", seen)
	}
}

// TestLockedAccountSessionsEnd: the lock that ends a run of failed
// sign-ins ends the account's sessions at once, as a withdrawal does.
func TestLockedAccountSessionsEnd(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		setClock(e)
		tok := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		for range 4 {
			e.login(t, "username", "operator", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		}
		if r := e.with(t, tok, "GET", "/api/v1/me", nil); r.status != http.StatusOK {
			t.Fatalf("before the lock: status %d: %s", r.status, r.body)
		}
		e.login(t, "username", "operator", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		e.with(t, tok, "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	})
}
