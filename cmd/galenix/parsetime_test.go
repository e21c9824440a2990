package main

import "testing"

// TestParseTimeBounds: a restore's point in time is held to the years 2000
// to 2100, as every time galenix takes.
func TestParseTimeBounds(t *testing.T) {
	for s, ok := range map[string]bool{
		"2026-03-02T09:30:00+01:00": true,
		"2000-01-01T00:00:00Z":      true,
		"2100-12-31T23:59:59Z":      true,
		"9999-12-31T20:00:00Z":      false,
		"1999-12-31T23:59:59Z":      false,
		"2026-03-02":                false,
	} {
		if _, err := parseTime(s); (err == nil) != ok {
			t.Errorf("parseTime(%q): %v", s, err)
		}
	}
}
