package environment

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRoll(t *testing.T) {
	rs := series(20*time.Second, 20, 21.5, 19, 22, 18.25, 30) // 3 a minute
	rs = append(rs, Reading{SensorID: "s0", Seq: 1, At: t0.Add(90 * time.Second), Value: -4})
	got := Roll(rs, Minute)
	want := []Rollup{
		{SensorID: "s0", Start: t0.Add(time.Minute), Width: Minute, Count: 1, Min: -4, Max: -4, Sum: -4},
		{SensorID: "s1", Start: t0, Width: Minute, Count: 3, Min: 19, Max: 21.5, Sum: 60.5},
		{SensorID: "s1", Start: t0.Add(time.Minute), Width: Minute, Count: 3, Min: 18.25, Max: 30, Sum: 70.25},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if m := got[1].Mean(); m != 60.5/3 {
		t.Errorf("mean: got %v", m)
	}
	if m := (&Rollup{}).Mean(); m != 0 {
		t.Errorf("mean of nothing: got %v", m)
	}
	// Times in another zone fall in the same UTC minute.
	paris := rs[0]
	paris.At = paris.At.In(time.FixedZone("CEST", 7200)).Add(59 * time.Second)
	if r := Roll([]Reading{paris}, Hour); len(r) != 1 || !r[0].Start.Equal(t0) || r[0].Start.Location() != time.UTC {
		t.Errorf("another zone: got %+v", r)
	}
}

// TestRollupsMerge: the hours merged from minutes are the hours rolled
// from the readings, to the last bit, whatever order the readings and the
// minutes come in.
func TestRollupsMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []Reading
	for _, id := range []string{"a", "b"} {
		for i := range 3 * 360 { // three hours every 10 s
			v := math.Round((18+rng.Float64()*4)*100) / 100
			if id == "b" {
				v = math.Round(rng.Float64() * 400000) // particle counts
			}
			rs = append(rs, Reading{SensorID: id, Seq: uint64(i + 1), At: t0.Add(time.Duration(i)*10*time.Second + 7*time.Minute), Value: v})
		}
	}
	direct := Roll(rs, Hour)
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	minutes := Roll(rs, Minute)
	rng.Shuffle(len(minutes), func(i, j int) { minutes[i], minutes[j] = minutes[j], minutes[i] })
	merged := Merge(minutes, Hour)
	if len(direct) != 8 || len(merged) != len(direct) {
		t.Fatalf("got %d and %d hours, want 8", len(direct), len(merged))
	}
	for i := range direct {
		d, m := direct[i], merged[i]
		if d.SensorID != m.SensorID || !d.Start.Equal(m.Start) || d.Width != m.Width || d.Count != m.Count || d.Min != m.Min || d.Max != m.Max ||
			d.Total() != m.Total() || d.Mean() != m.Mean() {
			t.Errorf("hour %d: direct %+v, merged %+v", i, d, m)
		}
	}
	// Hours of hours: merging is idempotent in width.
	again := Merge(merged, Hour)
	for i := range again {
		if again[i].Count != merged[i].Count || again[i].Mean() != merged[i].Mean() {
			t.Errorf("hour %d merged again: got %+v", i, again[i])
		}
	}
	// A day of the hours is the day of the readings.
	day := Merge(merged, 24*time.Hour)
	byDay := Roll(rs, 24*time.Hour)
	for i := range day {
		if day[i].Count != byDay[i].Count || day[i].Mean() != byDay[i].Mean() || day[i].Min != byDay[i].Min || day[i].Max != byDay[i].Max {
			t.Errorf("day %d: merged %+v, rolled %+v", i, day[i], byDay[i])
		}
	}
	// An empty roll-up merges as nothing.
	one := []Rollup{{SensorID: "a", Start: t0, Width: Minute}, {SensorID: "a", Start: t0, Width: Minute, Count: 1, Min: 5, Max: 5, Sum: 5}}
	if got := Merge(one, Hour); len(got) != 1 || got[0].Min != 5 || got[0].Count != 1 {
		t.Errorf("with an empty one: got %+v", got)
	}
}
