package backup

import (
	"strings"
	"testing"
	"time"
)

// TestBeyond keeps the newest backups and names the others, oldest
// first; a retention that is no count is refused.
func TestBeyond(t *testing.T) {
	day := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	m := func(id string, at time.Time) *Manifest { return &Manifest{ID: id, CreatedAt: at} }
	ms := []*Manifest{m("c", day.Add(48*time.Hour)), m("a", day), m("b2", day.Add(24*time.Hour)), m("b1", day.Add(24*time.Hour))}
	ids := func(ms []*Manifest) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		keep int
		want string
		says string
	}{
		{1, "a,b1,b2", ""},
		{2, "a,b1", ""},
		{4, "", ""},
		{9, "", ""},
		{0, "", "--keep 0 would remove every backup"},
		{-1, "", "--keep -1: a retention is the number of backups to keep"},
	} {
		got, err := Beyond(ms, c.keep)
		if c.says != "" {
			if _, ok := err.(*Problem); !ok || !strings.Contains(err.Error(), c.says) {
				t.Errorf("keep %d: %v, %v; want a problem saying %q", c.keep, ids(got), err, c.says)
			}
			continue
		}
		if err != nil || ids(got) != c.want {
			t.Errorf("keep %d: %q, %v; want %q", c.keep, ids(got), err, c.want)
		}
	}
	if ms[0].ID != "c" {
		t.Error("Beyond reordered its argument")
	}
}

func TestCheckRetention(t *testing.T) {
	for _, c := range []struct {
		keep, diff int
		says       string
	}{
		{0, 0, ""},
		{3, 7, ""},
		{-1, 0, "--keep -1"},
		{2, -4, "--keep-diff -4"},
	} {
		err := CheckRetention(c.keep, c.diff)
		if (c.says == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.says)) {
			t.Errorf("%d, %d: %v; want %q", c.keep, c.diff, err, c.says)
		}
	}
}

// TestMayRemove refuses an unknown backup and the only one.
func TestMayRemove(t *testing.T) {
	if err := MayRemove([]string{"a", "b"}, "a"); err != nil {
		t.Error(err)
	}
	if err := MayRemove([]string{"a", "b"}, "z"); err == nil || err.Error() != `no backup "z" (the backups: a, b)` {
		t.Errorf("unknown: %v", err)
	}
	if err := MayRemove(nil, "z"); err == nil || !strings.Contains(err.Error(), "(the backups: none)") {
		t.Errorf("none: %v", err)
	}
	if err := MayRemove([]string{"a"}, "a"); err == nil || !strings.Contains(err.Error(), "a is the only backup") {
		t.Errorf("the only one: %v", err)
	}
}

// TestChooseType makes a full backup when the newest is older than the
// period (or there is none), a differential one otherwise.
func TestChooseType(t *testing.T) {
	now := time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	for _, c := range []struct {
		name     string
		lastFull time.Time
		want     string
	}{
		{"none", time.Time{}, Full},
		{"yesterday", now.Add(-24 * time.Hour), Diff},
		{"a week ago to the second", now.Add(-week), Full},
		{"a week ago less a minute", now.Add(-week + time.Minute), Diff},
		{"a month ago", now.Add(-30 * 24 * time.Hour), Full},
	} {
		if got, err := ChooseType(c.lastFull, now, week); err != nil || got != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	if _, err := ChooseType(now, now, 0); err == nil {
		t.Error("a period of 0 accepted")
	}
}
