package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// reading is one synthetic reading: the peer's series, 2,000 sensors ×
// N steps 10 s apart, values 20 ± 2 with 2 decimals (uniform, the same
// generator as environment's BenchmarkBlockEncode).
type reading struct {
	sensor int
	seq    uint64
	at     time.Time
	value  float64
}

// step is the interval between a sensor's readings.
const step = 10 * time.Second

// generate makes the readings in the order they arrive: step after step,
// every sensor's reading of a step together. The last step ends a little
// before now, so that every reading is a recent one.
func generate(sensors, steps int) []reading {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-time.Duration(steps+1) * step).Truncate(time.Second).UTC()
	rs := make([]reading, 0, sensors*steps)
	for k := range steps {
		at := start.Add(time.Duration(k) * step)
		for s := range sensors {
			v := math.Round((18+rng.Float64()*4)*100) / 100
			rs = append(rs, reading{sensor: s, seq: uint64(k + 1), at: at, value: v})
		}
	}
	return rs
}

// code is a synthetic sensor's code.
func code(s int) string { return fmt.Sprintf("BENCH-%04d", s) }

// batches cuts rs into batches of at most n readings.
func batches(rs []reading, n int) [][]reading {
	var out [][]reading
	for len(rs) > 0 {
		k := min(n, len(rs))
		out = append(out, rs[:k])
		rs = rs[k:]
	}
	return out
}
