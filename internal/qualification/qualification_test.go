package qualification

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/text"
)

var (
	paris   = mustZone("Europe/Paris")
	granted = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

func grant(kind Kind, subject string, version int, months int) Qualification {
	return Qualification{PersonID: "op", Kind: kind, Subject: subject, Version: version, GrantedAt: granted,
		ValidUntil: granted.AddDate(0, months, 0), Evidence: "Session de formation du 5 janvier"}
}

// TestValidate: a grant's fields are checked one by one; a master's
// training names its version, others none.
func TestValidate(t *testing.T) {
	ok := grant(MasterTraining, "MBR-ALP", 3, 12)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(q *Qualification)
	}{
		{"no person", "person_id", func(q *Qualification) { q.PersonID = "" }},
		{"unknown kind", "kind", func(q *Qualification) { q.Kind = "driving" }},
		{"gowning for no grade", "subject", func(q *Qualification) { q.Kind, q.Subject = Gowning, "CNC" }},
		{"narcotics with a subject", "subject", func(q *Qualification) { q.Kind, q.Subject = Narcotics, "morphine" }},
		{"a method without its code", "subject", func(q *Qualification) { q.Kind, q.Subject = Method, " " }},
		{"a master without version", "version", func(q *Qualification) { q.Version = 0 }},
		{"no evidence", "evidence", func(q *Qualification) { q.Evidence = "ok" }},
		{"ends before it starts", "valid_until", func(q *Qualification) { q.ValidUntil = q.GrantedAt }},
		{"longer than three years", "valid_until", func(q *Qualification) { q.ValidUntil = q.GrantedAt.AddDate(4, 0, 0) }},
	} {
		q := grant(MasterTraining, "MBR-ALP", 3, 12)
		tc.edit(&q)
		if err := q.Validate(); errs.FieldOf(err) != tc.field {
			t.Errorf("%s: %v, want a refusal of %s", tc.name, err, tc.field)
		}
	}
	m := grant(Method, "HPLC-M102", 7, 12)
	if err := m.Validate(); err != nil || m.Version != 0 {
		t.Errorf("a method's version is dropped: %+v %v", m, err)
	}
}

// TestCheck: a gowning covers its grade and the less clean ones; a
// master's training its version only; a refusal says which qualification
// is missing, or on which day it lapsed or was revoked, in the reader's
// words.
func TestCheck(t *testing.T) {
	at := granted.AddDate(0, 6, 0)
	b := grant(Gowning, "B", 0, 12)
	mbr := grant(MasterTraining, "MBR-ALP", 3, 24)
	held := []Qualification{b, mbr}
	for _, g := range []site.Grade{site.GradeB, site.GradeC, site.GradeD} {
		r, _ := ForGrade(g)
		if err := Check(held, r, at, paris); err != nil {
			t.Errorf("a grade B gowning for grade %s: %v", g, err)
		}
	}
	if _, needed := ForGrade(site.GradeCNC); needed {
		t.Error("a non-classified room requires a gowning")
	}
	rA, _ := ForGrade(site.GradeA)
	err := Check(held, rA, at, paris)
	if errs.CodeOf(err) != errs.Forbidden || errs.MessageOf(err, text.FR) != "Qualification requise absente : habillage, classe A." {
		t.Errorf("grade A with a grade B gowning: %v", errs.MessageOf(err, text.FR))
	}
	if err := Check(held, ForMaster("MBR-ALP", 3), at, paris); err != nil {
		t.Errorf("trained on version 3: %v", err)
	}
	if err := Check(held, ForMaster("MBR-ALP", 4), at, paris); errs.MessageOf(err, text.EN) != "Qualification required and not held: training on master batch record MBR-ALP v4." {
		t.Errorf("version 4 with the training on 3: %v", errs.MessageOf(err, text.EN))
	}
	// Lapsed: the day it lapsed, in the site's zone.
	late := granted.AddDate(1, 0, 1)
	rB, _ := ForGrade(site.GradeB)
	if err := Check(held, rB, late, paris); errs.MessageOf(err, text.FR) != "Qualification échue le 05/01/2027 : habillage, classe B." {
		t.Errorf("a lapsed gowning: %v", errs.MessageOf(err, text.FR))
	}
	// A renewal counts; a revoked one does not.
	renewed := grant(Gowning, "B", 0, 12)
	renewed.GrantedAt, renewed.ValidUntil = granted.AddDate(1, 0, 0), granted.AddDate(2, 0, 0)
	if err := Check(append(held, renewed), rB, late, paris); err != nil {
		t.Errorf("renewed: %v", err)
	}
	revokedAt := granted.AddDate(0, 3, 0)
	b.RevokedAt, b.RevokeReason = &revokedAt, "Échec à la requalification"
	if err := Check([]Qualification{b}, rB, at, paris); errs.MessageOf(err, text.EN) != "Qualification revoked on 5 Apr 2026: gowning, grade B." {
		t.Errorf("revoked: %v", errs.MessageOf(err, text.EN))
	}
	// Not yet granted.
	if err := Check(held, rB, granted.Add(-time.Hour), paris); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("before its grant: %v", err)
	}
	if err := Check([]Qualification{grant(Narcotics, "", 0, 12)}, Requirement{Kind: Narcotics}, at, paris); err != nil {
		t.Errorf("narcotics: %v", err)
	}
}

// TestExpiring: the qualifications valid now that lapse within the
// window, the soonest first.
func TestExpiring(t *testing.T) {
	a, b, c := grant(Gowning, "B", 0, 12), grant(Method, "KF", 0, 7), grant(Narcotics, "", 0, 24)
	now := granted.AddDate(0, 6, 15)
	got := Expiring([]Qualification{a, b, c}, now, 60*24*time.Hour)
	if len(got) != 1 || got[0].Kind != Method {
		t.Errorf("expiring within 60 days: %+v", got)
	}
	got = Expiring([]Qualification{a, b, c}, now, 200*24*time.Hour)
	if len(got) != 2 || got[0].Kind != Method || got[1].Kind != Gowning {
		t.Errorf("expiring within 200 days: %+v", got)
	}
}
