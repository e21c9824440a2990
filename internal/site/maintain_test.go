package site

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

func TestEquipmentApply(t *testing.T) {
	for _, c := range []struct {
		from EquipmentStatus
		act  EquipmentAction
		want EquipmentStatus
		code errs.Code
	}{
		{EquipmentDirty, ActionClean, EquipmentClean, ""},
		{EquipmentClean, ActionClean, EquipmentClean, errs.Conflict},
		{EquipmentInUse, ActionClean, EquipmentInUse, errs.Conflict},
		{EquipmentMaintenance, ActionClean, EquipmentMaintenance, errs.Conflict},
		{EquipmentClean, ActionOutOfService, EquipmentMaintenance, ""},
		{EquipmentDirty, ActionOutOfService, EquipmentMaintenance, ""},
		{EquipmentInUse, ActionOutOfService, EquipmentInUse, errs.Conflict},
		{EquipmentMaintenance, ActionOutOfService, EquipmentMaintenance, errs.Conflict},
		{EquipmentMaintenance, ActionInService, EquipmentDirty, ""},
		{EquipmentClean, ActionInService, EquipmentClean, errs.Conflict},
		{EquipmentClean, "polish", EquipmentClean, errs.Invalid},
	} {
		e := Equipment{Code: "E1", Status: c.from}
		err := e.Apply(c.act)
		if (c.code == "" && err != nil) || (c.code != "" && !errs.Is(err, c.code)) || e.Status != c.want {
			t.Errorf("%s %s: got %s, %v; want %s, %q", c.from, c.act, e.Status, err, c.want, c.code)
		}
	}
}

func TestEquipmentActionComment(t *testing.T) {
	if err := CheckActionComment(ActionClean, " "); errs.FieldOf(err) != "reason" {
		t.Errorf("empty comment: %v", err)
	}
	long := make([]byte, MaxCommentRunes+1)
	for i := range long {
		long[i] = 'a'
	}
	if err := CheckActionComment(ActionOutOfService, string(long)); errs.FieldOf(err) != "reason" {
		t.Errorf("long comment: %v", err)
	}
	if err := CheckActionComment(ActionInService, "Seal replaced"); err != nil {
		t.Errorf("comment: %v", err)
	}
	if _, err := ParseEquipmentAction("repair"); errs.FieldOf(err) != "action" {
		t.Errorf("unknown action: %v", err)
	}
}

func TestEquipmentRenew(t *testing.T) {
	today := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	cur := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		r     Renewal
		field string
	}{
		{"no report", Renewal{Due: cur.AddDate(1, 0, 0)}, "qualification_report"},
		{"no date", Renewal{Report: "QR"}, "qualification_due"},
		{"not after the current", Renewal{Due: cur, Report: "QR"}, "qualification_due"},
		{"too far", Renewal{Due: today.AddDate(MaxQualificationYears, 0, 1), Report: "QR"}, "qualification_due"},
		{"report too long", Renewal{Due: cur.AddDate(1, 0, 0), Report: string(make([]rune, MaxReportRunes+1))}, "qualification_report"},
	} {
		e := Equipment{QualificationDue: cur}
		if err := e.Renew(c.r, today); errs.FieldOf(err) != c.field || !e.QualificationDue.Equal(cur) {
			t.Errorf("%s: %v, due %v", c.name, err, e.QualificationDue)
		}
	}
	// Overdue: the new date must still be after today.
	e := Equipment{QualificationDue: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := e.Renew(Renewal{Due: today, Report: "QR"}, today); errs.FieldOf(err) != "qualification_due" {
		t.Errorf("due today: %v", err)
	}
	if err := e.Renew(Renewal{Due: time.Date(2027, 3, 1, 15, 0, 0, 0, time.UTC), Report: " QR-7 "}, today); err != nil {
		t.Fatal(err)
	}
	if !e.QualificationDue.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) || e.QualificationReport != "QR-7" || !e.QualifiedOn(today) {
		t.Errorf("renewed: %v %q", e.QualificationDue, e.QualificationReport)
	}
}

func TestCanMaintain(t *testing.T) {
	for _, c := range []struct {
		role identity.Role
		ok   bool
	}{{identity.RoleMaintenance, true}, {identity.RoleOperator, false}, {identity.RoleClientUser, false}, {identity.RoleQA, false}} {
		err := CanMaintain(identity.Actor{UserID: "u", Roles: []identity.Role{c.role}})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.role, err)
		}
	}
}
