package production

import (
	"reflect"
	"slices"
	"testing"
)

// cloneMaster copies a master deeply enough to change its steps.
func cloneMaster(m *Master) *Master {
	c := *m
	c.Operations = nil
	for _, op := range m.Operations {
		op.Steps = slices.Clone(op.Steps)
		for i := range op.Steps {
			op.Steps[i].Checklist = slices.Clone(op.Steps[i].Checklist)
		}
		c.Operations = append(c.Operations, op)
	}
	return &c
}

func TestCompareMasters(t *testing.T) {
	old := master()
	if got := CompareMasters(old, cloneMaster(old)); len(got) != 0 {
		t.Fatalf("a version compared with itself differs: %+v", got)
	}
	nw := cloneMaster(old)
	nw.Hours = 9
	nw.Operations[0].Title = "Pesée"
	nw.Operations[0].Steps[1].High = f(7.4)
	nw.Operations[0].Steps[1].Critical = true
	nw.Operations[0].Steps[0].Checklist = append(nw.Operations[0].Steps[0].Checklist, "Étiquettes retirées")
	nw.Operations[0].Steps = append(nw.Operations[0].Steps, Step{Kind: StepSampling, Text: "Échantillon", SamplePoint: "Sortie"})
	nw.Operations = append(nw.Operations, Operation{Title: "Conditionnement", Steps: []Step{{Kind: StepInstruction, Text: "Étiqueter"}}})
	got := CompareMasters(old, nw)
	n := len(old.Operations[0].Steps) + 1
	want := []MasterChange{
		{Kind: ChangeField, Field: "hours", Old: 8.0, New: 9.0},
		{Kind: ChangeOpTitle, Op: 1, Title: "Pesée", Old: "Préparation", New: "Pesée"},
		{Kind: ChangeStepField, Op: 1, Step: 1, Field: "checklist", Title: "Vide de ligne", Old: []string{"Ligne vide"}, New: []string{"Ligne vide", "Étiquettes retirées"}},
		{Kind: ChangeStepField, Op: 1, Step: 2, Field: "high", Title: "pH", Old: 7.2, New: 7.4},
		{Kind: ChangeStepField, Op: 1, Step: 2, Field: "critical", Title: "pH", Old: false, New: true},
		{Kind: ChangeStepAdded, Op: 1, Step: n, Title: "Échantillon", New: "sampling"},
		{Kind: ChangeOpAdded, Op: len(old.Operations) + 1, Title: "Conditionnement", New: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", got, want)
	}
	// The other way round: what was added is removed.
	back := CompareMasters(nw, old)
	if k := back[len(back)-1]; k.Kind != ChangeOpRemoved || k.Op != len(old.Operations)+1 || k.Old != 1 {
		t.Fatalf("the operation removed reads %+v", k)
	}
	if !slices.ContainsFunc(back, func(c MasterChange) bool { return c.Kind == ChangeStepRemoved && c.Op == 1 && c.Step == n }) {
		t.Fatalf("the step removed is missing: %+v", back)
	}
}

// TestCompareMastersInsertions: a step or an operation inserted is said
// once, not as a change of every one after it; a step changed in place is
// said field by field.
func TestCompareMastersInsertions(t *testing.T) {
	old := master()
	nw := cloneMaster(old)
	ops := nw.Operations[1].Steps
	nw.Operations[1].Steps = append([]Step{{Kind: StepInstruction, Text: "Vérifier la pression"}}, ops...)
	nw.Operations[1].Steps[2].Text = "Lancer la remplisseuse"
	nw.Operations = append([]Operation{{Title: "Réception", Steps: []Step{{Kind: StepInstruction, Text: "Recevoir"}}}}, nw.Operations...)
	nw.Operations[1].Steps = nw.Operations[1].Steps[1:] // the line clearance removed
	got := CompareMasters(old, nw)
	want := []MasterChange{
		{Kind: ChangeOpAdded, Op: 1, Title: "Réception", New: 1},
		{Kind: ChangeStepRemoved, Op: 2, Step: 1, Title: "Vide de ligne", Old: "line_clearance"},
		{Kind: ChangeStepAdded, Op: 3, Step: 1, Title: "Vérifier la pression", New: "instruction"},
		{Kind: ChangeStepField, Op: 3, Step: 3, Field: "text", Title: "Lancer la remplisseuse", Old: "Lancer", New: "Lancer la remplisseuse"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", got, want)
	}
}

func TestPreviousVersion(t *testing.T) {
	vs := []Master{{ID: "a1", Code: "A", Version: 1}, {ID: "a3", Code: "A", Version: 3}, {ID: "b2", Code: "B", Version: 2}, {ID: "a4", Code: "A", Version: 4}}
	if p, ok := PreviousVersion(&vs[3], vs); !ok || p.ID != "a3" {
		t.Fatalf("previous of A v4: %v %v", p, ok)
	}
	if p, ok := PreviousVersion(&vs[0], vs); ok {
		t.Fatalf("A v1 has a previous version: %v", p)
	}
}
