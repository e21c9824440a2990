package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// weighted is a kind of read and how often a reader makes it.
type weighted struct {
	kind   string
	weight int
}

// The readers' mix. Site staff mostly watch the shop floor (the tablets'
// and the floor pages poll the next step), open batches and their records,
// and now and then the list of batches (its first page) or a building's schedule; a
// client laboratory's users follow their own batches (the floor and the
// records are for staff). The lists answer every batch in the reader's
// scope at once, hundreds: they are the dearest reads, and the rarest.
var (
	staffMix = []weighted{{kindFloor, 35}, {kindPageFloor, 15}, {kindGet, 20}, {kindRecord, 10}, {kindList, 10},
		{kindPageList, 5}, {kindSchedule, 5}}
	clientMix = []weighted{{kindGet, 60}, {kindList, 25}, {kindPageList, 15}}
)

func pick(mix []weighted) string {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	n := rand.IntN(total)
	for _, m := range mix {
		if n < m.weight {
			return m.kind
		}
		n -= m.weight
	}
	return mix[0].kind
}

// maxInFlight bounds the readers' requests in flight; the dispatcher waits
// beyond it, and the wait counts in the latency.
const maxInFlight = 4000

// read issues the readers' requests open loop: one every 1/rate seconds
// from start to the deadline, each timed from its scheduled instant,
// whether or not the previous ones have been answered. A tick is given up
// to an operator's request instead when the operators have credit, so that
// operators and readers together keep the rate.
func (w *world) read(ctx context.Context, start, deadline time.Time, rate float64, credit *atomic.Int64) {
	period := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		t := start.Add(time.Duration(i) * period)
		if !t.Before(deadline) {
			return
		}
		if !sleepUntil(ctx, t) {
			return
		}
		if takeCredit(credit) {
			continue
		}
		r := w.readers[i%len(w.readers)]
		kind := r.choose()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			w.readOnce(ctx, r, kind, t)
		}()
	}
}

// takeCredit takes one of the operators' requests off the budget, if any.
func takeCredit(credit *atomic.Int64) bool {
	for {
		n := credit.Load()
		if n <= 0 {
			return false
		}
		if credit.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// choose picks the reader's next kind of read among those it can make.
func (r *reader) choose() string {
	mix := clientMix
	if r.staff {
		mix = staffMix
	}
	for {
		k := pick(mix)
		if (k == kindGet && len(r.batches) == 0) || (k == kindRecord && len(r.records) == 0) {
			continue
		}
		return k
	}
}

// readOnce makes one read of the kind, scheduled at t.
func (w *world) readOnce(ctx context.Context, r *reader, kind string, t time.Time) {
	path, page := w.readPath(r, kind)
	w.c.timed(ctx, kind, t, r.s, "GET", path, nil, page, true)
}

// readPath is the path of a read of the kind by the reader; page: it is a
// page, read with the session cookie.
func (w *world) readPath(r *reader, kind string) (path string, page bool) {
	switch kind {
	case kindFloor:
		path = "/api/v1/lines/" + w.allLines[rand.IntN(len(w.allLines))].ID + "/floor"
	case kindList:
		path = "/api/v1/batches"
	case kindGet:
		path = "/api/v1/batches/" + r.batches[rand.IntN(len(r.batches))]
	case kindRecord:
		path = "/api/v1/batches/" + r.records[rand.IntN(len(r.records))] + "/record"
	case kindSchedule:
		path = "/api/v1/schedule?building_id=" + w.buildings[rand.IntN(len(w.buildings))]
	case kindPageList:
		path, page = "/batches", true
	case kindPageFloor:
		path, page = "/floor/lines/"+w.allLines[rand.IntN(len(w.allLines))].ID, true
	}
	return path, page
}

// probe times each kind of read alone, one request after the other, before
// the load: what each costs the server when nothing else runs.
func (w *world) probe(ctx context.Context, n int) {
	var staff, cust *reader
	for _, r := range w.readers {
		if r.staff && staff == nil {
			staff = r
		}
		if !r.staff && cust == nil && len(r.batches) > 0 {
			cust = r
		}
	}
	fmt.Printf("  each read alone (%d in a row, median; answer size):\n", n)
	for _, k := range staffMix {
		probeKind(ctx, w, staff, k.kind, "staff", n)
	}
	if cust != nil {
		for _, k := range clientMix {
			probeKind(ctx, w, cust, k.kind, "client", n)
		}
	}
}

func probeKind(ctx context.Context, w *world, r *reader, kind, who string, n int) {
	var times []time.Duration
	size := 0
	saved := w.c.rec
	defer func() { w.c.rec = saved }()
	for range n {
		rec := newRecorder(time.Time{}, time.Now().Add(time.Hour))
		w.c.rec = rec
		t := time.Now()
		path, page := w.readPath(r, kind)
		a := w.c.send(ctx, r.s, "GET", path, nil, page, false)
		times = append(times, time.Since(t))
		size = len(a.body)
		if !a.ok() {
			fmt.Printf("    %-13s %-6s %s\n", kind, who, a.failure())
			return
		}
	}
	slices.Sort(times)
	fmt.Printf("    %-13s %-6s %7.1f ms %9d bytes\n", kind, who, ms(times[len(times)/2]), size)
}
