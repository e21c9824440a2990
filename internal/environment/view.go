package environment

import "time"

// SensorStatus is a sensor as the live pages show it: its alarm level as
// last evaluated, whether it was heard at all and whether it went silent,
// its open alarms; with detail, its last reading and its limits.
type SensorStatus struct {
	Sensor Sensor
	// Level is the level its alarm machine is at; empty: never evaluated.
	Level Level
	// Heard: a reading was evaluated; Silent: a silence alarm is open.
	Heard, Silent bool
	OpenAlarms    int
	// Last and Limits, with detail (nil when none).
	Last   *Reading
	Limits *Limits
}

// NoData reports whether the sensor gives no current value: never heard,
// or silent.
func (s *SensorStatus) NoData() bool { return !s.Heard || s.Silent }

// MaxSeriesPoints bounds the points of a series: a plot never gets more.
const MaxSeriesPoints = 2000

// MaxSeriesSpan bounds the span of a series.
const MaxSeriesSpan = 20 * 366 * 24 * time.Hour

// Series is a sensor's readings over a span at the finest resolution that
// keeps it within MaxSeriesPoints: the raw readings (Width 0), or
// roll-ups of a minute, an hour, or several hours or days merged from the
// hours.
type Series struct {
	SensorID string        `json:"sensor_id"`
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Width    time.Duration `json:"-"`
	Points   []SeriesPoint `json:"points"`
}

// SeriesPoint is one reading (Count 1) or one interval's roll-up.
type SeriesPoint struct {
	At    time.Time
	Min   float64
	Max   float64
	Mean  float64
	Count int64
}

// coarseWidths are the widths merged from the hours, finest first; past
// a day, whole days.
var coarseWidths = []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// SeriesWidth is the roll-up width a span needs so that its intervals,
// however aligned, stay within MaxSeriesPoints: a minute when the span
// holds fewer than MaxSeriesPoints minutes, else an hour or a multiple.
// (Raw readings come first when there are few enough of them: see
// Series.)
func SeriesWidth(span time.Duration) time.Duration {
	// span/w intervals may touch one more: keep span/w below the bound.
	need := span / (MaxSeriesPoints - 1)
	if span%(MaxSeriesPoints-1) != 0 {
		need++
	}
	if need <= Minute {
		return Minute
	}
	for _, w := range coarseWidths {
		if need <= w {
			return w
		}
	}
	day := 24 * time.Hour
	return (need + day - 1) / day * day
}
