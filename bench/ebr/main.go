// Command ebr load-tests the electronic batch record: operators on 50
// lines completing steps, with their electronic signatures, while 300
// signed-in users read pages and lists, on SQLite and on PostgreSQL. The
// load is open loop: requests are issued on a schedule and timed from it,
// so that a slow answer cannot hide the requests it delays. It prints
// throughput and latency per request kind and what a signature costs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/keyworker"
	"galenix/internal/production"
	"galenix/internal/web"
)

type options struct {
	duration, warmup, stepEvery, timeout time.Duration
	rate                                 float64
	lines, readers, sessions             int
	db                                   string
	cpuProfile                           string
	maxActive, floorReserve              int
	// The capacity sweep (sweep.go).
	sweep                         bool
	sweepFrom, sweepStep, sweepTo float64
	sweepEach                     time.Duration
}

func main() {
	// The server child (serveChild) starts argon2id workers of this same
	// program: started as one, it serves keys and exits here.
	keyworker.ServeIfWorker()
	if cfg := os.Getenv(serverEnv); cfg != "" {
		os.Exit(serveChild(cfg))
	}
	var o options
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long the load runs on each database (warm-up included)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "the first part of the run, not counted in the figures")
	flag.Float64Var(&o.rate, "rate", 500, "requests per second that do not sign, operators' and readers' together")
	flag.IntVar(&o.lines, "lines", 50, "lines worked, one operator each")
	flag.DurationVar(&o.stepEvery, "step-every", 10*time.Second, "how often each line's operator does the next step")
	flag.IntVar(&o.readers, "readers", 300, "signed-in users reading pages and lists")
	flag.IntVar(&o.sessions, "sessions", 0, "sessions the readers sign in (one argon2id each); readers beyond share them (default: one per reader)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.StringVar(&o.db, "db", "both", "database: sqlite, postgres or both")
	flag.BoolVar(&o.sweep, "sweep", false, "instead of one load at -rate, find the knee (the highest rate whose p99 stays under 50 ms with nothing refused) and load at 1.5 times it")
	flag.Float64Var(&o.sweepFrom, "sweep-from", 100, "the sweep's first rate, requests/s")
	flag.Float64Var(&o.sweepStep, "sweep-step", 100, "the sweep's step between rates, requests/s (refined to a quarter of it around the knee)")
	flag.Float64Var(&o.sweepTo, "sweep-to", 3000, "the sweep's last rate, requests/s")
	flag.DurationVar(&o.sweepEach, "sweep-each", 10*time.Second, "how long each rate of the sweep runs (its first fifth is warm-up); the load at 1.5 times the knee runs three times as long, 30 s at least")
	flag.IntVar(&o.maxActive, "max-active", 0, "galenix's bound on the requests it serves at once (serve --max-active); 0: its default")
	flag.IntVar(&o.floorReserve, "floor-reserve", 0, "of those, the places reads leave to the shop floor; 0: galenix's default")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write galenix's CPU profile on each database (its whole life, setup included; the load generator is another process) to `file`.sqlite and file.postgres")
	flag.Parse()
	if o.sessions <= 0 || o.sessions > o.readers {
		o.sessions = o.readers
	}
	err := run(o)
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/ebr:", err)
		os.Exit(1)
	}
}

// cleanups stop what the benchmark started (servers, PostgreSQL, temporary
// directories), also on an interrupt.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func run(o options) error {
	var dbs []string
	switch o.db {
	case "both":
		dbs = []string{"sqlite", "postgres"}
	case "sqlite", "postgres":
		dbs = []string{o.db}
	default:
		return fmt.Errorf("-db must be sqlite, postgres or both, not %q", o.db)
	}
	switch {
	case o.lines < 1 || o.readers < 1 || o.rate <= 0:
		return fmt.Errorf("-lines, -readers and -rate must be positive")
	case o.warmup >= o.duration:
		return fmt.Errorf("-warmup must be shorter than -duration")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "bench/ebr: interrupted; stopping")
		cleanup()
		os.Exit(130)
	}()
	fmt.Printf("electronic batch record load: %d CPUs, %s %s/%s, load average %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, machine.LoadAvg())
	fmt.Printf("%d lines (one operator each, a step every %v), %d readers on %d sessions; %.0f requests/s that do not sign, open loop; %v per database (%v warm-up)\n\n",
		o.lines, o.stepEvery, o.readers, o.sessions, o.rate, o.duration, o.warmup)
	fmt.Printf("readers' mix: staff %s; client users %s\n", mixText(staffMix), mixText(clientMix))
	argon, err := measureArgon()
	if err != nil {
		return err
	}
	if o.sweep {
		return runSweep(dbs, o)
	}

	var results []dbResult
	for _, name := range dbs {
		res, err := runDatabase(name, o)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, res)
	}

	fmt.Println("summary (requests that do not sign):")
	var worst, signP50, signP99 time.Duration
	rate := -1.0
	errors, conflicts, shed := 0, 0, 0
	for _, r := range results {
		fmt.Printf("  %-10s %6.1f req/s, p50 %6.1f ms, p99 %6.1f ms (worst kind %s %6.1f ms), %d errors, %d conflicts, %d refused at capacity; %d signatures, p50 %.0f ms, p99 %.0f ms\n",
			r.name, r.rate, ms(r.p50), ms(overallP99(r)), r.worstKind, ms(r.p99), r.errors, r.conflicts, r.shed, r.signs, ms(r.signP50), ms(r.signP99))
		shed += r.shed
		worst, signP50, signP99 = max(worst, r.p99), max(signP50, r.signP50), max(signP99, r.signP99)
		if rate < 0 || r.rate < rate {
			rate = r.rate
		}
		errors += r.errors
		conflicts += r.conflicts
	}
	ok := worst < 50*time.Millisecond && rate >= 0.98*o.rate && errors == 0 && shed == 0
	fmt.Printf("  goal: p99 < 50 ms for every kind that does not sign, at %.0f req/s, with no error and nothing refused: %s\n\n", o.rate, machine.Goal(ok))
	printArgon(argon, signP50)
	fmt.Printf("load average at the end: %s\n", machine.LoadAvg())
	fmt.Printf("RESULT p99_ms=%.1f rps=%.1f errors=%d shed=%d sign_p50_ms=%.0f sign_p99_ms=%.0f conflicts=%d\n",
		ms(worst), rate, errors, shed, ms(signP50), ms(signP99), conflicts)
	return nil
}

// overallP99 is the p99 of every request that does not sign, all kinds
// together.
func overallP99(r dbResult) time.Duration {
	var all []time.Duration
	for _, s := range r.kinds {
		if !s.signing {
			all = append(all, s.sorted...)
		}
	}
	sortDurations(all)
	return percentile(all, 0.99)
}

// prepared is galenix serving the demo on a fresh database, its accounts
// made and signed in, ready for load.
type prepared struct {
	name, title string
	srv         *server
	c           *client
	w           *world
	closers     []func()
}

// close stops the server and the database and removes the directory.
func (p *prepared) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// prepare starts galenix with the demo on a fresh database, prepares the
// accounts and times each read alone.
func prepare(name string, o options) (p *prepared, err error) {
	p = &prepared{name: name, title: map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[name]}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	fmt.Printf("== %s\n", p.title)
	dir, err := os.MkdirTemp("", "galenix-bench-ebr-")
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, func() { os.RemoveAll(dir) })
	cleanupMu.Lock()
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	cleanupMu.Unlock()
	dsn := ""
	if name == "postgres" {
		var stop func()
		if dsn, stop, err = startPostgres(); err != nil {
			return p, err
		}
		p.closers = append(p.closers, stop)
	}
	profile := ""
	if o.cpuProfile != "" {
		profile = o.cpuProfile + "." + name
	}
	srv, loaded, err := startServer(dir, dsn, web.AdmissionLimits{Active: o.maxActive, FloorReserve: o.floorReserve}, profile)
	if err != nil {
		return p, err
	}
	p.srv = srv
	p.closers = append(p.closers, func() { srv.close() })
	fmt.Printf("  demo loaded in %v\n", loaded.Round(time.Millisecond))

	ctx := context.Background()
	p.c = newClient(srv.URL(), o.timeout)
	p.c.serverPID = srv.pid()
	w, fig, err := setup(ctx, p.c, o)
	if err != nil {
		return p, fmt.Errorf("setting up: %w", err)
	}
	p.w = w
	fmt.Printf("  setup in %v: %d accounts created, %d sign-ins in %v (%.1f/s on 2 workers, one argon2id each), %d pieces of equipment cleaned or requalified\n",
		fig.totalTime.Round(time.Millisecond), fig.created, fig.logins, fig.loginTime.Round(time.Millisecond),
		float64(fig.logins)/fig.loginTime.Seconds(), fig.fixed)

	var states []string
	total := 0
	for _, st := range production.BatchStates {
		states = append(states, fmt.Sprintf("%d %s", fig.batches[st], st))
		total += fig.batches[st]
	}
	fmt.Printf("  the demo's batches: %d (%s)\n", total, strings.Join(states, ", "))
	w.probe(ctx, 15)
	return p, nil
}

// printWork prints what the operators did so far.
func (w *world) printWork() {
	fmt.Printf("  work done: %d steps recorded (%d out of limits), %d signatures, %d batches completed, %d released, %d pieces of equipment cleaned, %d lots received; %d lines ran out of batches, %d stopped\n",
		w.work.steps.Load(), w.work.exceptions.Load(), w.work.signatures.Load(), w.work.completed.Load(), w.work.released.Load(),
		w.work.cleaned.Load(), w.work.restocked.Load(), w.work.idle.Load(), w.work.stuck.Load())
}

// printErrors prints the first errors of the client and of the server's log.
func (p *prepared) printErrors() {
	if len(p.c.rec.samples) > 0 {
		fmt.Println("  first errors:")
		for _, s := range p.c.rec.samples {
			fmt.Println("   ", s)
		}
	}
	if lines, total := p.srv.logErrors(5); total > 0 {
		fmt.Printf("  server log: %d errors; the first:\n", total)
		for _, l := range lines {
			fmt.Println("   ", l)
		}
	}
}

// runDatabase runs the load at -rate on a fresh database and returns its
// figures.
func runDatabase(name string, o options) (dbResult, error) {
	p, err := prepare(name, o)
	if err != nil {
		return dbResult{}, err
	}
	defer p.close()
	w := p.w
	res := w.load(context.Background(), name, p.title, true)
	w.printWork()
	printKinds(res)
	p.printErrors()
	fmt.Printf("  %s: %.1f req/s that do not sign (goal %.0f; operators %.1f, readers %.1f), p99 %.1f ms all together, worst kind %s at %.1f ms; %d errors, %d conflicts, %d refused at capacity; sign p50 %.0f ms\n\n",
		p.title, res.rate, o.rate, res.opRate, res.rate-res.opRate, ms(overallP99(res)), res.worstKind, ms(res.p99), res.errors, res.conflicts, res.shed, ms(res.signP50))
	return res, nil
}

// load runs the operators and the readers until the end of the run.
// verbose prints the progress every 5 s and the CPU used.
func (w *world) load(ctx context.Context, name, title string, verbose bool) dbResult {
	o := w.o
	start := time.Now().Add(500 * time.Millisecond)
	deadline := start.Add(o.duration)
	w.c.rec = newRecorder(start.Add(o.warmup), deadline)
	// Requests still in flight at the deadline get their timeout to end.
	runCtx, cancel := context.WithTimeout(ctx, o.duration+o.timeout+5*time.Second)
	defer cancel()
	cpu0 := sampleCPU(w.c.serverPID)
	var credit atomic.Int64
	var wg sync.WaitGroup
	for i, l := range w.lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The lines start spread over one interval.
			w.operate(runCtx, l, start.Add(time.Duration(i)*o.stepEvery/time.Duration(len(w.lines))), deadline, o.stepEvery, &credit)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.read(runCtx, start, deadline, o.rate, &credit)
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			res := w.c.rec.result(title)
			if !verbose {
				return res
			}
			w.c.rec.mu.Lock()
			n := w.c.rec.issued
			w.c.rec.mu.Unlock()
			others := " (galenix's argon2id workers among them)"
			if name == "postgres" {
				others = " (galenix's argon2id workers and PostgreSQL's server among them)"
			}
			fmt.Println("  " + cpuUse(cpu0, sampleCPU(w.c.serverPID), n, runtime.NumCPU(), others))
			return res
		case <-tick.C:
			if !verbose {
				continue
			}
			w.c.rec.mu.Lock()
			n, e := 0, w.c.rec.errors
			for _, k := range w.c.rec.kinds {
				n += len(k.lat)
			}
			w.c.rec.mu.Unlock()
			fmt.Printf("  %3.0f s: %d requests timed, %d errors, %d steps, %d signatures, load average %s\n",
				time.Since(start).Seconds(), n, e, w.work.steps.Load(), w.work.signatures.Load(), machine.LoadAvg())
		}
	}
}

// mixText shows a mix of reads in percent.
func mixText(mix []weighted) string {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	var parts []string
	for _, m := range mix {
		parts = append(parts, fmt.Sprintf("%s %d%%", m.kind, m.weight*100/total))
	}
	return strings.Join(parts, ", ")
}
