package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/store"
)

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
		// A key of 200 characters, spaces included, is a key.
		if r := e.call(t, "admin", "POST", "/api/v1/teams", team("K6"), "Idempotency-Key", "a b"+strings.Repeat("k", 197)); r.status != http.StatusCreated {
			t.Errorf("a key of 200 printable characters: %d %s", r.status, r.body)
		}
		before := e.rows(t)
		// The same key with another body, another path, another method.
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/teams", team("K2")},
			{"POST", "/api/v1/shifts", team("K1")},
			{"PUT", "/api/v1/teams/" + e.team.ID, team("K1")},
		} {
			r := e.call(t, "admin", c.method, c.path, c.body, "Idempotency-Key", key)
			r.wantError(t, http.StatusUnprocessableEntity, "idempotency_mismatch", "")
			if !strings.Contains(string(r.body), "another request") {
				t.Errorf("the reused key's answer does not say why: %s", r.body)
			}
		}
		fr := e.call(t, "admin", "POST", "/api/v1/teams", team("K2"), "Idempotency-Key", key, "Accept-Language", "fr")
		if msg := fr.wantError(t, http.StatusUnprocessableEntity, "idempotency_mismatch", "").Message; !strings.Contains(msg, "autre requête") {
			t.Errorf("the French refusal: %q", msg)
		}
		// Keys that are not keys: empty, too long, not ASCII, a control
		// character cannot even be sent.
		for _, bad := range []string{"", strings.Repeat("k", 201), "clé"} {
			r := e.call(t, "admin", "POST", "/api/v1/teams", team("K3"), "Idempotency-Key", bad)
			if msg := r.wantError(t, http.StatusBadRequest, "invalid", "Idempotency-Key").Message; !strings.Contains(msg, "Idempotency-Key") {
				t.Errorf("a bad key %q is refused without saying so: %s", bad, msg)
			}
		}
		if after := e.rows(t); !maps.Equal(after, before) {
			t.Errorf("refused keys wrote: %v, want %v", after, before)
		}

		// Another account with the same key and the same request: its own
		// request, applied, not a replay of the admin's answer (which it
		// may not even be allowed to see).
		newSignEnv(t, e)
		r := e.call(t, "supervisor", "POST", "/api/v1/teams", team("K1"), "Idempotency-Key", key)
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("another account's same key replayed the admin's answer: %d %s", r.status, r.body)
		}
		// Its own request it is: the code K1 is taken (by the admin's team).
		r.wantError(t, http.StatusConflict, "conflict", "code")
		r = e.call(t, "supervisor", "POST", "/api/v1/teams", team("K4"), "Idempotency-Key", key)
		if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("another account's key: %d %s, want its own team", r.status, r.body)
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
		created, replayed := 0, 0
		for _, a := range answers {
			switch {
			case a.status == http.StatusCreated:
				created++
				if a.header.Get("Idempotent-Replayed") == "true" {
					replayed++
				}
				if answers[0].status == http.StatusCreated && !sameAnswer(a.body, answers[0].body) {
					t.Errorf("two answers to one key differ: %s and %s", a.body, answers[0].body)
				}
			case a.status == http.StatusConflict && strings.Contains(string(a.body), `"idempotency_applied"`):
				// applied, and its answer not recorded in time
			default:
				t.Errorf("a request with the key: %d %s", a.status, a.body)
			}
		}
		if created-replayed != 1 {
			t.Errorf("%d answers 201 not marked replayed, want exactly 1 (the request applied)", created-replayed)
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
		r.wantError(t, http.StatusConflict, "idempotency_applied", "")
		if !strings.Contains(string(r.body), "already applied") {
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
