package store_test

import (
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestEquipmentWork: maintenance cleans a piece of equipment, takes it out
// of service and back, renews its qualification by signature; each write
// audited with its comment, each refusal changing nothing.
func TestEquipmentWork(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		hash, err := seedHash()
		must(t, err)
		mia := identity.Account{Username: "mia", Name: "Mia Maintenance", Roles: []identity.Role{identity.RoleMaintenance}}
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&mia, hash) }))
		e.acc["mia"] = &mia
		s, id := db.Site(), e.f.equipment.ID
		get := func() site.Equipment {
			t.Helper()
			eq, err := s.EquipmentItem(as(alice), id)
			must(t, err)
			return *eq
		}
		setStatus := func(st site.EquipmentStatus) {
			t.Helper()
			eq := get()
			eq.Status = st
			must(t, s.UpdateEquipment(as(alice), &eq, "test setup"))
		}
		entries := func(command string) []audit.Entry {
			t.Helper()
			es, err := db.Audit().Entries(as(alice), audit.Filter{Entity: "equipment", EntityID: id})
			must(t, err)
			var out []audit.Entry
			for _, x := range es {
				if x.Command == command {
					out = append(out, x)
				}
			}
			return out
		}
		wantRefused := func(err error, code errs.Code, field string, want site.Equipment) {
			t.Helper()
			if !errs.Is(err, code) || errs.FieldOf(err) != field {
				t.Fatalf("got %v, want %s on %q", err, code, field)
			}
			if got := get(); got.Status != want.Status || !got.QualificationDue.Equal(want.QualificationDue) || got.QualificationReport != want.QualificationReport {
				t.Fatalf("a refusal changed the equipment: %+v, was %+v", got, want)
			}
		}

		setStatus(site.EquipmentDirty)
		before := get()
		_, err = s.MaintainEquipment(e.ctx("olga"), id, site.ActionClean, "wiped")
		wantRefused(err, errs.Forbidden, "", before)
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionClean, "  ")
		wantRefused(err, errs.Invalid, "reason", before)
		_, err = s.MaintainEquipment(e.ctx("mia"), id, "polish", "wiped")
		wantRefused(err, errs.Invalid, "action", before)

		got, err := s.MaintainEquipment(e.ctx("mia"), id, site.ActionClean, "Wiped with IPA 70 %")
		must(t, err)
		if got.Status != site.EquipmentClean || get().Status != site.EquipmentClean {
			t.Fatalf("after a cleaning: %s", get().Status)
		}
		es := entries("equipment.clean")
		if len(es) != 1 || es[0].Field != "status" || es[0].Old != "dirty" || es[0].New != "clean" || es[0].Reason != "Wiped with IPA 70 %" || es[0].ActorID != mia.ID {
			t.Fatalf("cleaning trail: %+v", es)
		}
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionClean, "again")
		wantRefused(err, errs.Conflict, "", get())

		// Out of service: the line is out of service, and back.
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionOutOfService, "Seal leaking")
		must(t, err)
		l, err := s.Line(as(alice), e.f.line.ID)
		must(t, err)
		if l.State != site.StateOutOfService {
			t.Fatalf("line state with its equipment out of service: %s", l.State)
		}
		if es := entries("equipment.out_of_service"); len(es) != 1 || es[0].New != "maintenance" || es[0].Reason != "Seal leaking" {
			t.Fatalf("out of service trail: %+v", es)
		}
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionClean, "wiped")
		wantRefused(err, errs.Conflict, "", get())
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionInService, "Seal replaced")
		must(t, err)
		if st := get().Status; st != site.EquipmentDirty {
			t.Fatalf("back in service: %s, want dirty", st)
		}

		// In use: no cleaning.
		setStatus(site.EquipmentInUse)
		_, err = s.MaintainEquipment(e.ctx("mia"), id, site.ActionClean, "wiped")
		wantRefused(err, errs.Conflict, "", get())

		// The renewal, signed.
		renew := func(username string, r *site.Renewal, reason string) error {
			ctx := e.ctx(username)
			c, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "equipment", EntityID: id, Meaning: string(esign.Approved)})
			if err != nil {
				return err
			}
			if r != nil {
				ctx = site.WithRenewal(ctx, *r)
			}
			_, err = e.svc.Sign(ctx, esign.SignRequest{Entity: "equipment", EntityID: id, Meaning: string(esign.Approved), Username: username,
				Password: password, Reason: reason, Challenge: c.Challenge})
			return err
		}
		sigs := func() int {
			t.Helper()
			l, err := e.svc.Signatures(e.ctx("mia"), "equipment", id)
			must(t, err)
			return len(l)
		}
		before = get()
		next := time.Date(2027, 9, 30, 0, 0, 0, 0, time.UTC)
		wantRefused(renew("olga", &site.Renewal{Due: next, Report: "QR-1"}, "IQ/OQ"), errs.Forbidden, "", before)
		wantRefused(renew("carla", &site.Renewal{Due: next, Report: "QR-1"}, "IQ/OQ"), errs.NotFound, "", before)
		wantRefused(renew("mia", nil, "IQ/OQ"), errs.Invalid, "qualification_due", before)
		wantRefused(renew("mia", &site.Renewal{Due: before.QualificationDue, Report: "QR-1"}, "IQ/OQ"), errs.Invalid, "qualification_due", before)
		wantRefused(renew("mia", &site.Renewal{Due: next}, "IQ/OQ"), errs.Invalid, "qualification_report", before)
		wantRefused(renew("mia", &site.Renewal{Due: next, Report: "QR-1"}, ""), errs.Invalid, "reason", before)
		if n := sigs(); n != 0 {
			t.Fatalf("refused renewals left %d signatures", n)
		}
		must(t, renew("mia", &site.Renewal{Due: next, Report: "QR-2027-014"}, "IQ/OQ after seal change"))
		if eq := get(); !eq.QualificationDue.Equal(next) || eq.QualificationReport != "QR-2027-014" {
			t.Fatalf("renewed: %+v", eq)
		}
		// Using or cleaning the equipment after does not break the
		// signature of its renewal.
		setStatus(site.EquipmentDirty)
		list, err := e.svc.Signatures(e.ctx("mia"), "equipment", id)
		must(t, err)
		if len(list) != 1 || list[0].Status != esign.Valid || list[0].Meaning != esign.Approved || list[0].SignerID != mia.ID {
			t.Fatalf("the renewal's signature: %+v", list)
		}
		var renewed bool
		es, err = db.Audit().Entries(as(alice), audit.Filter{Entity: "equipment", EntityID: id})
		must(t, err)
		for _, x := range es {
			if x.Field == "qualification_report" && x.New == "QR-2027-014" && x.Reason == "IQ/OQ after seal change" && x.ActorID == mia.ID {
				renewed = true
			}
		}
		if !renewed {
			t.Fatalf("the renewal is not in the trail: %+v", es)
		}
	})
}
