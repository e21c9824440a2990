package store_test

import (
	"testing"
	"time"

	"galenix/internal/access"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestVisits: a host pre-registers a visitor, the PC Sécurité hands a
// badge at the gate, the readers let the visitor into a laboratory only
// behind an escort, presence and the muster list them with their host,
// an overdue stay raises one alert, and the badge taken back ends it all.
// Each step refused out of turn, by another role or with bad input,
// changing nothing.
func TestVisits(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e, acc, guard := newGuardEnv(t, db)
		e.trainPeople(t, []string{"quinn"})
		quinn, olga := e.actor("quinn"), e.actor("olga")
		siteZone := access.Zone{Code: "SITE", Name: "Site", Kind: access.Perimeter, AssemblyPoint: "Parking nord"}
		lab := access.Zone{Code: "LAB", Name: "Laboratoire", Kind: access.Laboratory}
		must(t, acc.CreateZone(guard, &siteZone))
		must(t, acc.CreateZone(guard, &lab))
		for _, r := range []*access.Reader{{Code: "G-IN", ZoneID: siteZone.ID, Direction: access.In, Door: "Portail"},
			{Code: "G-OUT", ZoneID: siteZone.ID, Direction: access.Out, Door: "Portail"}, {Code: "L-IN", ZoneID: lab.ID, Direction: access.In, Door: "Labo"}} {
			must(t, acc.CreateReader(guard, r))
		}
		now := e.clock.now()
		visit := func() *access.Visit {
			return &access.Visit{Visitor: "Vera Visiteuse", Company: "Laboratoires Alpha", Purpose: "Audit client", ExpectedAt: now.Add(-10 * time.Minute),
				ExpectedUntil: now.Add(3 * time.Hour)}
		}
		count := func() int {
			t.Helper()
			vs, err := acc.Visits(guard)
			must(t, err)
			return len(vs)
		}

		// Bad input and the wrong people: refused, nothing written.
		bad := visit()
		bad.Company = " "
		wantErr(t, acc.CreateVisit(quinn, bad), errs.Invalid, "company")
		other := visit()
		other.HostID = e.people["olga"].ID
		wantErr(t, acc.CreateVisit(quinn, other), errs.Invalid, "host_id")
		wantErr(t, acc.CreateVisit(e.actor("carla"), visit()), errs.Forbidden, "")
		wantErr(t, acc.CreateVisit(e.actor("dirk"), visit()), errs.Invalid, "host_id") // no person of the staff behind the account
		if n := count(); n != 0 {
			t.Fatalf("refused registrations wrote %d visits", n)
		}

		// Quinn hosts Vera herself; the PC Sécurité registers one for Olga.
		vera := visit()
		must(t, acc.CreateVisit(quinn, vera))
		if vera.HostID != e.people["quinn"].ID || vera.Status != access.VisitExpected || vera.Host != "Quinn Qualité" {
			t.Fatalf("registered: %+v", vera)
		}
		max := visit()
		max.Visitor, max.HostID = "Max Monteur", e.people["olga"].ID
		must(t, acc.CreateVisit(guard, max))
		// Each host sees their own, the PC Sécurité all.
		if vs, err := acc.Visits(olga); err != nil || len(vs) != 1 || vs[0].ID != max.ID {
			t.Fatalf("olga's visits: %v %+v", err, vs)
		}
		_, err := acc.Visit(olga, vera.ID)
		wantErr(t, err, errs.NotFound, "")
		if n := count(); n != 2 {
			t.Fatalf("the guard sees %d visits", n)
		}

		// At the gate: only the PC Sécurité hands a badge, never a staff
		// badge nor one a visitor on site holds.
		_, err = acc.ArriveVisit(quinn, vera.ID, "V-01")
		wantErr(t, err, errs.Forbidden, "")
		_, err = acc.ArriveVisit(guard, vera.ID, "B-OLGA")
		wantErr(t, err, errs.Conflict, "badge")
		got, err := acc.ArriveVisit(guard, vera.ID, "V-01")
		must(t, err)
		if got.Status != access.VisitOnSite || got.Badge != "V-01" || got.ArrivedAt == nil || got.Version != 2 {
			t.Fatalf("arrived: %+v", got)
		}
		e.clock.add(10 * time.Minute)
		_, err = acc.ArriveVisit(guard, max.ID, "V-01")
		wantErr(t, err, errs.Conflict, "badge")
		_, err = acc.ArriveVisit(guard, vera.ID, "V-02")
		wantErr(t, err, errs.Conflict, "")

		// The readers' policy holds the badge: the laboratory only behind
		// Quinn, who badges first.
		pol, err := acc.Policy(guard)
		must(t, err)
		h := pol.Holder("V-01")
		if h == nil || !h.Visitor || h.Host != "Quinn Qualité" || !h.Until.Equal(vera.ExpectedUntil) {
			t.Fatalf("the policy's visitor: %+v", h)
		}
		at := now.Add(time.Minute)
		var st access.State
		swipe := func(reader, badge string, m int) access.Event {
			d := pol.Decide(&st, reader, badge, at.Add(time.Duration(m)*time.Second), true)
			return access.Event{Badge: badge, Reader: reader, At: at.Add(time.Duration(m) * time.Second), Allow: d.Allow, Rule: d.Rule, Policy: pol.Version}
		}
		evs := []access.Event{swipe("G-IN", "V-01", 0), swipe("G-IN", "B-QUINN", 5), swipe("L-IN", "V-01", 30), swipe("L-IN", "B-QUINN", 60), swipe("L-IN", "V-01", 80)}
		if !evs[0].Allow || evs[2].Allow || evs[2].Rule != access.RuleEscort || !evs[4].Allow {
			t.Fatalf("the doors: %+v", evs)
		}
		seq := map[string]int64{}
		for i := range evs {
			seq[evs[i].Reader]++
			evs[i].Seq = seq[evs[i].Reader]
		}
		machine := as(identity.Actor{UserID: "token:reader", Name: "Gate", Scopes: []string{string(identity.ScopeAccessWrite)}})
		res, err := acc.Intake(machine, evs)
		must(t, err)
		if res.Stored != 5 {
			t.Fatalf("intake: %+v", res)
		}
		present, err := acc.Presence(guard)
		must(t, err)
		var seen *access.Presence
		for i := range present {
			if present[i].Badge == "V-01" {
				seen = &present[i]
			}
		}
		if seen == nil || !seen.Visitor || seen.Host != "Quinn Qualité" || seen.Zone != "Laboratoire" || seen.PersonID != vera.ID || seen.Name != "Vera Visiteuse" {
			t.Fatalf("presence: %+v", present)
		}
		m, err := acc.StartMuster(guard, "Exercice incendie")
		must(t, err)
		var line *access.MusterLine
		for i := range m.People {
			if m.People[i].PersonID == vera.ID {
				line = &m.People[i]
			}
		}
		if line == nil || !line.Visitor || line.Host != "Quinn Qualité" {
			t.Fatalf("the muster's visitor: %+v", m.People)
		}
		if l, err := acc.CheckOff(guard, m.ID, vera.ID); err != nil || l.CheckedAt == nil {
			t.Fatalf("checking the visitor off: %v", err)
		}
		again, err := acc.Muster(guard, m.ID)
		must(t, err)
		for _, l := range again.People {
			if l.PersonID == vera.ID && (!l.Visitor || l.CheckedAt == nil) {
				t.Fatalf("the visitor's line read again: %+v", l)
			}
		}

		// Quinn extends the stay, with a reason, at the version read.
		ext := *got
		ext.ExpectedUntil = now.Add(4 * time.Hour)
		wantErr(t, acc.UpdateVisit(quinn, &ext, ""), errs.Invalid, "reason")
		ext.Version = 1
		wantErr(t, acc.UpdateVisit(quinn, &ext, "Réunion prolongée"), errs.Stale, "")
		ext.Version = 2
		wantErr(t, acc.UpdateVisit(olga, &ext, "Réunion prolongée"), errs.NotFound, "")
		must(t, acc.UpdateVisit(quinn, &ext, "Réunion prolongée"))
		if ext.Version != 3 || ext.Badge != "V-01" || ext.Status != access.VisitOnSite {
			t.Fatalf("extended: %+v", ext)
		}

		// Past the stay: one alert, raised once, by galenix alone.
		_, err = acc.RaiseOverdueVisits(guard)
		wantErr(t, err, errs.Forbidden, "")
		if n, err := acc.RaiseOverdueVisits(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("not yet overdue: %d %v", n, err)
		}
		e.clock.add(5 * time.Hour)
		if v, err := acc.Visit(guard, vera.ID); err != nil || !v.Overdue {
			t.Fatalf("overdue: %v %+v", err, v)
		}
		for i, want := range []int{1, 0} {
			if n, err := acc.RaiseOverdueVisits(as(identity.System)); err != nil || n != want {
				t.Fatalf("raise %d: %d %v", i, n, err)
			}
		}
		// Extended past the alert, overdue again later: alerted again.
		cur, err := acc.Visit(guard, vera.ID)
		must(t, err)
		cur.ExpectedUntil = e.clock.now().Add(time.Hour)
		must(t, acc.UpdateVisit(guard, cur, "Le visiteur attend son taxi"))
		if n, err := acc.RaiseOverdueVisits(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("extended, not overdue: %d %v", n, err)
		}
		e.clock.add(2 * time.Hour)
		if n, err := acc.RaiseOverdueVisits(as(identity.System)); err != nil || n != 1 {
			t.Fatalf("overdue again: %d %v", n, err)
		}
		alerts, err := db.Identity().SecurityEvents(guard, identity.EventFilter{Open: true})
		must(t, err)
		overdue := 0
		for _, a := range alerts {
			if a.Kind == identity.EventAccessVisitorOverdue && a.Username == "V-01" {
				overdue++
			}
		}
		if overdue != 2 {
			t.Fatalf("the overdue alerts: %+v", alerts)
		}

		// The badge taken back: off the policy, off presence.
		_, err = acc.DepartVisit(quinn, vera.ID)
		wantErr(t, err, errs.Forbidden, "")
		left, err := acc.DepartVisit(guard, vera.ID)
		must(t, err)
		if left.Status != access.VisitLeft || left.DepartedAt == nil || left.Overdue {
			t.Fatalf("left: %+v", left)
		}
		_, err = acc.DepartVisit(guard, vera.ID)
		wantErr(t, err, errs.Conflict, "")
		if pol, err := acc.Policy(guard); err != nil || pol.Holder("V-01") != nil {
			t.Fatalf("the policy after leaving: %v", err)
		}
		present, err = acc.Presence(guard)
		must(t, err)
		for _, p := range present {
			if p.Visitor {
				t.Fatalf("a visitor gone still present: %+v", p)
			}
		}

		// Max never came: Olga, his host, cancels with a reason; Quinn may
		// not.
		_, err = acc.CancelVisit(quinn, max.ID, "Annulée")
		wantErr(t, err, errs.NotFound, "")
		_, err = acc.CancelVisit(olga, max.ID, " ")
		wantErr(t, err, errs.Invalid, "reason")
		c, err := acc.CancelVisit(olga, max.ID, "Intervention reportée")
		must(t, err)
		if c.Status != access.VisitCancelled {
			t.Fatalf("cancelled: %+v", c)
		}
		// Every step in the audit trail.
		if es := entries(t, db, "visit", vera.ID, 0); len(es) < 10 {
			t.Fatalf("vera's visit's trail: %d entries", len(es))
		}
		if es := entries(t, db, "visit", max.ID, 0); len(es) == 0 || es[len(es)-1].Reason != "Intervention reportée" {
			t.Fatalf("max's visit's trail: %+v", es)
		}
	})
}
