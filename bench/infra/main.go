// Command infra measures the infrastructure's analysis on a site ten times
// the demo's size (issue 19: it answers within 1 s): a synthetic site of
// scale copies of a CDMO's infrastructure sharing the same utility feeds,
// the dependency graph built, its single points of failure, what each
// building's and room's loss stops beyond itself, the whole Analyse the
// API answers, and one what-if. It prints medians of several runs, the
// heap the analysis takes, and ends with one RESULT line; it exits
// non-zero when the analysis misses its goal.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/infra"
)

type options struct {
	scale, runs int
	goal        time.Duration
	cpuProfile  string
}

func main() {
	var o options
	flag.IntVar(&o.scale, "scale", 10, "copies of a site's infrastructure (about 650 assets, 7 buildings, 110 rooms each)")
	flag.IntVar(&o.runs, "runs", 7, "timed runs of each measure (the median is kept)")
	flag.DurationVar(&o.goal, "goal", time.Second, "the analysis' goal")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed Analyse runs to this `file` (go tool pprof)")
	flag.Parse()
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/infra:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// timed runs fn n times and returns the median, the fastest and the
// slowest.
func timed(n int, fn func()) (med, lo, hi time.Duration) {
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		fn()
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	return ds[n/2], ds[0], ds[n-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// show prints a measure's median with its spread.
func show(what string, n int, fn func()) time.Duration {
	med, lo, hi := timed(n, fn)
	fmt.Printf("  %-44s %10s  (min %s, max %s)\n", what, ms(med), ms(lo), ms(hi))
	return med
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func run(o options) (bool, error) {
	if o.runs < 1 || o.scale < 1 {
		return false, fmt.Errorf("-runs and -scale must be at least 1")
	}
	fmt.Printf("bench/infra: scale %d, %d runs, GOMAXPROCS %d (%d CPUs), %s, load average %s\n", o.scale, o.runs,
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), machine.LoadAvg())
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t := time.Now()
	s := generate(o.scale)
	g, err := infra.NewGraph(s.assets)
	if err != nil {
		return false, err
	}
	fmt.Printf("site generated in %v (not timed)\n", time.Since(t).Round(time.Millisecond))
	size(g, s)
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	fmt.Printf("heap with the inventory and its graph: %s\n", mb(m1.HeapAlloc-min(m0.HeapAlloc, m1.HeapAlloc)))

	// The building of a what-if: a production building of the second
	// copy (a typical one), and the first copy's utility building, where
	// the site's feeds arrive (the worst: everything stops).
	typical := s.buildings[min(1, o.scale-1)][1]
	worst := s.buildings[0][0]

	fmt.Println("medians:")
	show("NewGraph", o.runs, func() { _, _ = infra.NewGraph(s.assets) })
	show("SinglePoints", o.runs, func() { g.SinglePoints() })
	show(fmt.Sprintf("PlaceLosses (%d places)", len(s.places)), o.runs, func() { g.PlaceLosses(s.places) })
	var stopProfile func()
	if o.cpuProfile != "" {
		if stopProfile, err = profile(o.cpuProfile); err != nil {
			return false, err
		}
	}
	analyse := show("Analyse (what the API answers)", o.runs, func() { g.Analyse(s.places, s.names) })
	if stopProfile != nil {
		stopProfile()
	}
	an := g.Analyse(s.places, s.names)
	var body []byte
	show("its JSON encoding", o.runs, func() { body, _ = json.Marshal(an) })
	for _, w := range []struct {
		what, building string
	}{{"what-if: a production building", typical}, {"what-if: the building of the feeds (all)", worst}} {
		var im infra.Impacted
		show(w.what, o.runs, func() {
			failed, err := g.Failed(infra.Scope{BuildingID: w.building})
			if err != nil {
				panic(err)
			}
			im = g.Impact(failed)
		})
		fmt.Printf("  %-44s %d failed, %d down, %d targets stopped (%d lines), score %d\n", "", len(im.Failed), len(im.Down),
			len(im.Stopped), im.Lines, im.Score)
	}
	prev := runtime.GOMAXPROCS(1)
	one := show("Analyse with GOMAXPROCS=1", o.runs, func() { g.Analyse(s.places, s.names) })
	runtime.GOMAXPROCS(prev)
	fmt.Printf("the analysis runs on one goroutine (infra.Graph starts none); the other cores only help the collector: %.2f × with one\n",
		float64(one)/float64(analyse))

	report(g, an, len(body))
	memory(g, s)

	ok := analyse <= o.goal && one <= o.goal
	fmt.Printf("Analyse median %s, %.0f %% of the goal (%v): %s\n", ms(analyse), 100*float64(analyse)/float64(o.goal), o.goal,
		machine.Goal(ok))
	fmt.Printf("RESULT analyse_ms=%.1f goal_ms=%d ratio=%.3f assets=%d\n", float64(analyse.Microseconds())/1000, o.goal.Milliseconds(),
		float64(analyse)/float64(o.goal), len(g.Assets))
	return ok, nil
}

// size prints the graph's size.
func size(g *infra.Graph, s *site) {
	deps, groups := 0, 0
	targets := map[infra.Kind]int{}
	for i := range g.Assets {
		deps += len(g.Deps(i))
		if k := g.Assets[i].Kind; k.Target() {
			targets[k]++
		} else if k == infra.Group {
			groups++
		}
	}
	rooms := 0
	for _, p := range s.places {
		if p.RoomID != "" {
			rooms++
		}
	}
	fmt.Printf("graph: %d assets (%d redundancy groups), %d dependencies; targets: %d lines, %d rooms' monitoring, %d doors, %d services\n",
		len(g.Assets), groups, deps, targets[infra.Line], targets[infra.RoomMonitoring], targets[infra.Door], targets[infra.ServiceKind])
	fmt.Printf("places: %d (%d buildings, %d rooms)\n", len(s.places), len(s.places)-rooms, rooms)
}

// report prints what the analysis found, to show it had work to do.
func report(g *infra.Graph, an infra.Analysis, jsonBytes int) {
	own := 0
	for _, p := range an.Points {
		if p.Own {
			own++
		}
	}
	fmt.Printf("analysis: %d single points of failure (%d a line's own PLC), %d places whose loss stops targets beyond them; JSON %s\n",
		len(an.Points), own, len(an.Places), mb(uint64(jsonBytes)))
	for _, p := range an.Points[:min(5, len(an.Points))] {
		fmt.Printf("  point %-20s stops %4d targets, score %d\n", p.Asset.Code, len(p.Stops), p.Score)
	}
	for _, l := range an.Places[:min(5, len(an.Places))] {
		fmt.Printf("  place %-44s %4d assets, stops %4d beyond, score %d\n", l.Place, l.Assets, len(l.Stops), l.Score)
	}
}

// memory prints what one Analyse allocates, the most its heap can reach
// (the collector off: the graph's heap plus everything allocated), the
// peak sampled with the collector on, and what its answer holds.
func memory(g *infra.Graph, s *site) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	an := g.Analyse(s.places, s.names)
	runtime.ReadMemStats(&after)
	fmt.Printf("memory: one Analyse allocates %s in %d objects (%d collections); ", mb(after.TotalAlloc-before.TotalAlloc),
		after.Mallocs-before.Mallocs, after.NumGC-before.NumGC)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(an)
	fmt.Printf("its answer holds %s\n", mb(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)))

	old := debug.SetGCPercent(-1)
	runtime.GC()
	runtime.ReadMemStats(&before)
	g.Analyse(s.places, s.names)
	runtime.ReadMemStats(&after)
	debug.SetGCPercent(old)
	peak := sampledPeak(func() { g.Analyse(s.places, s.names) })
	fmt.Printf("  heap before %s; peak HeapAlloc with the collector off %s, sampled with it on %s\n", mb(before.HeapAlloc),
		mb(after.HeapAlloc), mb(peak))
}

// sampledPeak runs fn while a goroutine reads the heap's objects every
// 100 µs (runtime/metrics stops no goroutine), and returns the highest.
func sampledPeak(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var hi uint64
		for {
			metrics.Read(sample)
			hi = max(hi, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- hi
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	fn()
	close(done)
	return <-peak
}

// profile starts a CPU profile written to the file; the function returned
// stops it.
func profile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
