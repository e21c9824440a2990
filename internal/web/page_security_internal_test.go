package web

import (
	"testing"
	"time"
)

// TestEventDetail: the details the sign-in keeps of a lock read in the
// page's language, the lock's end in the site's time; a count of failures
// and anything unknown stay as kept.
func TestEventDetail(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, in, want string }{
		{"fr", "until 2026-12-02T13:16:00Z, after 5 failures in a row", "jusqu'au 02/12/2026 14:16, après 5 échecs de suite"},
		{"en", "until 2026-12-02T13:16:00Z, after 5 failures in a row", "until 2 Dec 2026 14:16, after 5 failures in a row"},
		{"fr", "locked until 2026-12-02T13:16:00Z", "compte verrouillé jusqu'au 02/12/2026 14:16"},
		{"en", "locked until 2026-12-02T13:16:00Z", "account locked until 2 Dec 2026 14:16"},
		{"fr", "3/5", "3/5"},
		{"fr", "until soon, after 5 failures in a row", "until soon, after 5 failures in a row"},
	} {
		if got := eventDetail(c.lang, c.in, paris); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
