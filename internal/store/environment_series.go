package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Series returns a sensor's series from from (included) to to (excluded):
// its raw readings when there are at most environment.MaxSeriesPoints of them, else
// its roll-ups at environment.SeriesWidth(to - from) — the stored minutes or hours, or
// hours merged into wider intervals. Roll-ups cover closed intervals the
// roll-up job has reached.
func (e *EnvironmentStore) Series(ctx context.Context, sensorID string, from, to time.Time) (*environment.Series, error) {
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
	if to.Sub(from) > environment.MaxSeriesSpan {
		return nil, errs.Field("from", "environment.series.too_long")
	}
	s := &environment.Series{SensorID: sensorID, From: from, To: to, Points: []environment.SeriesPoint{}}
	err := e.db.Read(ctx, func(tx *Tx) error {
		if err := tx.sensor(sensorID, &environment.Sensor{}); err != nil {
			return err
		}
		// The compacted readings are decoded only when they may be few
		// enough (a block overlapping the span holds some outside it).
		var compacted int64
		if err := tx.queryRow(`SELECT COALESCE(SUM(count), 0) FROM environment_blocks WHERE sensor_id = ? AND from_at < ? AND to_at >= ?`,
			sensorID, to, from).Scan(&compacted); err != nil {
			return err
		}
		var raw []environment.Reading
		many := compacted > 4*environment.MaxSeriesPoints
		if !many {
			var err error
			if raw, err = tx.readings(sensorID, from, to, environment.MaxSeriesPoints+1); err != nil {
				return err
			}
			many = len(raw) > environment.MaxSeriesPoints
		}
		if !many {
			for _, r := range raw {
				s.Points = append(s.Points, environment.SeriesPoint{At: r.At, Min: r.Value, Max: r.Value, Mean: r.Value, Count: 1})
			}
			return nil
		}
		s.Width = environment.SeriesWidth(to.Sub(from))
		stored := environment.Hour
		if s.Width == environment.Minute {
			stored = environment.Minute
		}
		rs, err := tx.rollups(sensorID, stored, from.Truncate(s.Width), to)
		if err != nil {
			return err
		}
		if rs, err = tx.rollupTail(sensorID, rs, stored, from, to); err != nil {
			return err
		}
		rs = environment.Merge(rs, s.Width)
		for i := range rs {
			r := &rs[i]
			s.Points = append(s.Points, environment.SeriesPoint{At: r.Start, Min: r.Min, Max: r.Max, Mean: r.Mean(), Count: r.Count})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// seriesTail bounds the end of a series that is rolled up as it is read,
// past the roll-ups stored.
const seriesTail = 3 * time.Hour

// rollupTail completes the stored roll-ups rs of width (a minute or an
// hour), read up to to, with what the roll-up job has not reached yet
// (the interval still open, the last minutes): the stored minutes past
// the last hour, then the raw readings past the last minute, rolled up as
// they are read — within seriesTail of the end, so that a live plot ends
// at its last reading. The caller merges the intervals that meet.
func (tx *Tx) rollupTail(sensorID string, rs []environment.Rollup, width time.Duration, from, to time.Time) ([]environment.Rollup, error) {
	start := from
	if n := len(rs); n > 0 {
		start = rs[n-1].Start.Add(width)
	}
	start = later(start, to.Add(-seriesTail))
	if !start.Before(to) {
		return rs, nil
	}
	if width == environment.Hour {
		ms, err := tx.rollups(sensorID, environment.Minute, start, to)
		if err != nil {
			return nil, err
		}
		if n := len(ms); n > 0 {
			rs = append(rs, environment.Merge(ms, environment.Hour)...)
			start = ms[n-1].Start.Add(environment.Minute)
		}
	}
	raw, err := tx.readings(sensorID, start, to, 0)
	if err != nil {
		return nil, err
	}
	return append(rs, environment.Roll(raw, width)...), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
