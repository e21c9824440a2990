package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

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
	if need <= environment.Minute {
		return environment.Minute
	}
	for _, w := range coarseWidths {
		if need <= w {
			return w
		}
	}
	day := 24 * time.Hour
	return (need + day - 1) / day * day
}

// Series returns a sensor's series from from (included) to to (excluded):
// its raw readings when there are at most MaxSeriesPoints of them, else
// its roll-ups at SeriesWidth(to - from) — the stored minutes or hours, or
// hours merged into wider intervals. Roll-ups cover closed intervals the
// roll-up job has reached.
func (e *EnvironmentStore) Series(ctx context.Context, sensorID string, from, to time.Time) (*Series, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(sensorID); err != nil {
		return nil, errs.E(errs.NotFound, "environment.sensor.not_found")
	}
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return nil, errs.Field("to", "environment.series.bad_span")
	}
	if to.Sub(from) > MaxSeriesSpan {
		return nil, errs.Field("from", "environment.series.too_long")
	}
	s := &Series{SensorID: sensorID, From: from, To: to, Points: []SeriesPoint{}}
	err := e.db.Read(ctx, func(tx *Tx) error {
		if err := tx.sensor(sensorID, &environment.Sensor{}); err != nil {
			return err
		}
		rows, err := tx.query(`SELECT sensor_id, seq, at, value, flags FROM environment_readings WHERE sensor_id = ? AND at >= ? AND at < ?
			ORDER BY at, seq LIMIT ?`, sensorID, from, to, MaxSeriesPoints+1)
		if err != nil {
			return err
		}
		var raw []environment.Reading
		for rows.Next() {
			r, err := scanReading(rows)
			if err != nil {
				rows.Close()
				return err
			}
			raw = append(raw, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(raw) <= MaxSeriesPoints {
			for _, r := range raw {
				s.Points = append(s.Points, SeriesPoint{At: r.At, Min: r.Value, Max: r.Value, Mean: r.Value, Count: 1})
			}
			return nil
		}
		s.Width = SeriesWidth(to.Sub(from))
		stored := environment.Hour
		if s.Width == environment.Minute {
			stored = environment.Minute
		}
		rs, err := tx.rollups(sensorID, stored, from.Truncate(s.Width), to)
		if err != nil {
			return err
		}
		if s.Width != stored {
			rs = environment.Merge(rs, s.Width)
		}
		for i := range rs {
			r := &rs[i]
			s.Points = append(s.Points, SeriesPoint{At: r.Start, Min: r.Min, Max: r.Max, Mean: r.Mean(), Count: r.Count})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
