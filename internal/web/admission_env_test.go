package web_test

import (
	"net/http"
	"testing"
)

// admitted counts the requests admission let in, by class, off the
// server's metrics.
func admitted(t *testing.T, e *env) map[string]uint64 {
	t.Helper()
	fams, err := e.web.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "galenix_http_admission_wait_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" {
					out[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return out
}

// A session opened on a shop-floor tablet goes in the shop floor's line
// from its first read; another session's reads go in the readers' line.
func TestShopFloorSessionGoesFirst(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "operator", "password": testPassword, "device": "shopfloor"})
		if r.status != http.StatusOK {
			t.Fatalf("tablet sign-in: %d %s", r.status, r.body)
		}
		var out struct{ Token string }
		r.decode(t, &out)
		e.token(t, "admin") // signed in before counting
		before := admitted(t, e)
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/lines/"+e.line.ID+"/floor", nil)
		req.Header.Set("Authorization", "Bearer "+out.Token)
		if got := e.do(t, req); got.status != http.StatusOK {
			t.Fatalf("the tablet's floor: %d %s", got.status, got.body)
		}
		mid := admitted(t, e)
		if mid["floor"] != before["floor"]+1 || mid["read"] != before["read"] {
			t.Fatalf("the tablet's read went in the line %v -> %v; want the floor's", before, mid)
		}
		if got := e.call(t, "admin", "GET", "/api/v1/lines/"+e.line.ID+"/floor", nil); got.status != http.StatusOK {
			t.Fatalf("the office's floor: %d %s", got.status, got.body)
		}
		after := admitted(t, e)
		if after["read"] != mid["read"]+1 || after["floor"] != mid["floor"] {
			t.Fatalf("an office session's read went in the line %v -> %v; want the readers'", mid, after)
		}
	})
}
