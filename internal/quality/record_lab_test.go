package quality

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
)

func TestSpecMovesAndApproval(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		code   errs.Code
		field  string
		passes bool
	}{
		{"the laboratory submits", MaySpecMove(analyst, SpecSubmit, ""), "", "", true},
		{"an operator submits", MaySpecMove(op, SpecSubmit, ""), errs.Forbidden, "", false},
		{"the laboratory retires", MaySpecMove(analyst, SpecRetire, "old"), errs.Forbidden, "", false},
		{"QA rejects without a reason", MaySpecMove(qa, SpecReject, " "), errs.Invalid, "reason", false},
		{"QA rejects", MaySpecMove(qa, SpecReject, "Method version missing"), "", "", true},
		{"an unknown move", MaySpecMove(qa, "approve", "x"), errs.Invalid, "action", false},
	} {
		if c.passes != (c.err == nil) || (!c.passes && (!errs.Is(c.err, c.code) || errs.FieldOf(c.err) != c.field)) {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	s := spec()
	s.Status, s.EffectiveFrom = SpecInReview, t0.AddDate(0, 0, -3)
	if got, err := ApproveSpec(qa, s, esign.Reviewed, t0); got != nil || err != nil {
		t.Errorf("another meaning approved: %v %v", got, err)
	}
	if _, err := ApproveSpec(analyst, s, esign.Approved, t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the laboratory approved: %v", err)
	}
	got, err := ApproveSpec(qa, s, esign.Approved, t0)
	if err != nil || got.Status != SpecApproved || !got.EffectiveFrom.Equal(t0) {
		t.Fatalf("approved with a past day: %+v %v", got, err)
	}
	s.EffectiveFrom = t0.AddDate(0, 1, 0)
	if got, _ := ApproveSpec(qa, s, esign.Approved, t0); !got.EffectiveFrom.Equal(s.EffectiveFrom) {
		t.Errorf("a future day moved: %v", got.EffectiveFrom)
	}
	if _, err := ApproveSpec(qa, *got, esign.Approved, t0); !errs.Is(err, errs.Conflict) {
		t.Errorf("approved twice: %v", err)
	}
	// What QA signs is the content, not the status nor the day the
	// approval sets.
	a, b := spec(), spec()
	b.Status, b.EffectiveFrom = SpecApproved, b.EffectiveFrom.Add(time.Hour)
	if esign.ContentHash("spec", "s1", a.SignedFields()) != esign.ContentHash("spec", "s1", b.SignedFields()) {
		t.Error("the approval breaks its own signature")
	}
	b.Tests[0].Name = "Teneur"
	if esign.ContentHash("spec", "s1", a.SignedFields()) == esign.ContentHash("spec", "s1", b.SignedFields()) {
		t.Error("a test changed and the signature holds")
	}
}

func TestSampleKindAndCodes(t *testing.T) {
	if SampleKindOfStep(3, 3) != SampleFinished || SampleKindOfStep(1, 3) != SampleInProcess {
		t.Error("the kind of a sampling step")
	}
	if got := OOSCode(t0, 7); got != "OOS-2026-0007" {
		t.Errorf("code %q", got)
	}
	r := Result{EnteredBy: "lab1", EnteredName: "Léa", ReviewedBy: "lab2", ReviewedName: "Wang"}
	r.Anonymous()
	inv := Investigation{Analyst: "lab1", HypothesisBy: "lab1", ClosedBy: "qa1", ClosedName: "Quentin"}
	inv.Anonymous()
	s := Sample{TakenBy: "op1", TakenName: "Olga", Received: &Receipt{By: "lab1", Name: "Léa"}}
	s.Anonymous()
	if r.EnteredName != "" || r.ReviewedName != "" || inv.Analyst != "" || inv.ClosedName != "" || s.TakenName != "" || s.Received.Name != "" {
		t.Errorf("names left: %+v %+v %+v", r, inv, s)
	}
}
