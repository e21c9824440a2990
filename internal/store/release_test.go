package store_test

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/store"
)

// inReview runs a vial batch of alpha through the floor, its pH out of
// limits (an exception that opens a deviation), and hands it to QA: the
// batch in review, and the id of its exception's step.
func (e *prodEnv) inReview(t *testing.T) (production.Batch, string) {
	t.Helper()
	svc, sup, op := e.db.Production(), e.actor("victor"), e.actor("olga")
	b := e.order(t, e.vial, 10000)
	_, err := svc.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
	must(t, err)
	_, err = svc.MoveBatch(sup, b.ID, production.MoveRelease, "")
	must(t, err)
	rec, err := svc.Record(sup, b.ID)
	must(t, err)
	st := rec.Steps
	_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
	must(t, err)
	ph, err := svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,5", ConfirmOutOfLimits: true, Comment: "Second reading the same."})
	must(t, err)
	r, err := svc.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-OK", Quantity: "10"})
	must(t, err)
	_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
	must(t, err)
	r, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[3].ID, Equipment: "E1"})
	must(t, err)
	_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
	must(t, err)
	_, err = e.sign(t, "victor", "batch_step", r.ID, esign.Verified)
	must(t, err)
	_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[4].ID, Confirm: true})
	must(t, err)
	_, err = svc.MoveBatch(op, b.ID, production.MoveComplete, "")
	must(t, err)
	moved, err := svc.MoveBatch(e.actor("quinn"), b.ID, production.MoveReview, "")
	must(t, err)
	return *moved, ph.ID
}

// signWith signs the batch as username with a reason.
func (e *prodEnv) signWith(t *testing.T, username, batchID string, m esign.Meaning, reason string) (*esign.Signature, error) {
	t.Helper()
	ctx := e.actor(username)
	ch := e.challenge(t, ctx, "batch", batchID, m)
	return e.svc.Sign(ctx, esign.SignRequest{Entity: "batch", EntityID: batchID, Meaning: string(m), Username: username, Password: password,
		Reason: reason, Challenge: ch})
}

// TestQAReviewAndDecision: QA justifies each exception and signs its review
// by exception; the qualified person cannot certify a batch whose
// deviation is open and whose specification is missing, and is told why in
// words; the rejection, with its reason, writes one line of the
// append-only register, which the batch's client sees without the
// qualified person's name and another client does not see at all.
func TestQAReviewAndDecision(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		rel, qa, qp := db.Release(), e.actor("quinn"), e.actor("paula")
		b, phStep := e.inReview(t)

		// QA's review cannot be signed before the exception is justified.
		if _, err := e.sign(t, "quinn", "batch", b.ID, esign.Reviewed); !errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageOf(err, "en"), "Justify the exception of step") {
			t.Fatalf("review signed with an exception unjustified: %v", err)
		}
		// Only the batch's exceptions, by QA, with words enough.
		_, err := rel.Justify(qa, b.ID, map[string]string{"not-a-step": "Justified at length."}, 0, "")
		wantErr(t, err, errs.Invalid, "justifications")
		_, err = rel.Justify(qa, b.ID, map[string]string{phStep: "ok"}, 0, "")
		wantErr(t, err, errs.Invalid, "justifications")
		_, err = rel.Justify(e.actor("olga"), b.ID, map[string]string{phStep: "Justified by an operator."}, 0, "")
		wantErr(t, err, errs.NotFound, "")
		_, err = rel.Justify(e.actor("carla"), b.ID, map[string]string{phStep: "Justified by the client."}, 0, "")
		wantErr(t, err, errs.NotFound, "")
		rv, err := rel.Justify(qa, b.ID, map[string]string{phStep: "pH 7.5 against 7.2: buffer re-checked, see deviation."}, 0, "")
		must(t, err)
		if rv.Version != 1 || rv.Justifications[phStep] == "" {
			t.Fatalf("justified: %+v", rv)
		}
		// Changed after its first entry: a reason, and the version it edits.
		_, err = rel.Justify(qa, b.ID, map[string]string{phStep: "pH 7.5 against 7.2: buffer re-prepared, see deviation."}, 1, "")
		wantErr(t, err, errs.Invalid, "reason")
		_, err = rel.Justify(qa, b.ID, map[string]string{phStep: "pH 7.5 against 7.2: buffer re-prepared, see deviation."}, 9, "Wording")
		wantErr(t, err, errs.Stale, "")

		// The QP may not sign QA's review: refused at the challenge,
		// before any credentials.
		if _, err := e.svc.Challenge(e.actor("paula"), esign.ChallengeRequest{Entity: "batch", EntityID: b.ID, Meaning: string(esign.Reviewed)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("review signed by the QP: %v", err)
		}
		_, err = e.sign(t, "quinn", "batch", b.ID, esign.Reviewed)
		must(t, err)
		got, err := db.Production().Batch(qa, b.ID)
		must(t, err)
		if got.State != production.BatchQAReviewed {
			t.Fatalf("after QA's review: %s", got.State)
		}
		if rv, _ = rel.Review(qa, b.ID); rv.ReviewedName != "Quinn Qualité" || rv.SignatureID == "" {
			t.Errorf("the review's signature: %+v", rv)
		}
		_, err = rel.Justify(qa, b.ID, map[string]string{phStep: "Changed after the review was signed."}, 2, "Late")
		wantErr(t, err, errs.Conflict, "")

		// Certification refused, in words: no specification, the
		// deviation open. Nothing written.
		_, err = e.sign(t, "paula", "batch", b.ID, esign.Released)
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("certified with blockers: %v", err)
		}
		msg := errs.MessageOf(err, "fr")
		if !strings.Contains(msg, "ne peut pas être certifié") || !strings.Contains(msg, "Aucune spécification") || !strings.Contains(msg, "La déviation DEV") {
			t.Errorf("the refusal does not say what blocks: %q", msg)
		}
		if reg, _ := rel.Register(qp, quality.RegisterFilter{}); len(reg) != 0 {
			t.Fatalf("a refused certification wrote the register: %+v", reg)
		}
		// QA may not decide; the rejection needs its reason.
		if _, err := e.svc.Challenge(e.actor("quinn"), esign.ChallengeRequest{Entity: "batch", EntityID: b.ID, Meaning: string(esign.Rejected)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("rejected by QA: %v", err)
		}
		if _, err := e.signWith(t, "paula", b.ID, esign.Rejected, ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("rejected without a reason: %v", err)
		}
		// Two hours after the batch's completion.
		e.clock.set(now.Add(2 * time.Hour))
		_, err = e.signWith(t, "paula", b.ID, esign.Rejected, "pH out of limits; the deviation's risk assessment does not support release.")
		must(t, err)
		got, _ = db.Production().Batch(qa, b.ID)
		if got.State != production.BatchRejected {
			t.Fatalf("after the rejection: %s", got.State)
		}
		reg, err := rel.Register(qp, quality.RegisterFilter{})
		must(t, err)
		if len(reg) != 1 || reg[0].Decision != quality.DecisionRejected || reg[0].QPName != "Paula Personne Qualifiée" || reg[0].Lot != b.Lot || reg[0].Certificate != "" {
			t.Fatalf("register: %+v", reg)
		}
		// Decided once.
		if _, err := e.sign(t, "paula", "batch", b.ID, esign.Released); !errs.Is(err, errs.Conflict) {
			t.Fatalf("certified after the rejection: %v", err)
		}
		// The client sees its line without the QP's name; the other
		// client sees nothing; an operator may not read the register.
		cl, err := rel.Register(e.actor("carla"), quality.RegisterFilter{})
		must(t, err)
		if len(cl) != 1 || cl[0].QPName != "" || cl[0].QPID != "" {
			t.Errorf("the client's register: %+v", cl)
		}
		_, err = rel.Register(e.actor("olga"), quality.RegisterFilter{})
		wantErr(t, err, errs.Forbidden, "")
		// The quality unit's figures: one batch decided, rejected, after
		// its completion; its deviation open, opened today.
		m, err := rel.Metrics(qa)
		must(t, err)
		if m.Decided != 1 || m.Rejected != 1 || m.RightFirstTime != 0 || m.LeadTimeMeanHours != 2 || m.LeadTimeMedianHours != 2 || m.OpenDeviations["0-7"] != 1 {
			t.Errorf("metrics: %+v", m)
		}
		_, err = rel.Metrics(e.actor("olga"))
		wantErr(t, err, errs.Forbidden, "")
		_, err = rel.Metrics(e.actor("carla"))
		wantErr(t, err, errs.Forbidden, "")
		// The register refuses any change at the database itself.
		for _, q := range []string{`UPDATE certifications SET decision = 'certified'`, `DELETE FROM certifications`} {
			if err := db.ExecRaw(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", q, err)
			}
		}
		if reg, _ = rel.Register(qp, quality.RegisterFilter{}); len(reg) != 1 || reg[0].Decision != quality.DecisionRejected {
			t.Errorf("the register changed: %+v", reg)
		}
	})
}
