package app

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/pgbackrest"
)

// TestChooseSet picks the backup a point-in-time restore starts from, and
// refuses the points no backup reaches.
func TestChooseSet(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	sets := []pgbackrest.Set{
		{Label: "20260301-020000F", Stop: day.Add(-22 * time.Hour)},
		{Label: "20260302-020000D", Stop: day.Add(2 * time.Hour)},
	}
	now := day.Add(12 * time.Hour)
	for _, c := range []struct {
		name   string
		label  string
		target time.Time
		want   string
		says   string
	}{
		{"newest", "", time.Time{}, "20260302-020000D", ""},
		{"newest before the point", "", day.Add(time.Hour), "20260301-020000F", ""},
		{"newest reaching the point", "", day.Add(3 * time.Hour), "20260302-020000D", ""},
		{"named", "20260301-020000F", day.Add(3 * time.Hour), "20260301-020000F", ""},
		{"named, at its end", "20260302-020000D", day.Add(2 * time.Hour), "20260302-020000D", ""},
		{"named, point before its end", "20260302-020000D", day.Add(time.Hour), "", "before the end of the backup 20260302-020000D"},
		{"unknown", "20200101-000000F", time.Time{}, "", `no backup "20200101-000000F" in the repository (its backups: 20260301-020000F, 20260302-020000D)`},
		{"before every backup", "", day.Add(-30 * time.Hour), "", "before the end of the oldest backup"},
		{"to come", "", now.Add(time.Second), "", "is still to come"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := chooseSet(sets, c.label, c.target, now)
			if c.says != "" {
				if err == nil || !strings.Contains(err.Error(), c.says) {
					t.Errorf("got %v, %v; want a refusal saying %q", got, err, c.says)
				}
				return
			}
			if err != nil || got.Label != c.want {
				t.Errorf("got %v, %v; want %s", got, err, c.want)
			}
		})
	}
	if _, err := chooseSet(nil, "", time.Time{}, now); err == nil || !strings.Contains(err.Error(), "no backup yet") {
		t.Errorf("an empty repository: %v", err)
	}
}
