package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"galenix/bench/internal/machine"
)

// The capacity sweep: on each database, the load runs at rising rates until
// a rate misses the goal (p99 under 50 ms for every request that does not
// sign, nothing failed, nothing refused at capacity), then finer between
// the last rate met and the first missed: the highest rate met is the knee.
// Then it runs at 1.5 times the knee, past the node's capacity: the shop
// floor's requests (the operators' tablets and their writes) must keep a
// p99 under 50 ms, with none refused or failed, while readers are refused
// at once (503, Retry-After) rather than every request answering late.

// sweepStep is one rate's outcome.
type sweepStep struct {
	rate float64
	res  dbResult
	p99  time.Duration // all the requests that do not sign
	ok   bool
}

// sweepResult is one database's sweep.
type sweepResult struct {
	title    string
	knee     float64
	kneeP99  time.Duration
	over     dbResult // at 1.5 times the knee
	overRate float64
}

// floorOK reports whether the shop floor kept its pace past capacity.
func (r sweepResult) floorOK() bool {
	return r.knee > 0 && r.over.floorP99 < 50*time.Millisecond && r.over.floorErrors == 0 && r.over.floorShed == 0
}

func runSweep(dbs []string, o options) error {
	switch {
	case o.sweepFrom <= 0 || o.sweepStep <= 0 || o.sweepTo < o.sweepFrom:
		return fmt.Errorf("-sweep-from and -sweep-step must be positive and -sweep-to at least -sweep-from")
	case o.sweepEach < 2*time.Second:
		return fmt.Errorf("-sweep-each must be at least 2s")
	}
	var results []sweepResult
	for _, name := range dbs {
		r, err := sweepDatabase(name, o)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	fmt.Println("summary of the sweep:")
	ok := true
	out := ""
	var worstFloor time.Duration
	shed := 0
	for _, r := range results {
		fmt.Printf("  %-10s knee %5.0f req/s (p99 %5.1f ms); at %5.0f req/s the shop floor's p99 %5.1f ms (%d refused, %d failed), readers' p99 %5.1f ms with %d refused at capacity, %d errors\n",
			r.title, r.knee, ms(r.kneeP99), r.overRate, ms(r.over.floorP99), r.over.floorShed, r.over.floorErrors,
			ms(readersP99(r.over)), r.over.shed-r.over.floorShed, r.over.errors)
		ok = ok && r.floorOK()
		worstFloor = max(worstFloor, r.over.floorP99)
		shed += r.over.shed
		out += fmt.Sprintf(" knee_%s_rps=%.0f", map[string]string{"SQLite": "sqlite", "PostgreSQL": "postgres"}[r.title], r.knee)
	}
	fmt.Printf("  goal: on each database, at 1.5 times the knee, the shop floor's p99 < 50 ms with none of its requests refused or failed: %s\n", machine.Goal(ok))
	fmt.Printf("load average at the end: %s\n", machine.LoadAvg())
	fmt.Printf("RESULT%s floor_p99_ms_at_1.5x=%.1f shed_at_1.5x=%d goal=%v\n", out, ms(worstFloor), shed, ok)
	return nil
}

// readersP99 is the p99 of the readers' requests.
func readersP99(r dbResult) time.Duration {
	var all []time.Duration
	for _, s := range r.kinds {
		if !s.signing && !operator(s.kind) {
			all = append(all, s.sorted...)
		}
	}
	sortDurations(all)
	return percentile(all, 0.99)
}

func sweepDatabase(name string, o options) (sweepResult, error) {
	p, err := prepare(name, o)
	if err != nil {
		return sweepResult{}, err
	}
	defer p.close()
	res := sweepResult{title: p.title}
	fmt.Printf("  %9s %8s %9s %9s %12s %7s %6s  %s\n", "rate", "req/s", "p50 ms", "p99 ms", "floor p99", "errors", "shed", "load average")
	at := func(rate float64, d time.Duration) sweepStep {
		po := o
		po.rate, po.duration, po.warmup = rate, d, d/5
		p.w.o = po
		r := p.w.load(context.Background(), name, p.title, false)
		st := sweepStep{rate: rate, res: r, p99: overallP99(r)}
		st.ok = st.p99 < 50*time.Millisecond && r.errors == 0 && r.shed == 0 && r.rate >= 0.98*rate
		mark := "met"
		if !st.ok {
			mark = "missed"
		}
		fmt.Printf("  %9.0f %8.1f %9.1f %9.1f %12.1f %7d %6d  %s  %s\n", rate, r.rate, ms(r.p50), ms(st.p99), ms(r.floorP99), r.errors, r.shed, machine.LoadAvg(), mark)
		// The excess of a missed rate is gone before the next begins.
		time.Sleep(time.Second)
		return st
	}
	var good, bad float64
	for rate := o.sweepFrom; rate <= o.sweepTo; rate += o.sweepStep {
		st := at(rate, o.sweepEach)
		if !st.ok {
			bad = rate
			break
		}
		good, res.kneeP99 = rate, st.p99
	}
	if bad == 0 {
		fmt.Printf("  every rate up to %.0f req/s met the goal: the knee is past the sweep (raise -sweep-to)\n", o.sweepTo)
	} else {
		// Finer between the last rate met and the first missed.
		fine := o.sweepStep / 4
		for rate := good + fine; rate < bad-fine/2; rate += fine {
			st := at(math.Round(rate), o.sweepEach)
			if !st.ok {
				break
			}
			good, res.kneeP99 = math.Round(rate), st.p99
		}
	}
	res.knee = good
	if good == 0 {
		fmt.Printf("  no rate met the goal, from %.0f req/s: no knee\n", o.sweepFrom)
		p.printErrors()
		return res, nil
	}
	res.overRate = math.Round(1.5 * good)
	// Long enough for a few hundred of the shop floor's requests: their
	// p99 is not the one slowest.
	over := max(3*o.sweepEach, 30*time.Second)
	fmt.Printf("  knee: %.0f req/s; now %.0f req/s (1.5 times) for %v:\n", good, res.overRate, over)
	res.over = at(res.overRate, over).res
	printKinds(res.over)
	p.w.printWork()
	p.printErrors()
	fmt.Printf("  %s at %.0f req/s: the shop floor's p99 %.1f ms (%d refused, %d failed); readers' p99 %.1f ms, %d refused at capacity\n\n",
		p.title, res.overRate, ms(res.over.floorP99), res.over.floorShed, res.over.floorErrors, ms(readersP99(res.over)), res.over.shed-res.over.floorShed)
	return res, nil
}
