package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"galenix/internal/access"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/store"
)

// TestAccessIntake: the policy compiled from the site holds its zones,
// readers and badge holders with their gowning; a reader's controller,
// offline for a burst, delivers its events late and in two parts: each is
// stored once whatever is sent again, the gap between the parts is
// reported until it is closed, each intake is sealed in the audit trail;
// an operator may neither fetch the policy nor deliver events; a change
// of qualification makes a newer policy at once.
func TestAccessIntake(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		acc := db.Access()
		admin := as(alice)
		site := access.Zone{Code: "SITE", Name: "Site", Kind: access.Perimeter, AssemblyPoint: "Parking nord"}
		must(t, acc.CreateZone(admin, &site))
		clean := access.Zone{Code: "R-B", Name: "Zone B", Kind: access.CleanArea, Grade: "B", BuildingID: e.f.building.ID}
		must(t, acc.CreateZone(admin, &clean))
		wantErr(t, acc.CreateZone(e.actor("olga"), &access.Zone{Code: "X", Name: "X", Kind: access.Building}), errs.Forbidden, "")
		wantErr(t, acc.CreateZone(admin, &access.Zone{Code: "SRV", Name: "Serveurs", Kind: access.ServerRoom, Roles: []identity.Role{identity.RoleOperator}}), errs.Invalid, "roles")
		for _, r := range []*access.Reader{{Code: "R-SITE-IN", ZoneID: site.ID, Direction: access.In, Door: "Portail"},
			{Code: "R-B-IN", ZoneID: clean.ID, Direction: access.In, Door: "SAS B"}, {Code: "R-B-OUT", ZoneID: clean.ID, Direction: access.Out, Door: "SAS B"}} {
			must(t, acc.CreateReader(admin, r))
		}
		wantErr(t, acc.CreateReader(admin, &access.Reader{Code: "R-X", ZoneID: e.acc["olga"].ID, Direction: access.In, Door: "X"}), errs.Invalid, "zone_id")

		machine := as(identity.Actor{UserID: "token:reader", Name: "Readers B30", Scopes: []string{string(identity.ScopeAccessWrite)}})
		_, err := acc.Policy(e.actor("olga"))
		wantErr(t, err, errs.Forbidden, "")
		p, err := acc.Policy(machine)
		must(t, err)
		olga := p.Holder("B-OLGA")
		if len(p.Zones) != 2 || len(p.Readers) != 3 || olga == nil || len(olga.Qualifications) != 1 || olga.Qualifications[0].Evidence != "" ||
			olga.Roles[0] != identity.RoleOperator || p.Version == 0 {
			t.Fatalf("the policy: %+v, olga %+v", p, olga)
		}
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		b, err := access.Sign(p, key)
		must(t, err)
		d := access.NewDevice(key.Public().(ed25519.PublicKey))
		must(t, d.Load(b))

		// A burst of 40 events offline: in and out of grade B.
		d.Online = false
		at := e.clock.now()
		for i := range 20 {
			d.Swipe("R-B-IN", "B-OLGA", at.Add(time.Duration(2*i)*time.Minute))
			d.Swipe("R-B-OUT", "B-OLGA", at.Add(time.Duration(2*i+1)*time.Minute))
		}
		d.Online = true
		all := d.Pending()
		var in []access.Event
		for _, ev := range all {
			if ev.Reader == "R-B-IN" {
				in = append(in, ev)
			}
		}
		if len(in) != 20 || !in[0].Allow || in[0].Rule != access.RuleAllowed || !in[0].Offline {
			t.Fatalf("the burst: %+v", in[0])
		}
		_, err = acc.Intake(e.actor("olga"), all)
		wantErr(t, err, errs.Forbidden, "")
		// First the events 1–5 and 11–20 of R-B-IN, one unknown reader's.
		part := append(append([]access.Event{}, in[:5]...), in[10:]...)
		part = append(part, access.Event{Reader: "R-NOPE", Seq: 1, Badge: "B-OLGA", At: at})
		res, err := acc.Intake(machine, part)
		must(t, err)
		if res.Stored != 15 || res.Refused != 1 || res.Acked["R-B-IN"] != 5 || len(res.Gaps) != 1 || res.Gaps[0] != (access.Gap{Reader: "R-B-IN", From: 6, To: 10}) {
			t.Fatalf("the first part: %+v", res)
		}
		gaps, err := acc.Gaps(machine)
		must(t, err)
		if len(gaps) != 1 || gaps[0].From != 6 {
			t.Fatalf("the gaps: %+v", gaps)
		}
		// Then everything, the first part again: each stored once, the gap
		// closed, every event acknowledged.
		before := lastSeq(t, db)
		res, err = acc.Intake(machine, all)
		must(t, err)
		if res.Stored != 25 || res.Duplicates != 15 || len(res.Gaps) != 0 || res.Acked["R-B-IN"] != 20 || res.Acked["R-B-OUT"] != 20 {
			t.Fatalf("everything: %+v", res)
		}
		if seal := entries(t, db, "access_intake", "", before); len(seal) != 1 || seal[0].Field != "events" || seal[0].New != res.Seal || res.Seal[:5] != "n=25 " {
			t.Fatalf("the seal: %+v (%s)", seal, res.Seal)
		}
		d.Ack(res.Acked)
		if left := d.Pending(); len(left) != 0 {
			t.Fatalf("the device still holds %d events", len(left))
		}
		res, err = acc.Intake(machine, all)
		must(t, err)
		if res.Stored != 0 || res.Duplicates != 40 {
			t.Fatalf("sent a third time: %+v", res)
		}
		if n, err := db.CountRows("access_events"); err != nil || n != 40 {
			t.Fatalf("%d events stored (%v), want 40", n, err)
		}

		// A qualification revoked: a newer policy, olga refused at once.
		list, err := db.Qualifications().Qualifications(e.actor("victor"), qualification.Filter{PersonID: e.people["olga"].ID, Kind: qualification.Gowning})
		must(t, err)
		_, err = db.Qualifications().RevokeQualification(e.actor("quinn"), list[0].ID, 0, "Échec à la requalification")
		must(t, err)
		p2, err := acc.Policy(machine)
		must(t, err)
		b2, _ := access.Sign(p2, key)
		must(t, d.Load(b2))
		if p2.Version <= p.Version {
			t.Fatalf("policy %d after %d", p2.Version, p.Version)
		}
		if ev := d.Swipe("R-B-IN", "B-OLGA", e.clock.now().Add(time.Hour)); ev.Allow || ev.Rule != access.RuleQualification {
			t.Fatalf("after the revocation: %+v", ev)
		}
	})
}

// TestMuster: the people on site, from the readers' events: olga came in
// and stayed, victor came and left; the muster lists olga at her assembly
// point, checks her off once however often she is checked, refuses a
// person it does not list, ends with a reason and then checks no one; an
// operator may do none of it.
func TestMuster(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e, acc, admin := newGuardEnv(t, db)
		newGate(t, acc, admin)
		now := e.clock.now()
		ev := func(reader string, seq int64, badge string, m int) access.Event {
			return access.Event{Reader: reader, Seq: seq, Badge: badge, At: now.Add(time.Duration(m-60) * time.Minute), Allow: true, Rule: "allowed", Policy: 1}
		}
		machine := as(identity.Actor{UserID: "token:reader", Name: "Gate", Scopes: []string{string(identity.ScopeAccessWrite)}})
		_, err := acc.Intake(machine, []access.Event{ev("G-IN", 1, "B-OLGA", 0), ev("G-IN", 2, "B-VICTOR", 5), ev("G-OUT", 1, "B-VICTOR", 30)})
		must(t, err)
		// Victor refused three times at the gate within minutes, and the
		// gate forced: two alerts for the PC Sécurité.
		deny := func(seq int64, m int) access.Event {
			x := ev("G-IN", seq, "B-VICTOR", m)
			x.Allow, x.Rule = false, access.RuleShift
			return x
		}
		forced := access.Event{Reader: "G-OUT", Seq: 2, At: now.Add(-10 * time.Minute), Kind: access.DoorForced, Rule: "door", Policy: 1}
		res, err := acc.Intake(machine, []access.Event{deny(3, 40), deny(4, 41), deny(5, 42), forced,
			{Reader: "G-IN", Seq: 6, At: now, Kind: "party", Policy: 1}})
		must(t, err)
		if res.Stored != 4 || res.Refused != 1 {
			t.Fatalf("denials and a forced door: %+v", res)
		}
		alerts, err := db.Identity().SecurityEvents(admin, identity.EventFilter{Open: true})
		must(t, err)
		kinds := map[string]int{}
		for _, a := range alerts {
			kinds[a.Kind]++
		}
		if kinds[identity.EventAccessDenials] != 1 || kinds[identity.EventAccessForced] != 1 {
			t.Fatalf("the alerts: %v", kinds)
		}
		// Acknowledged with a comment, never without.
		for _, a := range alerts {
			if a.Kind != identity.EventAccessForced {
				continue
			}
			_, err := db.Identity().AcknowledgeEvent(admin, a.ID, " ")
			wantErr(t, err, errs.Invalid, "comment")
			got, err := db.Identity().AcknowledgeEvent(admin, a.ID, "Porte vérifiée : gâche défectueuse, maintenance appelée")
			must(t, err)
			if got.AcknowledgedBy != "sam" {
				t.Fatalf("acknowledged: %+v", got)
			}
			if es := entries(t, db, "security_event", a.ID, 0); len(es) != 1 || es[0].Reason != "Porte vérifiée : gâche défectueuse, maintenance appelée" {
				t.Fatalf("the acknowledgement's trail: %+v", es)
			}
		}
		_, err = acc.Presence(e.actor("olga"))
		wantErr(t, err, errs.Forbidden, "")
		present, err := acc.Presence(admin)
		must(t, err)
		if len(present) != 1 || present[0].Name != "Olga Opératrice" || present[0].AssemblyPoint != "Parking nord" || present[0].LastReader != "G-IN" {
			t.Fatalf("present: %+v", present)
		}
		_, err = acc.StartMuster(admin, " ")
		wantErr(t, err, errs.Invalid, "reason")
		_, err = acc.StartMuster(e.actor("victor"), "Alarme incendie")
		wantErr(t, err, errs.Forbidden, "")
		m, err := acc.StartMuster(admin, "Alarme incendie B30")
		must(t, err)
		if len(m.People) != 1 || m.Unaccounted() != 1 {
			t.Fatalf("the muster: %+v", m)
		}
		olga := m.People[0].PersonID
		for range 2 {
			l, err := acc.CheckOff(admin, m.ID, olga)
			must(t, err)
			if l.CheckedAt == nil {
				t.Fatal("not checked")
			}
		}
		_, err = acc.CheckOff(admin, m.ID, e.people["victor"].ID)
		wantErr(t, err, errs.Invalid, "person_id")
		got, err := acc.Muster(admin, m.ID)
		must(t, err)
		if got.Unaccounted() != 0 {
			t.Fatalf("after the check: %+v", got)
		}
		if es := entries(t, db, "muster", m.ID, 0); len(es) < 5 {
			t.Fatalf("the muster's trail: %+v", es)
		}
		_, err = acc.EndMuster(admin, m.ID, "Tout le monde est là")
		must(t, err)
		_, err = acc.CheckOff(admin, m.ID, olga)
		wantErr(t, err, errs.Conflict, "")
		_, err = acc.EndMuster(admin, m.ID, "Encore")
		wantErr(t, err, errs.Conflict, "")
		list, err := acc.Musters(admin)
		must(t, err)
		if len(list) != 1 || list[0].EndedAt == nil {
			t.Fatalf("the musters: %+v", list)
		}
	})
}

// TestPresenceFromLastExit: presence reads a person's passages from their
// last exit through the perimeter on, and folds them as the whole week's
// would be: olga left and came back (on site since her return, in the lab
// she entered after it), victor left (gone), quinn seen in the lab without
// passing the gate (on site since then), and a passage at the very time of
// an exit, ordered by its reader as in the journal.
func TestPresenceFromLastExit(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e, acc, admin := newGuardEnv(t, db)
		e.trainPeople(t, []string{"quinn"})
		newGate(t, acc, admin)
		lab := access.Zone{Code: "LAB", Name: "Laboratoire", Kind: access.Laboratory, AssemblyPoint: "Pelouse est"}
		must(t, acc.CreateZone(admin, &lab))
		for _, r := range []*access.Reader{{Code: "L-IN", ZoneID: lab.ID, Direction: access.In, Door: "Sas labo"},
			{Code: "L-OUT", ZoneID: lab.ID, Direction: access.Out, Door: "Sas labo"}} {
			must(t, acc.CreateReader(admin, r))
		}
		now := e.clock.now()
		at := func(m int) time.Time { return now.Add(time.Duration(m) * time.Minute) }
		seqs := map[string]int64{}
		ev := func(reader, badge string, m int) access.Event {
			seqs[reader]++
			return access.Event{Reader: reader, Seq: seqs[reader], Badge: badge, At: at(m), Allow: true, Rule: "allowed", Policy: 1}
		}
		machine := as(identity.Actor{UserID: "token:reader", Name: "Gate", Scopes: []string{string(identity.ScopeAccessWrite)}})
		_, err := acc.Intake(machine, []access.Event{
			ev("G-IN", "B-OLGA", -600), ev("L-IN", "B-OLGA", -590), ev("L-OUT", "B-OLGA", -400), ev("G-OUT", "B-OLGA", -390),
			ev("G-IN", "B-OLGA", -120), ev("L-IN", "B-OLGA", -110),
			ev("G-IN", "B-VICTOR", -600), ev("L-IN", "B-VICTOR", -500), ev("G-OUT", "B-VICTOR", -30),
			ev("L-IN", "B-QUINN", -60),
		})
		must(t, err)
		present, err := acc.Presence(admin)
		must(t, err)
		got := map[string]access.Presence{}
		for _, p := range present {
			got[p.Name] = p
		}
		olga, quinn := e.people["olga"], e.people["quinn"]
		if len(present) != 2 {
			t.Fatalf("present: %+v", present)
		}
		if p := got[olga.Name]; p.Zone != "Laboratoire" || !p.Since.Equal(at(-120)) || !p.LastSeen.Equal(at(-110)) || p.LastReader != "L-IN" || p.AssemblyPoint != "Pelouse est" {
			t.Errorf("olga, back on site: %+v", p)
		}
		if p := got[quinn.Name]; p.Zone != "Laboratoire" || !p.Since.Equal(at(-60)) {
			t.Errorf("quinn, seen inside without the gate: %+v", p)
		}
		// Victor comes back, then in and out at the same minute: in the
		// journal's order (the time, then the reader) the exit comes
		// last, so he is gone. Then out at the gate and into the lab
		// at the same minute: the lab's passage comes after the exit, so
		// he is there, since that minute.
		_, err = acc.Intake(machine, []access.Event{ev("G-IN", "B-VICTOR", -20), ev("G-OUT", "B-VICTOR", -10), ev("G-IN", "B-VICTOR", -10)})
		must(t, err)
		present, err = acc.Presence(admin)
		must(t, err)
		if len(present) != 2 {
			t.Fatalf("victor left again at the minute he came in: %+v", present)
		}
		_, err = acc.Intake(machine, []access.Event{ev("G-OUT", "B-VICTOR", -5), ev("L-IN", "B-VICTOR", -5)})
		must(t, err)
		present, err = acc.Presence(admin)
		must(t, err)
		for _, p := range present {
			if p.Name == e.people["victor"].Name && (!p.Since.Equal(at(-5)) || p.Zone != "Laboratoire") {
				t.Errorf("victor, seen in the lab at the minute he left: %+v", p)
			}
		}
		if len(present) != 3 {
			t.Errorf("victor, seen in the lab at the minute he left: %+v", present)
		}
	})
}

// newGuardEnv is the production floor's people, and sam of the PC Sécurité:
// the access store and sam's context.
func newGuardEnv(t *testing.T, db *store.DB) (*prodEnv, *store.AccessStore, context.Context) {
	t.Helper()
	e := newProdEnv(t, db)
	hash, err := seedHash()
	must(t, err)
	sam := identity.Account{Username: "sam", Name: "Sam Sécurité", Roles: []identity.Role{identity.RoleSecurity}}
	must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&sam, hash) }))
	return e, db.Access(), as(sam.Actor())
}

// newGate makes the site's perimeter, gathering at the Parking nord, and
// its gate's readers G-IN and G-OUT.
func newGate(t *testing.T, acc *store.AccessStore, guard context.Context) {
	t.Helper()
	siteZone := access.Zone{Code: "SITE", Name: "Site", Kind: access.Perimeter, AssemblyPoint: "Parking nord"}
	must(t, acc.CreateZone(guard, &siteZone))
	for _, r := range []*access.Reader{{Code: "G-IN", ZoneID: siteZone.ID, Direction: access.In, Door: "Portail"},
		{Code: "G-OUT", ZoneID: siteZone.ID, Direction: access.Out, Door: "Portail"}} {
		must(t, acc.CreateReader(guard, r))
	}
}
