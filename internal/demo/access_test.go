package demo

import (
	"context"
	"testing"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/qualification"
)

// TestAccessDemo: the demo's zones each have a reader in and out; the
// floor's people are on site, in the grade B area of the sterile building,
// but operator3, whose gowning lapsed, whom its airlock refused; no event
// is missing; every staff account is a person with a badge; operator3's
// gowning lapsed and supervisor2's lapses within the month.
func TestAccessDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	acc := db.Access()
	zones, err := acc.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	readers, err := acc.Readers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != len(zonesOf) || len(readers) != 2*len(zones) {
		t.Fatalf("%d zones, %d readers", len(zones), len(readers))
	}
	present, err := acc.Presence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]access.Presence{}
	for _, p := range present {
		where[p.Name] = p
	}
	for _, a := range accounts {
		if a.role != identity.RoleOperator && a.role != identity.RoleSupervisor {
			continue
		}
		p, ok := where[a.name]
		want := "Bâtiment 30, zone B"
		if a.username == lapsedOperator {
			want = "Bâtiment 30"
		}
		if !ok || p.Zone != want || p.AssemblyPoint != "Pelouse est" {
			t.Errorf("%s: %+v, want in %s", a.username, p, want)
		}
	}
	if gaps, err := acc.Gaps(ctx); err != nil || len(gaps) != 0 {
		t.Errorf("gaps: %v %v", gaps, err)
	}
	soon, err := db.Qualifications().Qualifications(ctx, qualification.Filter{ExpiringDays: 60})
	if err != nil || len(soon) != 1 || soon[0].Person != "Claire Dubois" {
		t.Errorf("lapsing within 60 days: %+v %v", soon, err)
	}
}
