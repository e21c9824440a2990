package simulate

import (
	"testing"
	"time"

	"galenix/internal/environment"
)

// site is a small site: two rooms with every kind of sensor, one silent.
func smallSite(seed uint64) *Model {
	var specs []Spec
	for _, room := range []string{"R1", "R2"} {
		specs = append(specs,
			Spec{Code: room + "-T1", Room: room, Kind: environment.KindTemperature, Decimals: 2, Low: 18, High: 22},
			Spec{Code: room + "-H1", Room: room, Kind: environment.KindHumidity, Decimals: 1, Low: 35, High: 55},
			Spec{Code: room + "-DP1", Room: room, Kind: environment.KindPressureDiff, Decimals: 1, Low: 15, High: 45},
			Spec{Code: room + "-PA1", Room: room, Kind: environment.KindParticles05, Low: 0, High: 3520, OpHigh: 352000},
			Spec{Code: room + "-PB1", Room: room, Kind: environment.KindParticles5, Low: 0, High: 29, OpHigh: 2930},
			Spec{Code: room + "-D1", Room: room, Kind: environment.KindDoor})
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // a Tuesday
	return &Model{Seed: seed, Specs: specs, Start: start, Step: time.Minute,
		Silent: map[int]time.Time{1: start.Add(30 * time.Hour)}}
}

// beyond reports whether the value lies beyond the sensor's band, in the
// room's state at the time.
func (m *Model) beyond(r Reading) bool {
	sp := &m.Specs[r.Sensor]
	switch sp.Kind {
	case environment.KindTemperature, environment.KindHumidity:
		return r.Value < sp.Low || r.Value > sp.High
	case environment.KindPressureDiff:
		return r.Value < sp.Low && !m.DoorOpen(sp.Room, r.At)
	case environment.KindParticles05, environment.KindParticles5:
		ceil := sp.High
		if m.operating(sp.Room, r.At) {
			ceil = sp.OpHigh
		}
		return r.Value > ceil
	}
	return false
}

// TestModel checks the model's properties over three simulated days:
// values within physical ranges and their decimals, sequence numbers
// increasing one by one (the silent sensor stops, without a gap), one
// excursion per day and no value beyond its band outside it, doors that
// open and drop the pressure, particle counts higher in operation, a
// daily temperature cycle, and the same series from the same seed.
func TestModel(t *testing.T) {
	m := smallSite(7)
	const days = 3
	steps := int64(days * Day / time.Minute)
	excursions := map[int64]map[int]bool{} // day → sensors beyond their band
	var doorOpen, lowPressure, opCount, restCount int
	var opSum, restSum float64
	var hot, cold [2]float64 // temperature of R1 at 15:00 and 03:00 of the first day
	for i := range m.Specs {
		sp := &m.Specs[i]
		var last uint64
		stopped := false
		for n := range steps {
			r, ok := m.At(i, n)
			if !ok {
				if i != 1 {
					t.Fatalf("%s: no reading at step %d", sp.Code, n)
				}
				stopped = true
				continue
			}
			if stopped {
				t.Fatalf("%s: a reading after it went silent, at step %d", sp.Code, n)
			}
			if r.Seq != last+1 {
				t.Fatalf("%s: seq %d after %d", sp.Code, r.Seq, last)
			}
			last = r.Seq
			if want := m.Start.Add(time.Duration(n) * time.Minute); !r.At.Equal(want) {
				t.Fatalf("%s seq %d at %s, want %s", sp.Code, r.Seq, r.At, want)
			}
			lo, hi, _ := sp.Kind.Physical()
			if r.Value < lo || r.Value > hi || r.Value != round(r.Value, sp.Decimals) {
				t.Fatalf("%s seq %d: value %v outside %v..%v or not at %d decimals", sp.Code, r.Seq, r.Value, lo, hi, sp.Decimals)
			}
			if sp.Kind == environment.KindDoor && r.Value != 0 && r.Value != 1 {
				t.Fatalf("door %s reads %v", sp.Code, r.Value)
			}
			day := n / int64(Day/time.Minute)
			e, _ := m.Excursion(day)
			if m.beyond(r) {
				if e.Sensor != i || !e.In(r.At) {
					t.Fatalf("%s seq %d at %s: %v beyond its band outside the day's excursion %+v", sp.Code, r.Seq, r.At, r.Value, e)
				}
				if excursions[day] == nil {
					excursions[day] = map[int]bool{}
				}
				excursions[day][i] = true
			}
			switch sp.Kind {
			case environment.KindDoor:
				if r.Value == 1 {
					doorOpen++
				}
			case environment.KindPressureDiff:
				if r.Value < sp.Low && m.DoorOpen(sp.Room, r.At) {
					lowPressure++
				}
			case environment.KindParticles05:
				if !e.In(r.At) || e.Sensor != i {
					if m.operating(sp.Room, r.At) {
						opSum, opCount = opSum+r.Value, opCount+1
					} else {
						restSum, restCount = restSum+r.Value, restCount+1
					}
				}
			case environment.KindTemperature:
				if i == 0 && n == 15*60 {
					hot[0] = r.Value
				}
				if i == 0 && n == 3*60 {
					cold[0] = r.Value
				}
			}
		}
		if i == 1 && !stopped {
			t.Errorf("%s never went silent", sp.Code)
		}
	}
	for d := range int64(days) {
		if len(excursions[d]) != 1 {
			t.Errorf("day %d: sensors beyond their band %v, want exactly one", d, excursions[d])
		}
	}
	if doorOpen == 0 || lowPressure == 0 {
		t.Errorf("doors open %d minutes, pressure low with a door open %d times; want both", doorOpen, lowPressure)
	}
	if opCount == 0 || restCount == 0 || opSum/float64(opCount) < 3*restSum/float64(restCount) {
		t.Errorf("particles: mean %v in operation (%d), %v at rest (%d); want higher in operation", opSum/float64(opCount), opCount, restSum/float64(restCount), restCount)
	}
	if hot[0] <= cold[0] {
		t.Errorf("temperature %v at 15:00, %v at 03:00: no daily cycle", hot[0], cold[0])
	}

	// Determinism: the same seed, the same series; another, another.
	same, other := smallSite(7), smallSite(8)
	diff := 0
	for n := range int64(500) {
		for i := range m.Specs {
			a, _ := m.At(i, n)
			b, _ := same.At(i, n)
			c, _ := other.At(i, n)
			if a != b {
				t.Fatalf("seed 7 twice: %+v then %+v", a, b)
			}
			if a != c {
				diff++
			}
		}
	}
	if diff == 0 {
		t.Error("seeds 7 and 8 give the same series")
	}
}

// TestPinnedAndDrift checks a pinned excursion replaces the day's drawn one
// and a drift stays inside the band, near its edge.
func TestPinnedAndDrift(t *testing.T) {
	m := smallSite(1)
	at := m.Start.Add(10 * time.Hour)
	m.Pinned = map[int64]Excursion{0: {Sensor: 3, Start: at, End: at.Add(20 * time.Minute)}}
	m.Drifts = []Excursion{{Sensor: 6, Start: at, End: at.Add(30 * time.Minute)}}
	if e, _ := m.Excursion(0); e.Sensor != 3 || !e.Start.Equal(at) {
		t.Fatalf("day 0 excursion %+v, want the pinned one", e)
	}
	n := m.Steps(at.Add(5*time.Minute)) - 1
	r, _ := m.At(3, n)
	if !m.beyond(r) {
		t.Errorf("pinned excursion: %+v not beyond the band", r)
	}
	d, _ := m.At(6, n)
	sp := m.Specs[6]
	if d.Value > sp.High || d.Value < sp.High-(sp.High-sp.Low)/5 {
		t.Errorf("drift of %s: %v, want just under %v", sp.Code, d.Value, sp.High)
	}
	before, _ := m.At(6, m.Steps(at.Add(-2*time.Hour))-1)
	if before.Value >= d.Value {
		t.Errorf("drift: %v before, %v during", before.Value, d.Value)
	}
}

func BenchmarkAt(b *testing.B) {
	m := smallSite(1)
	for i := 0; b.Loop(); i++ {
		m.At(i%len(m.Specs), int64(i))
	}
}
