package environment

import (
	"slices"
	"time"
)

// The widths of the roll-ups plots zoom through.
const (
	Minute = time.Minute
	Hour   = time.Hour
)

// Rollup summarises one sensor's readings over one interval of Width
// starting at Start (aligned on Width, in UTC): their count, least and
// greatest value, and sum. Roll-ups merge: the hour's is the merge of its
// minutes', so plots zoom from a year to seconds through them.
//
// The sum is compensated (Sum plus the rounding error SumErr, Neumaier's
// summation): for sensor values it is the exact sum whatever the order
// the readings were added or merged in, so a mean read from the hour's
// roll-up is the mean of its minutes' to the last bit.
type Rollup struct {
	SensorID string        `json:"sensor_id"`
	Start    time.Time     `json:"start"`
	Width    time.Duration `json:"width_ns"`
	Count    int64         `json:"count"`
	Min      float64       `json:"min"`
	Max      float64       `json:"max"`
	Sum      float64       `json:"sum"`
	SumErr   float64       `json:"sum_err"`
}

// Total is the sum of the readings.
func (r *Rollup) Total() float64 { return r.Sum + r.SumErr }

// Mean is the mean of the readings.
func (r *Rollup) Mean() float64 {
	if r.Count == 0 {
		return 0
	}
	return r.Total() / float64(r.Count)
}

// add counts one value in.
func (r *Rollup) add(v float64) {
	if r.Count == 0 || v < r.Min {
		r.Min = v
	}
	if r.Count == 0 || v > r.Max {
		r.Max = v
	}
	r.Count++
	r.addSum(v)
}

// addSum adds v to the compensated sum.
func (r *Rollup) addSum(v float64) {
	s := r.Sum + v
	// The error of the addition, exactly (Knuth's TwoSum).
	bv := s - r.Sum
	r.SumErr += (r.Sum - (s - bv)) + (v - bv)
	r.Sum = s
}

// merge adds o's readings to r.
func (r *Rollup) merge(o *Rollup) {
	if o.Count == 0 {
		return
	}
	if r.Count == 0 || o.Min < r.Min {
		r.Min = o.Min
	}
	if r.Count == 0 || o.Max > r.Max {
		r.Max = o.Max
	}
	r.Count += o.Count
	r.addSum(o.Sum)
	r.SumErr += o.SumErr
}

// Roll summarises readings into roll-ups of width (Minute or Hour, or any
// width dividing a day), one per sensor and interval holding a reading,
// ordered by sensor then time. The readings may come in any order.
func Roll(rs []Reading, width time.Duration) []Rollup {
	type key struct {
		sensor string
		start  int64
	}
	byKey := map[key]*Rollup{}
	for i := range rs {
		start := rs[i].At.UTC().Truncate(width)
		k := key{rs[i].SensorID, start.UnixNano()}
		r := byKey[k]
		if r == nil {
			r = &Rollup{SensorID: rs[i].SensorID, Start: start, Width: width}
			byKey[k] = r
		}
		r.add(rs[i].Value)
	}
	return sorted(byKey)
}

// Merge merges roll-ups into roll-ups of a wider width (a multiple of
// theirs): minutes into hours, hours into days. Merging twice the same
// roll-up counts its readings twice: the caller merges each once.
func Merge(rs []Rollup, width time.Duration) []Rollup {
	type key struct {
		sensor string
		start  int64
	}
	byKey := map[key]*Rollup{}
	for i := range rs {
		start := rs[i].Start.UTC().Truncate(width)
		k := key{rs[i].SensorID, start.UnixNano()}
		r := byKey[k]
		if r == nil {
			r = &Rollup{SensorID: rs[i].SensorID, Start: start, Width: width}
			byKey[k] = r
		}
		r.merge(&rs[i])
	}
	return sorted(byKey)
}

func sorted[K comparable](m map[K]*Rollup) []Rollup {
	out := make([]Rollup, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rollup) int {
		if a.SensorID != b.SensorID {
			if a.SensorID < b.SensorID {
				return -1
			}
			return 1
		}
		return a.Start.Compare(b.Start)
	})
	return out
}
