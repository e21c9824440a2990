package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

// TestQualifications: a supervisor records a person's qualification, which
// holds nothing until quality assurance grants it by signature (never the
// person's own); bad input and other roles change nothing; the list
// filters by person, kind and what lapses soon; a revocation needs its
// reason and the revision read; the shop floor refuses a step to the
// person whose training or gowning is missing, lapsed or revoked, saying
// which, and accepts it once granted.
func TestQualifications(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		qs, sup, qa := db.Qualifications(), e.actor("victor"), e.actor("quinn")
		now := e.clock.now()

		// A person's account: a staff account, not another person's.
		quinnP := site.Person{Badge: "B-QUINN", Name: "Quinn Qualité", Job: "QA", AccountID: e.acc["olga"].ID}
		wantErr(t, db.Site().CreatePerson(sup, &quinnP), errs.Invalid, "account_id")
		quinnP.AccountID = e.acc["carla"].ID
		wantErr(t, db.Site().CreatePerson(sup, &quinnP), errs.Invalid, "account_id")
		quinnP.AccountID = e.acc["quinn"].ID
		must(t, db.Site().CreatePerson(sup, &quinnP))

		olga := e.people["olga"]
		grant := qualification.Qualification{PersonID: olga.ID, Kind: qualification.Gowning, Subject: "A", GrantedAt: now.AddDate(0, 0, -1),
			ValidUntil: now.AddDate(0, 6, 0), Evidence: "Qualification d'habillage, media fill du 2 mars"}
		before := counts(t, db)
		for _, tc := range []struct {
			name  string
			ctx   context.Context
			edit  func(q *qualification.Qualification)
			code  errs.Code
			field string
		}{
			{"an operator", e.actor("olga"), func(*qualification.Qualification) {}, errs.Forbidden, ""},
			{"a client's user", e.actor("carla"), func(*qualification.Qualification) {}, errs.Forbidden, ""},
			{"no such person", sup, func(q *qualification.Qualification) { q.PersonID = e.acc["olga"].ID }, errs.Invalid, "person_id"},
			{"a malformed person", sup, func(q *qualification.Qualification) { q.PersonID = "x'; DROP TABLE people" }, errs.Invalid, "person_id"},
			{"no evidence", sup, func(q *qualification.Qualification) { q.Evidence = "ok" }, errs.Invalid, "evidence"},
			{"gowning for no grade", sup, func(q *qualification.Qualification) { q.Subject = "Z" }, errs.Invalid, "subject"},
		} {
			q := grant
			tc.edit(&q)
			_, err := qs.RecordQualification(tc.ctx, q)
			if !errs.Is(err, tc.code) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v, want %s on %q", tc.name, err, tc.code, tc.field)
			}
		}
		sameCounts(t, db, before)

		rec, err := qs.RecordQualification(sup, grant)
		must(t, err)
		if rec.Status != qualification.Recorded || rec.Person != olga.Name || rec.Revision != 1 {
			t.Fatalf("recorded: %+v", rec)
		}
		// Recorded, it holds nothing: a step in a grade A room is refused.
		roomA := site.Room{BuildingID: e.f.building.ID, Code: "R-A", Name: "Room R-A", Grade: site.GradeA, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
		must(t, db.Site().CreateRoom(as(alice), &roomA))
		line := site.Line{Code: "L-A", Name: "Remplissage A", RoomID: roomA.ID, Sterile: true, Forms: []site.Form{site.FormVial}, CapacityPerHour: 1000}
		must(t, db.Site().CreateLine(as(alice), &line))
		day := 3
		stepErr := func() error {
			t.Helper()
			day++
			prod := db.Production()
			b := e.order(t, e.vial, 10000)
			_, err := prod.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: line.ID, Start: at(day, 6)}, "")
			must(t, err)
			_, err = prod.MoveBatch(sup, b.ID, production.MoveRelease, "")
			must(t, err)
			r, err := prod.Record(sup, b.ID)
			must(t, err)
			_, err = prod.RecordStep(e.actor("olga"), b.ID, production.Entry{StepID: r.Steps[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
			return err
		}
		err = stepErr()
		if !errs.Is(err, errs.Forbidden) || errs.MessageOf(err, text.FR) != "Qualification requise absente : habillage, classe A." {
			t.Fatalf("a step with a gowning only recorded: %v", errs.MessageOf(err, text.FR))
		}

		// Granted by QA's signature: not by the supervisor, not by the
		// person themself.
		if _, err := e.svc.Challenge(sup, esign.ChallengeRequest{Entity: store.EntityQualification, EntityID: rec.ID, Meaning: "approved"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a supervisor's grant: %v", err)
		}
		mine := grant
		mine.PersonID = quinnP.ID
		own, err := qs.RecordQualification(sup, mine)
		must(t, err)
		if _, err := e.sign(t, "quinn", store.EntityQualification, own.ID, esign.Approved); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a grant of one's own: %v", err)
		}
		_, err = e.sign(t, "quinn", store.EntityQualification, rec.ID, esign.Approved)
		must(t, err)
		got, err := qs.Qualification(sup, rec.ID)
		must(t, err)
		if got.Status != qualification.Granted || got.GrantedBy != e.acc["quinn"].ID || got.Revision != 2 {
			t.Fatalf("granted: %+v", got)
		}
		if _, err := e.sign(t, "quinn", store.EntityQualification, rec.ID, esign.Approved); !errs.Is(err, errs.Conflict) {
			t.Fatalf("granted twice: %v", err)
		}
		trail := entries(t, db, store.EntityQualification, rec.ID, 0)
		hasChange := func(field, old, new string) bool {
			return slices.ContainsFunc(trail, func(en audit.Entry) bool { return en.Field == field && en.Old == old && en.New == new })
		}
		if !hasChange("status", "recorded", "granted") || !hasChange("evidence", "", grant.Evidence) {
			t.Fatalf("the grant's trail: %+v", trail)
		}
		must(t, stepErr())

		// The lists: by person, by kind, what lapses within 200 days.
		list, err := qs.Qualifications(e.actor("olga"), qualification.Filter{PersonID: olga.ID})
		must(t, err)
		if len(list) != 4 { // gowning B, two masters, gowning A
			t.Fatalf("olga's qualifications: %+v", list)
		}
		if _, err := qs.Qualifications(e.actor("carla"), qualification.Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a client reads the staff's qualifications: %v", err)
		}
		soon, err := qs.Qualifications(sup, qualification.Filter{ExpiringDays: 200})
		must(t, err)
		if len(soon) != 1 || soon[0].ID != rec.ID {
			t.Fatalf("lapsing within 200 days: %+v", soon)
		}
		if none, err := qs.Qualifications(sup, qualification.Filter{PersonID: "nope"}); err != nil || len(none) != 0 {
			t.Fatalf("a malformed person: %v %v", none, err)
		}

		// Revoked, with a reason, at the revision read.
		before = counts(t, db)
		_, err = qs.RevokeQualification(sup, rec.ID, 2, "Échec à la requalification")
		wantErr(t, err, errs.Forbidden, "")
		_, err = qs.RevokeQualification(qa, rec.ID, 2, "no")
		wantErr(t, err, errs.Invalid, "reason")
		_, err = qs.RevokeQualification(qa, rec.ID, 1, "Échec à la requalification")
		wantErr(t, err, errs.Stale, "")
		sameCounts(t, db, before)
		rv, err := qs.RevokeQualification(qa, rec.ID, 2, "Échec à la requalification")
		must(t, err)
		if rv.Status != qualification.Revoked || rv.RevokedAt == nil || rv.Revision != 3 {
			t.Fatalf("revoked: %+v", rv)
		}
		err = stepErr()
		paris, _ := time.LoadLocation("Europe/Paris")
		if want := text.Render(text.EN, "qualification.revoked", text.Key("qualification.kind.gowning"), "A", text.Date{T: now, Loc: paris}); !errs.Is(err, errs.Forbidden) || errs.MessageOf(err, text.EN) != want {
			t.Fatalf("a step after the revocation: %v", errs.MessageOf(err, text.EN))
		}
		if _, err := qs.RevokeQualification(qa, rec.ID, 0, "Encore une fois"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("revoked twice: %v", err)
		}
	})
}

// TestResultNeedsMethod: an analyst not qualified on a test's method is
// refused its result, the method named, and nothing is written; once
// granted, the result is taken.
func TestResultNeedsMethod(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newLabEnv(t, db)
		hash, err := seedHash()
		must(t, err)
		zoe := identity.Account{Username: "zoe", Name: "Zoé Analyste", Roles: []identity.Role{identity.RoleLab}}
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&zoe, hash) }))
		e.acc["zoe"] = &zoe
		e.trainPeople(t, []string{"zoe"}, qualification.ForMethod("Ph. Eur. 2.2.3"))
		ctx := labActor(zoe.ID, "zoe", zoe.Name, e.alpha.ID)
		s := e.finished(t)
		before := labCounts(t, db)
		_, err = db.Lab().EnterResult(ctx, s.ID, quality.Entry{Test: "ASSAY", Value: "99,1"})
		if !errs.Is(err, errs.Forbidden) || errs.MessageOf(err, text.EN) != "Qualification required and not held: laboratory method HPLC M-102." {
			t.Fatalf("a result without the method: %v", errs.MessageOf(err, text.EN))
		}
		sameLab(t, db, before)
		_, err = db.Lab().EnterResult(ctx, s.ID, quality.Entry{Test: "PH", Value: "5,5"})
		must(t, err)
		e.trainPeople(t, []string{"zoe"}, qualification.ForMethod("hplc m-102"))
		_, err = db.Lab().EnterResult(ctx, s.ID, quality.Entry{Test: "ASSAY", Value: "99,1"})
		must(t, err)
	})
}
