package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"galenix/internal/identity"
	"galenix/internal/keyworker"
)

// argonFigures are galenix's argon2id parameters, read from a hash it
// makes, and the time of one check on an idle process.
type argonFigures struct {
	params  string // "m=65536,t=3,p=1"
	memory  int    // KiB
	time    int
	threads int
	alone   time.Duration
}

// measureArgon hashes a password as galenix does, reads the parameters off
// the hash, and times a check (the median of 5), before any load.
func measureArgon() (argonFigures, error) {
	var a argonFigures
	h, err := identity.HashPassword("galenix-bench-password")
	if err != nil {
		return a, err
	}
	parts := strings.Split(h, "$")
	if len(parts) != 6 {
		return a, fmt.Errorf("unexpected password hash format %q", h)
	}
	a.params = parts[3]
	if _, err := fmt.Sscanf(a.params, "m=%d,t=%d,p=%d", &a.memory, &a.time, &a.threads); err != nil {
		return a, fmt.Errorf("reading the argon2id parameters %q: %w", a.params, err)
	}
	var times []time.Duration
	for range 5 {
		t := time.Now()
		if !identity.CheckPassword(h, "galenix-bench-password") {
			return a, fmt.Errorf("the password check failed")
		}
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	a.alone = times[len(times)/2]
	fmt.Printf("argon2id as galenix uses it: %s (memory %d MiB, %d passes, %s); one check alone on this machine: %.0f ms\n\n",
		a.params, a.memory/1024, a.time, plural(a.threads, "lane"), ms(a.alone))
	return a, nil
}

// printArgon says what a signature costs and why.
func printArgon(a argonFigures, signP50 time.Duration) {
	fmt.Printf("what signing costs: p50 %.0f ms under load, against %.0f ms for one argon2id check alone.\n", ms(signP50), ms(a.alone))
	fmt.Printf("  Every signature asks for the password again and checks it with argon2id (21 CFR 11.200(a): both components, username\n")
	fmt.Printf("  and password, at each signing), with the parameters of sign-in: %s, that is %d MiB of memory filled and read\n", a.params, a.memory/1024)
	fmt.Printf("  %d times over %s. The cost is deliberate (RFC 9106: memory times passes is what makes a stolen hash slow to\n", a.time, plural(a.threads, "lane"))
	fmt.Printf("  guess) and it is CPU and memory bandwidth: each check holds %d MiB while it runs and keeps %s busy for about\n",
		a.memory/1024, plural(a.threads, "core"))
	fmt.Printf("  %.0f ms. galenix runs at most one check per two cores at once (the others queue), so that signatures never take\n", ms(a.alone))
	fmt.Printf("  more than half the machine from the requests that read: on this machine about %.0f checks a second at most.\n", float64(max(1, runtime.NumCPU()/2))/a.alone.Seconds())
	fmt.Printf("  The checks run in worker processes at nice %d: on a busy machine they give way to the requests and to the\n", keyworker.Nice)
	fmt.Printf("  database, which is why a signature under load takes longer than one check alone. Signing is therefore\n")
	fmt.Printf("  measured apart and kept out of the latency goal.\n\n")
}

// plural writes a count of things, "1 lane", "2 lanes".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func sortDurations(d []time.Duration) { slices.Sort(d) }
