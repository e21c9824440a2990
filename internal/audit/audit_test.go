package audit

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	a := []Field{{"code", "L1"}, {"name", "Line 1"}, {"status", ""}}
	b := []Field{{"code", "L1"}, {"name", "Line one"}, {"status", "running"}}
	tests := []struct {
		name     string
		old, new []Field
		want     []Change
	}{
		{"create skips empty fields", nil, a, []Change{
			{"line", "x", "code", "", "L1"}, {"line", "x", "name", "", "Line 1"}}},
		{"update keeps changed fields only", a, b, []Change{
			{"line", "x", "name", "Line 1", "Line one"}, {"line", "x", "status", "", "running"}}},
		{"delete", b, nil, []Change{
			{"line", "x", "code", "L1", ""}, {"line", "x", "name", "Line one", ""}, {"line", "x", "status", "running", ""}}},
		{"no change", a, a, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff("line", "x", tt.old, tt.new); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
