package store_test

import (
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
