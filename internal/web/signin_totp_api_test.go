package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
)

// TestSignInTOTPReplayAPI checks through the sign-in API that a second-
// factor code is accepted once (RFC 6238 §5.2): the code the confirmation
// used does not sign in, a code that signed in does not sign in again, nor
// does the code of an earlier step still within the clock drift; the code
// of the next step does.
func TestSignInTOTPReplayAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		c := setClock(e)
		tok := tokenOf(t, e.login(t, "username", "operator", "password", testPassword))
		var en struct{ Secret, URL string }
		e.with(t, tok, "POST", "/api/v1/totp/enroll", nil).decode(t, &en)
		code := func(at time.Time) string {
			t.Helper()
			s, err := identity.TOTPCode(en.Secret, at)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		confirmed := code(c.now())
		if r := e.with(t, tok, "POST", "/api/v1/totp/confirm", map[string]string{"code": confirmed}); r.status != http.StatusNoContent {
			t.Fatalf("confirm: status %d: %s", r.status, r.body)
		}
		used := func(r reply) {
			t.Helper()
			got := r.wantError(t, http.StatusUnauthorized, "unauthorized", "totp")
			if !strings.Contains(got.Message, "used already") {
				t.Errorf("a code used again: %q, want it said", got.Message)
			}
		}
		used(e.login(t, "username", "operator", "password", testPassword, "totp", confirmed))

		c.add(30 * time.Second)
		first := code(c.now())
		tokenOf(t, e.login(t, "username", "operator", "password", testPassword, "totp", first))
		used(e.login(t, "username", "operator", "password", testPassword, "totp", first))
		// A step on, that code is still within the drift allowed, and
		// refused all the same.
		c.add(30 * time.Second)
		used(e.login(t, "username", "operator", "password", testPassword, "totp", first))
		tokenOf(t, e.login(t, "username", "operator", "password", testPassword, "totp", code(c.now())))
	})
}
