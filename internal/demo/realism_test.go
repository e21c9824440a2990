package demo

import (
	"context"
	"testing"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestDemoRealism walks the loaded demo: every line's state agrees with
// its batches (in production exactly when a batch is in progress on it);
// no step is performed by galenix itself, each by an operator assigned to
// the batch's client who signed it performed, each verification by a
// supervisor assigned to it; every effective master carries quality
// assurance's review and approval signatures.
func TestDemoRealism(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	ps := db.Production()
	sigs := db.Identity().Signatures()

	demoAccounts := accounts
	accounts, err := db.Identity().Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roleOf := map[string]identity.Role{}
	for _, a := range accounts {
		if len(a.Roles) > 0 {
			roleOf[a.ID] = a.Roles[0]
		}
	}
	clients, err := db.Clients().Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clientID := map[string]string{}
	for _, c := range clients {
		clientID[c.Code] = c.ID
	}
	idOf := map[string]string{}
	for _, a := range accounts {
		idOf[a.Username] = a.ID
	}
	// assigned are the clients each demo account is assigned to, as the
	// demo's table has them.
	assigned := map[string]map[string]bool{}
	for _, a := range demoAccounts {
		assigned[idOf[a.username]] = map[string]bool{}
		for _, c := range a.assigned {
			assigned[idOf[a.username]][clientID[c]] = true
		}
	}

	batches, err := ps.Batches(ctx, production.BatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	busy := map[string]bool{}
	steps := 0
	for _, b := range batches {
		if b.State == production.BatchInProgress {
			busy[b.LineID] = true
		}
		if b.StepsDone == 0 {
			continue
		}
		rec, err := ps.Record(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rec.Steps {
			if s.State == production.StepPending {
				continue
			}
			steps++
			if s.PerformedBy == identity.System.UserID || roleOf[s.PerformedBy] != identity.RoleOperator {
				t.Errorf("batch %s step %s performed by %q (%s), want a demo operator", b.Lot, s.Label(), s.PerformedName, roleOf[s.PerformedBy])
				continue
			}
			if !assigned[s.PerformedBy][b.ClientID] {
				t.Errorf("batch %s step %s performed by %s, not assigned to its client", b.Lot, s.Label(), s.PerformedName)
			}
			if len(s.Step.Needs()) == 0 {
				continue
			}
			got, err := sigs.Signatures(ctx, store.EntityBatchStep, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				want := identity.RoleOperator
				if g.Meaning == esign.Verified {
					want = identity.RoleSupervisor
				} else if g.SignerID != s.PerformedBy {
					t.Errorf("batch %s step %s signed %s by %s, performed by %s", b.Lot, s.Label(), g.Meaning, g.SignerName, s.PerformedName)
				}
				if roleOf[g.SignerID] != want || !assigned[g.SignerID][b.ClientID] {
					t.Errorf("batch %s step %s signed %s by %s (%s), want a %s assigned to its client", b.Lot, s.Label(), g.Meaning, g.SignerName, roleOf[g.SignerID], want)
				}
			}
		}
	}
	if steps < 100 {
		t.Errorf("%d steps recorded in the demo, want hundreds", steps)
	}

	lines, err := db.Site().Lines(ctx, site.LineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[site.LineState]int{}
	for _, l := range lines {
		states[l.State]++
		if (l.State == site.StateInProduction) != busy[l.ID] {
			t.Errorf("line %s is %s; a batch in progress on it: %v", l.Code, l.State, busy[l.ID])
		}
	}
	if states[site.StateInProduction] == 0 || states[site.StateAvailable] == 0 {
		t.Errorf("line states %v: want lines in production and lines available", states)
	}

	masters, err := ps.Masters(ctx, production.MasterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	effective := 0
	for _, m := range masters {
		if m.Status != production.MasterEffective && m.Status != production.MasterSuperseded {
			continue
		}
		effective++
		got, err := sigs.Signatures(ctx, store.EntityMaster, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		meanings := map[esign.Meaning]bool{}
		for _, g := range got {
			// Its author, a supervisor, signs it as written; quality
			// assurance reviews and approves it.
			want := identity.RoleQA
			if g.Meaning == esign.Authored {
				want = identity.RoleSupervisor
			}
			if roleOf[g.SignerID] != want {
				t.Errorf("master %s v%d signed %s by %s (%s), want %s", m.Code, m.Version, g.Meaning, g.SignerName, roleOf[g.SignerID], want)
			}
			if g.Status != esign.Valid {
				t.Errorf("master %s v%d: signature %s %s", m.Code, m.Version, g.Meaning, g.Status)
			}
			meanings[g.Meaning] = true
		}
		if !meanings[esign.Authored] || !meanings[esign.Reviewed] || !meanings[esign.Approved] {
			t.Errorf("master %s v%d (%s): signatures %v, want authored, reviewed and approved", m.Code, m.Version, m.Status, meanings)
		}
	}
	if effective == 0 {
		t.Error("no effective master in the demo")
	}
}
