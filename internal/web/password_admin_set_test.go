package web_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestAdminSetPasswordAPI: after an administrator resets bob's password,
// bob signs in, but until he changes it himself every other request is
// refused with 403 password_change_required, signatures included (a
// challenge taken before the reset too), and nothing is signed or written;
// once he has changed it, he signs (21 CFR 11.300, EU GMP Annex 11 §14).
func TestAdminSetPasswordAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		hash, err := passwordHash()
		if err != nil {
			t.Fatal(err)
		}
		bob := identity.Account{Username: "bob", Name: "Bob Bernard", Roles: []identity.Role{identity.RoleOperator}}
		if err := e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(_ context.Context, h *store.History) error {
			return h.CreateAccount(&bob, hash)
		}); err != nil {
			t.Fatal(err)
		}
		line := e.line.ID
		const given, own = "Granite-Otter-Falls-77", "Velvet-Canyon-Mosaic-19"

		// An account galenix seeded signs in with nothing pending.
		if got := e.call(t, "bob", "GET", "/api/v1/me", nil).object(t); got["pending"] != "" {
			t.Fatalf("a seeded account: %v", got)
		}
		early := e.challenge(t, "bob", "line", line, "performed")

		if r := e.call(t, "admin", "POST", "/api/v1/accounts/"+bob.ID+"/password", map[string]string{"password": given, "reason": "Forgotten"}); r.status != http.StatusNoContent {
			t.Fatalf("reset: status %d: %s", r.status, r.body)
		}
		if got := trailLines(e.trailOf(t, "account", bob.ID)); !slices.Contains(got, "account.password_reset password_must_change false→true [Forgotten]") {
			t.Errorf("the mark is not in the account's trail: %q", got)
		}
		e.loginWith(t, "bob", given)
		if got := e.call(t, "bob", "GET", "/api/v1/me", nil).object(t); got["pending"] != "password_set_by_admin" {
			t.Errorf("me after the reset: %v", got)
		}

		before := e.snapshot(t)
		refused := func(method, path string, body any) {
			t.Helper()
			got := e.call(t, "bob", method, path, body).wantError(t, http.StatusForbidden, "password_change_required", "")
			if got.Message != "Change the password the administrator gave you first." {
				t.Errorf("%s %s: message %q", method, path, got.Message)
			}
		}
		// Signatures: with the challenge taken before the reset, and a new one.
		body := signBody("bob", "line", line, "performed", early)
		body["password"] = given
		refused("POST", "/api/v1/signatures", body)
		refused("POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "performed"})
		// Other writes, and reads.
		refused("POST", "/api/v1/sessions/revoke-all", nil)
		refused("POST", "/api/v1/totp/enroll", nil)
		refused("GET", "/api/v1/lines", nil)
		r := e.call(t, "bob", "POST", "/api/v1/signatures", body, "Accept-Language", "fr")
		if got := r.wantError(t, http.StatusForbidden, "password_change_required", ""); got.Message != "Changez d'abord le mot de passe donné par l'administrateur." {
			t.Errorf("French message %q", got.Message)
		}
		e.unchanged(t, before)
		if n := e.signatureRows(t); n != 0 {
			t.Fatalf("%d signatures while the administrator's password held", n)
		}

		// Bob's own change ends it.
		if r := e.call(t, "bob", "POST", "/api/v1/password", map[string]string{"current": given, "new": own}); r.status != http.StatusNoContent {
			t.Fatalf("change: status %d: %s", r.status, r.body)
		}
		if got := e.call(t, "bob", "GET", "/api/v1/me", nil).object(t); got["pending"] != "" {
			t.Errorf("me after the change: %v", got)
		}
		if got := trailLines(e.trailOf(t, "account", bob.ID)); !slices.Contains(got, "account.password.change password_must_change true→false") {
			t.Errorf("the mark's end is not in the account's trail: %q", got)
		}
		body = signBody("bob", "line", line, "performed", e.challenge(t, "bob", "line", line, "performed"))
		body["password"] = own
		if r := e.call(t, "bob", "POST", "/api/v1/signatures", body); r.status != http.StatusCreated {
			t.Fatalf("signing after the change: status %d: %s", r.status, r.body)
		}
	})
}

// TestAdminCreatedAccountAPI: an account an administrator creates with its
// first password starts with that password to change.
func TestAdminCreatedAccountAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "admin", "POST", "/api/v1/accounts", map[string]any{"username": "nadia", "name": "Nadia Nouvelle",
			"roles": []string{"operator"}, "password": adminPassword, "reason": "New operator"})
		if r.status != http.StatusCreated {
			t.Fatalf("create: status %d: %s", r.status, r.body)
		}
		e.loginWith(t, "nadia", adminPassword)
		if got := e.call(t, "nadia", "GET", "/api/v1/me", nil).object(t); got["pending"] != "password_set_by_admin" {
			t.Errorf("me: %v", got)
		}
		e.call(t, "nadia", "GET", "/api/v1/lines", nil).wantError(t, http.StatusForbidden, "password_change_required", "")
	})
}
