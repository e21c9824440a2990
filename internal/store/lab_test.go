package store_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
)

// labEnv is prodEnv with the laboratory wired as app wires it, two
// analysts assigned to alpha, and a vial product of alpha whose effective
// master samples three times: at the line clearance's operation, in
// process and at the last operation (the finished product); a batch of it
// released to the floor, and a specification of the product in review.
type labEnv struct {
	*prodEnv
	lea, wang, alphaUser, betaUser context.Context
	product                        production.Product
	batch                          production.Batch
	steps                          []production.StepRecord
	spec                           quality.Spec
}

// wireLab subscribes the laboratory's reaction to a sampling step done as app does (wireQuality).
func wireLab(db *store.DB) {
	db.On(store.StepDone, store.EntityBatchStep, db.Lab().SampleTaken)
}

func labActor(id, username, name string, alphaID string) context.Context {
	return as(identity.Actor{UserID: id, Username: username, Name: name, Roles: []identity.Role{identity.RoleLab}, Assigned: []string{alphaID}, SessionID: "s-" + username})
}

func labSpec(productID string) quality.Spec {
	lim := func(op quality.Op, v float64) *quality.Limit { return &quality.Limit{Op: op, Value: v} }
	return quality.Spec{ProductID: productID, Code: "SPEC-SAMP", Title: "Alphacaïne 10 mg/mL, flacons", Tests: []quality.Test{
		{Code: "ASSAY", Name: "Dosage", Method: "HPLC M-102", Kind: quality.TestNumeric, Unit: "%", Decimals: 1,
			Min: lim(quality.AtLeast, 95), Max: lim(quality.AtMost, 105), AlertMin: lim(quality.AtLeast, 97), Stages: []quality.SampleKind{quality.SampleFinished}},
		{Code: "PH", Name: "pH", Method: "Ph. Eur. 2.2.3", Kind: quality.TestNumeric, Unit: "pH", Decimals: 2, Min: lim(quality.Above, 4.5), Max: lim(quality.Below, 7),
			Stages: []quality.SampleKind{quality.SampleInProcess, quality.SampleFinished}},
		{Code: "APP", Name: "Aspect", Method: "Visuel", Kind: quality.TestText, Expected: "Solution limpide", Stages: []quality.SampleKind{quality.SampleFinished}},
	}}
}

func newLabEnv(t *testing.T, db *store.DB) *labEnv {
	t.Helper()
	wireLab(db)
	e := &labEnv{prodEnv: newProdEnv(t, db)}
	// Two analysts, each a person of the staff qualified on the
	// specification's methods (below).
	hash, err := seedHash()
	must(t, err)
	for _, a := range []identity.Account{{Username: "lea", Name: "Léa Analyste", Roles: []identity.Role{identity.RoleLab}},
		{Username: "wang", Name: "王芳", Roles: []identity.Role{identity.RoleLab}}} {
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&a, hash) }))
		e.acc[a.Username] = &a
	}
	e.lea = labActor(e.acc["lea"].ID, "lea", "Léa Analyste", e.alpha.ID)
	e.wang = labActor(e.acc["wang"].ID, "wang", "王芳", e.alpha.ID)
	e.alphaUser = e.actor("carla")
	e.betaUser = as(identity.Actor{UserID: "0195f1a2-0000-7000-8000-0000000be7a0", Username: "bea", Name: "Bea Beta", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID})
	p, sup, qa := db.Production(), e.actor("victor"), e.actor("quinn")
	e.product = production.Product{ClientID: e.alpha.ID, Code: "ALP-SAMP", Name: "Alphacaïne échantillonnée", Form: site.FormVial, Strength: "10 mg/mL", Presentation: "Flacon 10 mL", Storage: "2–8 °C"}
	must(t, p.CreateProduct(sup, &e.product))
	m := production.Master{ProductID: e.product.ID, Code: "MBR-SAMP", Title: "Alphacaïne échantillonnée", BatchSize: 1000, Unit: "flacons", Hours: 4,
		Operations: []production.Operation{
			{Title: "Préparation", Steps: []production.Step{
				{Kind: production.StepClearance, Text: "Vide de ligne", Checklist: []string{"Ligne vide"}},
				{Kind: production.StepSampling, Text: "Prélever l'eau", SamplePoint: "Cuve"}}},
			{Title: "Mélange", Steps: []production.Step{{Kind: production.StepSampling, Text: "Prélever en cours", SamplePoint: "Cuve — vanne"}}},
			{Title: "Remplissage", Steps: []production.Step{{Kind: production.StepSampling, Text: "Prélever les flacons", SamplePoint: "Sortie"}}},
		}}
	must(t, p.CreateMaster(sup, &m))
	_, err = e.sign(t, "victor", "master", m.ID, esign.Authored)
	must(t, err)
	_, err = e.sign(t, "quinn", "master", m.ID, esign.Approved)
	must(t, err)
	e.train(t, qualification.ForMaster(m.Code, m.Version))
	_, err = p.MoveMaster(qa, m.ID, production.MoveEffect, "Approved")
	must(t, err)
	e.batch = e.order(t, e.product, 1000)
	_, err = p.ScheduleBatch(sup, e.batch.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
	must(t, err)
	_, err = p.MoveBatch(sup, e.batch.ID, production.MoveRelease, "")
	must(t, err)
	rec, err := p.Record(sup, e.batch.ID)
	must(t, err)
	e.steps = rec.Steps
	e.spec = labSpec(e.product.ID)
	for _, tc := range e.spec.Tests {
		e.trainPeople(t, []string{"lea", "wang"}, qualification.ForMethod(tc.Method))
	}
	must(t, db.Lab().CreateSpec(e.lea, &e.spec))
	_, err = db.Lab().MoveSpec(e.lea, e.spec.ID, quality.SpecSubmit, "")
	must(t, err)
	return e
}

var labTables = []string{"specs", "samples", "results", "oos_investigations", "counters", "audit_log"}

func labCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range labTables {
		n, err := db.CountRows(tb)
		must(t, err)
		out[tb] = n
	}
	return out
}

func sameLab(t *testing.T, db *store.DB, before map[string]int) {
	t.Helper()
	if after := labCounts(t, db); !maps.Equal(before, after) {
		t.Errorf("a refused write changed the laboratory: before %v, after %v", before, after)
	}
}

func TestLabSpecLifeCycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newLabEnv(t, db)
		lab := db.Lab()
		// In review: no longer a draft, so not changed.
		sp := labSpec(e.product.ID)
		sp.ID, sp.Title = e.spec.ID, "Changed"
		wantErr(t, lab.UpdateSpec(e.lea, &sp, "typo"), errs.Conflict, "")
		// Sent back by QA only, with a reason.
		_, err := lab.MoveSpec(e.lea, e.spec.ID, quality.SpecReject, "no")
		wantErr(t, err, errs.Forbidden, "")
		_, err = lab.MoveSpec(e.actor("quinn"), e.spec.ID, quality.SpecReject, "")
		wantErr(t, err, errs.Invalid, "reason")
		got, err := lab.MoveSpec(e.actor("quinn"), e.spec.ID, quality.SpecReject, "Method of the assay missing its version")
		must(t, err)
		if got.Status != quality.SpecDraft || got.Revision != 3 {
			t.Fatalf("rejected: %+v", got)
		}
		// A stale revision changes nothing; the current one does.
		sp.Revision = 1
		wantErr(t, lab.UpdateSpec(e.lea, &sp, "Title"), errs.Stale, "")
		sp.Revision = got.Revision
		must(t, lab.UpdateSpec(e.lea, &sp, "Title"))
		_, err = lab.MoveSpec(e.lea, e.spec.ID, quality.SpecSubmit, "")
		must(t, err)
		// QA's approval is a signature; the laboratory cannot approve.
		_, err = e.svc.Challenge(e.actor("olga"), esign.ChallengeRequest{Entity: store.EntitySpec, EntityID: e.spec.ID, Meaning: string(esign.Approved)})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.sign(t, "quinn", store.EntitySpec, e.spec.ID, esign.Approved)
		must(t, err)
		got, err = lab.Spec(e.lea, e.spec.ID)
		must(t, err)
		if got.Status != quality.SpecEffective || !got.EffectiveFrom.Equal(now) || got.Title != "Changed" {
			t.Fatalf("approved: %+v", got)
		}
		// Version 2 is a draft; version 1 stays in force.
		v2 := labSpec(e.product.ID)
		must(t, lab.CreateSpec(e.lea, &v2))
		if v2.Version != 2 || v2.Status != quality.SpecDraft {
			t.Fatalf("version 2: %+v", v2)
		}
		// The code is the product's.
		other := labSpec(e.vial.ID)
		wantErr(t, lab.CreateSpec(e.lea, &other), errs.Invalid, "code")
		list, err := lab.Specs(e.lea, quality.SpecFilter{ProductID: e.product.ID, Status: quality.SpecEffective})
		must(t, err)
		if len(list) != 1 || list[0].ID != e.spec.ID {
			t.Fatalf("in force: %+v", list)
		}
		// The client's user sees its product's specifications; another
		// client's does not, by list or by id.
		if l, err := lab.Specs(e.alphaUser, quality.SpecFilter{}); err != nil || len(l) != 2 {
			t.Fatalf("alpha's specs: %d %v", len(l), err)
		}
		if l, err := lab.Specs(e.betaUser, quality.SpecFilter{}); err != nil || len(l) != 0 {
			t.Fatalf("beta sees %d specs, %v", len(l), err)
		}
		_, err = lab.Spec(e.betaUser, e.spec.ID)
		wantErr(t, err, errs.NotFound, "")
		// The trail holds the approval and the effective day.
		var approved bool
		trail, err := db.Audit().Entries(as(identity.System), audit.Filter{Entity: store.EntitySpec, EntityID: e.spec.ID})
		must(t, err)
		for _, en := range trail {
			approved = approved || (en.Field == "status" && en.New == "approved" && en.ActorName == "Quinn Qualité")
		}
		if !approved {
			t.Error("the approval is not in the trail")
		}
	})
}

// approveSpec approves the environment's specification.
func (e *labEnv) approveSpec(t *testing.T) {
	t.Helper()
	_, err := e.sign(t, "quinn", store.EntitySpec, e.spec.ID, esign.Approved)
	must(t, err)
}

// record records the next step of the environment's batch as olga.
func (e *labEnv) record(t *testing.T, i int, en production.Entry) {
	t.Helper()
	en.StepID = e.steps[i].ID
	_, err := e.db.Production().RecordStep(e.actor("olga"), e.batch.ID, en)
	must(t, err)
}

func TestLabSamplingStep(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newLabEnv(t, db)
		lab := db.Lab()
		e.record(t, 0, production.Entry{Checked: []bool{true}, Reason: "Test slot far from now."})
		// No specification in force yet: the step is done, no sample.
		e.record(t, 1, production.Entry{Value: "ECH-A"})
		if l, err := lab.Samples(e.lea, quality.SampleFilter{BatchID: e.batch.ID}); err != nil || len(l) != 0 {
			t.Fatalf("a sample without a specification: %+v %v", l, err)
		}
		if b, _ := db.Production().Batch(e.actor("victor"), e.batch.ID); b.StepsDone != 2 {
			t.Fatalf("the step did not complete: %+v", b)
		}
		e.approveSpec(t)
		e.record(t, 2, production.Entry{Value: "ECH-B"})
		e.record(t, 3, production.Entry{Value: "ECH-C"})
		l, err := lab.Samples(e.lea, quality.SampleFilter{BatchID: e.batch.ID})
		must(t, err)
		if len(l) != 2 {
			t.Fatalf("samples: %+v", l)
		}
		byCode := map[string]quality.Sample{}
		for _, s := range l {
			byCode[s.Code] = s
		}
		b, c := byCode["ECH-B"], byCode["ECH-C"]
		if b.Kind != quality.SampleInProcess || strings.Join(b.Tests, ",") != "PH" || b.StepID != e.steps[2].ID || b.SpecID != e.spec.ID || b.TakenName != "Olga Opératrice" {
			t.Errorf("in process: %+v", b)
		}
		if c.Kind != quality.SampleFinished || strings.Join(c.Tests, ",") != "ASSAY,PH,APP" || c.State != quality.SampleTaken {
			t.Errorf("finished: %+v", c)
		}
		// A client's user sees its batch's samples without names; another
		// client's sees none.
		got, err := lab.Sample(e.alphaUser, c.ID)
		must(t, err)
		if got.TakenBy != "" || got.TakenName != "" {
			t.Errorf("the client sees who sampled: %+v", got)
		}
		_, err = lab.Sample(e.betaUser, c.ID)
		wantErr(t, err, errs.NotFound, "")
		// By hand: the laboratory, a code of its own.
		_, err = lab.TakeSample(e.actor("olga"), quality.SampleRequest{Code: "X", Kind: quality.SampleFinished, BatchID: e.batch.ID})
		wantErr(t, err, errs.Forbidden, "")
		_, err = lab.TakeSample(e.lea, quality.SampleRequest{Code: "ECH-C", Kind: quality.SampleFinished, BatchID: e.batch.ID})
		wantErr(t, err, errs.Invalid, "code")
		st, err := lab.TakeSample(e.lea, quality.SampleRequest{Code: "STAB-1", Kind: quality.SampleInProcess, BatchID: e.batch.ID})
		must(t, err)
		if st.ClientID != e.alpha.ID || st.TakenName != "Léa Analyste" {
			t.Errorf("by hand: %+v", st)
		}
	})
}

// finished takes the finished sample of the environment's batch and has
// lea receive it.
func (e *labEnv) finished(t *testing.T) quality.Sample {
	t.Helper()
	e.approveSpec(t)
	e.record(t, 0, production.Entry{Checked: []bool{true}, Reason: "Test slot far from now."})
	e.record(t, 1, production.Entry{Value: "ECH-A"})
	e.record(t, 2, production.Entry{Value: "ECH-B"})
	e.record(t, 3, production.Entry{Value: "ECH-C"})
	l, err := e.db.Lab().Samples(e.lea, quality.SampleFilter{BatchID: e.batch.ID, Kind: quality.SampleFinished})
	must(t, err)
	if len(l) != 1 {
		t.Fatalf("finished samples: %+v", l)
	}
	_, err = e.db.Lab().ReceiveSample(e.lea, l[0].ID, quality.Receipt{Quantity: 0, Unit: "flacons", Condition: quality.ConditionIntact})
	wantErr(t, err, errs.Invalid, "quantity")
	s, err := e.db.Lab().ReceiveSample(e.lea, l[0].ID, quality.Receipt{Quantity: 12, Unit: "flacons", Condition: quality.ConditionIntact})
	must(t, err)
	if s.State != quality.SampleReceived || s.Received.Name != "Léa Analyste" || s.Version != 2 {
		t.Fatalf("received: %+v", s)
	}
	return *s
}

func TestLabResultsAndOOS(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newLabEnv(t, db)
		lab := db.Lab()
		s := e.finished(t)
		w, err := lab.Worklist(e.wang)
		must(t, err)
		if len(w) != 3 {
			t.Fatalf("worklist: %+v", w)
		}
		_, err = lab.Worklist(e.alphaUser)
		wantErr(t, err, errs.Forbidden, "")
		// Results as typed; the assay out of specification opens its
		// investigation.
		before := labCounts(t, db)
		_, err = lab.EnterResult(e.lea, s.ID, quality.Entry{Test: "ASSAY", Value: "n/a"})
		wantErr(t, err, errs.Invalid, "value")
		sameLab(t, db, before)
		ph, err := lab.EnterResult(e.lea, s.ID, quality.Entry{Test: "PH", Value: "5,5"})
		must(t, err)
		out, err := lab.EnterResult(e.lea, s.ID, quality.Entry{Test: "ASSAY", Value: "93,2"})
		must(t, err)
		if out.Opened == nil || out.Opened.Code != "OOS-2026-0001" || out.Result.InvestigationID != out.Opened.ID || out.Result.Verdict != quality.OutOfSpec {
			t.Fatalf("the OOS: %+v", out)
		}
		oos := out.Result
		_, err = lab.EnterResult(e.wang, s.ID, quality.Entry{Test: "PH", Value: "5,6"})
		wantErr(t, err, errs.Conflict, "")
		// Reviewed by another analyst, never by the one who entered it; of
		// two reviewers at once, one wins.
		_, err = lab.ReviewResult(e.lea, ph.Result.ID)
		wantErr(t, err, errs.Forbidden, "")
		third := labActor("0195f1a2-0000-7000-8000-0000000003d3", "tom", "Tom Tiers", e.alpha.ID)
		var wg sync.WaitGroup
		errsOf := make([]error, 2)
		for i, ctx := range []context.Context{e.wang, third} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errsOf[i] = lab.ReviewResult(ctx, ph.Result.ID)
			}()
		}
		wg.Wait()
		if (errsOf[0] == nil) == (errsOf[1] == nil) {
			t.Fatalf("two reviews at once: %v, %v", errsOf[0], errsOf[1])
		}
		for _, err := range errsOf {
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Errorf("the losing review: %v", err)
			}
		}
		_, err = lab.ReviewResult(e.wang, oos.ID)
		must(t, err)
		// The investigation: the hypothesis first, the retests fixed,
		// each by another analyst than lea.
		inv := out.Opened
		_, err = lab.PlanRetests(e.lea, inv.ID, 2, 0)
		wantErr(t, err, errs.Conflict, "")
		got, err := lab.StateHypothesis(e.lea, inv.ID, "Dilution error suspected: 50 mL flask used.", inv.Version)
		must(t, err)
		_, err = lab.PlanRetests(e.lea, inv.ID, 2, got.Version-1)
		wantErr(t, err, errs.Stale, "")
		got, err = lab.PlanRetests(e.lea, inv.ID, 2, got.Version)
		must(t, err)
		if got.RetestsPlanned != 2 {
			t.Fatalf("retests planned: %d, want 2", got.RetestsPlanned)
		}
		_, err = lab.EnterResult(e.lea, s.ID, quality.Entry{Test: "ASSAY", Value: "99.1"})
		wantErr(t, err, errs.Forbidden, "")
		for _, v := range []string{"99.1", "98.7"} {
			r, err := lab.EnterResult(e.wang, s.ID, quality.Entry{Test: "ASSAY", Value: v})
			must(t, err)
			if !r.Result.Retest || r.Opened != nil {
				t.Fatalf("retest: %+v", r)
			}
			_, err = lab.ReviewResult(e.lea, r.Result.ID)
			must(t, err)
		}
		_, err = lab.ConcludePhase1(e.lea, inv.ID, true, "Flask of 50 mL found in the rack; the weighing ticket shows the dilution.", 0)
		must(t, err)
		// QA closes it by signature; the laboratory cannot.
		_, err = e.svc.Challenge(e.actor("olga"), esign.ChallengeRequest{Entity: store.EntityInvestigation, EntityID: inv.ID, Meaning: string(esign.Approved)})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.sign(t, "quinn", store.EntityInvestigation, inv.ID, esign.Approved)
		must(t, err)
		closed, err := lab.Investigation(e.lea, inv.ID)
		must(t, err)
		if closed.State != quality.OOSClosed || closed.Outcome != quality.OOSInvalidated || closed.ClosedName != "Quinn Qualité" {
			t.Fatalf("closed: %+v", closed)
		}
		// Every result kept: the OOS invalidated, beside its retests.
		rs, err := lab.Results(e.lea, quality.ResultFilter{SampleID: s.ID})
		must(t, err)
		if len(rs) != 4 {
			t.Fatalf("results: %+v", rs)
		}
		for _, r := range rs {
			if r.ID == oos.ID && r.State != quality.ResultInvalidated {
				t.Errorf("the OOS result: %+v", r)
			}
		}
		// The client's user sees its results without the analysts' names;
		// another client's sees none.
		cr, err := lab.Results(e.alphaUser, quality.ResultFilter{BatchID: e.batch.ID})
		must(t, err)
		if len(cr) != 4 {
			t.Fatalf("alpha's results: %d", len(cr))
		}
		for _, r := range cr {
			if r.EnteredBy != "" || r.EnteredName != "" || r.ReviewedName != "" {
				t.Errorf("the client sees an analyst: %+v", r)
			}
		}
		ci, err := lab.Investigation(e.alphaUser, inv.ID)
		must(t, err)
		if ci.Analyst != "" || ci.ClosedName != "" {
			t.Errorf("the client sees names in the investigation: %+v", ci)
		}
		if l, err := lab.Results(e.betaUser, quality.ResultFilter{}); err != nil || len(l) != 0 {
			t.Errorf("beta sees %d results, %v", len(l), err)
		}
		_, err = lab.Result(e.betaUser, oos.ID)
		wantErr(t, err, errs.NotFound, "")
		_, err = lab.Investigation(e.betaUser, inv.ID)
		wantErr(t, err, errs.NotFound, "")
		// The appearance remains; once reviewed, the sample is complete.
		a, err := lab.EnterResult(e.lea, s.ID, quality.Entry{Test: "APP", Value: "Solution limpide"})
		must(t, err)
		_, err = lab.ReviewResult(e.wang, a.Result.ID)
		must(t, err)
		if got, _ := lab.Sample(e.lea, s.ID); got.State != quality.SampleComplete {
			t.Errorf("the sample: %+v", got)
		}
		if w, _ := lab.Worklist(e.lea); len(w) != 0 {
			t.Errorf("worklist after: %+v", w)
		}
	})
}

func TestLabImportAllOrNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newLabEnv(t, db)
		lab := db.Lab()
		s := e.finished(t)
		before := labCounts(t, db)
		bad := "sample;test;value\n" + s.Code + ";PH;5,5\n" + s.Code + ";ASSAY;abc\nNOPE;PH;5\n" + s.Code + ";PH;5,6\n"
		_, err := lab.ImportResults(e.lea, []byte(bad), "hplc-01.csv")
		wantErr(t, err, errs.Invalid, "file")
		msg := errs.MessageOf(err, "en")
		for _, want := range []string{"Line 3", "Line 4: no sample has the code NOPE", "Line 5"} {
			if !strings.Contains(msg, want) {
				t.Errorf("refusal %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg, "Line 2") {
			t.Errorf("a good line refused: %q", msg)
		}
		sameLab(t, db, before)
		if rs, _ := lab.Results(e.lea, quality.ResultFilter{SampleID: s.ID}); len(rs) != 0 {
			t.Fatalf("half an import: %+v", rs)
		}
		// Another client's sample is unknown to the import.
		_, err = lab.ImportResults(e.betaUser, []byte("sample,test,value\n"+s.Code+",PH,5\n"), "x.csv")
		wantErr(t, err, errs.Forbidden, "")
		good := "sample,test,value,comment\n" + s.Code + ",PH,5.5,\n" + s.Code + ",APP,Solution limpide,ok\n"
		out, err := lab.ImportResults(e.lea, []byte(good), "hplc-01.csv")
		must(t, err)
		if len(out) != 2 || out[0].Result.Instrument != "hplc-01.csv" || out[1].Result.Comment != "ok" {
			t.Fatalf("import: %+v", out)
		}
	})
}
