package bounds

import (
	"math"
	"testing"
	"time"

	"galenix/internal/errs"
)

func TestTimeBoundaries(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), true},
		// 2000-01-01 00:30 in Paris, still 1999 in UTC: the year as written.
		{time.Date(2000, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), true},
		{time.Date(2100, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), true},
		{time.Date(2101, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), false},
		{time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC), true},
		{time.Date(2100, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC), false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Time{}, false},
	} {
		if got := InRange(c.t); got != c.want {
			t.Errorf("InRange(%v) = %v, want %v", c.t, got, c.want)
		}
		err := Time("start", c.t)
		if c.want != (err == nil) {
			t.Errorf("Time(%v) = %v", c.t, err)
		}
		if err != nil && (errs.FieldOf(err) != "start" || errs.MessageOf(err, "en") != "This date is outside the accepted range: years 2000 to 2100.") {
			t.Errorf("refusal of %v: field %q, %q", c.t, errs.FieldOf(err), errs.MessageOf(err, "en"))
		}
	}
	if got := errs.MessageOf(Time("due", time.Time{}), "fr"); got != "Cette date est hors de la plage acceptée : de l'an 2000 à l'an 2100." {
		t.Errorf("French: %q", got)
	}
}

func TestNumbers(t *testing.T) {
	for _, f := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		if Finite(f) || Number("value", f) == nil {
			t.Errorf("%v accepted", f)
		}
	}
	if !Finite(math.MaxFloat64) || Number("value", -1.5) != nil {
		t.Error("a finite number refused")
	}
	for _, c := range []struct {
		f        float64
		decimals int
		want     float64
		ok       bool
	}{
		{7.25, 1, 7.3, true},
		{-20.04, 1, -20, true},
		{1.7e308, 0, 1.7e308, true},
		{1.7e308, 1, 0, false}, // 1.7e309 on the way: +Inf
		{-1.7e308, 2, 0, false},
		{math.Inf(1), 0, 0, false},
		{math.NaN(), 1, 0, false},
	} {
		v, ok := Round(c.f, c.decimals)
		if ok != c.ok || (ok && v != c.want) {
			t.Errorf("Round(%v, %d) = %v, %v; want %v, %v", c.f, c.decimals, v, ok, c.want, c.ok)
		}
	}
}

func TestText(t *testing.T) {
	for s, want := range map[string]bool{
		"Łukasz Żółć 王芳 ≥ µ": true,
		"":                   true,
		"a\x00b":             false,
		"\x00":               false,
		"caf\xe9":            false, // Latin-1, not UTF-8
		"\xed\xa0\x80":       false, // a surrogate half
	} {
		if Text(s) != want || (TextField("name", s) == nil) != want {
			t.Errorf("Text(%q) = %v, want %v", s, Text(s), want)
		}
	}
	if err := TextField("name", "a\x00"); errs.FieldOf(err) != "name" || !errs.Is(err, errs.Invalid) {
		t.Errorf("refusal: %v", err)
	}
}
