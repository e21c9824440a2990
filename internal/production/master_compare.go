package production

import (
	"slices"
	"strings"
)

// MasterChangeKind says what changed between two versions of a master.
type MasterChangeKind string

// The kinds of change between two versions.
const (
	// ChangeField: a field of the master itself (title, batch size, unit,
	// hours) changed.
	ChangeField MasterChangeKind = "field"
	// ChangeOpAdded, ChangeOpRemoved: an operation exists in one version
	// only (by its number).
	ChangeOpAdded   MasterChangeKind = "op_added"
	ChangeOpRemoved MasterChangeKind = "op_removed"
	// ChangeOpTitle: an operation of the same number has another title.
	ChangeOpTitle MasterChangeKind = "op_title"
	// ChangeStepAdded, ChangeStepRemoved: a step exists in one version only.
	ChangeStepAdded   MasterChangeKind = "step_added"
	ChangeStepRemoved MasterChangeKind = "step_removed"
	// ChangeStepField: a field of a step of the same number changed.
	ChangeStepField MasterChangeKind = "step_field"
)

// MasterChange is one difference between two versions of a master batch
// record: where (operation and step numbers, 0 when not a step's), which
// field, and the values before and after (a float64, a string, a bool or a
// []string; nil when the field is not set), for the reader's language to
// write.
type MasterChange struct {
	Kind  MasterChangeKind
	Op    int
	Step  int
	Field string
	// Title is the operation's title, or the step's text, of the version
	// where it exists (the new one when both do).
	Title    string
	Old, New any
}

// CompareMasters lists what changed from the version old to the version
// new: the master's own fields, then operation by operation (by number)
// those added, removed or renamed, and within an operation of both
// versions, step by step (by number), those added, removed or changed
// field by field.
func CompareMasters(old, new *Master) []MasterChange {
	var out []MasterChange
	field := func(name string, a, b any) {
		if !sameValue(a, b) {
			out = append(out, MasterChange{Kind: ChangeField, Field: name, Old: a, New: b})
		}
	}
	field("title", old.Title, new.Title)
	field("batch_size", old.BatchSize, new.BatchSize)
	field("unit", old.Unit, new.Unit)
	field("hours", old.Hours, new.Hours)
	for i := 0; i < max(len(old.Operations), len(new.Operations)); i++ {
		switch {
		case i >= len(old.Operations):
			op := new.Operations[i]
			out = append(out, MasterChange{Kind: ChangeOpAdded, Op: i + 1, Title: op.Title, New: len(op.Steps)})
			continue
		case i >= len(new.Operations):
			op := old.Operations[i]
			out = append(out, MasterChange{Kind: ChangeOpRemoved, Op: i + 1, Title: op.Title, Old: len(op.Steps)})
			continue
		}
		a, b := &old.Operations[i], &new.Operations[i]
		if a.Title != b.Title {
			out = append(out, MasterChange{Kind: ChangeOpTitle, Op: i + 1, Title: b.Title, Old: a.Title, New: b.Title})
		}
		for j := 0; j < max(len(a.Steps), len(b.Steps)); j++ {
			switch {
			case j >= len(a.Steps):
				out = append(out, MasterChange{Kind: ChangeStepAdded, Op: i + 1, Step: j + 1, Title: b.Steps[j].Text, New: string(b.Steps[j].Kind)})
			case j >= len(b.Steps):
				out = append(out, MasterChange{Kind: ChangeStepRemoved, Op: i + 1, Step: j + 1, Title: a.Steps[j].Text, Old: string(a.Steps[j].Kind)})
			default:
				for _, f := range stepFields {
					x, y := f.get(&a.Steps[j]), f.get(&b.Steps[j])
					if !sameValue(x, y) {
						out = append(out, MasterChange{Kind: ChangeStepField, Op: i + 1, Step: j + 1, Field: f.name, Title: b.Steps[j].Text, Old: x, New: y})
					}
				}
			}
		}
	}
	return out
}

// stepFields are a step's fields as a comparison names them, in the order
// a reader checks them.
var stepFields = []struct {
	name string
	get  func(*Step) any
}{
	{"kind", func(s *Step) any { return string(s.Kind) }},
	{"text", func(s *Step) any { return s.Text }},
	{"unit", func(s *Step) any { return s.Unit }},
	{"target", func(s *Step) any { return ptrValue(s.Target) }},
	{"low", func(s *Step) any { return ptrValue(s.Low) }},
	{"high", func(s *Step) any { return ptrValue(s.High) }},
	{"decimals", func(s *Step) any { return float64(s.Decimals) }},
	{"material_id", func(s *Step) any { return s.MaterialID }},
	{"quantity", func(s *Step) any { return s.Quantity }},
	{"tolerance_pct", func(s *Step) any { return s.Tolerance }},
	{"equipment_kind", func(s *Step) any { return s.EquipmentKind }},
	{"checklist", func(s *Step) any { return s.Checklist }},
	{"sample_point", func(s *Step) any { return s.SamplePoint }},
	{"sign", func(s *Step) any { return s.Sign }},
	{"critical", func(s *Step) any { return s.Critical }},
}

func ptrValue(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// sameValue compares two values of a field: lists item by item, texts
// trimmed.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []string:
		y, _ := b.([]string)
		return slices.Equal(x, y)
	case string:
		y, _ := b.(string)
		return strings.TrimSpace(x) == strings.TrimSpace(y)
	}
	return a == b
}

// PreviousVersion returns, among versions of masters, the one of m's code
// just before m's version, if any.
func PreviousVersion(m *Master, versions []Master) (*Master, bool) {
	var prev *Master
	for i := range versions {
		v := &versions[i]
		if v.Code == m.Code && v.ID != m.ID && v.Version < m.Version && (prev == nil || v.Version > prev.Version) {
			prev = v
		}
	}
	return prev, prev != nil
}
