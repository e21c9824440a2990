package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/store"
)

// devEnv is prodEnv with a second QA (quentin) and a batch of the vial
// whose pH was recorded out of limits: the batch record opened a
// deviation.
type devEnv struct {
	*prodEnv
	batch production.Batch
	devID string
}

func newDevEnv(t *testing.T, db *store.DB) *devEnv {
	t.Helper()
	e := &devEnv{prodEnv: newProdEnv(t, db)}
	hash, err := seedHash()
	must(t, err)
	must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
		a := identity.Account{Username: "quentin", Name: "Quentin Qualité", Roles: []identity.Role{identity.RoleQA}}
		if err := tx.CreateAccount(&a, hash); err != nil {
			return err
		}
		e.acc[a.Username] = &a
		return nil
	}))
	svc, sup, op := db.Production(), e.actor("victor"), e.actor("olga")
	e.batch = e.order(t, e.vial, 10000)
	_, err = svc.ScheduleBatch(sup, e.batch.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
	must(t, err)
	_, err = svc.MoveBatch(sup, e.batch.ID, production.MoveRelease, "")
	must(t, err)
	rec, err := svc.Record(sup, e.batch.ID)
	must(t, err)
	_, err = svc.RecordStep(op, e.batch.ID, production.Entry{StepID: rec.Steps[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
	must(t, err)
	r, err := svc.RecordStep(op, e.batch.ID, production.Entry{StepID: rec.Steps[1].ID, Value: "7,5", ConfirmOutOfLimits: true, Comment: "Second reading the same."})
	must(t, err)
	if r.DeviationID == "" {
		t.Fatal("the exception opened no deviation")
	}
	e.devID = r.DeviationID
	return e
}

// signs as username with a fresh challenge asked beforehand: the
// challenge is asked on the test's goroutine, the signature may be given
// on another.
func (e *devEnv) signer(t *testing.T, username, id string) func() (*esign.Signature, error) {
	t.Helper()
	ctx := e.actor(username)
	ch := e.challenge(t, ctx, "deviation", id, esign.Approved)
	return func() (*esign.Signature, error) {
		return e.svc.Sign(ctx, esign.SignRequest{Entity: "deviation", EntityID: id, Meaning: string(esign.Approved), Username: username,
			Password: password, Challenge: ch})
	}
}

func yes() *bool { b := true; return &b }

// allEntries returns every audit entry of one record, whoever's client owns
// it.
func allEntries(t *testing.T, db *store.DB, entity, id string) []audit.Entry {
	t.Helper()
	es, err := db.Audit().Entries(as(identity.System), audit.Filter{Entity: entity, EntityID: id})
	if err != nil {
		t.Fatalf("audit entries of %s %s: %v", entity, id, err)
	}
	return es
}

// TestDeviationWorkflow: a deviation the batch record opened goes through
// the whole workflow: assessed by a supervisor, approved by QA, investigated
// with a CAPA action, the action done by its owner, the closure signed by
// QA (two QA at once: one wins), the effectiveness checked by another QA on
// its day; each refusal on the way changes nothing; the record shows the
// deviation's state from the same table; every step is audited.
func TestDeviationWorkflow(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newDevEnv(t, db)
		svc := db.Deviations()
		sup, qa, qa2, op := e.actor("victor"), e.actor("quinn"), e.actor("quentin"), e.actor("olga")
		d, err := svc.Deviation(sup, e.devID)
		must(t, err)
		if d.State != quality.DeviationOpen || d.Source != quality.SourceBatchRecord || d.BatchLot != e.batch.Lot || !strings.HasPrefix(d.Code, "DEV") || d.Version != 1 {
			t.Fatalf("opened by the record: %+v", d)
		}

		// The operator may not assess; a supervisor does.
		as := quality.Assessment{Class: quality.Major, Reason: "pH above its limit before filling.",
			Impacts: []quality.Impact{{BatchID: e.batch.ID, Affects: yes()}}}
		_, err = svc.AssessDeviation(op, e.devID, quality.DeviationStep{}, as)
		wantErr(t, err, errs.Forbidden, "")
		d, err = svc.AssessDeviation(sup, e.devID, quality.DeviationStep{Version: 1}, as)
		must(t, err)
		if d.State != quality.DeviationAssessed || d.AssessedName != "Victor Vérificateur" || d.Impacts[0].Lot != e.batch.Lot || d.Version != 2 {
			t.Fatalf("assessed: %+v", d)
		}
		// A step decided on a version read before: stale, nothing written.
		before := counts(t, db)
		_, err = svc.ApproveAssessment(qa, e.devID, quality.DeviationStep{Version: 1})
		wantErr(t, err, errs.Stale, "")
		sameCounts(t, db, before)
		d, err = svc.ApproveAssessment(qa, e.devID, quality.DeviationStep{Version: 2})
		must(t, err)
		if d.State != quality.DeviationApproved || d.ApprovedName != "Quinn Qualité" {
			t.Fatalf("approved: %+v", d)
		}

		// The investigation: a major deviation needs an action; the owner
		// is a member of staff.
		_, err = svc.InvestigateDeviation(qa, e.devID, quality.DeviationStep{}, quality.Findings{RootCause: "pH meter drifted since its last calibration."})
		wantErr(t, err, errs.Invalid, "actions")
		act := quality.Action{Description: "Calibrate the pH meter weekly", OwnerID: e.acc["carla"].ID, Due: now.AddDate(0, 0, 14)}
		_, err = svc.InvestigateDeviation(qa, e.devID, quality.DeviationStep{}, quality.Findings{RootCause: "pH meter drifted since its last calibration.", Actions: []quality.Action{act}})
		wantErr(t, err, errs.Invalid, "owner_id")
		act.OwnerID = e.acc["olga"].ID
		d, err = svc.InvestigateDeviation(qa, e.devID, quality.DeviationStep{}, quality.Findings{RootCause: "pH meter drifted since its last calibration.", Actions: []quality.Action{act}})
		must(t, err)
		if d.State != quality.DeviationInvestigated || len(d.Actions) != 1 || d.Actions[0].ID == "" || d.Actions[0].OwnerName != "Olga Opératrice" {
			t.Fatalf("investigated: %+v", d)
		}
		actionID := d.Actions[0].ID
		items, err := svc.Actions(qa, quality.ActionFilter{Open: true})
		must(t, err)
		if len(items) != 1 || items[0].DeviationCode != d.Code || items[0].Lot != e.batch.Lot || items[0].Overdue {
			t.Fatalf("CAPA list: %+v", items)
		}
		if mine, err := svc.Actions(e.actor("paula"), quality.ActionFilter{}); err != nil || len(mine) != 0 {
			t.Fatalf("another's actions: %+v %v", mine, err)
		}
		// Done by its owner, with evidence; not by another supervisor.
		_, err = svc.CompleteAction(sup, e.devID, actionID, "Weekly calibration in SOP-QC-012 v4.")
		wantErr(t, err, errs.Forbidden, "")
		d, err = svc.CompleteAction(op, e.devID, actionID, "Weekly calibration in SOP-QC-012 v4.")
		must(t, err)
		if d.Actions[0].DoneAt == nil || d.Actions[0].DoneName != "Olga Opératrice" {
			t.Fatalf("action done: %+v", d.Actions[0])
		}
		_, err = svc.CompleteAction(op, e.devID, actionID, "Again, a second time.")
		wantErr(t, err, errs.Conflict, "")

		// The closure is a signature: refused without the check's day,
		// signing nothing.
		_, err = e.signer(t, "quinn", e.devID)()
		wantErr(t, err, errs.Invalid, "effectiveness_due")
		if sigs, _ := e.svc.Signatures(qa, "deviation", e.devID); len(sigs) != 0 {
			t.Fatalf("a refused closure left signatures: %+v", sigs)
		}
		due := now.AddDate(0, 1, 0)
		_, err = svc.PlanEffectivenessCheck(sup, e.devID, quality.DeviationStep{}, due)
		wantErr(t, err, errs.Forbidden, "")
		_, err = svc.PlanEffectivenessCheck(qa, e.devID, quality.DeviationStep{}, due)
		must(t, err)

		// Two QA sign the closure at once: one wins.
		signs := []func() (*esign.Signature, error){e.signer(t, "quinn", e.devID), e.signer(t, "quentin", e.devID)}
		results := make([]error, 2)
		var wg sync.WaitGroup
		for i := range signs {
			wg.Add(1)
			go func() { defer wg.Done(); _, results[i] = signs[i]() }()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			if err == nil {
				won++
			} else if !errs.Is(err, errs.Conflict) && !errs.Is(err, errs.Stale) {
				t.Errorf("the losing closure: %v", err)
			}
		}
		sigs, err := e.svc.Signatures(qa, "deviation", e.devID)
		must(t, err)
		if won != 1 || len(sigs) != 1 || sigs[0].Status != esign.Valid {
			t.Fatalf("two closures at once: %d won, signatures %+v", won, sigs)
		}
		d, err = svc.Deviation(qa, e.devID)
		must(t, err)
		if d.State != quality.DeviationClosed || d.ClosedName == "" || d.EffectivenessDue == nil || !d.Settled(e.batch.ID) {
			t.Fatalf("closed: %+v", d)
		}

		// The effectiveness check: not before its day, never by the
		// investigator (quinn), by another QA on its day.
		_, err = svc.CheckEffectiveness(qa2, e.devID, quality.DeviationStep{}, true, "No pH drift over the month's batches.")
		wantErr(t, err, errs.Conflict, "")
		e.clock.set(due.Add(time.Hour))
		_, err = svc.CheckEffectiveness(qa, e.devID, quality.DeviationStep{}, true, "No pH drift over the month's batches.")
		wantErr(t, err, errs.Forbidden, "")
		if !strings.Contains(errs.MessageOf(err, "en"), "other than its investigator") {
			t.Errorf("the investigator's check: %v", err)
		}
		d, err = svc.CheckEffectiveness(qa2, e.devID, quality.DeviationStep{}, true, "No pH drift over the month's batches.")
		must(t, err)
		if d.State != quality.DeviationVerified || d.CheckedName != "Quentin Qualité" || d.Effective == nil || !*d.Effective {
			t.Fatalf("verified: %+v", d)
		}
		// The closure's signature still holds: the check changes nothing
		// it signed.
		if sigs, _ := e.svc.Signatures(qa, "deviation", e.devID); len(sigs) != 1 || sigs[0].Status != esign.Valid {
			t.Fatalf("signature after the check: %+v", sigs)
		}

		// The batch record reads the state from the same table.
		rec, err := db.Production().Record(sup, e.batch.ID)
		must(t, err)
		if len(rec.Deviations) != 1 || rec.Deviations[0].Status != string(quality.DeviationVerified) {
			t.Fatalf("record's deviations: %+v", rec.Deviations)
		}
		// Every step is audited under its command.
		got := map[string]bool{}
		for _, en := range allEntries(t, db, "deviation", e.devID) {
			got[en.Command] = true
		}
		for _, c := range []string{"batch.step.record", "deviation.assess", "deviation.approve", "deviation.investigate", "deviation.plan_check", "signature.sign", "deviation.check"} {
			if !got[c] {
				t.Errorf("no audit entry of %s on the deviation (%v)", c, got)
			}
		}
		if len(allEntries(t, db, "deviation_action", actionID)) == 0 {
			t.Error("the action is not audited")
		}
	})
}

// TestDeviationRefusals: a deviation opened by hand; QA approving its own
// assessment; the closure with a batch's impact undecided; the
// investigator checking the effectiveness is in TestDeviationWorkflow.
func TestDeviationRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newDevEnv(t, db)
		svc := db.Deviations()
		sup, qa, qa2 := e.actor("victor"), e.actor("quinn"), e.actor("quentin")
		// Opened by hand: the batch names the client; a client's user may
		// not report one.
		_, err := svc.OpenDeviation(e.actor("carla"), quality.NewDeviation{BatchID: e.batch.ID, Title: "Label misprint", Description: "Labels of the batch show the wrong expiry."})
		wantErr(t, err, errs.Forbidden, "")
		_, err = svc.OpenDeviation(sup, quality.NewDeviation{BatchID: e.batch.ID, Title: "x", Description: "Labels of the batch show the wrong expiry."})
		wantErr(t, err, errs.Invalid, "title")
		_, err = svc.OpenDeviation(sup, quality.NewDeviation{ClientID: e.beta.ID, Title: "Label misprint", Description: "Labels of the batch show the wrong expiry."})
		wantErr(t, err, errs.Invalid, "client_id")
		events, err := db.Count(as(identity.System), "outbox")
		must(t, err)
		d, err := svc.OpenDeviation(sup, quality.NewDeviation{BatchID: e.batch.ID, Title: "Label misprint", Description: "Labels of the batch show the wrong expiry."})
		must(t, err)
		if n, err := db.Count(as(identity.System), "outbox"); err != nil || n != events+1 {
			t.Errorf("opened by hand: %d outbox events, want %d (%v)", n, events+1, err)
		}
		if d.ClientID != e.alpha.ID || d.Source != quality.SourceManual || d.OpenedName != "Victor Vérificateur" || d.StepID != "" || d.Version != 1 {
			t.Fatalf("opened by hand: %+v", d)
		}
		// The batch record lists it with the batch's (no step).
		rec, err := db.Production().Record(sup, e.batch.ID)
		must(t, err)
		if len(rec.Deviations) != 2 {
			t.Fatalf("record's deviations: %+v", rec.Deviations)
		}

		// QA assesses (its impact left undecided) and may not approve its
		// own assessment; another QA does.
		_, err = svc.AssessDeviation(qa, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Minor, Reason: "Labels reprinted before packing.", RecurrenceOf: "DEV-NOPE"})
		wantErr(t, err, errs.Invalid, "recurrence_of")
		first, err := svc.Deviation(qa, e.devID)
		must(t, err)
		_, err = svc.AssessDeviation(qa, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Minor, Reason: "Labels reprinted before packing.", RecurrenceOf: first.Code})
		must(t, err)
		before := counts(t, db)
		_, err = svc.ApproveAssessment(qa, d.ID, quality.DeviationStep{})
		wantErr(t, err, errs.Forbidden, "")
		sameCounts(t, db, before)
		_, err = svc.ApproveAssessment(qa2, d.ID, quality.DeviationStep{})
		must(t, err)
		d, err = svc.InvestigateDeviation(sup, d.ID, quality.DeviationStep{}, quality.Findings{RootCause: "Wrong template chosen at the printer."})
		must(t, err)
		if d.State != quality.DeviationInvestigated || d.RecurrenceOf != first.Code {
			t.Fatalf("investigated: %+v", d)
		}
		// The closure with the batch's impact undecided: refused, nothing
		// signed.
		_, err = e.signer(t, "quinn", d.ID)()
		wantErr(t, err, errs.Conflict, "")
		if !strings.Contains(errs.MessageOf(err, "en"), e.batch.Lot) {
			t.Errorf("the undecided impact names no lot: %v", err)
		}
		if sigs, _ := e.svc.Signatures(qa, "deviation", d.ID); len(sigs) != 0 {
			t.Fatalf("a refused closure left signatures: %+v", sigs)
		}
		// A supervisor's signature closes nothing: refused too.
		_, err = e.svc.Challenge(e.actor("victor"), esign.ChallengeRequest{Entity: "deviation", EntityID: d.ID, Meaning: string(esign.Approved)})
		wantErr(t, err, errs.Forbidden, "")
	})
}

// TestDeviationScope: a client's user sees its own batches' deviations'
// codes, states and classes, never names nor words; another client's user
// and staff not assigned to the client find nothing.
func TestDeviationScope(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newDevEnv(t, db)
		svc := db.Deviations()
		_, err := svc.AssessDeviation(e.actor("victor"), e.devID, quality.DeviationStep{}, quality.Assessment{Class: quality.Critical, Reason: "pH above its limit before filling."})
		must(t, err)
		d, err := svc.Deviation(e.actor("carla"), e.devID)
		must(t, err)
		if d.Code == "" || d.Class != quality.Critical || d.State != quality.DeviationAssessed || d.AssessedName != "" || d.AssessedBy != "" ||
			d.ClassReason != "" || d.Title != "" {
			t.Fatalf("the client's view: %+v", d)
		}
		list, err := svc.Deviations(e.actor("carla"), quality.DeviationFilter{})
		must(t, err)
		if len(list) != 1 || list[0].AssessedName != "" {
			t.Fatalf("the client's list: %+v", list)
		}
		if _, err := svc.Actions(e.actor("carla"), quality.ActionFilter{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the client's CAPA list: %v", err)
		}
		betaUser := identity.Actor{UserID: "0195f1a2-0000-7000-8000-0000000beta1", Username: "bea", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID}
		betaQA := e.acc["quinn"].Actor()
		betaQA.Assigned = []string{e.beta.ID}
		for name, ctx := range map[string]context.Context{"beta's user": as(betaUser), "QA of beta only": as(betaQA)} {
			if _, err := svc.Deviation(ctx, e.devID); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s reads alpha's deviation: %v", name, err)
			}
			if l, err := svc.Deviations(ctx, quality.DeviationFilter{}); err != nil || len(l) != 0 {
				t.Errorf("%s lists %d deviations (%v)", name, len(l), err)
			}
		}
		if _, err := svc.AssessDeviation(as(betaQA), e.devID, quality.DeviationStep{}, quality.Assessment{Class: quality.Minor, Reason: "Not ours to assess at all."}); !errs.Is(err, errs.NotFound) {
			t.Errorf("QA of beta assesses alpha's deviation: %v", err)
		}
		// The board's filters.
		for _, c := range []struct {
			f    quality.DeviationFilter
			want int
		}{
			{quality.DeviationFilter{States: []quality.DeviationState{quality.DeviationAssessed}}, 1},
			{quality.DeviationFilter{States: []quality.DeviationState{quality.DeviationOpen}}, 0},
			{quality.DeviationFilter{Class: quality.Critical}, 1},
			{quality.DeviationFilter{Class: quality.Minor}, 0},
			{quality.DeviationFilter{BatchID: e.batch.ID}, 1},
			{quality.DeviationFilter{BatchID: "not-an-id"}, 0},
			{quality.DeviationFilter{OlderThan: 3}, 0},
		} {
			l, err := svc.Deviations(e.actor("quinn"), c.f)
			if err != nil || len(l) != c.want {
				t.Errorf("filter %+v: %d deviations, want %d (%v)", c.f, len(l), c.want, err)
			}
		}
		e.clock.set(now.AddDate(0, 0, 5))
		if l, err := svc.Deviations(e.actor("quinn"), quality.DeviationFilter{OlderThan: 3}); err != nil || len(l) != 1 {
			t.Errorf("older than 3 days, 5 days on: %d (%v)", len(l), err)
		}
	})
}
