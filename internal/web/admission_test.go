package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"galenix/internal/identity"
	"galenix/internal/site"
)

// gate is a server whose every gated request blocks until released, to fill
// the admission's places at will.
type gate struct {
	s       *Server
	h       http.Handler
	entered chan string   // the path of each request that got in
	free    chan struct{} // one value lets one request end
}

func newGate(t *testing.T, l AdmissionLimits) *gate {
	t.Helper()
	g := &gate{entered: make(chan string, 64), free: make(chan struct{}, 64)}
	reg := prometheus.NewRegistry()
	g.s = &Server{log: slog.New(slog.DiscardHandler), pages: newPages(site.DefaultLocation()), metrics: newHTTPMetrics(reg),
		admission: newAdmission(l, 2, reg)}
	g.h = g.s.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.entered <- r.Method + " " + r.URL.Path
		if r.URL.Query().Get("yield") != "" {
			// A password check: the place is given while it runs.
			resume := identity.Yield(r.Context())
			<-g.free
			resume()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		<-g.free
		w.WriteHeader(http.StatusNoContent)
	}))
	return g
}

// send serves one request in the background; its answer arrives on the
// channel.
func (g *gate) send(method, path string, hdr ...string) <-chan *httptest.ResponseRecorder {
	out := make(chan *httptest.ResponseRecorder, 1)
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	go func() {
		w := httptest.NewRecorder()
		g.h.ServeHTTP(w, r)
		out <- w
	}()
	return out
}

func (g *gate) waitEntered(t *testing.T) string {
	t.Helper()
	select {
	case p := <-g.entered:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no request got in")
		return ""
	}
}

func (g *gate) waiting(c admitClass) int {
	a := g.s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.lines[c])
}

func (g *gate) waitLine(t *testing.T, c admitClass, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.waiting(c) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s requests waiting, want %d", g.waiting(c), c, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// The shop floor's requests go before the reads that waited longer.
func TestAdmissionServesTheFloorFirst(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 1, ReadWait: 10 * time.Second})
	first := g.send("GET", "/api/v1/batches")
	g.waitEntered(t)
	read := g.send("GET", "/api/v1/lines")
	g.waitLine(t, classRead, 1)
	step := g.send("POST", "/api/v1/batches/x/steps")
	g.waitLine(t, classFloor, 1)

	g.free <- struct{}{}
	<-first
	if got := g.waitEntered(t); got != "POST /api/v1/batches/x/steps" {
		t.Fatalf("after the first request, %q got in; the step waiting behind a read should have", got)
	}
	g.free <- struct{}{}
	<-step
	if got := g.waitEntered(t); got != "GET /api/v1/lines" {
		t.Fatalf("then %q got in, want the read", got)
	}
	g.free <- struct{}{}
	if w := <-read; w.Code != http.StatusNoContent {
		t.Fatalf("the read answered %d", w.Code)
	}
}

// Reads leave places to the shop floor: a step gets in at once while reads
// wait.
func TestAdmissionKeepsPlacesForTheFloor(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 3, FloorReserve: 1, ReadWait: 10 * time.Second})
	r1, r2 := g.send("GET", "/api/v1/batches"), g.send("GET", "/api/v1/lines")
	g.waitEntered(t)
	g.waitEntered(t)
	r3 := g.send("GET", "/api/v1/rooms")
	g.waitLine(t, classRead, 1)
	step := g.send("POST", "/api/v1/batches/x/steps")
	if got := g.waitEntered(t); got != "POST /api/v1/batches/x/steps" {
		t.Fatalf("%q got in; the step should have, at once", got)
	}
	// Two of the three end: at least one was a read, and the waiting read
	// goes in.
	g.free <- struct{}{}
	g.free <- struct{}{}
	if got := g.waitEntered(t); got != "GET /api/v1/rooms" {
		t.Fatalf("%q got in, want the waiting read", got)
	}
	for range 2 {
		g.free <- struct{}{}
	}
	for _, c := range []<-chan *httptest.ResponseRecorder{r1, r2, r3, step} {
		if w := <-c; w.Code != http.StatusNoContent {
			t.Fatalf("answered %d", w.Code)
		}
	}
}

// At capacity a read waits its short while, then answers 503 with
// Retry-After and the error envelope; one past the line's length answers
// at once. A write waits its turn and is served.
func TestAdmissionShedsReadsQuickly(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 1, ReadWait: 100 * time.Millisecond, ReadQueue: 1})
	first := g.send("POST", "/api/v1/teams")
	g.waitEntered(t)

	t0 := time.Now()
	waited := g.send("GET", "/api/v1/batches")
	g.waitLine(t, classRead, 1)
	// Past the line, a read is refused without waiting its 100 ms: timed
	// from its own sending, not from the first read's (a busy machine
	// may take a while to put that one in line).
	t1 := time.Now()
	over := <-g.send("GET", "/api/v1/lines")
	if d := time.Since(t1); over.Code != http.StatusServiceUnavailable || d >= 100*time.Millisecond {
		t.Fatalf("a read past the line answered %d after %v; want 503 at once, without waiting its 100 ms", over.Code, d)
	}
	w := <-waited
	d := time.Since(t0)
	if w.Code != http.StatusServiceUnavailable || d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("a waiting read answered %d after %v; want 503 after its 100 ms", w.Code, d)
	}
	for _, r := range []*httptest.ResponseRecorder{over, w} {
		if r.Header().Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q, want 1", r.Header().Get("Retry-After"))
		}
		var env struct {
			Error struct{ Code, Message, MessageFR string }
		}
		if err := json.Unmarshal(r.Body.Bytes(), &env); err != nil || env.Error.Code != "unavailable" || !strings.Contains(env.Error.Message, "capacity") {
			t.Errorf("answer %s: want the error envelope, code unavailable", r.Body)
		}
	}
	// A page is told in the reader's language.
	page := <-g.send("GET", "/batches", "Accept-Language", "fr")
	if page.Code != http.StatusServiceUnavailable || !strings.Contains(page.Body.String(), "<h1>Serveur à pleine charge</h1>") ||
		strings.Contains(page.Body.String(), "mode dégradé") {
		t.Errorf("a page at capacity answered %d: %.300s", page.Code, page.Body)
	}

	write := g.send("PUT", "/api/v1/teams/x")
	g.waitLine(t, classFloor, 1)
	time.Sleep(150 * time.Millisecond) // longer than a read may wait
	g.free <- struct{}{}
	<-first
	g.waitEntered(t)
	g.free <- struct{}{}
	if w := <-write; w.Code != http.StatusNoContent {
		t.Fatalf("a write that waited its turn answered %d", w.Code)
	}
	if n := testutil.ToFloat64(g.s.admission.shed.WithLabelValues("read")); n != 3 {
		t.Errorf("galenix_http_shed_total{class=read} = %v, want 3", n)
	}
}

// Health, metrics and live streams pass whatever the load: the balancer
// must still hear the node, and a stream would hold a place for hours.
func TestAdmissionLetsHealthAndStreamsThrough(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 1, ReadQueue: 1, ReadWait: time.Millisecond})
	g.send("POST", "/api/v1/teams")
	g.waitEntered(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/batches/x/events"} {
		g.send("GET", p)
		if got := g.waitEntered(t); got != "GET "+p {
			t.Fatalf("%q got in instead of %s", got, p)
		}
	}
	g.send("GET", "/batches/x", "Accept", "text/event-stream")
	if got := g.waitEntered(t); got != "GET /batches/x" {
		t.Fatalf("%q got in instead of the stream", got)
	}
	for range 6 {
		g.free <- struct{}{}
	}
}

// A request that checks a password gives its place while it does: a burst
// of signatures does not stop the reads.
func TestAdmissionPasswordCheckGivesItsPlace(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 1, ReadWait: 5 * time.Second})
	sign := g.send("POST", "/api/v1/signatures?yield=1")
	g.waitEntered(t)
	read := g.send("GET", "/api/v1/batches")
	if got := g.waitEntered(t); got != "GET /api/v1/batches" {
		t.Fatalf("%q got in; the read should have, while the signature checks its password", got)
	}
	g.free <- struct{}{} // one of the two ends
	g.free <- struct{}{}
	for _, c := range []<-chan *httptest.ResponseRecorder{sign, read} {
		if w := <-c; w.Code != http.StatusNoContent {
			t.Fatalf("answered %d", w.Code)
		}
	}
	a := g.s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active != 0 {
		t.Fatalf("%d places still taken after every request ended", a.active)
	}
}

// A shop-floor tablet's session joins the floor's line once it is known.
func TestAdmissionKnowsShopFloorSessions(t *testing.T) {
	g := newGate(t, AdmissionLimits{Active: 1})
	a := g.s.admission
	r := httptest.NewRequest("GET", "/api/v1/lines/x/floor", nil)
	r.Header.Set("Authorization", "Bearer tablet-token")
	if c, _ := a.classOf(r); c != classRead {
		t.Fatalf("an unknown session's read is %s", c)
	}
	a.noteFloorSession("tablet-token")
	if c, _ := a.classOf(r); c != classFloor {
		t.Fatalf("a shop-floor session's read is %s, want floor", c)
	}
	r.Header.Set("Authorization", "Bearer other-token")
	if c, _ := a.classOf(r); c != classRead {
		t.Fatalf("another session's read is %s", c)
	}
	for i := range maxFloorSessions + 10 {
		a.noteFloorSession(strings.Repeat("t", i%300) + string(rune('a'+i%26)) + time.Duration(i).String())
	}
	a.floorMu.Lock()
	n := len(a.floorSessions)
	a.floorMu.Unlock()
	if n > maxFloorSessions {
		t.Fatalf("%d sessions remembered, past the bound %d", n, maxFloorSessions)
	}
}

// Many requests at once: every one is answered, the places are never more
// than the limit, and all are given back.
func TestAdmissionUnderContention(t *testing.T) {
	a := newAdmission(AdmissionLimits{Active: 3, ReadWait: 20 * time.Millisecond, ReadQueue: 5}, 2, prometheus.NewRegistry())
	var mu sync.Mutex
	in, peak, served, refused := 0, 0, 0, 0
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := classRead
			if i%4 == 0 {
				c = classFloor
			}
			if !a.acquire(context.Background(), c) {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			mu.Lock()
			in++
			peak = max(peak, in)
			served++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			in--
			mu.Unlock()
			a.release(c)
		}()
	}
	wg.Wait()
	if peak > 3 || served+refused != 400 || served < 100 {
		t.Fatalf("peak %d (limit 3), %d served, %d refused", peak, served, refused)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active != 0 || len(a.lines[classFloor])+len(a.lines[classRead]) != 0 {
		t.Fatalf("after the burst: %d places taken, %d and %d waiting", a.active, len(a.lines[classFloor]), len(a.lines[classRead]))
	}
}
