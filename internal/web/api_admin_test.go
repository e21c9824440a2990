package web_test

import (
	"context"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"galenix/internal/identity"
)

// adminPassword meets the default sign-in policy.
const adminPassword = "Blue-Heron-Lantern-42"

// adminTables are the tables a refused administration request must leave as
// they were, beyond those of snapshot.
var adminTables = []string{"client_assignments", "api_tokens", "password_history"}

// adminSnapshot counts the rows of every table an administration request
// may write.
func (e *env) adminSnapshot(t *testing.T) map[string]int {
	t.Helper()
	out := e.snapshot(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	for _, tb := range adminTables {
		n, err := e.db.Count(ctx, tb)
		if err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

func (e *env) adminUnchanged(t *testing.T, before map[string]int) {
	t.Helper()
	after := e.adminSnapshot(t)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d rows, want %d unchanged: a refused request wrote", k, after[k], n)
		}
	}
}

// useToken makes e.call(t, who, ...) send tok.
func (e *env) withToken(who, tok string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens[who] = tok
}

// signInAs signs in through the API with a password and makes e.call(t,
// username, ...) use the session.
func (e *env) loginWith(t *testing.T, username, password string) {
	t.Helper()
	r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": username, "password": password})
	if r.status != http.StatusOK {
		t.Fatalf("login %s: status %d: %s", username, r.status, r.body)
	}
	e.withToken(username, r.object(t)["token"].(string))
}

// createAccount creates an account through the API as who, with the body's
// password, and has the account's owner take the first step asked of them:
// the administrator's password changed for their own. The administrator
// sets one password and the owner chooses the body's, so that the test goes
// on as the owner with that password. A refused creation is returned as it
// is, with nothing else done.
func (e *env) createAccount(t *testing.T, who string, body map[string]any) reply {
	t.Helper()
	own, _ := body["password"].(string)
	given := maps.Clone(body)
	given["password"] = "Given-" + own
	r := e.call(t, who, "POST", "/api/v1/accounts", given)
	if r.status != http.StatusCreated {
		return r
	}
	tok := tokenOf(t, e.login(t, "username", body["username"].(string), "password", "Given-"+own))
	if c := e.with(t, tok, "POST", "/api/v1/password", map[string]string{"current": "Given-" + own, "new": own}); c.status != http.StatusNoContent {
		t.Fatalf("%s's first change of password: status %d: %s", body["username"], c.status, c.body)
	}
	if c := e.with(t, tok, "POST", "/api/v1/logout", nil); c.status != http.StatusNoContent {
		t.Fatalf("%s's logout: status %d: %s", body["username"], c.status, c.body)
	}
	return r
}

// trailOf reads the audit trail of one record through the API, as the admin.
func (e *env) trailOf(t *testing.T, entity, id string) []map[string]any {
	t.Helper()
	return e.call(t, "admin", "GET", "/api/v1/audit?entity="+entity+"&entity_id="+id, nil).items(t)
}

// lines writes entries as "command field old→new [reason]".
func trailLines(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		s := it["command"].(string) + " " + it["field"].(string) + " " + it["old"].(string) + "→" + it["new"].(string)
		if r, _ := it["reason"].(string); r != "" {
			s += " [" + r + "]"
		}
		out = append(out, s)
	}
	return out
}

func TestAdminAccountsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.accounts["admin"]
		var bruno map[string]any
		t.Run("create", func(t *testing.T) {
			r := e.call(t, "admin", "POST", "/api/v1/accounts", map[string]any{
				"username": "bruno", "name": "Bruno Petit", "roles": []string{"operator"}, "password": adminPassword, "reason": "new operator"})
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			bruno = r.object(t)
			if bruno["username"] != "bruno" || bruno["active"] != true || bruno["source"] != "local" || bruno["client_id"] != nil {
				t.Errorf("created %s", r.body)
			}
			if strings.Contains(string(r.body), adminPassword) || strings.Contains(string(r.body), "argon2") {
				t.Errorf("the answer holds the password or its hash: %s", r.body)
			}
			trail := e.trailOf(t, "account", bruno["id"].(string))
			for _, it := range trail {
				if it["actor_id"] != admin.ID || it["actor_name"] != "Ada Admin" || it["command"] != "account.create" || it["at"] == "" {
					t.Errorf("entry %v: want the admin's account.create", it)
				}
			}
			if got := trailLines(trail); !slices.Contains(got, "account.create roles →operator [new operator]") {
				t.Errorf("trail %q lacks the roles granted", got)
			}
			e.loginWith(t, "bruno", adminPassword)
			if got := e.call(t, "bruno", "GET", "/api/v1/me", nil).object(t); got["username"] != "bruno" {
				t.Errorf("the new account signs in as %v", got["username"])
			}
		})
		id := bruno["id"].(string)

		t.Run("list and get", func(t *testing.T) {
			items := e.call(t, "admin", "GET", "/api/v1/accounts", nil).items(t)
			var names []string
			for _, it := range items {
				names = append(names, it["username"].(string))
				if it["username"] == "client-alpha" && it["client_id"] != e.alpha.ID {
					t.Errorf("a client user's account without its client_id: %v", it)
				}
			}
			if !slices.Equal(names, []string{"admin", "bruno", "client-alpha", "operator"}) {
				t.Errorf("accounts %v", names)
			}
			if got := e.call(t, "admin", "GET", "/api/v1/accounts?client_id="+e.alpha.ID, nil).items(t); len(got) != 1 || got[0]["username"] != "client-alpha" {
				t.Errorf("alpha's accounts: %v", got)
			}
			if got := e.call(t, "admin", "GET", "/api/v1/accounts/"+id, nil).object(t); got["name"] != "Bruno Petit" {
				t.Errorf("got %v", got)
			}
			for _, who := range []string{"operator", "client-alpha"} {
				e.call(t, who, "GET", "/api/v1/accounts", nil).wantError(t, http.StatusForbidden, "forbidden", "")
				e.call(t, who, "GET", "/api/v1/accounts/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")
			}
		})

		t.Run("change", func(t *testing.T) {
			cur := e.call(t, "admin", "GET", "/api/v1/accounts/"+id, nil).object(t)
			for _, tt := range []struct {
				name   string
				change map[string]any
				status int
				code   string
				field  string
			}{
				{"no reason", map[string]any{"roles": []string{"supervisor"}}, http.StatusBadRequest, "invalid", "reason"},
				{"no active flag", map[string]any{"active": nil, "reason": "x"}, http.StatusBadRequest, "invalid", "active"},
				{"username", map[string]any{"username": "otto2", "reason": "x"}, http.StatusBadRequest, "invalid", "username"},
				{"unknown field", map[string]any{"password": "x", "reason": "x"}, http.StatusBadRequest, "invalid", "password"},
				{"unknown role", map[string]any{"roles": []string{"root"}, "reason": "x"}, http.StatusBadRequest, "invalid", "roles"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					body := maps.Clone(cur)
					maps.Copy(body, tt.change)
					if body["active"] == nil {
						delete(body, "active")
					}
					before := e.adminSnapshot(t)
					e.call(t, "admin", "PUT", "/api/v1/accounts/"+id, body).wantError(t, tt.status, tt.code, tt.field)
					e.adminUnchanged(t, before)
				})
			}
			// The account as GET answers it, changed, with a reason.
			body := maps.Clone(cur)
			body["roles"], body["reason"] = []string{"operator", "supervisor"}, "promoted"
			r := e.call(t, "admin", "PUT", "/api/v1/accounts/"+id, body)
			if r.status != http.StatusOK || !reflect.DeepEqual(r.object(t)["roles"], []any{"operator", "supervisor"}) {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			trail := e.trailOf(t, "account", id)
			last := trail[len(trail)-1]
			if got := trailLines(trail[len(trail)-1:]); !slices.Equal(got, []string{"account.update roles operator→operator,supervisor [promoted]"}) {
				t.Errorf("change trail %q", got)
			}
			if last["actor_id"] != admin.ID {
				t.Errorf("change by %v, want the admin", last["actor_id"])
			}
		})

		t.Run("an administrator keeps their own rights", func(t *testing.T) {
			self := e.call(t, "admin", "GET", "/api/v1/accounts/"+admin.ID, nil).object(t)
			for _, change := range []map[string]any{{"roles": []string{"qa"}}, {"active": false}} {
				body := maps.Clone(self)
				maps.Copy(body, change)
				body["reason"] = "x"
				before := e.adminSnapshot(t)
				e.call(t, "admin", "PUT", "/api/v1/accounts/"+admin.ID, body).wantError(t, http.StatusForbidden, "forbidden", "")
				e.adminUnchanged(t, before)
			}
			before := e.adminSnapshot(t)
			e.call(t, "admin", "POST", "/api/v1/accounts/"+admin.ID+"/withdraw", map[string]string{"reason": "x"}).wantError(t, http.StatusForbidden, "forbidden", "")
			e.adminUnchanged(t, before)
		})

		t.Run("password reset", func(t *testing.T) {
			before := e.adminSnapshot(t)
			e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/password", map[string]string{"password": "short", "reason": "lost"}).
				wantError(t, http.StatusBadRequest, "invalid", "password")
			e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/password", map[string]string{"password": adminPassword + "!"}).
				wantError(t, http.StatusBadRequest, "invalid", "reason")
			e.adminUnchanged(t, before)
			if r := e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/password", map[string]string{"password": adminPassword + "!", "reason": "lost"}); r.status != http.StatusNoContent {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			e.loginWith(t, "bruno", adminPassword+"!")
		})

		t.Run("unlock", func(t *testing.T) {
			unlock := "/api/v1/accounts/" + id + "/unlock"
			// Not locked: nothing to unlock, in words.
			if m := e.call(t, "admin", "POST", unlock, map[string]string{"reason": "asked by phone"}, "Accept-Language", "fr").
				wantError(t, http.StatusConflict, "conflict", "").Message; m != "Ce compte n'est pas verrouillé : il n'y a rien à déverrouiller." {
				t.Errorf("not locked, in French: %q", m)
			}
			for range 5 {
				e.login(t, "username", "bruno", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
			}
			e.login(t, "username", "bruno", "password", adminPassword+"!").wantError(t, http.StatusUnauthorized, "unauthorized", "")
			before := e.adminSnapshot(t)
			if m := e.call(t, "admin", "POST", unlock, map[string]string{"reason": " "}, "Accept-Language", "en").
				wantError(t, http.StatusBadRequest, "invalid", "reason").Message; !strings.Contains(m, "why") {
				t.Errorf("no reason, in English: %q", m)
			}
			e.call(t, "operator", "POST", unlock, map[string]string{"reason": "x"}).wantError(t, http.StatusForbidden, "forbidden", "")
			e.adminUnchanged(t, before)
			trailBefore := len(e.trailOf(t, "account", id))
			r := e.call(t, "admin", "POST", unlock, map[string]string{"reason": "Bruno called, recognised by his manager"})
			if r.status != http.StatusOK || r.object(t)["id"] != id {
				t.Fatalf("unlock: %d %s", r.status, r.body)
			}
			trail := e.trailOf(t, "account", id)
			got := trailLines(trail[trailBefore:])
			if len(got) != 1 || !strings.HasPrefix(got[0], "account.unlock locked_until 20") || !strings.HasSuffix(got[0], "→ [Bruno called, recognised by his manager]") {
				t.Errorf("unlock trail %q", got)
			}
			e.loginWith(t, "bruno", adminPassword+"!")
			if m := e.call(t, "admin", "POST", unlock, map[string]string{"reason": "again"}, "Accept-Language", "en").
				wantError(t, http.StatusConflict, "conflict", "").Message; m != "This account is not locked: there is nothing to unlock." {
				t.Errorf("not locked, in English: %q", m)
			}
		})

		t.Run("withdraw", func(t *testing.T) {
			before := e.adminSnapshot(t)
			e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/withdraw", map[string]string{}).wantError(t, http.StatusBadRequest, "invalid", "reason")
			e.adminUnchanged(t, before)
			r := e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/withdraw", map[string]string{"reason": "left the company"})
			if r.status != http.StatusOK || r.object(t)["active"] != false {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			trail := e.trailOf(t, "account", id)
			if got := trailLines(trail[len(trail)-1:]); !slices.Equal(got, []string{"account.withdraw active true→false [left the company]"}) {
				t.Errorf("withdrawal trail %q", got)
			}
			// Its session ends at once.
			e.call(t, "bruno", "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/withdraw", map[string]string{"reason": "again"}).wantError(t, http.StatusConflict, "conflict", "")
		})
	})
}

// TestAdminRefusesOthers: whoever may not administer accounts is refused
// every administration write with 403, and nothing is written.
func TestAdminRefusesOthers(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		op := e.accounts["operator"].ID
		for _, who := range []string{"operator", "client-alpha"} {
			e.token(t, who) // sign in before counting the sessions
			for _, rq := range []struct {
				method, path string
				body         map[string]any
			}{
				{"POST", "/api/v1/accounts", map[string]any{"username": "x", "name": "X", "roles": []string{"operator"}, "password": adminPassword}},
				{"PUT", "/api/v1/accounts/" + op, map[string]any{"name": "X", "roles": []string{"admin"}, "active": true, "reason": "x"}},
				{"POST", "/api/v1/accounts/" + op + "/withdraw", map[string]any{"reason": "x"}},
				{"POST", "/api/v1/accounts/" + op + "/password", map[string]any{"password": adminPassword, "reason": "x"}},
				{"POST", "/api/v1/accounts/" + op + "/unlock", map[string]any{"reason": "x"}},
				{"POST", "/api/v1/assignments", map[string]any{"account_id": op, "client_id": e.alpha.ID}},
				{"POST", "/api/v1/assignments/" + e.adminBeta.ID + "/withdraw", map[string]any{"reason": "x"}},
				{"POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"site:read"}}},
				{"POST", "/api/v1/tokens/" + e.machine.ID + "/revoke", map[string]any{"reason": "x"}},
				{"GET", "/api/v1/accounts", nil},
				{"GET", "/api/v1/assignments", nil},
				{"GET", "/api/v1/tokens", nil},
			} {
				t.Run(who+" "+rq.method+" "+rq.path, func(t *testing.T) {
					before := e.adminSnapshot(t)
					var body any
					if rq.body != nil {
						body = rq.body
					}
					e.call(t, who, rq.method, rq.path, body).wantError(t, http.StatusForbidden, "forbidden", "")
					e.adminUnchanged(t, before)
				})
			}
		}
		// By id, what one may not see is not found.
		for _, who := range []string{"operator", "client-alpha"} {
			for _, path := range []string{"/api/v1/assignments/" + e.adminBeta.ID, "/api/v1/tokens/" + e.machine.ID, "/api/v1/accounts/" + op} {
				e.call(t, who, "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
			}
		}
	})
}

func TestClientManagerAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, a := range []map[string]any{
			{"username": "manager-alpha", "name": "Mia Manager", "roles": []string{"client_manager"}, "client_id": e.alpha.ID, "password": adminPassword},
			{"username": "user-beta", "name": "Ugo Beta", "roles": []string{"client_user"}, "client_id": e.beta.ID, "password": adminPassword},
		} {
			if r := e.createAccount(t, "admin", a); r.status != http.StatusCreated {
				t.Fatalf("create %v: %d %s", a["username"], r.status, r.body)
			}
		}
		e.loginWith(t, "manager-alpha", adminPassword)
		const m = "manager-alpha"

		names := func() []string {
			var out []string
			for _, it := range e.call(t, m, "GET", "/api/v1/accounts", nil).items(t) {
				out = append(out, it["username"].(string))
				if it["client_id"] != e.alpha.ID {
					t.Errorf("the manager sees an account outside their laboratory: %v", it)
				}
			}
			return out
		}
		if got := names(); !slices.Equal(got, []string{"client-alpha", "manager-alpha"}) {
			t.Errorf("the manager lists %v", got)
		}

		r := e.call(t, m, "POST", "/api/v1/accounts", map[string]any{"username": "user-alpha2", "name": "Ulla Alpha", "roles": []string{"client_user"}, "password": adminPassword})
		if r.status != http.StatusCreated {
			t.Fatalf("the manager creates a user: %d %s", r.status, r.body)
		}
		created := r.object(t)
		if created["client_id"] != e.alpha.ID {
			t.Errorf("the manager's new user belongs to %v, want alpha", created["client_id"])
		}
		for _, trailEntry := range e.call(t, "client-alpha", "GET", "/api/v1/audit?entity=account&entity_id="+created["id"].(string), nil).items(t) {
			if trailEntry["client_id"] != e.alpha.ID {
				t.Errorf("entry %v: the creation of alpha's user is alpha's", trailEntry)
			}
		}

		for _, bad := range []map[string]any{
			{"username": "x1", "name": "X", "roles": []string{"client_user"}, "client_id": e.beta.ID, "password": adminPassword},
			{"username": "x2", "name": "X", "roles": []string{"operator"}, "password": adminPassword},
			{"username": "x3", "name": "X", "roles": []string{"client_manager"}, "password": adminPassword},
		} {
			before := e.adminSnapshot(t)
			e.call(t, m, "POST", "/api/v1/accounts", bad).wantError(t, http.StatusForbidden, "forbidden", "")
			e.adminUnchanged(t, before)
		}

		var beta string
		for _, it := range e.call(t, "admin", "GET", "/api/v1/accounts?client_id="+e.beta.ID, nil).items(t) {
			beta = it["id"].(string)
		}
		for _, id := range []string{beta, e.accounts["operator"].ID, e.accounts["admin"].ID} {
			before := e.adminSnapshot(t)
			e.call(t, m, "GET", "/api/v1/accounts/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")
			e.call(t, m, "POST", "/api/v1/accounts/"+id+"/withdraw", map[string]string{"reason": "x"}).wantError(t, http.StatusNotFound, "not_found", "")
			e.adminUnchanged(t, before)
		}
		if r := e.call(t, m, "POST", "/api/v1/accounts/"+created["id"].(string)+"/withdraw", map[string]string{"reason": "left Alpha"}); r.status != http.StatusOK {
			t.Errorf("the manager withdraws their user: %d %s", r.status, r.body)
		}
		// Changing roles and resetting passwords stay with administrators.
		before := e.adminSnapshot(t)
		e.call(t, m, "PUT", "/api/v1/accounts/"+e.accounts["client-alpha"].ID, map[string]any{"name": "X", "roles": []string{"client_manager"}, "active": true, "reason": "x"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, m, "POST", "/api/v1/accounts/"+e.accounts["client-alpha"].ID+"/password", map[string]any{"password": adminPassword, "reason": "x"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		e.adminUnchanged(t, before)
	})
}

// TestWithdrawnAccountTokens: a withdrawn administrator's sessions end at
// once; the machine tokens they made are the site's (a sensor gateway, a
// badge reader) and keep working until they expire or are revoked, so
// that production does not stop when a person leaves.
func TestWithdrawnAccountTokens(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.createAccount(t, "admin", map[string]any{
			"username": "ines", "name": "Inès Admin", "roles": []string{"admin"}, "password": adminPassword, "reason": "second administrator"})
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.object(t)["id"].(string)
		e.loginWith(t, "ines", adminPassword)
		r = e.call(t, "ines", "POST", "/api/v1/tokens", map[string]any{"name": "Reader", "scopes": []string{"site:read"}, "reason": "integration"})
		if r.status != http.StatusCreated {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		secret := r.object(t)["secret"].(string)
		if r := e.with(t, secret, "GET", "/api/v1/rooms", nil); r.status != http.StatusOK {
			t.Fatalf("token before withdrawal: %d %s", r.status, r.body)
		}
		if r := e.call(t, "admin", "POST", "/api/v1/accounts/"+id+"/withdraw", map[string]string{"reason": "left"}); r.status != http.StatusOK {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		e.call(t, "ines", "GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		if r := e.with(t, secret, "GET", "/api/v1/rooms", nil); r.status != http.StatusOK {
			t.Fatalf("the site's token after its creator left: %d %s", r.status, r.body)
		}
	})
}
