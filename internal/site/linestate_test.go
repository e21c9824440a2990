package site

import (
	"testing"
	"time"
)

func TestLineStateOf(t *testing.T) {
	now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	clean := Equipment{Status: EquipmentClean, QualificationDue: now.AddDate(0, 1, 0)}
	with := func(mod func(*Equipment)) []Equipment {
		e := clean
		mod(&e)
		return []Equipment{clean, e}
	}
	cases := []struct {
		name       string
		status     LineStatus
		equipment  []Equipment
		inProgress bool
		want       LineState
	}{
		{"a batch in progress", LineAvailable, []Equipment{clean}, true, StateInProduction},
		{"a batch in progress on a line set stopped", LineStopped, nil, true, StateInProduction},
		{"a stored running status without a batch", LineRunning, []Equipment{clean}, false, StateAvailable},
		{"no batch, equipment fit", LineAvailable, []Equipment{clean, clean}, false, StateAvailable},
		{"no equipment at all", LineAvailable, nil, false, StateAvailable},
		{"equipment dirty", LineAvailable, with(func(e *Equipment) { e.Status = EquipmentDirty }), false, StateCleaningDue},
		{"equipment left in use", LineRunning, with(func(e *Equipment) { e.Status = EquipmentInUse }), false, StateCleaningDue},
		{"qualification lapsed yesterday", LineAvailable, with(func(e *Equipment) { e.QualificationDue = now.AddDate(0, 0, -1) }), false, StateQualificationOverdue},
		{"qualification due today still holds", LineAvailable, with(func(e *Equipment) { e.QualificationDue = now.Truncate(24 * time.Hour) }), false, StateAvailable},
		{"overdue and dirty: the qualification first", LineAvailable, []Equipment{{Status: EquipmentDirty, QualificationDue: now.AddDate(-1, 0, 0)}}, false, StateQualificationOverdue},
		{"a piece under maintenance", LineAvailable, with(func(e *Equipment) { e.Status = EquipmentMaintenance }), false, StateOutOfService},
		{"line in maintenance", LineMaintenance, []Equipment{clean}, false, StateOutOfService},
		{"line stopped", LineStopped, []Equipment{clean}, false, StateOutOfService},
	}
	for _, c := range cases {
		l := &Line{Status: c.status}
		if got := LineStateOf(l, c.equipment, c.inProgress, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
