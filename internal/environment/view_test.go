package environment

import (
	"testing"
	"time"
)

// TestSeriesWidth: the width chosen keeps a series within
// MaxSeriesPoints whatever its alignment, and is the finest that does.
func TestSeriesWidth(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		want time.Duration
	}{
		{time.Hour, time.Minute},
		{33 * time.Hour, time.Minute},
		{34 * time.Hour, time.Hour},
		{30 * 24 * time.Hour, time.Hour},
		{90 * 24 * time.Hour, 2 * time.Hour},
		{366 * 24 * time.Hour, 6 * time.Hour},
		{10 * 366 * 24 * time.Hour, 48 * time.Hour},
	} {
		w := SeriesWidth(tt.span)
		if w != tt.want {
			t.Errorf("SeriesWidth(%s) = %s, want %s", tt.span, w, tt.want)
		}
		if tt.span/w+1 > MaxSeriesPoints {
			t.Errorf("SeriesWidth(%s) = %s gives up to %d points", tt.span, w, tt.span/w+1)
		}
	}
}
