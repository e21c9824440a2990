package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/store"
)

// writeRoutes are the write operations of docs/openapi.yaml that need a
// session, read from the document: a route added there is covered here.
func writeRoutes(t *testing.T) []struct{ method, path string } {
	t.Helper()
	_, doc := openapiDoc(t)
	var out []struct{ method, path string }
	for path, item := range at(t, doc, "paths").(map[string]any) {
		for k, v := range item.(map[string]any) {
			if !slices.Contains([]string{"post", "put", "patch", "delete"}, k) {
				continue
			}
			if sec, ok := v.(map[string]any)["security"]; ok && fmt.Sprint(sec) == "[]" {
				continue // public: no account to scope a key by (sign-in)
			}
			if !strings.Contains(fmt.Sprint(v.(map[string]any)["parameters"]), "#/components/parameters/IdempotencyKey") {
				t.Errorf("%s %s does not document the Idempotency-Key header", strings.ToUpper(k), path)
			}
			out = append(out, struct{ method, path string }{strings.ToUpper(k), path})
		}
	}
	// The writes that end the caller's session go last: after them the
	// session is gone.
	last := func(p string) bool { return endsSession[p] }
	sort.Slice(out, func(i, j int) bool {
		if last(out[i].path) != last(out[j].path) {
			return !last(out[i].path)
		}
		return out[i].path+out[i].method < out[j].path+out[j].method
	})
	if len(out) < 20 {
		t.Fatalf("only %d write routes in the document", len(out))
	}
	return out
}

// endsSession are the writes after which the caller's session is gone: a
// retry answers 401 and changes nothing.
var endsSession = map[string]bool{"/api/v1/logout": true, "/api/v1/sessions/revoke-all": true}

// idemBodies are bodies that the routes take (the others get "{}" and
// answer their own 400; a retry of a refused write must answer the same and
// change nothing too).
func idemBodies(e *env, n int) map[string]any {
	code := fmt.Sprintf("IDEM%d", n)
	return map[string]any{
		"POST /api/v1/buildings": map[string]any{"code": code, "name": "Bâtiment " + code, "role": "warehouse"},
		"PUT /api/v1/buildings/{id}": map[string]any{"code": e.building.Code, "name": "Renamed " + code, "role": e.building.Role,
			"reason": "idempotency test"},
		"POST /api/v1/shifts": map[string]any{"code": code, "name": "Night " + code, "kind": "night", "start": "22:00", "end": "06:00"},
		"POST /api/v1/teams":  map[string]any{"code": code, "name": "Team " + code, "shift_id": e.shift.ID},
		"POST /api/v1/people": map[string]any{"badge": code, "name": "Person " + code, "job": "Operator", "team_id": e.team.ID},
	}
}

// TestIdempotencyEveryWriteRoute sends every write of the API document
// twice with the same Idempotency-Key: the second answer is the first, and
// the second request changes nothing (the audit trail does not grow). A
// key that is not a key is refused on every write route.
func TestIdempotencyEveryWriteRoute(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		routes := writeRoutes(t)
		replayed := 0
		for i, rt := range routes {
			id := newUUID(t)
			switch {
			case strings.HasPrefix(rt.path, "/api/v1/buildings/"):
				id = e.building.ID
			}
			path := withID(rt.path, id)
			path = strings.NewReplacer("{id}", id, "{code}", "X").Replace(path)
			body := idemBodies(e, i)[rt.method+" "+rt.path]
			if body == nil {
				body = map[string]any{}
			}
			if endsSession[rt.path] { // a session of its own
				e.mu.Lock()
				delete(e.tokens, "admin")
				e.mu.Unlock()
			}
			bad := e.call(t, "admin", rt.method, path, body, "Idempotency-Key", "has a space")
			bad.wantError(t, http.StatusBadRequest, "invalid", "")
			if !strings.Contains(string(bad.body), "Idempotency-Key") {
				t.Errorf("%s %s: a bad key is refused without saying so: %s", rt.method, rt.path, bad.body)
			}

			key := newUUID(t)
			first := e.call(t, "admin", rt.method, path, body, "Idempotency-Key", key)
			before := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
			second := e.call(t, "admin", rt.method, path, body, "Idempotency-Key", key)
			after := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
			if endsSession[rt.path] && first.status/100 == 2 {
				if second.status != http.StatusUnauthorized || after != before {
					t.Errorf("%s sent again after it ended the session: %d %s, %d audit entries", rt.path, second.status, second.body, after-before)
				}
				continue
			}
			if second.status != first.status || !sameAnswer(first.body, second.body) {
				t.Errorf("%s %s sent again with its key: %d %s, first %d %s", rt.method, rt.path, second.status, second.body, first.status, first.body)
			}
			if after != before {
				t.Errorf("%s %s sent again with its key wrote %d audit entries", rt.method, rt.path, after-before)
			}
			if first.status/100 == 2 {
				if second.header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("%s %s: the replay is not marked Idempotent-Replayed", rt.method, rt.path)
				}
				replayed++
			}
		}
		if replayed < len(idemBodies(e, 0)) {
			t.Errorf("only %d writes succeeded and were replayed, want at least %d", replayed, len(idemBodies(e, 0)))
		}
	})
}

// TestIdempotencyKeyRules: a key reused for another request is refused,
// another account's key is its own, and two requests with one key sent at
// once apply once.
func TestIdempotencyKeyRules(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		key := newUUID(t)
		team := func(code string) map[string]any {
			return map[string]any{"code": code, "name": "Team " + code, "shift_id": e.shift.ID}
		}
		if r := e.call(t, "admin", "POST", "/api/v1/teams", team("K1"), "Idempotency-Key", key); r.status != http.StatusCreated {
			t.Fatalf("first write: %d %s", r.status, r.body)
		}
		r := e.call(t, "admin", "POST", "/api/v1/teams", team("K2"), "Idempotency-Key", key)
		r.wantError(t, http.StatusConflict, "conflict", "")
		if !strings.Contains(string(r.body), "another request") {
			t.Errorf("the reused key's answer does not say why: %s", r.body)
		}
		long := e.call(t, "admin", "POST", "/api/v1/teams", team("K3"), "Idempotency-Key", strings.Repeat("k", 201))
		long.wantError(t, http.StatusBadRequest, "invalid", "")

		// Another account with the same key: its own request, not a
		// replay of the admin's answer (which it may not even see).
		r = e.call(t, "operator", "POST", "/api/v1/teams", team("K4"), "Idempotency-Key", key)
		if r.header.Get("Idempotent-Replayed") != "" || r.status == http.StatusCreated {
			t.Errorf("another account's key replayed or applied: %d %s", r.status, r.body)
		}

		// Ten requests with one key at once: one team.
		key = newUUID(t)
		var wg sync.WaitGroup
		answers := make([]reply, 10)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = e.call(t, "admin", "POST", "/api/v1/teams", team("K5"), "Idempotency-Key", key)
			}()
		}
		wg.Wait()
		created := 0
		for _, a := range answers {
			switch a.status {
			case http.StatusCreated:
				created++
				if !sameAnswer(a.body, answers[0].body) && answers[0].status == http.StatusCreated {
					t.Errorf("two answers to one key differ: %s and %s", a.body, answers[0].body)
				}
			case http.StatusConflict:
				if strings.Contains(string(a.body), "already used by another record") {
					t.Errorf("a request with the key was applied again: %s", a.body)
				}
			default:
				t.Errorf("a request with the key: %d %s", a.status, a.body)
			}
		}
		if created == 0 {
			t.Error("no request created the team")
		}
		if n := len(e.auditEntries(t, audit.Filter{Entity: "team", Limit: 1000})); n == 0 {
			t.Error("no team audited")
		}
		var teams struct{ Items []struct{ Code string } }
		e.call(t, "admin", "GET", "/api/v1/teams", nil).decode(t, &teams)
		n := 0
		for _, tm := range teams.Items {
			if tm.Code == "K5" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d teams K5 after ten requests with one key, want 1", n)
		}
	})
}

// TestIdempotencyCommittedButUnanswered: a write committed whose answer
// was never recorded (the node died between the two) is not applied again
// by a retry: the retry is told so.
func TestIdempotencyCommittedButUnanswered(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		key := newUUID(t)
		body := map[string]any{"code": "U1", "name": "Team U1", "shift_id": e.shift.ID}
		if r := e.call(t, "admin", "POST", "/api/v1/teams", body, "Idempotency-Key", key); r.status != http.StatusCreated {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
		// What a crash between the commit and the answer's record leaves.
		if _, err := e.db.WriteSQL().Exec(rebind(e.db, `UPDATE idempotency_keys SET status = 0, body = NULL WHERE key = ?`), key); err != nil {
			t.Fatal(err)
		}
		before := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
		r := e.call(t, "admin", "POST", "/api/v1/teams", body, "Idempotency-Key", key)
		r.wantError(t, http.StatusConflict, "conflict", "")
		if !strings.Contains(string(r.body), "already applied") || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the retry is not told its write was applied: %s", r.body)
		}
		if after := len(e.auditEntries(t, audit.Filter{Limit: 100000})); after != before {
			t.Errorf("the retry wrote %d audit entries", after-before)
		}
	})
}

func rebind(db *store.DB, q string) string {
	if db.Dialect() == store.Postgres {
		return strings.Replace(q, "?", "$1", 1)
	}
	return q
}

// TestFormSubmittedTwiceAppliesOnce: a page's form carries a fresh key; a
// double tap sends it twice, and the second submit lands where the first
// did without applying anything again.
func TestFormSubmittedTwiceAppliesOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		page := e.call(t, "admin", "GET", "/teams/new", nil)
		if page.status != http.StatusOK || !strings.Contains(string(page.body), `name="idempotency_key"`) {
			t.Fatalf("the team form has no idempotency key: %d", page.status)
		}
		form := url.Values{"idempotency_key": {newUUID(t)}, "code": {"F2"}, "name": {"Team F2"}, "shift_id": {e.shift.ID}}
		token := e.token(t, "admin")
		submit := func() *http.Response {
			req, _ := http.NewRequest("POST", e.srv.URL+"/teams", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+token)
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		first := submit()
		before := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
		second := submit()
		if first.StatusCode != http.StatusSeeOther || second.StatusCode != first.StatusCode || second.Header.Get("Location") != first.Header.Get("Location") {
			t.Errorf("the form sent twice: %d %q then %d %q, want the same redirect twice", first.StatusCode, first.Header.Get("Location"), second.StatusCode, second.Header.Get("Location"))
		}
		if after := len(e.auditEntries(t, audit.Filter{Limit: 100000})); after != before {
			t.Errorf("the second submit wrote %d audit entries", after-before)
		}
	})
}
