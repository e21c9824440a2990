package identity_test

import (
	"testing"
	"time"

	"galenix/internal/identity"
)

// TestMatchTOTP checks which time step a code is found at: the step of the
// time, the one before and the one after; never two steps away, never a
// malformed code, never another secret's code. The step is what a verifier
// keeps to refuse a code used already (RFC 6238 §5.2).
func TestMatchTOTP(t *testing.T) {
	en, err := identity.NewTOTP("claire")
	if err != nil {
		t.Fatal(err)
	}
	other, err := identity.NewTOTP("bruno")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 7, 30, 15, 0, time.UTC)
	step := identity.TOTPStep(at)
	if want := at.Unix() / 30; step != want {
		t.Fatalf("step %d, want %d", step, want)
	}
	code := func(secret string, d time.Duration) string {
		t.Helper()
		c, err := identity.TOTPCode(secret, at.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		d    time.Duration
		step int64
	}{{-30 * time.Second, step - 1}, {0, step}, {14 * time.Second, step}, {30 * time.Second, step + 1}} {
		c := code(en.Secret, tc.d)
		if c == code(en.Secret, 90*time.Second) || c == code(en.Secret, -90*time.Second) {
			continue // the same digits two steps away: nothing to tell apart
		}
		got, ok := identity.MatchTOTP(en.Secret, c, at)
		if !ok || got != tc.step {
			t.Errorf("the code of %v: step %d, %v; want %d", tc.d, got, ok, tc.step)
		}
		if got, ok := identity.MatchTOTP(en.Secret, c[:3]+" "+c[3:], at); !ok || got != tc.step {
			t.Errorf("the code of %v, spaced: step %d, %v", tc.d, got, ok)
		}
	}
	now := code(en.Secret, 0)
	for name, c := range map[string]string{
		"two steps late":  code(en.Secret, -60*time.Second),
		"two steps early": code(en.Secret, 60*time.Second),
		"another secret":  code(other.Secret, 0),
		"empty":           "",
		"five digits":     now[:5],
		"seven digits":    now + "0",
		"letters":         "12a456",
	} {
		if c == code(en.Secret, -30*time.Second) || c == now || c == code(en.Secret, 30*time.Second) {
			continue // by chance a code of the window: nothing to tell apart
		}
		if step, ok := identity.MatchTOTP(en.Secret, c, at); ok {
			t.Errorf("%s (%q) matched step %d", name, c, step)
		}
	}
	if _, ok := identity.MatchTOTP("", now, at); ok {
		t.Error("an empty secret matched")
	}
	if !identity.CheckTOTP(en.Secret, now, at) || identity.CheckTOTP(en.Secret, code(en.Secret, 5*time.Minute), at) {
		t.Error("CheckTOTP disagrees with MatchTOTP")
	}
}
