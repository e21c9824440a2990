package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Admission keeps a node's latency when more work comes than its cores can
// take. At most Active requests are served at once, and reads leave some of
// those places to the shop floor: its writes (a step, a signature, a
// movement: every request that is not a read) and everything a shop-floor
// tablet's session asks. The others wait in line, one line per class, and
// the shop floor's line goes first. Reads wait a short while in a short
// line; past it they are answered 503 with Retry-After at once, so that the
// requests served keep their speed instead of every request answering
// late. An operator's tablet therefore keeps its pace when the offices'
// screens ask more than the node can serve.
//
// A request that checks a password gives its place while it waits for and
// computes the argon2id key (identity.WithYield): the key is computed in a
// low-priority worker and bounded by its own line.

// admitClass is a class of request, in the order they are admitted.
type admitClass int

const (
	classFloor admitClass = iota // the shop floor: writes and tablets
	classRead                    // every other read
	nClasses
)

func (c admitClass) String() string { return [...]string{"floor", "read"}[c] }

// AdmissionLimits are the bounds of admission; a zero field takes its
// default.
type AdmissionLimits struct {
	// Active is how many requests are served at once; negative: no
	// admission control at all.
	Active int
	// FloorReserve is how many of those places reads leave to the shop
	// floor.
	FloorReserve int
	// FloorWait and ReadWait are the longest a request of the class
	// waits for its turn.
	FloorWait, ReadWait time.Duration
	// FloorQueue and ReadQueue are the most requests of the class that
	// wait at once; one more is answered 503 at once.
	FloorQueue, ReadQueue int
}

// withDefaults fills the zero fields for a machine of cpus cores.
func (l AdmissionLimits) withDefaults(cpus int) AdmissionLimits {
	if l.Active == 0 {
		// A request spends part of its time waiting for the database
		// (a commit's fsync): two per core keep the cores busy without
		// sharing them so thinly that every request slows down
		// (bench/ebr -sweep: with four per core, the shop floor's p99
		// doubled past capacity).
		l.Active = max(4, 2*cpus)
	}
	if l.FloorReserve == 0 {
		// A quarter of the places kept for the shop floor. Keeping half
		// (bench/ebr -sweep, two cores) lowered PostgreSQL's knee from
		// 600 to 475 requests/s, its reads waiting on the database, and
		// did not clearly help SQLite's shop floor past capacity.
		l.FloorReserve = max(1, l.Active/4)
	}
	l.FloorReserve = min(l.FloorReserve, l.Active-1)
	if l.FloorWait == 0 {
		l.FloorWait = 5 * time.Second
	}
	if l.ReadWait == 0 {
		l.ReadWait = 250 * time.Millisecond
	}
	if l.FloorQueue == 0 {
		l.FloorQueue = 64 * l.Active
	}
	if l.ReadQueue == 0 {
		l.ReadQueue = 4 * l.Active
	}
	return l
}

// admission is the gate: the requests served and the lines of those
// waiting.
type admission struct {
	limits AdmissionLimits

	mu sync.Mutex
	// active counts the requests served, reads the reads among them.
	active, reads int
	lines         [nClasses][]*admitWaiter

	// floorSessions remembers the (hashed) tokens of shop-floor sessions
	// that authenticated, so that their reads join the floor's line
	// before the session is looked up again. Bounded: emptied when full.
	floorMu       sync.Mutex
	floorSessions map[[16]byte]struct{}

	shed   *prometheus.CounterVec
	waited *prometheus.HistogramVec
}

type admitWaiter struct {
	ready   chan struct{}
	granted bool // under admission.mu
}

// maxFloorSessions bounds the remembered shop-floor sessions.
const maxFloorSessions = 4096

// newAdmission makes the gate and registers its metrics.
func newAdmission(l AdmissionLimits, cpus int, reg *prometheus.Registry) *admission {
	a := &admission{limits: l.withDefaults(cpus), floorSessions: map[[16]byte]struct{}{}}
	a.shed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "galenix_http_shed_total", Help: "Requests answered 503 at once because the node was at capacity, by class (floor: writes and shop-floor tablets; read: other reads).",
	}, []string{"class"})
	a.waited = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "galenix_http_admission_wait_seconds", Help: "Time requests waited for their turn to be served, by class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"class"})
	reg.MustRegister(a.shed, a.waited,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_http_active_requests",
			Help: "Requests being served (admission control counts them against its limit)."},
			func() float64 { a.mu.Lock(); defer a.mu.Unlock(); return float64(a.active) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_http_active_limit",
			Help: "The most requests served at once."},
			func() float64 { return float64(a.limits.Active) }),
	)
	for c := range nClasses {
		a.shed.WithLabelValues(c.String())
		a.waited.WithLabelValues(c.String())
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_http_waiting_requests",
			Help: "Requests waiting for their turn, by class.", ConstLabels: prometheus.Labels{"class": c.String()}},
			func() float64 { a.mu.Lock(); defer a.mu.Unlock(); return float64(len(a.lines[c])) }))
	}
	return a
}

// acquire takes a place for a request of class c, waiting within the
// class's bounds. It reports false when the request is to be refused.
func (a *admission) acquire(ctx context.Context, c admitClass) bool {
	start := time.Now()
	a.mu.Lock()
	if a.room(c) && a.noneAhead(c) {
		a.take(c)
		a.mu.Unlock()
		a.waited.WithLabelValues(c.String()).Observe(0)
		return true
	}
	depth, wait := a.limits.ReadQueue, a.limits.ReadWait
	if c == classFloor {
		depth, wait = a.limits.FloorQueue, a.limits.FloorWait
	}
	if len(a.lines[c]) >= depth {
		a.mu.Unlock()
		return false
	}
	w := &admitWaiter{ready: make(chan struct{})}
	a.lines[c] = append(a.lines[c], w)
	a.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		a.waited.WithLabelValues(c.String()).Observe(time.Since(start).Seconds())
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted {
		// The place came as the wait ended: take it.
		a.waited.WithLabelValues(c.String()).Observe(time.Since(start).Seconds())
		return true
	}
	if i := slices.Index(a.lines[c], w); i >= 0 {
		a.lines[c] = slices.Delete(a.lines[c], i, i+1)
	}
	return false
}

// noneAhead reports whether no request that goes before class c waits.
// Under a.mu.
func (a *admission) noneAhead(c admitClass) bool {
	for k := admitClass(0); k <= c; k++ {
		if len(a.lines[k]) > 0 {
			return false
		}
	}
	return true
}

// room reports whether a request of class c may be served now. Under a.mu.
func (a *admission) room(c admitClass) bool {
	if a.active >= a.limits.Active {
		return false
	}
	return c == classFloor || a.reads < a.limits.Active-a.limits.FloorReserve
}

// take counts a request of class c served. Under a.mu.
func (a *admission) take(c admitClass) {
	a.active++
	if c == classRead {
		a.reads++
	}
}

// release gives the place of a request of class c back, and serves those
// waiting that now may be: the shop floor's line first.
func (a *admission) release(c admitClass) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active--
	if c == classRead {
		a.reads--
	}
	for k := range nClasses {
		for len(a.lines[k]) > 0 && a.room(k) {
			w := a.lines[k][0]
			a.lines[k] = slices.Delete(a.lines[k], 0, 1)
			a.take(k)
			w.granted = true
			close(w.ready)
		}
	}
}

// resume takes a place back after a request of class c gave it (a password
// check), without waiting: the request is under way and must end. The
// places may be one past the limit for a moment.
func (a *admission) resume(c admitClass) {
	a.mu.Lock()
	a.take(c)
	a.mu.Unlock()
}

// signedIn tells admission of a session just opened: a shop-floor tablet's
// requests join the floor's line from the first.
func (s *Server) signedIn(tok, device string) {
	if device == identity.DeviceShopfloor && s.admission != nil {
		s.admission.noteFloorSession(tok)
	}
}

// sessionKey is the key a token is remembered under.
func sessionKey(tok string) [16]byte {
	sum := sha256.Sum256([]byte(tok))
	return [16]byte(sum[:16])
}

// noteFloorSession remembers a shop-floor session's token.
func (a *admission) noteFloorSession(tok string) {
	k := sessionKey(tok)
	a.floorMu.Lock()
	defer a.floorMu.Unlock()
	if _, ok := a.floorSessions[k]; ok {
		return
	}
	if len(a.floorSessions) >= maxFloorSessions {
		clear(a.floorSessions)
	}
	a.floorSessions[k] = struct{}{}
}

// floorSession reports whether the token is a remembered shop-floor
// session's.
func (a *admission) floorSession(tok string) bool {
	k := sessionKey(tok)
	a.floorMu.Lock()
	defer a.floorMu.Unlock()
	_, ok := a.floorSessions[k]
	return ok
}

// classOf is the class of a request, or false for one that admission lets
// through whatever the load: health, metrics, static files and live streams
// (they hold no core while they wait; a stream would hold a place for
// hours).
func (a *admission) classOf(r *http.Request) (admitClass, bool) {
	p := r.URL.Path
	if p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/static/") ||
		strings.HasSuffix(p, "/events") || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return 0, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return classFloor, true
	}
	if t := token(r); t != "" && len(t) <= 256 && a.floorSession(t) {
		return classFloor, true
	}
	return classRead, true
}

// admit is the middleware: it takes a place for the request or answers 503
// with Retry-After at once.
func (s *Server) admit(next http.Handler) http.Handler {
	a := s.admission
	if a == nil || a.limits.Active < 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, gated := a.classOf(r)
		if !gated {
			next.ServeHTTP(w, r)
			return
		}
		if !a.acquire(r.Context(), c) {
			a.shed.WithLabelValues(c.String()).Inc()
			s.busy(w, r)
			return
		}
		held := true
		var mu sync.Mutex
		give := func() func() {
			mu.Lock()
			defer mu.Unlock()
			if !held {
				return func() {}
			}
			held = false
			a.release(c)
			return func() {
				mu.Lock()
				defer mu.Unlock()
				held = true
				a.resume(c)
			}
		}
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			if held {
				held = false
				a.release(c)
			}
		}()
		next.ServeHTTP(w, r.WithContext(identity.WithYield(r.Context(), give)))
	})
}

// ShedRetryAfter is what a request refused at capacity is told to wait: the
// excess of a moment is gone in a second.
const ShedRetryAfter = time.Second

// busy answers a request refused at capacity: 503 with Retry-After, in the
// error envelope or as a page.
func (s *Server) busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", strconv.Itoa(int(ShedRetryAfter/time.Second)))
	err := errs.E(errs.Unavailable, "web.server_capacity_try_again")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.apiError(w, r, err)
		return
	}
	// Not the outage's "degraded state": the site works, it is busy.
	d := errorPage{base: s.base(r, ""), Status: http.StatusServiceUnavailable, Message: errs.MessageOf(err, langOf(r)),
		Title: "error.title.capacity", Retry: retryOf(r, http.StatusServiceUnavailable)}
	s.render(w, r, http.StatusServiceUnavailable, "error", d)
}
