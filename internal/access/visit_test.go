package access

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// TestVisitorDoors: a visitor's badge opens the site within their stay,
// never the vault, a server room or a grade B area, and a laboratory
// only behind a person of the staff let in just before; leaving is
// always allowed, and past the stay nothing else opens.
func TestVisitorDoors(t *testing.T) {
	pol := testPolicy(1)
	pol.Holders = append(pol.Holders, Holder{Badge: "V1", PersonID: "visit-1", Name: "Victor Visiteur", Visitor: true, Host: "Léa",
		Until: tuesday.Add(4 * time.Hour)})
	pol.Readers = append(pol.Readers, Reader{Code: "R-LAB-OUT", ZoneID: "z-lab", Direction: Out, Door: "Laboratoire"})
	p, err := Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	for _, tc := range []struct {
		name, reader, badge string
		at                  time.Time
		allow               bool
		rule, with, en      string
	}{
		{"the site", "R-SITE-IN", "V1", tuesday, true, RuleAllowed, "", "Access granted: Site."},
		{"grade B", "R-B-IN", "V1", tuesday, false, RuleVisit, "", "Access to Zone B du B30 refused: closed to visitors."},
		{"the vault", "R-VAULT", "V1", tuesday, false, RuleVisit, "", "Access to Coffre stupéfiants refused: closed to visitors."},
		{"the server room", "R-SRV", "V1", tuesday, false, RuleVisit, "", "Access to Salle serveurs refused: closed to visitors."},
		{"the laboratory alone", "R-LAB", "V1", tuesday, false, RuleEscort,
			"", "Access to Laboratoire refused: a visitor enters only behind their escort, who badges first (within 60 s)."},
		{"the escort", "R-LAB", "B6", tuesday.Add(time.Minute), true, RuleAllowed, "", "Access granted: Laboratoire."},
		{"the laboratory escorted", "R-LAB", "V1", tuesday.Add(time.Minute + 20*time.Second), true, RuleAllowed, "B6", "Access granted: Laboratoire."},
		{"out of the laboratory", "R-LAB-OUT", "V1", tuesday.Add(time.Hour), true, RuleExit, "", "Exit: Laboratoire."},
		{"the laboratory, escort long gone", "R-LAB", "V1", tuesday.Add(time.Hour + time.Minute), false, RuleEscort,
			"", "Access to Laboratoire refused: a visitor enters only behind their escort, who badges first (within 60 s)."},
		{"out of the site past the stay", "R-SITE-OUT", "V1", tuesday.Add(5 * time.Hour), true, RuleExit, "", "Exit: Site."},
		{"the site past the stay", "R-SITE-IN", "V1", tuesday.Add(5 * time.Hour), false, RuleVisit, "", "Access to Site refused: the visit is over."},
	} {
		d := p.Decide(&st, tc.reader, tc.badge, tc.at, true)
		if d.Allow != tc.allow || d.Rule != tc.rule || d.With != tc.with || d.Message(text.EN) != tc.en {
			t.Errorf("%s: %+v %q, want %v %s with %q %q", tc.name, d, d.Message(text.EN), tc.allow, tc.rule, tc.with, tc.en)
		}
	}
	// The controller's own list names the visitor and their host.
	d := NewDevice(nil)
	d.policy, d.state = p, State{Inside: map[string]map[string]bool{"V1": {"z-site": true}}}
	if in := d.Inside(); len(in) != 1 || !in[0].Visitor || in[0].Host != "Léa" || in[0].Name != "Victor Visiteur" {
		t.Errorf("inside offline: %+v", in)
	}
}

// TestVisitLife: a visit registered, welcomed at the gate with a badge,
// over when the badge comes back; every step out of turn refused, and
// bad registrations refused with the field at fault.
func TestVisitLife(t *testing.T) {
	now := tuesday
	good := func() Visit {
		return Visit{Visitor: "Victor Visiteur", Company: "Labo Client", HostID: "p-1", ExpectedAt: now.Add(time.Hour), ExpectedUntil: now.Add(5 * time.Hour)}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Visit)
		field string
	}{
		{"no visitor", func(v *Visit) { v.Visitor = " " }, "visitor"},
		{"no company", func(v *Visit) { v.Company = "" }, "company"},
		{"no host", func(v *Visit) { v.HostID = "" }, "host_id"},
		{"no arrival", func(v *Visit) { v.ExpectedAt = time.Time{} }, "expected_at"},
		{"leaving before arriving", func(v *Visit) { v.ExpectedUntil = v.ExpectedAt }, "expected_until"},
		{"eight days", func(v *Visit) { v.ExpectedUntil = v.ExpectedAt.AddDate(0, 0, 8) }, "expected_until"},
		{"in the past", func(v *Visit) { v.ExpectedAt, v.ExpectedUntil = now.Add(-5*time.Hour), now.Add(-time.Hour) }, "expected_until"},
		{"a purpose too long", func(v *Visit) { v.Purpose = string(make([]byte, 501)) + "x" }, "purpose"},
	} {
		v := good()
		tc.edit(&v)
		if err := v.Validate(now); errs.FieldOf(err) != tc.field {
			t.Errorf("%s: %v, want a refusal on %s", tc.name, err, tc.field)
		}
	}
	v := good()
	if err := v.Validate(now); err != nil {
		t.Fatal(err)
	}
	v.Status = VisitExpected
	if err := v.Depart(now); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("departing before arriving: %v", err)
	}
	if err := v.Arrive("V-01", now.Add(-2*time.Hour), paris); errs.FieldOf(err) != "badge" || errs.MessageOf(err, text.FR) != "Cette visite n'est pas attendue maintenant : prévue du 03/03/2026 09:00 au 03/03/2026 13:00." {
		t.Errorf("arriving three hours early: %v", errs.MessageOf(err, text.FR))
	}
	if err := v.Arrive("V 01\n", now, paris); errs.FieldOf(err) != "badge" {
		t.Errorf("a badge with spaces: %v", err)
	}
	if err := v.Arrive("V-01", now, paris); err != nil || v.Status != VisitOnSite || v.Badge != "V-01" || v.ArrivedAt == nil {
		t.Fatalf("arriving: %v %+v", err, v)
	}
	if err := v.Arrive("V-02", now, paris); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("arriving twice: %v", err)
	}
	if err := v.Cancel(); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("cancelling a visit under way: %v", err)
	}
	if v.IsOverdue(now.Add(4*time.Hour)) || !v.IsOverdue(now.Add(6*time.Hour)) {
		t.Error("overdue only past the expected departure")
	}
	// Extending the stay: the arrival stays what it was.
	next := good()
	next.ExpectedAt, next.ExpectedUntil = now.Add(3*time.Hour), now.Add(8*time.Hour)
	if err := v.Update(&next, now.Add(2*time.Hour)); err != nil || !next.ExpectedAt.Equal(v.ExpectedAt) || next.Badge != "V-01" || next.Status != VisitOnSite {
		t.Errorf("extending: %v %+v", err, next)
	}
	if err := v.Depart(now.Add(4 * time.Hour)); err != nil || v.Status != VisitLeft || v.DepartedAt == nil {
		t.Fatalf("departing: %v %+v", err, v)
	}
	if err := v.Update(&next, now); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("changing a visit over: %v", err)
	}
	c := good()
	c.Status = VisitExpected
	if err := c.Cancel(); err != nil || c.Status != VisitCancelled {
		t.Errorf("cancelling: %v", err)
	}
	// Who may: the host and the PC Sécurité; another person of the staff
	// is refused, so is a client.
	guard := identity.Actor{UserID: "g", Roles: []identity.Role{identity.RoleSecurity}}
	other := identity.Actor{UserID: "o", Roles: []identity.Role{identity.RoleQA}}
	if v.MayChange(guard, "") != nil || v.MayChange(other, "p-1") != nil || errs.CodeOf(v.MayChange(other, "p-2")) != errs.Forbidden {
		t.Error("changing: the host and the guards only")
	}
	if errs.CodeOf(MayHost(identity.Actor{UserID: "c", ClientID: "x", Roles: []identity.Role{identity.RoleClientUser}})) != errs.Forbidden || MayHost(other) != nil {
		t.Error("hosting: the staff only")
	}
}
