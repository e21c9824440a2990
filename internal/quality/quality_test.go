package quality

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
)

var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	analyst = identity.Actor{UserID: "lab1", Name: "Léa Martin", Roles: []identity.Role{identity.RoleLab}}
	second  = identity.Actor{UserID: "lab2", Name: "王芳", Roles: []identity.Role{identity.RoleLab}}
	qa      = identity.Actor{UserID: "qa1", Name: "Quentin QA", Roles: []identity.Role{identity.RoleQA}}
	qa2     = identity.Actor{UserID: "qa2", Name: "Ana QA", Roles: []identity.Role{identity.RoleQA}}
	qp      = identity.Actor{UserID: "qp1", Name: "Paul QP", Roles: []identity.Role{identity.RoleQP}}
	op      = identity.Actor{UserID: "op1", Name: "Olga", Roles: []identity.Role{identity.RoleOperator}}
)

func lim(op Op, v float64) *Limit { return &Limit{Op: op, Value: v} }

// assay: 95.0 ≤ x ≤ 105.0 %, alert below 97.0 or above 103.0.
func spec() Spec {
	return Spec{ID: "s1", ProductID: "p1", Code: "SPEC-AMOX", Version: 2, Title: "Amoxicilline 500 mg", Status: SpecApproved, EffectiveFrom: t0.AddDate(0, 0, -10),
		Tests: []Test{
			{Code: "ASSAY", Name: "Dosage", Method: "HPLC M-102", Kind: TestNumeric, Unit: "%", Decimals: 1,
				Min: lim(AtLeast, 95), Max: lim(AtMost, 105), AlertMin: lim(AtLeast, 97), AlertMax: lim(AtMost, 103), Stages: []SampleKind{SampleFinished}},
			{Code: "PH", Name: "pH", Method: "Ph. Eur. 2.2.3", Kind: TestNumeric, Unit: "pH", Decimals: 2, Min: lim(Above, 4.5), Max: lim(Below, 7), Stages: []SampleKind{SampleInProcess, SampleFinished}},
			{Code: "APP", Name: "Aspect", Method: "Visuel", Kind: TestText, Expected: "Poudre blanche", Stages: []SampleKind{SampleFinished}},
		}}
}

func TestSpecValidate(t *testing.T) {
	s := spec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name  string
		edit  func(*Spec)
		field string
	}{
		{"no test", func(s *Spec) { s.Tests = nil }, "tests"},
		{"test twice", func(s *Spec) { s.Tests[1].Code = "ASSAY" }, "tests[1].code"},
		{"maximum as minimum", func(s *Spec) { s.Tests[0].Min = lim(AtMost, 95) }, "tests[0].min"},
		{"limits crossed", func(s *Spec) { s.Tests[0].Max = lim(AtMost, 90) }, "tests[0].max"},
		{"alert outside", func(s *Spec) { s.Tests[0].AlertMin = lim(AtLeast, 94) }, "tests[0].alert_min"},
		{"alert beyond the other side", func(s *Spec) { s.Tests[0].AlertMax = lim(AtMost, 106) }, "tests[0].alert_max"},
		{"numeric without limits", func(s *Spec) { s.Tests[1].Min, s.Tests[1].Max = nil, nil }, "tests[1].min"},
		{"text without expectation", func(s *Spec) { s.Tests[2].Expected = " " }, "tests[2].expected"},
		{"no stage", func(s *Spec) { s.Tests[2].Stages = nil }, "tests[2].stages"},
		{"unknown stage", func(s *Spec) { s.Tests[2].Stages = []SampleKind{"soup"} }, "tests[2].stages"},
		{"market with a space", func(s *Spec) { s.Market = "E U" }, "market"},
		{"unknown kind", func(s *Spec) { s.Tests[0].Kind = "guess" }, "tests[0].kind"},
	}
	for _, c := range bad {
		s := spec()
		s.Tests = append([]Test(nil), s.Tests...)
		c.edit(&s)
		if err := s.Validate(); errs.FieldOf(err) != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, errs.FieldOf(err), c.field, err)
		}
	}
}

func TestRead(t *testing.T) {
	s := spec()
	assay, _ := s.TestFor("ASSAY")
	ph, _ := s.TestFor("PH")
	app, _ := s.TestFor("APP")
	cases := []struct {
		test  *Test
		typed string
		value string
		want  Verdict
	}{
		{assay, "99,84", "99.8", Conform},
		{assay, "95.0", "95.0", OutOfTrend},   // ≥ 95 holds at 95, below the alert
		{assay, "94.96", "95.0", OutOfTrend},  // read as rounded to the test's decimals
		{assay, "97", "97.0", Conform},        // ≥ 97 holds at 97
		{assay, "94.94", "94.9", OutOfSpec},   // below the minimum
		{assay, "96.5", "96.5", OutOfTrend},   // inside the specification, below the alert
		{assay, "103.5", "103.5", OutOfTrend}, // above the alert
		{assay, "105.1", "105.1", OutOfSpec},  // above the maximum
		{ph, "4.5", "4.50", OutOfSpec},        // > 4.5 fails at 4.5
		{ph, "6.99", "6.99", Conform},         //
		{ph, "7", "7.00", OutOfSpec},          // < 7 fails at 7
		{app, " poudre  BLANCHE ", "poudre  BLANCHE", Conform},
		{app, "Poudre jaunâtre", "Poudre jaunâtre", OutOfSpec},
	}
	for _, c := range cases {
		r, err := c.test.Read(c.typed)
		if err != nil {
			t.Fatalf("%s %q: %v", c.test.Code, c.typed, err)
		}
		if r.Value != c.value || r.Verdict != c.want {
			t.Errorf("%s %q: %q %s, want %q %s", c.test.Code, c.typed, r.Value, r.Verdict, c.value, c.want)
		}
	}
	// 1.7e308 is finite, but rounded to the test's decimal it is +Inf.
	for _, typed := range []string{"", "abc", "NaN", "1e999", "9 9,8,1", "+Inf", "-Inf", "1.7e308", "-1,7e308"} {
		if _, err := assay.Read(typed); errs.FieldOf(err) != "value" {
			t.Errorf("%q read: %v", typed, err)
		}
	}
	if got := assay.Criterion("fr"); got != "≥ 95,0 % et ≤ 105,0 %" {
		t.Errorf("criterion in French: %q", got)
	}
	if got := ph.Criterion("en"); got != "> 4.50 pH and < 7.00 pH" {
		t.Errorf("criterion in English: %q", got)
	}
}

func TestInForce(t *testing.T) {
	v1 := Spec{ID: "v1", Version: 1, Status: SpecSuperseded, EffectiveFrom: t0.AddDate(0, -6, 0)}
	v2 := Spec{ID: "v2", Version: 2, Status: SpecApproved, EffectiveFrom: t0}
	v3 := Spec{ID: "v3", Version: 3, Status: SpecInReview, EffectiveFrom: t0.AddDate(0, 0, -1)}
	us := Spec{ID: "us", Version: 4, Status: SpecApproved, Market: "US", EffectiveFrom: t0.AddDate(0, -1, 0)}
	all := []Spec{v1, v2, v3, us}
	for _, c := range []struct {
		market string
		at     time.Time
		want   string
	}{
		{"", t0.AddDate(0, 0, -1), "v1"}, // v2 not yet in force, v3 not approved
		{"", t0, "v2"},
		{"eu", t0, "v2"}, // no EU version: the one for every market
		{"US", t0, "us"},
		{"US", t0.AddDate(0, -2, 0), "v1"},
	} {
		got, err := InForce(all, c.market, c.at)
		if err != nil || got.ID != c.want {
			t.Errorf("%q at %v: %v %v, want %s", c.market, c.at, got, err, c.want)
		}
	}
	if _, err := InForce(all, "", t0.AddDate(-1, 0, 0)); !errs.Is(err, errs.Conflict) {
		t.Errorf("before any version: %v", err)
	}
	if StatusAt(all, &v1, t0) != SpecSuperseded || StatusAt(all, &v2, t0.AddDate(0, 0, -1)) != SpecApproved || StatusAt(all, &v2, t0) != SpecEffective {
		t.Error("statuses over time")
	}
	if _, err := SpecRetired.Next(SpecSubmit); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "fr"), "retirée") {
		t.Errorf("a retired specification submitted: %v", err)
	}
}

// lab runs a finished-product sample through the laboratory: taken,
// received, ready for results.
func received(t *testing.T) Sample {
	t.Helper()
	sp := spec()
	s, err := TakeSample(Sampling{Actor: op, Code: "ECH-FIN-01", Kind: SampleFinished, BatchID: "b1", StepID: "step9", Spec: &sp, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tests) != 3 || s.SpecVersion != 2 {
		t.Fatalf("sample %+v", s)
	}
	if _, err := ReceiveSample(op, *s, Receipt{Quantity: 20, Unit: "g", Condition: ConditionIntact}, t0); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("an operator received: %v", err)
	}
	if _, err := ReceiveSample(analyst, *s, Receipt{Quantity: 20, Unit: "g", Condition: ConditionDamaged}, t0); errs.FieldOf(err) != "note" {
		t.Fatalf("damaged without a note: %v", err)
	}
	r, err := ReceiveSample(analyst, *s, Receipt{Quantity: 20, Unit: "g", Condition: ConditionIntact}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReceiveSample(analyst, *r, Receipt{Quantity: 20, Unit: "g", Condition: ConditionIntact}, t0); !errs.Is(err, errs.Conflict) {
		t.Fatalf("received twice: %v", err)
	}
	r.ID = "sm1"
	return *r
}

func TestSamples(t *testing.T) {
	sp := spec()
	if _, err := TakeSample(Sampling{Actor: op, Code: "X1", Kind: SampleFinished, BatchID: "b1", Spec: &sp, Now: t0}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator took a sample by hand: %v", err)
	}
	if _, err := TakeSample(Sampling{Actor: analyst, Code: "X1", Kind: SampleRawMaterial, Spec: &sp, Now: t0}); errs.FieldOf(err) != "lot_id" {
		t.Errorf("a raw material sample without its lot: %v", err)
	}
	if _, err := TakeSample(Sampling{Actor: analyst, Code: "X1", Kind: SampleStability, BatchID: "b1", Spec: &sp, Now: t0}); !errs.Is(err, errs.Conflict) {
		t.Errorf("a sample kind the specification has no test for: %v", err)
	}
	if _, err := TakeSample(Sampling{Actor: analyst, Code: "X1", Kind: SampleFinished, BatchID: "b1", Now: t0}); !errs.Is(err, errs.Conflict) {
		t.Errorf("no specification in force: %v", err)
	}
	s := received(t)
	w := Worklist([]Sample{s}, nil, nil)
	if len(w) != 3 || !w[0].Due.Equal(t0.AddDate(0, 0, 5)) {
		t.Errorf("worklist %+v", w)
	}
}

// enter enters a result as a, after the earlier ones.
func enter(t *testing.T, a identity.Actor, s Sample, earlier []Result, invs []Investigation, test, value string) (*ResultOutcome, error) {
	t.Helper()
	var mine []Result
	for _, r := range earlier {
		if r.TestCode == test {
			mine = append(mine, r)
		}
	}
	return EnterResult(Entering{Actor: a, Sample: s, Spec: spec(), Earlier: mine, Investigations: invs, Now: t0.Add(2 * time.Hour)}, Entry{Test: test, Value: value})
}

func TestResultsAndOOS(t *testing.T) {
	s := received(t)
	taken := s
	taken.State = SampleTaken
	if _, err := enter(t, analyst, taken, nil, nil, "ASSAY", "99"); !errs.Is(err, errs.Conflict) {
		t.Errorf("a result on a sample not received: %v", err)
	}
	if _, err := enter(t, analyst, s, nil, nil, "DISSOLUTION", "99"); errs.FieldOf(err) != "test" {
		t.Errorf("a test the sample does not have: %v", err)
	}
	if _, err := enter(t, op, s, nil, nil, "ASSAY", "99"); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator entered a result: %v", err)
	}
	out, err := enter(t, analyst, s, nil, nil, "ASSAY", "93,2")
	if err != nil || out.Opened == nil || out.Result.Verdict != OutOfSpec {
		t.Fatalf("an OOS result: %+v %v", out, err)
	}
	oos := out.Result
	oos.ID = "r1"
	inv := *out.Opened
	inv.ID, inv.Code, inv.ResultID = "i1", "OOS-2026-0001", "r1"
	oos.InvestigationID = inv.ID
	results := []Result{oos}
	invs := []Investigation{inv}

	// Reviewed by a second analyst, never by the one who entered it.
	if _, err := ReviewResult(analyst, oos, t0); !errs.Is(err, errs.Forbidden) || !strings.Contains(errs.MessageOf(err, "en"), "other than the one who entered") {
		t.Errorf("reviewed by its own analyst: %v", err)
	}
	rv, err := ReviewResult(second, oos, t0)
	if err != nil || rv.State != ResultReviewed {
		t.Fatalf("review: %v", err)
	}
	results[0] = *rv

	// No second measurement outside the investigation's plan.
	if _, err := enter(t, second, s, results, nil, "ASSAY", "99"); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second result without an investigation: %v", err)
	}
	if _, err := enter(t, second, s, results, invs, "ASSAY", "99"); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), "hypothesis") {
		t.Errorf("a retest before the hypothesis: %v", err)
	}
	if _, err := PlanRetests(analyst, inv, 2); !errs.Is(err, errs.Conflict) {
		t.Errorf("retests planned before the hypothesis: %v", err)
	}
	h, err := StateHypothesis(analyst, inv, "Dilution error suspected: the volumetric flask used was 50 mL, not 100 mL.", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StateHypothesis(analyst, *h, "Another hypothesis, stated after.", t0); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second hypothesis: %v", err)
	}
	if _, err := PlanRetests(analyst, *h, 0); errs.FieldOf(err) != "retests" {
		t.Errorf("no retest planned: %v", err)
	}
	p, err := PlanRetests(analyst, *h, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanRetests(analyst, *p, 3); !errs.Is(err, errs.Conflict) {
		t.Errorf("the number of retests changed: %v", err)
	}
	invs[0] = *p
	// A retest by the analyst whose result is investigated is refused.
	if _, err := enter(t, analyst, s, results, invs, "ASSAY", "99"); !errs.Is(err, errs.Forbidden) || !strings.Contains(errs.MessageOf(err, "en"), "other than the one") {
		t.Errorf("a retest by the same analyst: %v", err)
	}
	retestsToDo := 0
	for _, w := range Worklist([]Sample{s}, results, invs) {
		if w.Retest && w.Test == "ASSAY" {
			retestsToDo++
		}
	}
	if retestsToDo != 2 {
		t.Errorf("the worklist holds %d retests, not the two planned", retestsToDo)
	}
	for i, v := range []string{"99.1", "98.7"} {
		o, err := enter(t, second, s, results, invs, "ASSAY", v)
		if err != nil || !o.Result.Retest || o.Opened != nil || o.Result.Seq != i+2 {
			t.Fatalf("retest %d: %+v %v", i+1, o, err)
		}
		o.Result.ID = "rt" + v
		results = append(results, o.Result)
	}
	if _, err := enter(t, second, s, results, invs, "ASSAY", "99"); !errs.Is(err, errs.Conflict) {
		t.Errorf("a third retest of two planned: %v", err)
	}
	// The investigation is open: nothing reports yet, and QA cannot close
	// it before phase I concludes, nor before the retests are reviewed.
	if _, ok := Reportable(results, invs, s.ID, "ASSAY"); ok {
		t.Error("a result reports while its investigation is open")
	}
	if _, _, err := CloseOOS(Closing{Actor: qa, Investigation: invs[0], Results: results, Now: t0}); !errs.Is(err, errs.Conflict) {
		t.Errorf("closed before phase I concluded: %v", err)
	}
	if _, err := ConcludePhase1(analyst, invs[0], true, ""); errs.FieldOf(err) != "cause" {
		t.Errorf("a lab error proven without its cause: %v", err)
	}
	c1, err := ConcludePhase1(analyst, invs[0], true, "Flask of 50 mL found in the analyst's rack; the weighing ticket shows the dilution.")
	if err != nil {
		t.Fatal(err)
	}
	invs[0] = *c1
	if _, _, err := CloseOOS(Closing{Actor: analyst, Investigation: invs[0], Results: results, Now: t0}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the laboratory closed its own investigation: %v", err)
	}
	if _, _, err := CloseOOS(Closing{Actor: qa, Investigation: invs[0], Results: results, Now: t0}); !errs.Is(err, errs.Conflict) {
		t.Errorf("closed with retests not reviewed: %v", err)
	}
	for i := 1; i < len(results); i++ {
		r, err := ReviewResult(analyst, results[i], t0)
		if err != nil {
			t.Fatal(err)
		}
		results[i] = *r
	}
	closed, invalid, err := CloseOOS(Closing{Actor: qa, Investigation: invs[0], Results: results, Now: t0})
	if err != nil || closed.Outcome != OOSInvalidated || len(invalid) != 1 || invalid[0].ID != "r1" || invalid[0].State != ResultInvalidated {
		t.Fatalf("closure: %+v %+v %v", closed, invalid, err)
	}
	// The OOS result is kept, invalidated; the last retest reports.
	results[0] = invalid[0]
	invs[0] = *closed
	if r, ok := Reportable(results, invs, s.ID, "ASSAY"); !ok || r.Value != "98.7" {
		t.Errorf("reportable after the investigation: %+v %v", r, ok)
	}
	if len(results) != 3 {
		t.Error("a result was lost")
	}
}

func TestOOSConfirmed(t *testing.T) {
	inv := Investigation{ID: "i2", Code: "OOS-2026-0002", Analyst: "lab1", State: OOSPhase1, TestCode: "PH"}
	h, _ := StateHypothesis(analyst, inv, "Electrode drift suspected; calibration log to be checked.", t0)
	p, err := ConcludePhase1(analyst, *h, false, "Calibration log and electrode check are in order.")
	if err != nil || p.State != OOSPhase2 {
		t.Fatalf("phase I without a laboratory error: %+v %v", p, err)
	}
	if _, _, err := CloseOOS(Closing{Actor: qa, Investigation: *p, Now: t0}); !errs.Is(err, errs.Conflict) {
		t.Errorf("phase II closed without findings: %v", err)
	}
	if _, err := RecordFindings(analyst, *p, "Buffer over-dosed at operation 3.", ""); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the laboratory recorded phase II: %v", err)
	}
	f, err := RecordFindings(qa, *p, "Buffer over-dosed at operation 3 (scale out of calibration).", "d1")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := CloseOOS(Closing{Actor: qa, Investigation: *f, Now: t0})
	if err != nil || c.Outcome != OOSConfirmed || c.State != OOSClosed {
		t.Fatalf("confirmed: %+v %v", c, err)
	}
}

func TestImport(t *testing.T) {
	good := "\xef\xbb\xbfsample;test;value;comment\nECH-FIN-01;ASSAY;99,8;\nECH-FIN-01;PH;5,40;ok\n\n"
	lines, err := ParseImport([]byte(good), "hplc-01.csv")
	if err != nil || len(lines) != 2 || lines[1].Line != 3 || lines[1].Entry.Value != "5,40" || lines[0].Entry.Instrument != "hplc-01.csv" {
		t.Fatalf("import: %+v %v", lines, err)
	}
	bad := "sample,test,value\nECH-1,ASSAY,99.8\nECH-1,,5.4\n\"ECH-2,PH,5.1\nECH-3,PH\n"
	_, err = ParseImport([]byte(bad), "x.csv")
	msg := errs.MessageOf(err, "fr")
	if errs.FieldOf(err) != "file" || !strings.Contains(msg, "Ligne 3 : échantillon, test ou valeur manquant.") || !strings.Contains(msg, "Import refusé, rien n'a été enregistré") {
		t.Errorf("a bad import: %q", msg)
	}
	if _, err := ParseImport([]byte("échantillon;essai\nA;B\n"), "x.csv"); errs.FieldOf(err) != "file" {
		t.Errorf("a file without the columns: %v", err)
	}
	for _, f := range []string{"sample,test,value,comment\nS-1,PH,6.5,caf\xe9\n", "sample,test,value\nS-1,PH,6\x00.5\n"} {
		if _, err := ParseImport([]byte(f), "x.csv"); errs.FieldOf(err) != "file" || !strings.Contains(errs.MessageOf(err, "en"), "NUL") {
			t.Errorf("a file not in UTF-8 or with a NUL byte: %v", err)
		}
	}
	if _, err := ParseImport([]byte("sample,test,value\n"), "x.csv"); errs.FieldOf(err) != "file" {
		t.Errorf("an empty import: %v", err)
	}
	var le errs.Lines
	le.Add(7, errs.Field("value", "quality.result.number"))
	if got := errs.MessageOf(le.Err(), "en"); !strings.Contains(got, "Line 7: Enter a number, for example 99.8..") && !strings.Contains(got, "Line 7: Enter a number") {
		t.Errorf("a line's refusal: %q", got)
	}
}

func deviation() Deviation {
	return Deviation{ID: "d1", Code: "DEV-2026-0001", BatchID: "b1", State: DeviationOpen, OpenedAt: t0}
}

func TestDeviationWorkflow(t *testing.T) {
	no, yes := false, true
	sup := identity.Actor{UserID: "sup1", Roles: []identity.Role{identity.RoleSupervisor}}
	d := deviation()
	if _, err := Assess(op, d, Assessment{Class: Major, Reason: "Granulation time exceeded by 12 minutes."}, t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator assessed: %v", err)
	}
	if _, err := Assess(sup, d, Assessment{Class: "bad", Reason: "Granulation time exceeded by 12 minutes."}, t0); errs.FieldOf(err) != "class" {
		t.Errorf("an unknown class: %v", err)
	}
	if _, err := Assess(sup, d, Assessment{Class: Major, Reason: "x"}, t0); errs.FieldOf(err) != "reason" {
		t.Errorf("a class without its reason: %v", err)
	}
	if _, err := Assess(sup, d, Assessment{Class: Major, Reason: "Granulation time exceeded by 12 minutes.", Impacts: []Impact{{BatchID: "b2", Lot: "L2", Affects: &no}}}, t0); errs.FieldOf(err) != "impacts" {
		t.Errorf("not affecting a batch, without a justification: %v", err)
	}
	a, err := Assess(sup, d, Assessment{Class: Major, Reason: "Granulation time exceeded by 12 minutes.", RecurrenceOf: "DEV-2025-0042"}, t0)
	if err != nil || len(a.Impacts) != 1 || a.Impacts[0].BatchID != "b1" {
		t.Fatalf("assessed: %+v %v", a, err)
	}
	if _, err := Investigate(sup, *a, Findings{RootCause: "Timer of the granulator reset by a power dip."}, t0); !errs.Is(err, errs.Conflict) {
		t.Errorf("investigated before QA approved the assessment: %v", err)
	}
	if _, err := ApproveAssessment(sup, *a, t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a supervisor approved: %v", err)
	}
	qaAssessed, _ := Assess(qa, d, Assessment{Class: Major, Reason: "Granulation time exceeded by 12 minutes."}, t0)
	if _, err := ApproveAssessment(qa, *qaAssessed, t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("QA approved its own assessment: %v", err)
	}
	ap, err := ApproveAssessment(qa, *a, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Investigate(qa, *ap, Findings{RootCause: "Timer of the granulator reset by a power dip."}, t0); errs.FieldOf(err) != "actions" {
		t.Errorf("a major deviation without CAPA: %v", err)
	}
	if _, err := Investigate(qa, *ap, Findings{RootCause: "Timer of the granulator reset by a power dip.", Actions: []Action{{ID: "a1", Description: "UPS on the granulator", OwnerID: "m1", Due: t0.AddDate(0, 0, -3)}}}, t0); errs.FieldOf(err) != "due" {
		t.Errorf("an action due in the past: %v", err)
	}
	inv, err := Investigate(qa, *ap, Findings{RootCause: "Timer of the granulator reset by a power dip.", Actions: []Action{{ID: "a1", Description: "UPS on the granulator", OwnerID: "m1", OwnerName: "Marc", Due: t0.AddDate(0, 0, 14)}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Actions[0].Overdue(t0.AddDate(0, 0, 14)) || !inv.Actions[0].Overdue(t0.AddDate(0, 0, 16)) {
		t.Error("an action's overdue day")
	}
	if _, err := CompleteAction(sup, *inv, "a1", "UPS installed, test report TR-88.", t0); !errs.Is(err, errs.Forbidden) {
		t.Errorf("someone else completed Marc's action: %v", err)
	}
	done, err := CompleteAction(identity.Actor{UserID: "m1"}, *inv, "a1", "UPS installed, test report TR-88.", t0)
	if err != nil || done.Actions[0].DoneAt == nil || inv.Actions[0].DoneAt != nil {
		t.Fatalf("the owner completed the action: %v", err)
	}
	// Closure: every batch's impact decided; the effectiveness check's day.
	if _, err := CloseDeviation(qa, *done, nil, t0); !errs.Is(err, errs.Conflict) {
		t.Errorf("closed with b1's impact undecided: %v", err)
	}
	done.Impacts[0].Affects = &yes
	due := t0.AddDate(0, 3, 0)
	if _, err := CloseDeviation(qa, *done, nil, t0); errs.FieldOf(err) != "effectiveness_due" {
		t.Errorf("a major deviation closed without its effectiveness check: %v", err)
	}
	cl, err := CloseDeviation(qa, *done, &due, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !cl.Settled("b1") {
		t.Error("a closed deviation holds its batch back")
	}
	if _, err := CheckEffectiveness(qa2, *cl, true, "No recurrence over 3 months of production.", t0.AddDate(0, 1, 0)); !errs.Is(err, errs.Conflict) {
		t.Errorf("checked before its day: %v", err)
	}
	// QA checking the effectiveness of the deviation it investigated.
	if _, err := CheckEffectiveness(qa, *cl, true, "No recurrence over 3 months of production.", due); !errs.Is(err, errs.Forbidden) || !strings.Contains(errs.MessageOf(err, "en"), "other than its investigator") {
		t.Errorf("QA checked its own investigation: %v", err)
	}
	v, err := CheckEffectiveness(qa2, *cl, true, "No recurrence over 3 months of production.", due)
	if err != nil || v.State != DeviationVerified {
		t.Fatalf("checked: %+v %v", v, err)
	}
}

// releasable is a batch QA reviewed with everything in order.
func releasable(t *testing.T) Releasing {
	s := received(t)
	sp := spec()
	var results []Result
	for _, tc := range []struct{ test, value string }{{"ASSAY", "99.5"}, {"PH", "5.20"}, {"APP", "Poudre blanche"}} {
		o, err := enter(t, analyst, s, nil, nil, tc.test, tc.value)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := ReviewResult(second, o.Result, t0)
		r.ID = "r-" + tc.test
		results = append(results, *r)
	}
	in := s
	in.ID, in.Code, in.Kind, in.Tests = "sm2", "ECH-IPC-01", SampleInProcess, []string{"PH"}
	o, _ := enter(t, analyst, in, nil, nil, "PH", "5.1")
	r, _ := ReviewResult(second, o.Result, t0)
	results = append(results, *r)
	return Releasing{Actor: qp, Batch: production.Batch{ID: "b1", Lot: "L2603-0001", State: production.BatchQAReviewed},
		Exceptions: []Exception{{StepID: "st4", Label: "2.3", Justification: "Value re-measured within limits, see comment."}},
		Spec:       &sp, Samples: []Sample{s, in}, Results: results,
		Lots: []production.Lot{{Code: "MP-001", Status: production.LotReleased}}, Now: t0}
}

func TestReviewBatch(t *testing.T) {
	b := production.Batch{ID: "b1", Lot: "L1", State: production.BatchInReview}
	ex := []Exception{{StepID: "st4", Label: "2.3"}}
	if _, _, err := ReviewBatch(Reviewing{Actor: qp, Batch: b, Exceptions: ex}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the QP signed QA's review: %v", err)
	}
	if _, _, err := ReviewBatch(Reviewing{Actor: qa, Batch: b, Exceptions: ex}); errs.FieldOf(err) != "justifications" || !strings.Contains(errs.MessageOf(err, "en"), "2.3") {
		t.Errorf("an exception not justified: %v", err)
	}
	done, out, err := ReviewBatch(Reviewing{Actor: qa, Batch: b, Exceptions: ex, Justifications: map[string]string{"st4": "Re-measured within limits."}})
	if err != nil || done.State != production.BatchQAReviewed || out[0].Justification == "" {
		t.Fatalf("reviewed: %v", err)
	}
	if _, _, err := ReviewBatch(Reviewing{Actor: qa, Batch: *done}); !errs.Is(err, errs.Conflict) {
		t.Errorf("reviewed twice: %v", err)
	}
}

func TestRelease(t *testing.T) {
	if bl := Blockers(releasable(t)); len(bl) != 0 {
		t.Fatalf("blockers on a batch in order: %v", bl)
	}
	no := false
	cases := []struct {
		name string
		edit func(*Releasing)
		key  string
	}{
		{"not QA reviewed", func(c *Releasing) { c.Batch.State = production.BatchInReview }, "quality.block.not_reviewed"},
		{"an exception not justified", func(c *Releasing) { c.Exceptions[0].Justification = "" }, "quality.block.exception"},
		{"a missing result", func(c *Releasing) { c.Results = c.Results[1:] }, "quality.block.no_result"},
		{"a result not reviewed", func(c *Releasing) { c.Results[0].State = ResultEntered }, "quality.block.unreviewed"},
		{"a result out of specification", func(c *Releasing) { c.Results[0].Verdict = OutOfSpec }, "quality.block.oos"},
		{"no finished product sample", func(c *Releasing) { c.Samples = c.Samples[1:] }, "quality.block.no_sample"},
		{"an open OOS", func(c *Releasing) {
			c.Investigations = []Investigation{{ID: "i1", Code: "OOS-1", SampleID: "sm1", TestCode: "ASSAY", State: OOSPhase1}}
		}, "quality.block.oos_open"},
		{"an open deviation", func(c *Releasing) {
			c.Deviations = []Deviation{{Code: "DEV-1", BatchID: "b1", State: DeviationOpen}}
		}, "quality.block.deviation"},
		{"a deviation assessed as affecting", func(c *Releasing) {
			c.Deviations = []Deviation{{Code: "DEV-1", BatchID: "b1", State: DeviationApproved, ApprovedBy: "qa1", Impacts: []Impact{{BatchID: "b1"}}}}
		}, "quality.block.deviation"},
		{"a material lot in quarantine", func(c *Releasing) { c.Lots[0].Status = production.LotQuarantine }, "quality.block.lot"},
		{"no specification", func(c *Releasing) { c.Spec = nil }, "quality.block.no_spec"},
	}
	for _, c := range cases {
		r := releasable(t)
		c.edit(&r)
		bl := Blockers(r)
		if len(bl) == 0 || bl[0].Key != c.key {
			t.Errorf("%s: blockers %v, want %s", c.name, bl, c.key)
			continue
		}
		// The QP cannot certify, and is told why in words.
		_, err := Certify(r, esign.Released, "")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err, "en"), bl[0].Localize("en")) {
			t.Errorf("%s: certified: %v", c.name, err)
		}
	}
	// A deviation justified as not affecting the batch, approved by QA,
	// does not block.
	r := releasable(t)
	r.Deviations = []Deviation{{Code: "DEV-2", BatchID: "b0", State: DeviationApproved, ApprovedBy: "qa1",
		Impacts: []Impact{{BatchID: "b1", Affects: &no, Justification: "Other line, other room; no shared equipment."}}}}
	if bl := Blockers(r); len(bl) != 0 {
		t.Errorf("a justified deviation blocks: %v", bl)
	}
	if _, err := Certify(r, esign.Released, ""); err != nil {
		t.Errorf("certify: %v", err)
	}
	r.Actor = qa
	if _, err := Certify(r, esign.Released, ""); !errs.Is(err, errs.Forbidden) {
		t.Errorf("QA certified: %v", err)
	}
	r.Actor = qp
	if _, err := Certify(r, esign.Rejected, ""); errs.FieldOf(err) != "reason" {
		t.Errorf("rejected without a reason: %v", err)
	}
	rj, err := Certify(r, esign.Rejected, "Assay trend and the deviation's risk assessment.")
	if err != nil || rj.State != production.BatchRejected {
		t.Errorf("rejected: %v", err)
	}
	rj2 := r
	rj2.Batch = *rj
	if _, err := Certify(rj2, esign.Released, ""); !errs.Is(err, errs.Conflict) {
		t.Errorf("certified after a rejection: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	day := 24 * time.Hour
	done := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	in := MetricsInput{
		Decisions: []DecisionFacts{
			{Decision: DecisionCertified, Completed: t0, Decided: t0.Add(48 * time.Hour)},                // right first time
			{Decision: DecisionCertified, Exceptions: 1, Completed: t0, Decided: t0.Add(96 * time.Hour)}, // an exception
			{Decision: DecisionCertified, Deviations: 1, Completed: t0, Decided: t0.Add(24 * time.Hour)},
			{Decision: DecisionRejected, OOS: 1, Decided: t0.Add(24 * time.Hour)}, // completion unknown
		},
		OpenDeviations: []time.Time{t0.Add(-2 * day), t0.Add(-7 * day), t0.Add(-8 * day), t0.Add(-45 * day), t0.Add(-400 * day)},
		Actions: []Action{
			{Due: t0, DoneAt: done(20 * time.Hour)}, // on its due day: on time
			{Due: t0, DoneAt: done(3 * day)},        // late
			{Due: t0.Add(-5 * day)},                 // overdue
			{Due: t0.Add(10 * day)},                 // open, within its day
		},
	}
	m := ComputeMetrics(in, t0)
	if m.Decided != 4 || m.Certified != 3 || m.Rejected != 1 || m.RightFirstTime != 1 || m.RightFirstTimeRate != 0.25 {
		t.Errorf("decisions: %+v", m)
	}
	if m.LeadTimeMedianHours != 48 || m.LeadTimeMeanHours != 56 {
		t.Errorf("lead time: median %v, mean %v", m.LeadTimeMedianHours, m.LeadTimeMeanHours)
	}
	want := map[string]int{"0-7": 2, "8-30": 1, "31-90": 1, "90+": 1}
	for k, v := range want {
		if m.OpenDeviations[k] != v {
			t.Errorf("open deviations %s: %d, want %d", k, m.OpenDeviations[k], v)
		}
	}
	if m.CAPADoneOnTime != 1 || m.CAPADoneLate != 1 || m.CAPAOverdue != 1 || m.CAPAOpen != 1 || m.CAPAOnTimeRate != 1.0/3 {
		t.Errorf("CAPA: %+v", m)
	}
	if e := ComputeMetrics(MetricsInput{}, t0); e.RightFirstTimeRate != 0 || e.CAPAOnTimeRate != 1 || len(e.OpenDeviations) != 4 {
		t.Errorf("no data: %+v", e)
	}
}
