package demo

import (
	"context"
	"testing"

	"galenix/internal/access"
	"galenix/internal/identity"
)

// TestVisitsDemo: the demo's visits stand as told: Alpha's auditor on
// site with her host, in the laboratory's building (out of the
// laboratory, where the readers let her behind her escort; the grade B
// area refused her, closed to visitors); the contractor on site past his departure, raised once to the
// PC Sécurité; an inspection and a carrier expected; a visit over, one
// cancelled.
func TestVisitsDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	acc := db.Access()
	visits, err := acc.Visits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]access.Visit{}
	count := map[access.VisitStatus]int{}
	for _, v := range visits {
		by[v.Visitor] = v
		count[v.Status]++
	}
	if count[access.VisitOnSite] != 2 || count[access.VisitExpected] != 2 || count[access.VisitLeft] != 1 || count[access.VisitCancelled] != 1 {
		t.Fatalf("the visits by status: %v", count)
	}
	sophie, marc := by["Sophie Marchand"], by["Marc Lefèvre"]
	if sophie.Status != access.VisitOnSite || sophie.Overdue || sophie.Host != "Isabelle Fontaine" || sophie.Badge != "V-0001" {
		t.Errorf("the auditor: %+v", sophie)
	}
	if marc.Status != access.VisitOnSite || !marc.Overdue {
		t.Errorf("the contractor: %+v", marc)
	}
	present, err := acc.Presence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]access.Presence{}
	for _, p := range present {
		if p.Visitor {
			where[p.Badge] = p
		}
	}
	if p := where["V-0001"]; p.Zone != "Bâtiment 25" || p.Host != "Isabelle Fontaine" || p.PersonID != sophie.ID {
		t.Errorf("the auditor's presence: %+v", p)
	}
	if p := where["V-0002"]; p.Zone != "Bâtiment 70" {
		t.Errorf("the contractor's presence: %+v", p)
	}
	events, err := db.Identity().SecurityEvents(ctx, identity.EventFilter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	overdue := 0
	for _, e := range events {
		if e.Kind == identity.EventAccessVisitorOverdue {
			overdue++
			if e.Username != "V-0002" {
				t.Errorf("the overdue alert names %q", e.Username)
			}
		}
	}
	if overdue != 1 {
		t.Errorf("%d overdue alerts, want the contractor's", overdue)
	}
}
