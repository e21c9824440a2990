package web

import (
	"testing"

	"galenix/internal/production"
	"galenix/internal/site"
)

// TestHomeOperatorLine: the operator's line is the one line whose batch
// holds steps they recorded; none, several, or steps only on a line whose
// batch has left, and they choose their line.
func TestHomeOperatorLine(t *testing.T) {
	floor := func(line string, batch bool, performers ...string) *production.Floor {
		f := &production.Floor{Line: site.Line{ID: line}}
		if batch {
			f.Batch = &production.Batch{ID: "b-" + line}
		}
		for _, p := range performers {
			f.Recent = append(f.Recent, production.StepRecord{PerformedBy: p})
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		floors []*production.Floor
		want   string
	}{
		{"no line", nil, ""},
		{"steps of others only", []*production.Floor{floor("L1", true, "ann"), floor("L2", true)}, ""},
		{"one line", []*production.Floor{floor("L1", true, "ann"), floor("L2", true, "otto", "ann"), floor("L3", false)}, "L2"},
		{"two lines", []*production.Floor{floor("L1", true, "otto"), floor("L2", true, "otto")}, ""},
		{"no batch on the line any more", []*production.Floor{floor("L1", false, "otto")}, ""},
	} {
		got, ok := operatorLine(tc.floors, "otto")
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: line %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}
