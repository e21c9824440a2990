package demo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/controlled"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// TestControlledDemo: the demo's register holds Alpha's morphine and
// Gamma's progesterone, each in the vault and in production, the morphine
// in the laboratory too; a year of movements, numbered without a gap, each
// signed by its performer and its witness, two people; the balances never
// below zero, each container's the sum of its movements; one loss
// awaiting the inspector's discharge, one discharged; the inventory's one
// discrepancy with its deviation; every ended month's balance recorded as
// it ended, each month opening where the one before closed; the alerts of
// the discrepancy and of the vault opened for nothing, and no other.
func TestControlledDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	reg := db.Controlled()
	st, err := db.Site().Site(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zone := st.Location()
	clients, err := db.Clients().Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clientCode := map[string]string{}
	for _, c := range clients {
		clientCode[c.ID] = c.Code
	}

	subs, err := reg.Substances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		class  controlled.Class
		client string
		places []controlled.PlaceKind
	}{
		"MORPHINE":     {controlled.Narcotic, "ALPHA", []controlled.PlaceKind{controlled.Vault, controlled.Production, controlled.Laboratory}},
		"PROGESTERONE": {controlled.Hormone, "GAMMA", []controlled.PlaceKind{controlled.Vault, controlled.Production}},
	}
	if len(subs) != len(want) {
		t.Fatalf("%d substances, want %d: %+v", len(subs), len(want), subs)
	}
	containers := map[string]controlled.Container{}
	for _, s := range subs {
		w, ok := want[s.Code]
		if !ok || s.Class != w.class || s.Unit != "g" || clientCode[s.ClientID] != w.client || s.MaterialID == "" {
			t.Errorf("substance %+v", s)
		}
		cs, err := reg.Containers(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		var places []controlled.PlaceKind
		for _, c := range cs {
			places = append(places, c.PlaceKind)
			containers[c.ID] = c
			if c.PlaceKind != controlled.Production {
				continue
			}
			lot, err := db.Production().Lot(ctx, c.LotID)
			if err != nil || lot.Status != production.LotReleased || lot.MaterialID != s.MaterialID {
				t.Errorf("the production container %s holds %+v (%v), want a released lot of its material", c.Code, lot, err)
			}
		}
		if len(places) != len(w.places) {
			t.Errorf("%s: containers in %v, want %v", s.Code, places, w.places)
		}
		for _, p := range w.places {
			if !slices.Contains(places, p) {
				t.Errorf("%s: no container in %s (%v)", s.Code, p, places)
			}
		}
	}

	if est, err := reg.Establishment(ctx); err != nil || est.Authorisation == "" {
		t.Errorf("the establishment's authorisation: %+v %v", est, err)
	}
	ms, err := reg.Register(ctx, controlled.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Each substance's register is numbered from 1, without gap.
	bySub := map[string][]controlled.Movement{}
	for _, m := range ms {
		bySub[m.SubstanceID] = append(bySub[m.SubstanceID], m)
	}
	for id, sm := range bySub {
		if err := controlled.CheckSerials(sm); err != nil {
			t.Errorf("the serial numbers of %s: %v", id, err)
		}
	}
	months := map[string]bool{}
	kinds := map[controlled.Kind]int{}
	sums := map[string]controlled.Qty{}
	awaiting, discharged := 0, 0
	for _, m := range ms {
		months[m.At.In(zone).Format("2006-01")] = true
		kinds[m.Kind]++
		if m.State != controlled.Validated || m.ValidatedAt == nil || m.PerformerID == m.WitnessID {
			t.Errorf("movement %d: %s, validated %v, by %s witnessed by %s", m.Serial, m.State, m.ValidatedAt, m.PerformerName, m.WitnessName)
		}
		if !signedByTwo(m) {
			t.Errorf("movement %d: signatures %+v, want %s's performed and %s's verified", m.Serial, m.Signatures, m.PerformerName, m.WitnessName)
		}
		for c, d := range m.Delta() {
			if sums[c] += d; sums[c] < 0 {
				t.Errorf("movement %d leaves %s at %s", m.Serial, containers[c].Code, sums[c])
			}
		}
		switch m.Kind {
		case controlled.Loss:
			if m.DischargedAt == nil {
				awaiting++
			} else if strings.HasPrefix(m.Discharge, "PV-") {
				discharged++
			}
		case controlled.Destruction:
			if !strings.HasPrefix(m.Document, "CD-") || m.Party == "" {
				t.Errorf("the destruction %d: %q by %q", m.Serial, m.Document, m.Party)
			}
		case controlled.Correction:
			if m.Corrects <= 0 || m.Corrects >= m.Serial || m.Cause == "" {
				t.Errorf("the correction %d corrects %d: %q", m.Serial, m.Corrects, m.Cause)
			}
		case controlled.Dispensing:
			if m.BatchID == "" || m.Batch != m.Party {
				t.Errorf("the dispensing %d: batch %q, party %q", m.Serial, m.Batch, m.Party)
			}
		}
	}
	if len(ms) < 100 || len(months) < 11 {
		t.Errorf("%d movements over %d months, want 100 over 11 at least", len(ms), len(months))
	}
	for _, k := range []controlled.Kind{controlled.Receipt, controlled.Transfer, controlled.Sampling, controlled.Loss, controlled.Destruction, controlled.Correction} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the register (%v)", k, kinds)
		}
	}
	if awaiting != 1 || discharged != 1 {
		t.Errorf("%d losses awaiting their discharge, %d discharged; want one each", awaiting, discharged)
	}
	if pending, err := reg.Register(ctx, controlled.Filter{Pending: true}); err != nil || len(pending) != 0 {
		t.Errorf("%d movements waiting for their signatures (%v), want none", len(pending), err)
	}
	for id, c := range containers {
		if c.Balance < 0 || c.Balance != sums[id] || c.Available != c.Balance {
			t.Errorf("container %s: balance %s, available %s, its movements' sum %s", c.Code, c.Balance, c.Available, sums[id])
		}
	}

	counts, err := reg.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short := 0
	for _, n := range counts {
		if n.Discrepancy() == 0 {
			continue
		}
		short++
		if n.Container != "COF-MORPHINE" || n.Discrepancy() != -150 || n.DeviationID == "" {
			t.Errorf("count %+v, want the morphine vault 0.150 g short, with its deviation", n)
			continue
		}
		if d, err := db.Deviations().Deviation(ctx, n.DeviationID); err != nil || clientCode[d.ClientID] != "ALPHA" {
			t.Errorf("the discrepancy's deviation: %+v, %v", d, err)
		}
	}
	if len(counts) != len(containers) || short != 1 {
		t.Errorf("%d counts, %d with a discrepancy; want one each of the %d containers, one short", len(counts), short, len(containers))
	}

	alerts, err := reg.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raised := map[controlled.AlertKind]int{}
	for _, a := range alerts {
		raised[a.Kind]++
		// The vault opens to two people: both are named.
		if msg := a.Detail.Render(text.FR); a.Kind == controlled.AlertEntryIdle && !strings.Contains(msg, ", ") {
			t.Errorf("the vault's opening names one person: %q", msg)
		}
	}
	if len(alerts) != 2 || raised[controlled.AlertDiscrepancy] != 1 || raised[controlled.AlertEntryIdle] != 1 {
		t.Errorf("alerts %v, want the discrepancy's and the vault opened for nothing", raised)
	}

	local := shared.at.In(zone)
	last := time.Date(local.Year(), local.Month()-1, 1, 0, 0, 0, 0, zone).Format("2006-01")
	for _, s := range subs {
		recs, err := reg.MonthRecords(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) < 11 || recs[len(recs)-1].Month != last {
			t.Errorf("%s: %d months recorded, up to %v; want 11 at least, up to %s", s.Code, len(recs), recs, last)
			continue
		}
		for i, r := range recs {
			from, err := time.ParseInLocation("2006-01", r.Month, zone)
			if err != nil {
				t.Fatal(err)
			}
			sum := controlled.Month(ms, s.ID, from, zone)
			if r.Closing != sum.Closing || r.Opening != sum.Opening || r.Closing != r.Opening+r.Received-r.Issued {
				t.Errorf("%s %s recorded %+v, the register's %+v", s.Code, r.Month, r, sum)
			}
			if end := from.AddDate(0, 1, 0); r.RecordedAt.Before(end) || !r.RecordedAt.Before(end.Add(time.Hour)) {
				t.Errorf("%s %s recorded at %v, want as it ended", s.Code, r.Month, r.RecordedAt.In(zone))
			}
			if i > 0 && r.Opening != recs[i-1].Closing {
				t.Errorf("%s %s opens at %s, the month before closed at %s", s.Code, r.Month, r.Opening, recs[i-1].Closing)
			}
			if i > 0 && from.AddDate(0, -1, 0).Format("2006-01") != recs[i-1].Month {
				t.Errorf("%s: %s recorded after %s", s.Code, r.Month, recs[i-1].Month)
			}
		}
	}
}

// signedByTwo reports whether a movement holds its performer's
// "performed" and its witness's "verified", and no other signature.
func signedByTwo(m controlled.Movement) bool {
	if len(m.Signatures) != 2 {
		return false
	}
	var p, w bool
	for _, s := range m.Signatures {
		p = p || (s.Meaning == esign.Performed && s.SignerID == m.PerformerID)
		w = w || (s.Meaning == esign.Verified && s.SignerID == m.WitnessID)
	}
	return p && w && m.Signatures[0].SignerID != m.Signatures[1].SignerID
}
