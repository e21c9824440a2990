package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

func f64(v float64) *float64 { return &v }

// prodEnv is the signing site of sigEnv with production data: a sterile
// vial product of client alpha with an effective master (line clearance,
// pH, a signed material addition, a critical equipment check, an
// instruction), a tablet product of alpha, a draft master of beta, and lots
// of the active substance, one released and one in quarantine.
type prodEnv struct {
	*sigEnv
	vial, tablet, betaSyrup production.Product
	api                     production.Material
	lotOK, lotQ             production.Lot
	master                  production.Master
	// people are the persons of the staff linked to the accounts of the
	// floor, by username.
	people map[string]site.Person
}

func newProdEnv(t *testing.T, db *store.DB) *prodEnv {
	t.Helper()
	e := &prodEnv{sigEnv: newSigEnv(t, db), people: map[string]site.Person{}}
	e.vial = production.Product{ClientID: e.alpha.ID, Code: "ALP-VIAL", Name: "Alphacaïne 10 mg/mL", Form: site.FormVial, Strength: "10 mg/mL", Presentation: "Flacon 10 mL", Storage: "2–8 °C"}
	e.tablet = production.Product{ClientID: e.alpha.ID, Code: "ALP-TAB", Name: "Alphadol 500 mg", Form: site.FormTablet, Strength: "500 mg", Presentation: "Boîte de 30", Storage: "< 25 °C"}
	e.betaSyrup = production.Product{ClientID: e.beta.ID, Code: "BET-SYR", Name: "Betasirop", Form: site.FormSyrup, Strength: "5 mg/mL", Presentation: "Flacon 150 mL", Storage: "< 25 °C"}
	e.api = production.Material{Code: "API-1", Name: "Alphacaïne base", Kind: production.MaterialRaw, Unit: "kg"}
	// A history load: the masters are effective before the test begins.
	prod := db.Production()
	must(t, db.WriteHistory(as(identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, p := range []*production.Product{&e.vial, &e.tablet, &e.betaSyrup} {
			if err := prod.CreateProduct(ctx, p); err != nil {
				return err
			}
		}
		if err := prod.CreateMaterial(ctx, &e.api); err != nil {
			return err
		}
		e.lotOK = production.Lot{MaterialID: e.api.ID, Code: "LOT-OK", Quantity: 100, ExpiresOn: now.AddDate(1, 0, 0)}
		e.lotQ = production.Lot{MaterialID: e.api.ID, Code: "LOT-Q", Status: production.LotQuarantine, Quantity: 100, ExpiresOn: now.AddDate(1, 0, 0)}
		for _, l := range []*production.Lot{&e.lotOK, &e.lotQ} {
			if err := prod.CreateLot(ctx, l); err != nil {
				return err
			}
		}
		// Received in quarantine, LOT-OK is released by QA's approval.
		qa := e.acc["quinn"]
		if err := h.SignRecord("lot", e.lotOK.ID, esign.Approved, qa.ID, qa.Name, "Certificate of analysis conforms"); err != nil {
			return err
		}
		e.lotOK.Status = production.LotReleased
		ops := func() []production.Operation {
			return []production.Operation{{Title: "Préparation", Steps: []production.Step{
				{Kind: production.StepClearance, Text: "Vide de ligne", Checklist: []string{"Ligne vide", "Documents du lot précédent retirés"}},
				{Kind: production.StepNumeric, Text: "Mesurer le pH", Unit: "pH", Target: f64(7), Low: f64(6.8), High: f64(7.2), Decimals: 1},
				{Kind: production.StepMaterial, Text: "Ajouter le principe actif", MaterialID: e.api.ID, Quantity: 10, Tolerance: 2, Sign: true},
				{Kind: production.StepEquipment, Text: "Vérifier la remplisseuse", EquipmentKind: "filler", Critical: true},
				{Kind: production.StepInstruction, Text: "Lancer le remplissage"},
			}}}
		}
		e.master = production.Master{ProductID: e.vial.ID, Code: "MBR-VIAL", Title: "Alphacaïne flacons", BatchSize: 10000, Unit: "flacons", Hours: 4, Operations: ops()}
		tab := production.Master{ProductID: e.tablet.ID, Code: "MBR-TAB", Title: "Alphadol comprimés", BatchSize: 100000, Unit: "comprimés", Hours: 4, Operations: ops()}
		syr := production.Master{ProductID: e.betaSyrup.ID, Code: "MBR-SYR", Title: "Betasirop", BatchSize: 1000, Unit: "flacons", Hours: 4, Operations: ops()}
		for _, m := range []*production.Master{&e.master, &tab, &syr} {
			if err := prod.CreateMaster(ctx, m); err != nil {
				return err
			}
		}
		if err := h.SetMasterStatus(e.master.ID, production.MasterEffective); err != nil {
			return err
		}
		if err := h.SetMasterStatus(tab.ID, production.MasterEffective); err != nil {
			return err
		}
		// The people of the floor, trained on both masters and gowned for
		// the sterile line's grade B room.
		return e.qualify(ctx, h, []string{"olga", "victor"}, []qualification.Requirement{{Kind: qualification.Gowning, Subject: "B"},
			qualification.ForMaster(e.master.Code, e.master.Version), qualification.ForMaster(tab.Code, tab.Version)})
	}))
	return e
}

// train grants olga and victor, the people of the floor, each
// qualification: recorded by victor, signed by quinn.
func (e *prodEnv) train(t *testing.T, reqs ...qualification.Requirement) {
	t.Helper()
	e.trainPeople(t, []string{"olga", "victor"}, reqs...)
}

// trainPeople grants the accounts named each qualification, the person
// behind each account written first if need be: recorded by victor,
// signed by quinn.
func (e *prodEnv) trainPeople(t *testing.T, usernames []string, reqs ...qualification.Requirement) {
	t.Helper()
	for _, u := range usernames {
		if _, ok := e.people[u]; !ok {
			acc := e.acc[u]
			p := site.Person{Badge: "B-" + strings.ToUpper(u), Name: acc.Name, Job: "Laboratoire", AccountID: acc.ID}
			must(t, e.db.Site().CreatePerson(e.actor("victor"), &p))
			e.people[u] = p
		}
		for _, r := range reqs {
			q, err := e.db.Qualifications().RecordQualification(e.actor("victor"), qualification.Qualification{PersonID: e.people[u].ID,
				Kind: r.Kind, Subject: r.Subject, Version: r.Version, GrantedAt: e.clock.now().AddDate(0, 0, -1),
				ValidUntil: e.clock.now().AddDate(1, 0, 0), Evidence: "Formation au poste, session test"})
			must(t, err)
			_, err = e.sign(t, "quinn", store.EntityQualification, q.ID, esign.Approved)
			must(t, err)
		}
	}
}

// qualify links each account named to a person of the staff (created)
// and grants the person each qualification, recorded by the supervisor
// and signed by quality assurance in the history load, valid for a year
// from the load's clock.
func (e *prodEnv) qualify(ctx context.Context, h *store.History, usernames []string, reqs []qualification.Requirement) error {
	victor, qa := e.acc["victor"], e.acc["quinn"]
	as := h.As(ctx, victor.Actor())
	for _, u := range usernames {
		acc := e.acc[u]
		p := site.Person{Badge: "B-" + strings.ToUpper(u), Name: acc.Name, Job: "Production", AccountID: acc.ID}
		if err := e.db.Site().CreatePerson(as, &p); err != nil {
			return err
		}
		e.people[u] = p
		for _, r := range reqs {
			q, err := e.db.Qualifications().RecordQualification(as, qualification.Qualification{PersonID: p.ID, Kind: r.Kind, Subject: r.Subject,
				Version: r.Version, GrantedAt: h.Now().AddDate(0, 0, -1), ValidUntil: h.Now().AddDate(1, 0, 0), Evidence: "Formation au poste, session test"})
			if err != nil {
				return err
			}
			if err := h.SignRecord(store.EntityQualification, q.ID, esign.Approved, qa.ID, qa.Name, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// actor is username's actor in session 1, assigned to alpha.
func (e *prodEnv) actor(username string) context.Context {
	a := e.acc[username].Actor()
	a.SessionID, a.Address = "session-"+username+"-1", "10.0.0.9"
	if !a.IsClient() {
		a.Assigned = []string{e.alpha.ID}
	}
	return as(a)
}

// sign signs as username, assigned to alpha, with a fresh challenge.
func (e *prodEnv) sign(t *testing.T, username, entity, id string, m esign.Meaning) (*esign.Signature, error) {
	t.Helper()
	ctx := e.actor(username)
	ch := e.challenge(t, ctx, entity, id, m)
	return e.svc.Sign(ctx, esign.SignRequest{Entity: entity, EntityID: id, Meaning: string(m), Username: username, Password: password, Challenge: ch})
}

// order orders qty of a product as victor, the supervisor.
func (e *prodEnv) order(t *testing.T, p production.Product, qty float64) production.Batch {
	t.Helper()
	o := &production.Order{ProductID: p.ID, Quantity: qty, DueOn: now.AddDate(0, 1, 0)}
	must(t, e.db.Production().CreateOrder(e.actor("victor"), o))
	if len(o.Batches) != 1 || o.Batches[0].State != production.BatchPlanned || !strings.HasPrefix(o.Batches[0].Lot, "L2603-") {
		t.Fatalf("order batches: %+v", o.Batches)
	}
	return o.Batches[0]
}

// at is a time of the test week, in UTC: 2026-03-03 is a Tuesday.
func at(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }

func wantRule(t *testing.T, err error, rule string) {
	t.Helper()
	// The field names the rule by its code; the message, in words.
	if !errs.Is(err, errs.Conflict) || errs.FieldOf(err) != "rule:"+rule || !strings.HasPrefix(errs.MessageOf(err, "en"), "Scheduling rule “") ||
		strings.Contains(errs.MessageOf(err, "fr"), "« "+rule+" »") {
		t.Fatalf("want a conflict on rule %s, got %v", rule, err)
	}
}

func TestScheduleRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		svc, sup := db.Production(), e.actor("victor")
		b1 := e.order(t, e.vial, 10000)
		b2 := e.order(t, e.vial, 10000)
		tab := e.order(t, e.tablet, 1000)

		// Master not effective: beta's syrup has only a draft.
		_, err := func() (any, error) {
			o := &production.Order{ProductID: e.betaSyrup.ID, Quantity: 10, DueOn: now.AddDate(0, 1, 0)}
			return nil, db.Write(as(identity.System), "order.create", "", func(tx *store.Tx) error { return tx.CreateOrder(o) })
		}()
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), "no effective master") {
			t.Fatalf("order of a product without an effective master: %v", err)
		}

		before := counts(t, db)
		_, err = svc.ScheduleBatch(sup, tab.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		wantRule(t, err, production.RuleLineForm) // a tablet on a sterile vial line
		sameCounts(t, db, before)

		got, err := svc.ScheduleBatch(sup, b1.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		if got.State != production.BatchScheduled || !got.End.Equal(at(3, 10)) || got.LineCode != "L1" {
			t.Fatalf("scheduled: %+v", got)
		}
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 8)}, "")
		wantRule(t, err, production.RuleOverlap)
		if !strings.Contains(errs.MessageOf(err, "en"), b1.Lot) {
			t.Errorf("the overlap does not name batch %s: %v", b1.Lot, err)
		}
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 11)}, "")
		wantRule(t, err, production.RuleChangeover)
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 13)}, "")
		wantRule(t, err, production.RuleCalendar) // 14:00 in Paris: the one shift ends at 13:00
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(1, 6)}, "")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), "past") {
			t.Fatalf("a start in the past: %v", err)
		}
		w := &production.Window{LineID: e.f.line.ID, Start: at(4, 5), End: at(4, 9), Reason: "Requalification"}
		must(t, svc.CreateWindow(sup, w))
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(4, 6)}, "")
		wantRule(t, err, production.RuleMaintenance)
		err = svc.CreateWindow(sup, &production.Window{LineID: e.f.line.ID, Start: at(3, 9), End: at(3, 12), Reason: "Panne"})
		wantRule(t, err, production.RuleMaintenance) // a window over a scheduled batch
		_, err = svc.ScheduleBatch(sup, b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(5, 6)}, "")
		must(t, err)

		// An operator may not schedule.
		_, err = svc.ScheduleBatch(e.actor("olga"), b2.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(6, 6)}, "")
		wantErr(t, err, errs.Forbidden, "")

		sched, err := svc.Schedule(sup, production.ScheduleFilter{From: at(2, 0), To: at(9, 0)})
		must(t, err)
		if len(sched.Lines) != 1 || len(sched.Lines[0].Slots) != 2 || len(sched.Windows) != 1 {
			t.Fatalf("schedule: %+v", sched)
		}
		capa, err := svc.Capacity(sup, "", at(3, 0))
		must(t, err)
		// The one shift: 8 h a day, Monday to Friday; 4 h of maintenance.
		if len(capa.Lines) != 1 || capa.Lines[0].Available != 36 || capa.Lines[0].Booked != 8 || capa.Lines[0].Batches != 2 {
			t.Fatalf("capacity: %+v", capa.Lines)
		}
		// The week is the site's, from its settings: Monday 00:00 in
		// Paris, then in Montreal once the site's zone says so.
		if !capa.Week.Equal(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)) {
			t.Errorf("the week in Paris starts %v", capa.Week)
		}
		if _, err := db.WriteSQL().Exec(`UPDATE sites SET timezone = 'America/Montreal'`); err != nil {
			t.Fatal(err)
		}
		capa, err = svc.Capacity(sup, "", at(3, 0))
		must(t, err)
		if !capa.Week.Equal(time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)) {
			t.Errorf("the week in Montreal starts %v", capa.Week)
		}
	})
}

func TestBatchRecordExecution(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		svc, sup, op := db.Production(), e.actor("victor"), e.actor("olga")
		b := e.order(t, e.vial, 10000)
		_, err := svc.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: "x", Confirm: true})
		wantErr(t, err, errs.Conflict, "") // not released to the floor yet
		_, err = svc.MoveBatch(sup, b.ID, production.MoveRelease, "")
		must(t, err)

		rec, err := svc.Record(sup, b.ID)
		must(t, err)
		if len(rec.Steps) != 5 || rec.Batch.StepsTotal != 5 {
			t.Fatalf("record: %d steps", len(rec.Steps))
		}
		st := rec.Steps
		// Out of order: the pH before the line clearance.
		before := counts(t, db)
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7.0"})
		wantErr(t, err, errs.Conflict, "")
		// The line clearance with an item unticked.
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, false}})
		wantErr(t, err, errs.Invalid, "checked")
		sameCounts(t, db, before)
		r, err := svc.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
		must(t, err)
		if r.State != production.StepDone || r.PerformedName != "Olga Opératrice" {
			t.Fatalf("clearance: %+v", r)
		}
		if got, _ := svc.Batch(sup, b.ID); got.State != production.BatchInProgress || got.StepsDone != 1 {
			t.Fatalf("batch after clearance: %+v", got)
		}
		// pH out of limits: refused until confirmed and explained, then
		// recorded, flagged, a deviation opened with the explanation.
		before = counts(t, db)
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,5", Comment: "Second reading"})
		wantErr(t, err, errs.Invalid, "confirm_out_of_limits")
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,5", ConfirmOutOfLimits: true})
		wantErr(t, err, errs.Invalid, "comment")
		sameCounts(t, db, before)
		why := "Probe checked, second reading 7,5."
		r, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,5", ConfirmOutOfLimits: true, Comment: why})
		must(t, err)
		if !r.Exception || r.DeviationID == "" || text.RenderStored(text.FR, r.Value) != "7,5 pH" || r.Comment != why {
			t.Fatalf("out of limits: %+v", r)
		}
		// Its texts are kept coded, read back as they were written.
		kept, err := svc.Record(sup, b.ID)
		must(t, err)
		for what, stored := range map[string]string{"value": kept.Steps[1].Value, "why": kept.Steps[1].Why, "deviation": kept.Deviations[0].Title} {
			if _, ok := text.ParseCoded(stored); !ok {
				t.Errorf("the %s is not kept coded: %q", what, stored)
			}
		}
		if got := text.RenderStored(text.EN, kept.Deviations[0].Title); got != "Batch "+b.Lot+", step 1.2: 7.5 pH is outside the limits [6.8; 7.2] pH." {
			t.Errorf("the deviation's title: %q", got)
		}
		if kept.Deviations[0].Description != why || kept.Steps[1].Comment != why {
			t.Errorf("the operator's comment: the deviation says %q, the step %q, want %q", kept.Deviations[0].Description, kept.Steps[1].Comment, why)
		}
		// The material: unknown lot, lot in quarantine, then the right one.
		before = counts(t, db)
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "NOPE", Quantity: "10"})
		wantErr(t, err, errs.Invalid, "lot")
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-Q", Quantity: "10"})
		wantErr(t, err, errs.Invalid, "lot")
		if !strings.Contains(errs.MessageOf(err, "en"), "quarantine") {
			t.Errorf("quarantine refusal: %v", err)
		}
		sameCounts(t, db, before)
		r, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-OK", Quantity: "10,1"})
		must(t, err)
		if r.State != production.StepRecorded || r.Exception || r.LotCode != "LOT-OK" {
			t.Fatalf("material: %+v", r)
		}
		// It waits for its signature.
		_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[3].ID, Equipment: "E1"})
		wantErr(t, err, errs.Conflict, "")
		// Only its performer signs it as performed.
		if _, err := e.sign(t, "victor", "batch_step", r.ID, esign.Performed); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("performed signature by another: %v", err)
		}
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
		must(t, err)
		// The critical equipment check: performed, then verified by another.
		r, err = svc.RecordStep(op, b.ID, production.Entry{StepID: st[3].ID, Equipment: "E1"})
		must(t, err)
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
		must(t, err)
		// The verifier equal to the performer: refused from the challenge on.
		if _, err := e.svc.Challenge(op, esign.ChallengeRequest{Entity: "batch_step", EntityID: r.ID, Meaning: string(esign.Verified)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("verified by the performer: %v", err)
		}
		if got, _ := svc.Batch(sup, b.ID); got.StepsDone != 3 {
			t.Fatalf("the critical step is done before its verification: %d", got.StepsDone)
		}
		_, err = e.sign(t, "victor", "batch_step", r.ID, esign.Verified)
		must(t, err)
		eq, err := db.Site().EquipmentItem(sup, e.f.equipment.ID)
		must(t, err)
		if eq.Status != site.EquipmentInUse {
			t.Errorf("equipment after its check: %s", eq.Status)
		}

		// Two tablets complete the last step at once: exactly one wins.
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = svc.RecordStep(op, b.ID, production.Entry{StepID: st[4].ID, Confirm: true})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errs.Is(err, errs.Conflict):
				t.Errorf("the losing tablet: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d tablets recorded the same step: %v", won, results)
		}

		// A correction after entry needs a reason and is counted.
		_, err = svc.CorrectStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7.1"}, "")
		wantErr(t, err, errs.Invalid, "reason")
		r, err = svc.CorrectStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7.1"}, "Transcription error: 7.1 read on the pH meter")
		must(t, err)
		if r.Corrections != 1 || r.Exception {
			t.Fatalf("correction: %+v", r)
		}

		got, err := svc.MoveBatch(op, b.ID, production.MoveComplete, "")
		must(t, err)
		if got.State != production.BatchCompleted || got.StepsDone != 5 || got.Exceptions != 0 {
			t.Fatalf("completed: %+v", got)
		}
		eq, _ = db.Site().EquipmentItem(sup, e.f.equipment.ID)
		if eq.Status != site.EquipmentDirty {
			t.Errorf("equipment after the batch: %s", eq.Status)
		}

		// QA's review: the deviation stays; the corrected value shows.
		rv, err := svc.Review(e.actor("quinn"), b.ID)
		must(t, err)
		if len(rv.Deviations) != 1 || len(rv.Corrected) != 1 || len(rv.Signatures) != 3 {
			t.Fatalf("review: %d deviations, %d corrected, %d signatures", len(rv.Deviations), len(rv.Corrected), len(rv.Signatures))
		}
		_, err = svc.Review(op, b.ID)
		wantErr(t, err, errs.Forbidden, "")

		// The client's user sees the batch, not its record.
		cb, err := svc.Batch(e.actor("carla"), b.ID)
		must(t, err)
		if cb.StepsDone != 5 {
			t.Errorf("client's view: %+v", cb)
		}
		_, err = svc.Record(e.actor("carla"), b.ID)
		wantErr(t, err, errs.NotFound, "")
	})
}

func TestGenealogy(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		svc, sup, op := db.Production(), e.actor("victor"), e.actor("olga")
		// A second released lot; batch 1 takes from LOT-OK, batch 2 from
		// LOT-OK and (after a correction of nothing) LOT-2 on a second day.
		lot2 := production.Lot{MaterialID: e.api.ID, Code: "LOT-2", Status: production.LotReleased, Quantity: 50, ExpiresOn: now.AddDate(1, 0, 0)}
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateLot(&lot2) }))
		run := func(day int, lot string) production.Batch {
			b := e.order(t, e.vial, 10000)
			_, err := svc.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(day, 6)}, "")
			must(t, err)
			_, err = svc.MoveBatch(sup, b.ID, production.MoveRelease, "")
			must(t, err)
			rec, err := svc.Record(sup, b.ID)
			must(t, err)
			_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: rec.Steps[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
			must(t, err)
			_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: rec.Steps[1].ID, Value: "7"})
			must(t, err)
			_, err = svc.RecordStep(op, b.ID, production.Entry{StepID: rec.Steps[2].ID, Lot: lot, Quantity: "10"})
			must(t, err)
			return b
		}
		b1 := run(3, "LOT-OK")
		b2 := run(4, "LOT-2")
		fwd, err := svc.LotUses(sup, e.lotOK.ID)
		must(t, err)
		if len(fwd) != 1 || fwd[0].BatchID != b1.ID || fwd[0].Quantity != 10 || fwd[0].BatchLot != b1.Lot {
			t.Fatalf("forward from LOT-OK: %+v", fwd)
		}
		fwd, err = svc.LotUses(sup, lot2.ID)
		must(t, err)
		if len(fwd) != 1 || fwd[0].BatchID != b2.ID {
			t.Fatalf("forward from LOT-2: %+v", fwd)
		}
		back, err := svc.BatchInputs(sup, b2.ID)
		must(t, err)
		if len(back) != 1 || back[0].LotCode != "LOT-2" || back[0].Material != "Alphacaïne base" || back[0].Unit != "kg" {
			t.Fatalf("backward from %s: %+v", b2.Lot, back)
		}
		l, err := svc.Lot(sup, lot2.ID)
		must(t, err)
		if l.Quantity != 40 {
			t.Errorf("LOT-2 left: %v", l.Quantity)
		}
		// Outside the scope: nothing.
		if fwd, err := svc.LotUses(e.actor("carla"), e.lotOK.ID); err == nil && len(fwd) > 0 {
			t.Errorf("a client's user reads a lot's uses: %+v", fwd)
		}
	})
}
