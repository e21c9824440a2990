package esign_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
)

var (
	operator = identity.Actor{UserID: "u-op", Name: "Otto Operator", Roles: []identity.Role{identity.RoleOperator}}
	other    = identity.Actor{UserID: "u-sup", Name: "Sofia Roux", Roles: []identity.Role{identity.RoleSupervisor}}
	qa       = identity.Actor{UserID: "u-qa", Name: "Quentin Qualité", Roles: []identity.Role{identity.RoleQA}}
	qp       = identity.Actor{UserID: "u-qp", Name: "Paula Personne", Roles: []identity.Role{identity.RoleQP}}
)

func TestMeanings(t *testing.T) {
	want := []string{"performed", "verified", "reviewed", "approved", "released", "rejected", "acknowledged", "authored"}
	if len(esign.Meanings) != len(want) {
		t.Fatalf("meanings %v, want %v", esign.Meanings, want)
	}
	for i, m := range esign.Meanings {
		if string(m) != want[i] {
			t.Errorf("meaning %d: %s, want %s", i, m, want[i])
		}
		if fr, en := m.Label("fr"), m.Label("en"); fr == "" || en == "" || fr == en || en != strings.ToUpper(string(m)[:1])+string(m)[1:] {
			t.Errorf("%s: labels %q %q", m, fr, en)
		}
		got, err := esign.ParseMeaning(" " + string(m) + " ")
		if err != nil || got != m {
			t.Errorf("ParseMeaning(%s) = %s, %v", m, got, err)
		}
	}
	if got := esign.Verified.Labels(); got != "Vérifié / Verified" {
		t.Errorf("Verified.Labels() = %q", got)
	}
	_, err := esign.ParseMeaning("signed")
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "meaning" {
		t.Errorf("unknown meaning: %v", err)
	}
}

func TestContentHash(t *testing.T) {
	fields := []audit.Field{audit.F("code", "L1"), audit.F("name", "Vial filling"), audit.F("status", "active")}
	h := esign.ContentHash("line", "id-1", fields)
	if len(h) != 64 {
		t.Fatalf("hash %q is not SHA-256 in hexadecimal", h)
	}
	reordered := []audit.Field{fields[2], fields[0], fields[1]}
	if got := esign.ContentHash("line", "id-1", reordered); got != h {
		t.Errorf("the order fields are listed in changes the hash")
	}
	for name, got := range map[string]string{
		"another value":  esign.ContentHash("line", "id-1", []audit.Field{fields[0], audit.F("name", "Vial filling "), fields[2]}),
		"another record": esign.ContentHash("line", "id-2", fields),
		"another kind":   esign.ContentHash("room", "id-1", fields),
		"a field less":   esign.ContentHash("line", "id-1", fields[:2]),
		// Length prefixes: moving bytes from a name to its value, or from
		// one value to the next, changes the hash.
		"shifted bytes": esign.ContentHash("line", "id-1", []audit.Field{audit.F("cod", "eL1"), fields[1], fields[2]}),
	} {
		if got == h {
			t.Errorf("%s: same hash", name)
		}
	}
	if a, b := esign.ContentHash("x", "", []audit.Field{audit.F("a", "bc"), audit.F("d", "")}),
		esign.ContentHash("x", "", []audit.Field{audit.F("a", "b"), audit.F("d", "c")}); a == b {
		t.Errorf("values that share their concatenation share their hash")
	}
}

func TestDisplay(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		m    esign.Meaning
		want string
	}{
		{time.Date(2026, 11, 22, 13, 3, 59, 0, time.UTC), esign.Verified, "Printed Name — 22/11/2026 14:03 (Europe/Paris, UTC+01:00) — Vérifié / Verified"},
		{time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC), esign.Released, "Printed Name — 02/07/2026 00:30 (Europe/Paris, UTC+02:00) — Libéré / Released"},
	} {
		s := esign.Signature{SignerName: "Printed Name", SignedAt: tt.at, Meaning: tt.m}
		if got := s.Display(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	if esign.StatusOf("ab", "ab") != esign.Valid || esign.StatusOf("ab", "cd") != esign.Broken || esign.StatusOf("", "") != esign.Broken {
		t.Error("StatusOf")
	}
}

func TestPermit(t *testing.T) {
	for _, tt := range []struct {
		name   string
		a      identity.Actor
		entity string
		m      esign.Meaning
		code   errs.Code
	}{
		{"operator performs", operator, "line", esign.Performed, ""},
		{"operator cannot release", operator, "line", esign.Released, errs.Forbidden},
		{"QA cannot release", qa, "line", esign.Released, errs.Forbidden},
		{"QP releases", qp, "batch", esign.Released, ""},
		{"QA reviews the trail", qa, esign.EntityAuditPeriod, esign.Reviewed, ""},
		{"QP cannot review the trail", qp, esign.EntityAuditPeriod, esign.Reviewed, errs.Forbidden},
		{"a period takes reviewed only", qa, esign.EntityAuditPeriod, esign.Approved, errs.Invalid},
		{"unknown meaning", qa, "line", "blessed", errs.Invalid},
		{"nobody", identity.Actor{}, "line", esign.Performed, errs.Unauthorized},
		{"galenix itself", identity.System, "line", esign.Performed, errs.Forbidden},
		{"a machine", identity.Actor{UserID: "m", Scopes: []string{"site:read"}}, "line", esign.Performed, errs.Forbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := esign.Permit(tt.a, tt.entity, tt.m)
			if tt.code == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if errs.CodeOf(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
			if errs.MessageOf(err, "fr") == errs.MessageOf(err, "en") {
				t.Errorf("no French message: %v", err)
			}
		})
	}
}

// TestVerifierIsNotPerformer: a "verified" signature by the person who
// signed "performed" on the same record is refused; by another, accepted.
func TestVerifierIsNotPerformer(t *testing.T) {
	existing := []esign.Signature{{Meaning: esign.Performed, SignerID: operator.UserID}}
	err := esign.Check(operator, "line", esign.Verified, existing)
	if errs.CodeOf(err) != errs.Forbidden || !strings.Contains(errs.MessageOf(err, "en"), "another person") {
		t.Errorf("performer verifying: got %v, want a refusal saying another person must verify", err)
	}
	if err := esign.Check(other, "line", esign.Verified, existing); err != nil {
		t.Errorf("another person verifying: %v", err)
	}
	if err := esign.Check(operator, "line", esign.Acknowledged, existing); err != nil {
		t.Errorf("performer approving: %v", err)
	}
	// The other way round: the verifier does not sign as performer.
	verified := []esign.Signature{{Meaning: esign.Verified, SignerID: other.UserID}}
	if err := esign.Check(other, "line", esign.Performed, verified); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("verifier performing: got %v", err)
	}
}

// TestAlarmAcknowledgement: acknowledging an environmental alarm takes
// charge of it, for those who work deviations; reading a record
// acknowledged implies no authority elsewhere.
func TestAlarmAcknowledgement(t *testing.T) {
	if err := esign.Permit(operator, "environment_alarm", esign.Acknowledged); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator acknowledges an alarm: %v", err)
	}
	for _, a := range []identity.Actor{other, qa} {
		if err := esign.Permit(a, "environment_alarm", esign.Acknowledged); err != nil {
			t.Errorf("%s acknowledges an alarm: %v", a.Name, err)
		}
	}
	if err := esign.Permit(operator, "environment_alarm", esign.Approved); errs.FieldOf(err) != "meaning" {
		t.Errorf("an alarm approved: %v", err)
	}
	if err := esign.Permit(operator, "batch", esign.Acknowledged); err != nil {
		t.Errorf("an operator acknowledges reading a batch: %v", err)
	}
}

func TestParsePeriod(t *testing.T) {
	p, err := esign.ParsePeriod("2026-03-01/2026-03-31", site.DefaultLocation())
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "2026-03-01/2026-03-31" || !p.From.Equal(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)) ||
		!p.To.Equal(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("period %+v (from %s to %s UTC)", p, p.From.UTC(), p.To.UTC())
	}
	if err := p.Ended(time.Date(2026, 3, 31, 21, 59, 0, 0, time.UTC)); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("a period not over: %v", err)
	}
	if err := p.Ended(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("a period over: %v", err)
	}
	for _, bad := range []string{"", "2026-03-01", "2026-03-31/2026-03-01", "2026-3-1/2026-03-02", "2026-03-01/2026-02-30", "a/b"} {
		if _, err := esign.ParsePeriod(bad, site.DefaultLocation()); errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "entity_id" {
			t.Errorf("ParsePeriod(%q): %v", bad, err)
		}
	}
}

// TestNeeds: each meaning on each kind of record needs its permission; an
// unlisted pair is refused.
func TestNeeds(t *testing.T) {
	for _, c := range []struct {
		entity string
		m      esign.Meaning
		want   identity.Permission
		ok     bool
	}{
		{"batch_step", esign.Performed, identity.PermBatchExecute, true},
		{"batch_step", esign.Verified, identity.PermBatchExecute, true},
		{"master", esign.Approved, identity.PermMasterApprove, true},
		{"batch", esign.Reviewed, identity.PermQualityDecide, true},
		{"batch", esign.Released, identity.PermBatchRelease, true},
		{"batch", esign.Rejected, identity.PermBatchRelease, true},
		{"lot", esign.Approved, identity.PermLotStatus, true},
		{"lot", esign.Rejected, identity.PermLotStatus, true},
		{"spec", esign.Approved, identity.PermQualityDecide, true},
		{"deviation", esign.Approved, identity.PermQualityDecide, true},
		{"oos_investigation", esign.Approved, identity.PermQualityDecide, true},
		{esign.EntityAuditPeriod, esign.Reviewed, identity.PermQualityDecide, true},
		{"lot", esign.Reviewed, "", false},
		{"line", esign.Approved, "", false},
		{"line", esign.Reviewed, "", false},
		{"master", esign.Performed, "", false},
		{"account", esign.Approved, "", false},
	} {
		got, ok := esign.Needs(c.entity, c.m)
		if ok != c.ok || (ok && !slices.Contains(got, c.want)) || (!ok && got != nil) {
			t.Errorf("esign.Needs(%s, %s) = %q, %v; want %q, %v", c.entity, c.m, got, ok, c.want, c.ok)
		}
	}
	op := identity.Actor{UserID: "u1", Roles: []identity.Role{identity.RoleOperator}}
	qa := identity.Actor{UserID: "u2", Roles: []identity.Role{identity.RoleQA}}
	if err := esign.Permit(op, "lot", esign.Approved); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator approves a lot: %v", err)
	}
	if err := esign.Permit(qa, "lot", esign.Approved); err != nil {
		t.Errorf("QA approves a lot: %v", err)
	}
	if err := esign.Permit(qa, "line", esign.Reviewed); !errs.Is(err, errs.Invalid) {
		t.Errorf("QA reviews a line: %v", err)
	}
	if err := esign.Permit(op, "batch_step", esign.Performed); err != nil {
		t.Errorf("an operator performs a step: %v", err)
	}
}
