package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/web"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// observed serves e again with its log in a buffer and the loopback
// balancer trusted or not.
func observed(t *testing.T, e *env, trust bool) *lockedBuffer {
	t.Helper()
	var logs lockedBuffer
	d := e.web.Deps
	d.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	d.Registry = nil
	d.TrustedProxies = nil
	if trust {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	e.web = web.New(d)
	e.srv = httptest.NewServer(checkContract(t, e.web.Handler()))
	t.Cleanup(e.srv.Close)
	e.tokens = map[string]string{}
	return &logs
}

// TestAccessLogAndRequestIDs: each request gives one access log line with
// its method, route, status, duration, actor and request id, never a
// password or a token; the request id is taken when well formed, made
// otherwise, echoed, and put in the error envelope.
func TestAccessLogAndRequestIDs(t *testing.T) {
	e := newEnv(t, "sqlite")
	logs := observed(t, e, false)
	tok := e.token(t, "operator")
	r := e.call(t, "operator", "GET", "/api/v1/lines", nil, "X-Request-Id", "shift-A.42")
	if got := r.header.Get("X-Request-Id"); got != "shift-A.42" {
		t.Errorf("X-Request-Id echoed as %q", got)
	}
	r = e.call(t, "operator", "GET", "/api/v1/lines/"+newUUID(t), nil, "X-Request-Id", "bad id\u00e9")
	id := r.header.Get("X-Request-Id")
	if id == "" || strings.Contains(id, "bad") {
		t.Errorf("a malformed X-Request-Id was kept or none made: %q", id)
	}
	if !strings.Contains(string(r.body), `"request_id":"`+id+`"`) {
		t.Errorf("the error envelope lacks the request id: %s", r.body)
	}
	log := logs.String()
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"route":"/api/v1/lines"`, `"status":200`,
		`"duration_ms":`, `"request_id":"shift-A.42"`, `"actor":"` + e.accounts["operator"].ID + `"`,
		`"route":"/api/v1/lines/{id}","status":404`, `"route":"/api/v1/login"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the access log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{testPassword, tok} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}

// TestForwardedForOnlyFromTrustedProxies: X-Forwarded-For gives the client's
// address only when the peer is a configured proxy; from anyone else it is
// ignored, so a client cannot choose the address the sign-in limit and the
// audit trail see.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	e := newEnv(t, "sqlite")
	logs := observed(t, e, false)
	e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "operator", "password": "wrong"}, "X-Forwarded-For", "203.0.113.7")
	if l := logs.String(); strings.Contains(l, "203.0.113.7") || !strings.Contains(l, `"address":"127.0.0.1"`) {
		t.Errorf("an untrusted peer's X-Forwarded-For was believed:\n%s", l)
	}

	logs = observed(t, e, true)
	// One guessing client behind the proxy uses up its own attempts only.
	var limited bool
	for range 15 {
		r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "intruder", "password": "wrong"},
			"X-Forwarded-For", "198.51.100.9, 203.0.113.7")
		limited = limited || r.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("15 wrong passwords from one client behind the proxy were never limited")
	}
	if l := logs.String(); !strings.Contains(l, `"address":"203.0.113.7"`) {
		t.Errorf("the trusted proxy's X-Forwarded-For was not used:\n%s", l)
	}
	r := e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "operator", "password": testPassword},
		"X-Forwarded-For", "203.0.113.8")
	if r.status != http.StatusOK {
		t.Errorf("another client behind the same proxy was refused: %d %s", r.status, r.body)
	}
}

// TestMetricsLabelsAndStreams: requests are counted by method and route as
// separate labels; failed sign-ins by reason; a live stream is counted but
// kept out of the latency histogram.
func TestMetricsLabelsAndStreams(t *testing.T) {
	e := newEnv(t, "sqlite")
	observed(t, e, false)
	e.call(t, "operator", "GET", "/api/v1/lines", nil)
	e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "operator", "password": "wrong"})

	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/batches/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.token(t, "operator"))
	if resp, err := e.srv.Client().Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	time.Sleep(200 * time.Millisecond)

	m := string(e.call(t, "", "GET", "/metrics", nil).body)
	for _, want := range []string{
		`galenix_http_requests_total{code="200",method="GET",route="/api/v1/lines"} 1`,
		`galenix_http_request_duration_seconds_count{method="GET",route="/api/v1/lines"} 1`,
		`galenix_signin_failures_total{reason="unauthorized"} 1`,
		`galenix_http_requests_total{code="200",method="GET",route="/api/v1/batches/events"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, `galenix_http_request_duration_seconds_count{method="GET",route="/api/v1/batches/events"}`) {
		t.Error("the live stream is in the latency histogram")
	}
}
