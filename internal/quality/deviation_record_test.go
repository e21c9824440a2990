package quality

import (
	"slices"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// TestOpenDeviation: staff who see production report a deviation in their
// words, for a client; a client's user never does.
func TestOpenDeviation(t *testing.T) {
	client := identity.Actor{UserID: "c1", ClientID: "alpha", Roles: []identity.Role{identity.RoleClientUser}}
	n := NewDeviation{ClientID: "alpha", Title: "Door left open", Description: "The airlock door was found open at 06:10."}
	if _, err := OpenDeviation(client, n, t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a client's user reports: %v", err)
	}
	for _, c := range []struct {
		n     NewDeviation
		field string
	}{
		{NewDeviation{ClientID: "alpha", Title: "Door", Description: n.Description}, "title"},
		{NewDeviation{ClientID: "alpha", Title: n.Title, Description: "Open."}, "description"},
		{NewDeviation{Title: n.Title, Description: n.Description}, "client_id"},
	} {
		if _, err := OpenDeviation(op, c.n, t0); errs.FieldOf(err) != c.field {
			t.Errorf("%+v: %v, want a refusal on %s", c.n, err, c.field)
		}
	}
	d, err := OpenDeviation(op, n, t0)
	if err != nil || d.State != DeviationOpen || d.Source != SourceManual || d.OpenedBy != op.UserID || !d.OpenedAt.Equal(t0) {
		t.Fatalf("opened: %+v %v", d, err)
	}
}

// TestPlanAndSignedContent: QA plans the effectiveness check of an
// investigated deviation, after now; the closure signs it, and neither the
// closure nor the check changes what was signed; the client's view keeps
// code, state and class only.
func TestPlanAndSignedContent(t *testing.T) {
	no := false
	d := Deviation{ID: "d1", Code: "DEV-1", BatchID: "b1", State: DeviationInvestigated, Class: Major, ClassReason: "pH above its limit.",
		Impacts: []Impact{{BatchID: "b1", Affects: &no, Justification: "Reworked and retested."}}, Investigator: "sup1", InvestigatorName: "Sonia",
		RootCause: "pH meter drifted.", Actions: []Action{{ID: "a1", Description: "Calibrate weekly", OwnerID: "op1", Due: t0.AddDate(0, 0, 7)}}}
	if _, err := PlanEffectivenessCheck(identity.Actor{UserID: "sup1", Roles: []identity.Role{identity.RoleSupervisor}}, d, t0.AddDate(0, 1, 0), t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a supervisor plans the check: %v", err)
	}
	if _, err := PlanEffectivenessCheck(qa, d, t0.Add(-time.Hour), t0); errs.FieldOf(err) != "effectiveness_due" {
		t.Errorf("a check planned in the past: %v", err)
	}
	open := d
	open.State = DeviationOpen
	if _, err := PlanEffectivenessCheck(qa, open, t0.AddDate(0, 1, 0), t0); !errs.Is(err, errs.Conflict) {
		t.Errorf("a check planned before the investigation: %v", err)
	}
	p, err := PlanEffectivenessCheck(qa, d, t0.AddDate(0, 1, 0), t0)
	if err != nil || p.EffectivenessDue == nil {
		t.Fatalf("planned: %+v %v", p, err)
	}
	signed := p.SignedFields()
	if !slices.ContainsFunc(signed, func(f audit.Field) bool { return f.Name == "effectiveness_due" && f.Value != "" }) ||
		!slices.ContainsFunc(signed, func(f audit.Field) bool { return f.Name == "action.a1" }) {
		t.Errorf("the closure does not sign the check's day or the actions: %v", signed)
	}
	c, err := CloseDeviation(qa, *p, p.EffectivenessDue, t0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := CheckEffectiveness(qa2, *c, true, "No drift over the month's batches.", *p.EffectivenessDue)
	if err != nil {
		t.Fatal(err)
	}
	done := v.Actions[0]
	now := t0.AddDate(0, 0, 3)
	done.DoneAt, done.DoneBy, done.Evidence = &now, "op1", "SOP-QC-012 v4."
	v.Actions = []Action{done}
	if !slices.Equal(v.SignedFields(), signed) {
		t.Errorf("the closure, the check or an action done changed what was signed:\n%v\n%v", v.SignedFields(), signed)
	}
	cv := v.ClientView(false)
	if cv.Code != "DEV-1" || cv.State != DeviationVerified || cv.Class != Major || cv.InvestigatorName != "" || cv.RootCause != "" ||
		len(cv.Impacts) != 0 || len(cv.Actions) != 0 || cv.ClassReason != "" {
		t.Errorf("the client's view: %+v", cv)
	}
	// Shared by the agreement: the actions, without a name nor evidence.
	cv = v.ClientView(true)
	if len(cv.Actions) != 1 || cv.Actions[0].Description != done.Description || cv.Actions[0].DoneAt == nil || cv.Actions[0].Due != done.Due ||
		cv.Actions[0].OwnerName != "" || cv.Actions[0].OwnerID != "" || cv.Actions[0].DoneBy != "" || cv.Actions[0].DoneName != "" || cv.Actions[0].Evidence != "" {
		t.Errorf("the client's view of the CAPA shared: %+v", cv.Actions)
	}
}

// TestExcursionDeviation: an excursion's deviation is the environment's,
// titled by a coded text, its impacts the client's batches; batches found
// concerned later are added while it is open, never twice, and not once
// it was assessed.
func TestExcursionDeviation(t *testing.T) {
	title := text.Code("stored.deviation.excursion", text.Str("T-1"), text.Str("x"), text.Str("2026-06-01 08:00:00 UTC"))
	d := ExcursionDeviation("alpha", title, []Impact{{BatchID: "b1", Lot: "L1"}}, t0)
	if d.Source != SourceEnvironment || d.State != DeviationOpen || d.Title != title.String() || d.ClientID != "alpha" || len(d.Impacts) != 1 {
		t.Fatalf("opened: %+v", d)
	}
	more, changed := AddImpacts(*d, []Impact{{BatchID: "b1", Lot: "L1"}, {BatchID: "b2", Lot: "L2"}})
	if !changed || len(more.Impacts) != 2 || more.Impacts[1].BatchID != "b2" || len(d.Impacts) != 1 {
		t.Errorf("added: %+v (was %+v)", more.Impacts, d.Impacts)
	}
	if _, changed := AddImpacts(*more, []Impact{{BatchID: "b2"}}); changed {
		t.Error("a batch added twice")
	}
	more.State = DeviationAssessed
	if _, changed := AddImpacts(*more, []Impact{{BatchID: "b3"}}); changed {
		t.Error("a batch added to an assessed deviation")
	}
}
