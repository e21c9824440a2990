package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/store"
)

// TestQualityAgreement: QA records a client's agreement, which the client
// reads and another client does not; a deviation classified major on the
// client's batch starts the notification's countdown, a reclassification
// as critical brings it nearer; the notification starts the summary's,
// which waits for the investigation; the leader escalates what is late,
// once; QA closes a major deviation only once the client's manager
// approved the closure as the client was told of it. Every step audited.
func TestQualityAgreement(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newDevEnv(t, db)
		hash, err := seedHash()
		must(t, err)
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
			a := identity.Account{Username: "mia", Name: "Mia Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: e.alpha.ID}
			if err := tx.CreateAccount(&a, hash); err != nil {
				return err
			}
			e.acc[a.Username] = &a
			return nil
		}))
		ags, devs := db.Agreements(), db.Deviations()
		qa, sup, op, carla, mia := e.actor("quinn"), e.actor("victor"), e.actor("olga"), e.actor("carla"), e.actor("mia")
		beta := as(identity.Actor{UserID: "ub", Username: "ub", SessionID: "session-ub", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID})
		sys := as(identity.System)

		ag := quality.Agreement{ClientID: e.alpha.ID, Reference: "QA-ALPHA-2026", NotifyMajorHours: 48, NotifyCriticalHours: 24,
			SummaryWorkingDays: 5, ClientApprovesMajorClosure: true, BatchDocuments: []quality.BatchDocument{quality.DocCertificate},
			NotifyTo: []string{"qa@alpha.example", "qp@alpha.example"}}
		_, err = ags.SetAgreement(sup, ag, "")
		wantErr(t, err, errs.Forbidden, "")
		bad := ag
		bad.SummaryWorkingDays = 0
		before := counts(t, db)
		_, err = ags.SetAgreement(qa, bad, "")
		wantErr(t, err, errs.Invalid, "summary_working_days")
		sameCounts(t, db, before)
		got, err := ags.SetAgreement(qa, ag, "")
		must(t, err)
		if got.Version != 1 {
			t.Fatalf("agreement recorded: %+v", got)
		}
		if r, err := ags.Agreement(carla, e.alpha.ID); err != nil || r.NotifyCriticalHours != 24 || strings.Join(r.NotifyTo, " ") != "qa@alpha.example qp@alpha.example" {
			t.Fatalf("the client reads its agreement: %+v %v", r, err)
		}
		if _, err := ags.Agreement(beta, e.alpha.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("another client read the agreement: %v", err)
		}
		// New terms: at the version read, with a reason.
		ag.Version = 1
		ag.NotifyMajorHours = 72
		_, err = ags.SetAgreement(qa, ag, "")
		wantErr(t, err, errs.Invalid, "reason")
		got, err = ags.SetAgreement(qa, ag, "Avenant n° 1 signé le 2 mars.")
		must(t, err)
		if got.Version != 2 {
			t.Fatalf("amended: %+v", got)
		}
		// The same terms again change nothing; terms decided on an older
		// version are stale.
		ag.Version = 2
		if again, err := ags.SetAgreement(qa, ag, "Avenant n° 1 signé le 2 mars."); err != nil || again.Version != 2 {
			t.Fatalf("the same terms again: %+v %v", again, err)
		}
		ag.Version, ag.NotifyMajorHours = 1, 48
		_, err = ags.SetAgreement(qa, ag, "Avenant n° 2.")
		wantErr(t, err, errs.Stale, "")

		// Classified major: the notification is due in 72 h; the client
		// sees the countdown.
		start := e.clock.now()
		_, err = devs.AssessDeviation(sup, e.devID, quality.DeviationStep{}, quality.Assessment{Class: quality.Major,
			Reason: "pH above its limit before filling.", Impacts: []quality.Impact{{BatchID: e.batch.ID, Affects: yes()}}})
		must(t, err)
		obs, err := ags.Obligations(carla, quality.ObligationFilter{})
		must(t, err)
		if len(obs) != 1 || obs[0].Kind != quality.ObligeNotify || !obs[0].Due.Equal(start.Add(72*time.Hour)) || obs[0].Lot != e.batch.Lot {
			t.Fatalf("the client's obligations after a major classification: %+v", obs)
		}
		if other, err := ags.Obligations(beta, quality.ObligationFilter{}); err != nil || len(other) != 0 {
			t.Errorf("another client sees %+v %v", other, err)
		}
		// Reclassified critical an hour later: due 24 h from then.
		e.clock.set(start.Add(time.Hour))
		_, err = devs.AssessDeviation(sup, e.devID, quality.DeviationStep{}, quality.Assessment{Class: quality.Critical,
			Reason: "pH far above its limit before filling.", Impacts: []quality.Impact{{BatchID: e.batch.ID, Affects: yes()}}})
		must(t, err)
		obs, err = ags.Obligations(qa, quality.ObligationFilter{DeviationID: e.devID})
		must(t, err)
		if len(obs) != 1 || !obs[0].Due.Equal(start.Add(25*time.Hour)) || obs[0].Version != 2 {
			t.Fatalf("after the critical classification: %+v", obs)
		}
		notify := obs[0]

		// Not late yet: nothing escalated. Late: escalated once.
		if n, err := ags.EscalateObligations(sys); err != nil || n != 0 {
			t.Fatalf("escalated before the deadline: %d %v", n, err)
		}
		if _, err := ags.EscalateObligations(qa); !errs.Is(err, errs.Forbidden) {
			t.Errorf("QA ran the leader's escalation: %v", err)
		}
		e.clock.set(start.Add(26 * time.Hour))
		if n, err := ags.EscalateObligations(sys); err != nil || n != 1 {
			t.Fatalf("escalated when late: %d %v", n, err)
		}
		if n, err := ags.EscalateObligations(sys); err != nil || n != 0 {
			t.Fatalf("escalated twice: %d %v", n, err)
		}
		obs, err = ags.Obligations(carla, quality.ObligationFilter{})
		must(t, err)
		if obs[0].EscalatedAt == nil || obs[0].State(e.clock.now()) != quality.ObligationLate {
			t.Fatalf("the late notification: %+v", obs[0])
		}

		// QA notifies, late: an operator may not; words too short are
		// refused; a stale version is refused.
		_, err = ags.MeetObligation(op, notify.ID, 0, "Déviation critique sur votre lot.")
		wantErr(t, err, errs.Forbidden, "")
		_, err = ags.MeetObligation(qa, notify.ID, 0, "short")
		wantErr(t, err, errs.Invalid, "message")
		_, err = ags.MeetObligation(qa, notify.ID, notify.Version, "Déviation critique sur votre lot.")
		wantErr(t, err, errs.Stale, "")
		met, err := ags.MeetObligation(qa, notify.ID, 0, "Déviation critique sur votre lot : pH hors limite avant remplissage.")
		must(t, err)
		if met.State(e.clock.now()) != quality.ObligationMetLate {
			t.Fatalf("met: %+v", met)
		}
		if _, err := ags.MeetObligation(qa, notify.ID, 0, "Encore une fois la même chose."); !errs.Is(err, errs.Conflict) {
			t.Errorf("notified twice: %v", err)
		}
		obs, err = ags.Obligations(carla, quality.ObligationFilter{Open: true})
		must(t, err)
		if len(obs) != 1 || obs[0].Kind != quality.ObligeSummary || !obs[0].Due.Equal(quality.AddWorkingDays(e.clock.now(), 5)) {
			t.Fatalf("the summary's countdown: %+v", obs)
		}
		summary := obs[0]
		_, err = ags.MeetObligation(qa, summary.ID, 0, "Résumé : la sonde de pH dérivait.")
		wantErr(t, err, errs.Conflict, "")

		// The investigation, the summary, the closure: QA's signature
		// needs the client's approval of the closure first.
		_, err = devs.ApproveAssessment(e.actor("quentin"), e.devID, quality.DeviationStep{})
		must(t, err)
		act := quality.Action{Description: "Calibrate the pH meter weekly", OwnerID: e.acc["olga"].ID, Due: e.clock.now().AddDate(0, 0, 14)}
		_, err = devs.InvestigateDeviation(qa, e.devID, quality.DeviationStep{}, quality.Findings{RootCause: "pH meter drifted since its last calibration.", Actions: []quality.Action{act}})
		must(t, err)
		_, err = devs.PlanEffectivenessCheck(qa, e.devID, quality.DeviationStep{}, e.clock.now().AddDate(0, 1, 0))
		must(t, err)
		// Before the summary, the client has nothing to approve.
		closure := esign.ChallengeRequest{Entity: "deviation_closure", EntityID: e.devID, Meaning: string(esign.Approved)}
		_, err = e.svc.Challenge(mia, closure)
		wantErr(t, err, errs.Conflict, "")
		_, err = ags.MeetObligation(qa, summary.ID, 0, "Résumé : la sonde de pH dérivait ; étalonnage hebdomadaire instauré.")
		must(t, err)
		_, err = e.sign(t, "quinn", "deviation", e.devID, esign.Approved)
		wantErr(t, err, errs.Conflict, "")
		// Only the client's manager may approve: not its user, not staff.
		for _, who := range []context.Context{carla, qa, beta} {
			_, err = e.svc.Challenge(who, closure)
			wantErr(t, err, errs.NotFound, "")
		}
		_, err = e.sign(t, "mia", "deviation_closure", e.devID, esign.Approved)
		must(t, err)
		_, err = e.sign(t, "quinn", "deviation", e.devID, esign.Approved)
		must(t, err)
		d, err := devs.Deviation(qa, e.devID)
		must(t, err)
		if d.State != quality.DeviationClosed {
			t.Fatalf("closed with the client's approval: %+v", d)
		}

		// New terms: the client approves its master batch records too.
		// QA's approval of a master in review is refused until the
		// client's manager signed it; a master not in review has nothing
		// for the client to approve.
		cur, err := ags.Agreement(qa, e.alpha.ID)
		must(t, err)
		cur.ClientApprovesMasters = true
		_, err = ags.SetAgreement(qa, *cur, "Avenant n° 2 : le client approuve ses dossiers de lot.")
		must(t, err)
		prod := db.Production()
		m := production.Master{ProductID: e.vial.ID, Code: "MBR-AGR", Title: "Alphacaïne, procédé révisé", BatchSize: 1000, Unit: "flacons", Hours: 4,
			Operations: []production.Operation{{Title: "Préparation", Steps: []production.Step{
				{Kind: production.StepClearance, Text: "Vide de ligne", Checklist: []string{"Ligne vide"}}}}}}
		must(t, prod.CreateMaster(sup, &m))
		// The client's user reads its masters past the draft only, and
		// the materials they add; the other client nothing.
		_, err = prod.Master(carla, m.ID)
		wantErr(t, err, errs.NotFound, "")
		_, err = prod.MasterMaterials(carla, m.ID)
		wantErr(t, err, errs.NotFound, "")
		masterApproval := esign.ChallengeRequest{Entity: "master_client", EntityID: m.ID, Meaning: string(esign.Approved)}
		// A draft is the site's work: the client has nothing to approve,
		// and does not find it.
		_, err = e.svc.Challenge(mia, masterApproval)
		wantErr(t, err, errs.NotFound, "")
		_, err = e.sign(t, "victor", "master", m.ID, esign.Authored)
		must(t, err)
		_, err = e.sign(t, "quinn", "master", m.ID, esign.Approved)
		wantErr(t, err, errs.Conflict, "")
		if got, err := prod.Master(carla, m.ID); err != nil || got.Status != production.MasterInReview || len(got.Operations) != 1 {
			t.Fatalf("the client's user reads its master in review: %+v %v", got, err)
		}
		if mats, err := prod.MasterMaterials(carla, m.ID); err != nil || len(mats) != 0 {
			t.Fatalf("the materials of a master adding none: %v %v", mats, err)
		}
		_, err = prod.Master(beta, m.ID)
		wantErr(t, err, errs.NotFound, "")
		_, err = prod.MasterMaterials(beta, m.ID)
		wantErr(t, err, errs.NotFound, "")
		// Reading the client's approval is open to its user and QA;
		// signing it is not (below).
		for _, who := range []context.Context{carla, qa} {
			if _, err := e.svc.Signatures(who, "master_client", m.ID); err != nil {
				t.Fatalf("reading the client's approval: %v", err)
			}
		}
		for _, who := range []context.Context{carla, qa, beta} {
			_, err = e.svc.Challenge(who, masterApproval)
			wantErr(t, err, errs.NotFound, "")
		}
		_, err = e.sign(t, "mia", "master_client", m.ID, esign.Approved)
		must(t, err)
		_, err = e.sign(t, "quinn", "master", m.ID, esign.Approved)
		must(t, err)
		if got, err := prod.Master(qa, m.ID); err != nil || got.Status != production.MasterApproved {
			t.Fatalf("the master after both approvals: %+v %v", got, err)
		}

		// Audited: the agreement, the obligations' course.
		cmds := map[string]bool{}
		for _, en := range allEntries(t, db, "quality_obligation", notify.ID) {
			cmds[en.Command] = true
		}
		for _, c := range []string{"deviation.assess", "quality.obligation.escalate", "quality.obligation.meet"} {
			if !cmds[c] {
				t.Errorf("no audit entry of %s on the notification (%v)", c, cmds)
			}
		}
		if len(allEntries(t, db, "quality_agreement", "")) == 0 {
			t.Error("the agreement is not audited")
		}
	})
}
