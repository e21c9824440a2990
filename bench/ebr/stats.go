package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The request kinds. Signing kinds check a password with argon2id; the
// others count toward the rate and the latency goal.
const (
	// The operators' requests.
	kindOpFloor   = "op_floor"  // GET /api/v1/lines/{id}/floor, the tablet's next step
	kindOpLookup  = "op_lookup" // GET /api/v1/lots or /api/v1/equipment, to pick a lot or a machine
	kindStep      = "step"      // POST /api/v1/batches/{id}/steps
	kindChallenge = "challenge" // POST /api/v1/signatures/challenge
	kindComplete  = "complete"  // POST /api/v1/batches/{id}/move complete
	kindRelease   = "release"   // POST /api/v1/batches/{id}/move release (supervisor)
	kindClean     = "clean"     // PUT /api/v1/equipment/{id}: cleaned after the last batch
	kindRestock   = "restock"   // POST /api/v1/lots: a released lot received (QA)
	kindSign      = "sign"      // POST /api/v1/signatures: argon2id
	kindLogin     = "login"     // POST /api/v1/login during the run: argon2id
	kindFloor     = "floor"     // readers: GET /api/v1/lines/{id}/floor
	kindList      = "batches_list"
	kindGet       = "batch_get"
	kindRecord    = "record"
	kindSchedule  = "schedule"
	kindPageList  = "page_batches"
	kindPageFloor = "page_floor"
)

// operator reports whether the kind is an operator's request.
func operator(kind string) bool {
	return slices.Contains([]string{kindOpFloor, kindOpLookup, kindStep, kindChallenge, kindComplete, kindRelease, kindClean, kindRestock}, kind)
}

// signing reports whether requests of the kind check a password.
func signing(kind string) bool { return kind == kindSign || kind == kindLogin }

// kindOrder is the order the kinds are printed in.
var kindOrder = []string{kindOpFloor, kindOpLookup, kindStep, kindChallenge, kindComplete, kindRelease, kindClean, kindRestock,
	kindFloor, kindList, kindGet, kindRecord, kindSchedule, kindPageList, kindPageFloor, kindSign, kindLogin}

// recorder collects every request's latency by kind. Requests scheduled
// before from (the warm-up) count for errors but not for the figures.
type recorder struct {
	from, until time.Time

	mu        sync.Mutex
	kinds     map[string]*kindStats
	errors    int
	conflicts int
	shed      int      // answered 503 at capacity (Retry-After), not errors
	issued    int      // every request recorded, warm-up and failures included
	samples   []string // the first errors, for the report
}

type kindStats struct {
	lat       []time.Duration
	errors    int
	conflicts int
	shed      int
}

func newRecorder(from, until time.Time) *recorder {
	return &recorder{from: from, until: until, kinds: map[string]*kindStats{}}
}

// maxSamples bounds the errors printed.
const maxSamples = 8

// add records one request of the kind scheduled at sched and answered at
// end. A 409 of a step is expected when two tablets race; it is counted
// apart, never as an error (each line has one operator here, so there
// should be none).
func (r *recorder) add(kind string, sched, end time.Time, status int, shed bool, err error, what string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kinds[kind]
	if k == nil {
		k = &kindStats{}
		r.kinds[kind] = k
	}
	r.issued++
	failed := err != nil || status < 200 || status > 299
	switch {
	case failed && status == 409 && kind == kindStep:
		k.conflicts++
		r.conflicts++
	case failed && err == nil && shed:
		// Refused at capacity, at once, with Retry-After: the server
		// keeps its pace for the others. Counted apart from errors; the
		// shop floor's are shown, for they should not happen.
		k.shed++
		r.shed++
		if operator(kind) && len(r.samples) < maxSamples {
			r.samples = append(r.samples, fmt.Sprintf("%s %s: refused at capacity: %s", kind, what, clip(string(body), 300)))
		}
	case failed:
		k.errors++
		r.errors++
		if len(r.samples) < maxSamples {
			msg := fmt.Sprintf("%s %s: ", kind, what)
			if err != nil {
				msg += err.Error()
			} else {
				msg += fmt.Sprintf("status %d: %s", status, clip(string(body), 300))
			}
			r.samples = append(r.samples, msg)
		}
	}
	if sched.Before(r.from) || sched.After(r.until) {
		return
	}
	if !failed {
		k.lat = append(k.lat, end.Sub(sched))
	}
}

// note records an error that is not a request's: a step the operator could
// not build, a line that stopped.
func (r *recorder) note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors++
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, msg)
	}
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// summary is the figures of one kind.
type summary struct {
	kind                    string
	count                   int
	perSec                  float64
	p50, p99, max           time.Duration
	errors, conflicts, shed int
	signing                 bool
	hasLatency              bool
	sorted                  []time.Duration // the latencies, sorted
}

// summaries returns the figures of every kind seen, in print order.
func (r *recorder) summaries() []summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	window := r.until.Sub(r.from)
	var out []summary
	names := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := slices.Index(kindOrder, names[i]), slices.Index(kindOrder, names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		k := r.kinds[name]
		s := summary{kind: name, count: len(k.lat), errors: k.errors, conflicts: k.conflicts, shed: k.shed, signing: signing(name)}
		if window > 0 {
			s.perSec = float64(len(k.lat)) / window.Seconds()
		}
		if len(k.lat) > 0 {
			lat := slices.Clone(k.lat)
			slices.Sort(lat)
			s.p50, s.p99, s.max = percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
			s.hasLatency = true
			s.sorted = lat
		}
		out = append(out, s)
	}
	return out
}

// percentile reads the q-quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// dbResult is what one database's run gives.
type dbResult struct {
	name      string
	kinds     []summary
	rate      float64 // non-signing requests per second, achieved
	opRate    float64 // of which the operators'
	p50, p99  time.Duration
	worstKind string
	errors    int
	conflicts int
	shed      int
	// The shop floor's requests (the operators' that do not sign): their
	// p99, and those refused at capacity or failed.
	floorP99    time.Duration
	floorShed   int
	floorErrors int
	signP50     time.Duration
	signP99     time.Duration
	signs       int
}

// result computes the database's figures from its kinds: all non-signing
// requests together for the rate and the overall percentiles, and the
// worst p99 of a non-signing kind.
func (r *recorder) result(name string) dbResult {
	res := dbResult{name: name, kinds: r.summaries()}
	r.mu.Lock()
	res.errors, res.conflicts, res.shed = r.errors, r.conflicts, r.shed
	r.mu.Unlock()
	var all, floor []time.Duration
	for _, s := range res.kinds {
		if s.signing {
			if s.kind == kindSign {
				res.signP50, res.signP99, res.signs = s.p50, s.p99, s.count
			}
			continue
		}
		res.rate += s.perSec
		if operator(s.kind) {
			res.opRate += s.perSec
			floor = append(floor, s.sorted...)
			res.floorShed += s.shed
			res.floorErrors += s.errors
		}
		all = append(all, s.sorted...)
		if s.hasLatency && s.p99 > res.p99 {
			res.p99, res.worstKind = s.p99, s.kind
		}
	}
	slices.Sort(all)
	res.p50 = percentile(all, 0.5)
	slices.Sort(floor)
	res.floorP99 = percentile(floor, 0.99)
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printKinds prints the table of one database's kinds.
func printKinds(res dbResult) {
	fmt.Printf("  %-13s %8s %8s %9s %9s %9s %7s %9s %6s\n", "kind", "count", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "conflicts", "shed")
	for _, s := range res.kinds {
		mark := ""
		if s.signing {
			mark = "  (argon2id; not in the goal)"
		}
		if !s.hasLatency {
			fmt.Printf("  %-13s %8d %8s %9s %9s %9s %7d %9d %6d%s\n", s.kind, 0, "-", "-", "-", "-", s.errors, s.conflicts, s.shed, mark)
			continue
		}
		fmt.Printf("  %-13s %8d %8.1f %9.1f %9.1f %9.1f %7d %9d %6d%s\n", s.kind, s.count, s.perSec, ms(s.p50), ms(s.p99), ms(s.max), s.errors, s.conflicts, s.shed, mark)
	}
}
