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
// new: the master's own fields, then the operations (matched by title, in
// order) added, removed or renamed, and within an operation of both
// versions the steps (matched by kind and text, in order) added, removed or
// changed field by field. A step inserted or removed is said once, not as
// a change of every step after it. Numbers are the new version's, but a
// removed operation's or step's, which are the old one's.
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
	ops := align(len(old.Operations), len(new.Operations), func(i, j int) bool {
		return sameValue(old.Operations[i].Title, new.Operations[j].Title)
	})
	for _, p := range ops {
		switch {
		case p.old < 0:
			op := new.Operations[p.new]
			out = append(out, MasterChange{Kind: ChangeOpAdded, Op: p.new + 1, Title: op.Title, New: len(op.Steps)})
			continue
		case p.new < 0:
			op := old.Operations[p.old]
			out = append(out, MasterChange{Kind: ChangeOpRemoved, Op: p.old + 1, Title: op.Title, Old: len(op.Steps)})
			continue
		}
		a, b := &old.Operations[p.old], &new.Operations[p.new]
		no := p.new + 1
		if !sameValue(a.Title, b.Title) {
			out = append(out, MasterChange{Kind: ChangeOpTitle, Op: no, Title: b.Title, Old: a.Title, New: b.Title})
		}
		steps := align(len(a.Steps), len(b.Steps), func(i, j int) bool {
			return a.Steps[i].Kind == b.Steps[j].Kind && sameValue(a.Steps[i].Text, b.Steps[j].Text)
		})
		for _, q := range steps {
			switch {
			case q.old < 0:
				out = append(out, MasterChange{Kind: ChangeStepAdded, Op: no, Step: q.new + 1, Title: b.Steps[q.new].Text, New: string(b.Steps[q.new].Kind)})
			case q.new < 0:
				out = append(out, MasterChange{Kind: ChangeStepRemoved, Op: no, Step: q.old + 1, Title: a.Steps[q.old].Text, Old: string(a.Steps[q.old].Kind)})
			default:
				x, y := &a.Steps[q.old], &b.Steps[q.new]
				for _, f := range stepFields {
					if u, v := f.get(x), f.get(y); !sameValue(u, v) {
						out = append(out, MasterChange{Kind: ChangeStepField, Op: no, Step: q.new + 1, Field: f.name, Title: y.Text, Old: u, New: v})
					}
				}
			}
		}
	}
	return out
}

// pairing is one item of two lists aligned: its index in the old list and
// in the new one, -1 where it has none.
type pairing struct{ old, new int }

// align pairs the items of two lists in order: the longest run of items
// the same (same), and between two of them the items left paired one to
// one as changed, the rest added or removed.
func align(n, m int, same func(i, j int) bool) []pairing {
	// lcs[i][j] is the length of the longest common run of old[i:], new[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if same(i, j) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []pairing
	var gapOld, gapNew []int
	flush := func() {
		k := 0
		for ; k < len(gapOld) && k < len(gapNew); k++ {
			out = append(out, pairing{gapOld[k], gapNew[k]})
		}
		for _, i := range gapOld[k:] {
			out = append(out, pairing{i, -1})
		}
		for _, j := range gapNew[k:] {
			out = append(out, pairing{-1, j})
		}
		gapOld, gapNew = gapOld[:0], gapNew[:0]
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case same(i, j):
			flush()
			out = append(out, pairing{i, j})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			gapOld = append(gapOld, i)
			i++
		default:
			gapNew = append(gapNew, j)
			j++
		}
	}
	for ; i < n; i++ {
		gapOld = append(gapOld, i)
	}
	for ; j < m; j++ {
		gapNew = append(gapNew, j)
	}
	flush()
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
