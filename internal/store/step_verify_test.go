package store_test

import (
	"context"
	"testing"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/store"
)

// TestCorrectorDoesNotVerify: the person who corrects a critical step's
// value cannot then sign it verified; the second person differs from
// whoever entered the value now recorded, corrections included.
func TestCorrectorDoesNotVerify(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		prod := db.Production()
		m := production.Master{ProductID: e.vial.ID, Code: "MBR-VIAL-CRIT", Title: "Alphacaïne, volume critique", BatchSize: 10000, Unit: "flacons", Hours: 4,
			Operations: []production.Operation{{Title: "Compression", Steps: []production.Step{
				{Kind: production.StepClearance, Text: "Vide de ligne", Checklist: []string{"Ligne vide"}},
				{Kind: production.StepNumeric, Text: "Volume de remplissage", Unit: "mL", Target: f64(100), Low: f64(80), High: f64(120), Decimals: 0, Critical: true},
			}}}}
		must(t, db.WriteHistory(as(identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
			// The vial's first master gives way to this one.
			if err := prod.CreateMaster(ctx, &m); err != nil {
				return err
			}
			return h.SetMasterStatus(m.ID, production.MasterEffective)
		}))
		sup, op := e.actor("victor"), e.actor("olga")
		e.train(t, qualification.ForMaster(m.Code, m.Version))
		b := e.order(t, e.vial, 10000)
		_, err := prod.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		_, err = prod.MoveBatch(sup, b.ID, production.MoveRelease, "")
		must(t, err)
		rec, err := prod.Record(sup, b.ID)
		must(t, err)
		st := rec.Steps
		if len(st) != 2 || !st[1].Step.Critical {
			t.Fatalf("the batch follows another master: %+v", st)
		}
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true}, Reason: "Test slot a day ahead."})
		must(t, err)
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "100"})
		must(t, err)
		// Victor, the supervisor, corrects the value olga entered.
		r, err := prod.CorrectStep(sup, b.ID, production.Entry{StepID: st[1].ID, Value: "101"}, "Misread the tester")
		must(t, err)
		if r.Corrections != 1 || r.State != production.StepRecorded {
			t.Fatalf("corrected: %+v", r)
		}
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
		must(t, err)
		// Victor entered the value now recorded: he may not verify it.
		_, err = e.sign(t, "victor", "batch_step", r.ID, esign.Verified)
		wantErr(t, err, errs.Forbidden, "")
		if got := errs.MessageOf(err, "en"); got != "You corrected this step's value: its verification must be signed by another person." {
			t.Errorf("refusal: %q", got)
		}
		if got, _ := prod.Batch(sup, b.ID); got.StepsDone != 1 {
			t.Fatalf("the step is done after the corrector's verification: %d steps done", got.StepsDone)
		}
		// Nor olga, who performed it; quinn, from QA, does.
		if _, err := e.svc.Challenge(op, esign.ChallengeRequest{Entity: "batch_step", EntityID: r.ID, Meaning: string(esign.Verified)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("verified by the performer: %v", err)
		}
		_, err = e.sign(t, "quinn", "batch_step", r.ID, esign.Verified)
		must(t, err)
		if got, _ := prod.Batch(sup, b.ID); got.StepsDone != 2 {
			t.Fatalf("the step is not done after a third person's verification: %d steps done", got.StepsDone)
		}
	})
}
