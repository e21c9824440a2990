package demo

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"galenix/internal/document"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/project"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestProductionDemo loads the demo on SQLite and checks its production:
// products of every form for every client, masters of realistic length,
// batches in every state, partly recorded batches in progress, the lines
// filled for the coming weeks without a broken rule of the schedule, and
// the batches the browser tests use. The PostgreSQL load is TestLoad's.
func TestProductionDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	ps := db.Production()
	d := read(t, db)

	products, err := ps.Products(ctx, production.ProductFilter{})
	if err != nil {
		t.Fatal(err)
	}
	clientCode := map[string]string{}
	for _, c := range d.clients {
		clientCode[c.ID] = c.Code
	}
	forms := map[site.Form]int{}
	classes := map[production.SpecialClass]int{}
	perClient := map[string]map[site.Form]bool{}
	for _, p := range products {
		forms[p.Form]++
		classes[p.SpecialClass]++
		c := clientCode[p.ClientID]
		if perClient[c] == nil {
			perClient[c] = map[site.Form]bool{}
		}
		perClient[c][p.Form] = true
	}
	for _, f := range site.Forms {
		if forms[f] == 0 {
			t.Errorf("no product of the form %s", f)
		}
	}
	for _, c := range []production.SpecialClass{production.ClassHormone, production.ClassNarcotic, production.ClassBiologic} {
		if classes[c] == 0 {
			t.Errorf("no product of the special class %s", c)
		}
	}
	for _, c := range d.clients {
		if n := len(perClient[c.Code]); n < 3 {
			t.Errorf("client %s has products in %d forms, want several", c.Code, n)
		}
	}

	masters, err := ps.Masters(ctx, production.MasterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	masterByID := map[string]production.Master{}
	statuses := map[production.MasterStatus]int{}
	for _, m := range masters {
		masterByID[m.ID] = m
		statuses[m.Status]++
	}
	for _, s := range []production.MasterStatus{production.MasterEffective, production.MasterSuperseded, production.MasterDraft, production.MasterInReview} {
		if statuses[s] == 0 {
			t.Errorf("no master %s: %v", s, statuses)
		}
	}
	if statuses[production.MasterEffective] != len(products) {
		t.Errorf("%d effective masters for %d products", statuses[production.MasterEffective], len(products))
	}

	batches, err := ps.Batches(ctx, production.BatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[production.BatchState]int{}
	used := map[string]bool{}
	var recorded, exceptions int
	var low, high int // batches in progress below and above half done
	for _, b := range batches {
		states[b.State]++
		used[b.MasterID] = true
		recorded += b.StepsDone
		exceptions += b.Exceptions
		switch b.State {
		case production.BatchReleased:
			t.Logf("%-11s %s %-13s v%d on %s, starts %s", b.State, b.Lot, b.ProductCode, b.Version, b.LineCode, b.Start.Format(time.RFC3339))
		case production.BatchInProgress:
			t.Logf("%-11s %s %-13s v%d on %s, %d/%d steps, %d exceptions", b.State, b.Lot, b.ProductCode, b.Version, b.LineCode, b.StepsDone, b.StepsTotal, b.Exceptions)
			if b.StepsDone == 0 || b.StepsDone >= b.StepsTotal {
				t.Errorf("batch %s in progress has %d of %d steps done", b.Lot, b.StepsDone, b.StepsTotal)
			}
			if 2*b.StepsDone < b.StepsTotal {
				low++
			} else {
				high++
			}
		case production.BatchCompleted, production.BatchInReview:
			t.Logf("%-11s %s %-13s v%d on %s, %d/%d steps, %d exceptions", b.State, b.Lot, b.ProductCode, b.Version, b.LineCode, b.StepsDone, b.StepsTotal, b.Exceptions)
			if b.StepsDone != b.StepsTotal || b.End == nil || !b.End.Before(time.Now()) {
				t.Errorf("batch %s %s: %d of %d steps done, ends %v", b.Lot, b.State, b.StepsDone, b.StepsTotal, b.End)
			}
		}
	}
	for _, s := range production.BatchStates {
		if states[s] == 0 {
			t.Errorf("no batch %s", s)
		}
	}
	if states[production.BatchInProgress] < 6 || low == 0 || high == 0 {
		t.Errorf("%d batches in progress, %d under half done, %d over; want at least 6, some of each", states[production.BatchInProgress], low, high)
	}
	if exceptions < 2 {
		t.Errorf("%d exceptions recorded, want at least 2 for quality to review", exceptions)
	}
	t.Logf("%d products, %d masters %v, %d batches %v, %d steps done, %d exceptions",
		len(products), len(masters), statuses, len(batches), states, recorded, exceptions)

	for id := range used {
		m, err := ps.Master(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Steps < 30 || m.Steps > 150 || m.Operations[0].Steps[0].Kind != production.StepClearance {
			t.Errorf("master %s v%d: %d steps, first %s; want 30 to 150, a line clearance first", m.Code, m.Version, m.Steps, m.Operations[0].Steps[0].Kind)
		}
		if m.Hours < 8 || m.Hours > 48 {
			t.Errorf("master %s: %g h per batch", m.Code, m.Hours)
		}
	}

	checkSchedule(t, batches)
	checkBrowserBatches(t, ctx, ps, batches)
	checkLineTable(t, d)
}

// checkSchedule checks that most lines have batches in the coming two
// weeks, and that no two batches of a line overlap or skip the changeover
// the rules ask between them.
func checkSchedule(t *testing.T, batches []production.Batch) {
	t.Helper()
	byLine := map[string][]production.Batch{}
	soon := map[string]bool{}
	now := time.Now()
	for _, b := range batches {
		if b.Start == nil {
			continue
		}
		byLine[b.LineCode] = append(byLine[b.LineCode], b)
		if b.Start.After(now) && b.Start.Before(now.AddDate(0, 0, 14)) {
			soon[b.LineCode] = true
		}
	}
	if len(soon) < 45 {
		t.Errorf("%d lines have batches in the coming two weeks, want at least 45", len(soon))
	}
	var idle []string
	for i := 1; i <= 30; i++ {
		for _, code := range []string{fmt.Sprintf("L30-%02d", i), fmt.Sprintf("L40-%02d", i)} {
			if i <= 20 || strings.HasPrefix(code, "L40") {
				if !soon[code] {
					idle = append(idle, code)
				}
			}
		}
	}
	t.Logf("%d lines with batches in the coming two weeks; without: %v", len(soon), idle)
	slot := func(b production.Batch) production.Slot {
		return production.Slot{ClientID: b.ClientID, ProductID: b.ProductID, Class: b.Class, Start: *b.Start, End: *b.End}
	}
	for line, bs := range byLine {
		for i := range bs {
			for j := i + 1; j < len(bs); j++ {
				a, b := slot(bs[i]), slot(bs[j])
				gap := production.Changeover(a, b)
				if a.Start.Before(b.End.Add(gap)) && b.Start.Before(a.End.Add(gap)) {
					t.Errorf("line %s: batches %s (%s – %s) and %s (%s – %s) overlap or lack %v of changeover", line,
						bs[i].Lot, a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339), bs[j].Lot, b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339), gap)
				}
			}
		}
	}
}

// checkBrowserBatches checks the Alpha batches of Bâtiment 30 the browser
// tests use: the first released one on the line of lowest code has its
// line clearance to do, and one in progress has a numeric entry next.
func checkBrowserBatches(t *testing.T, ctx context.Context, ps *store.ProductionStore, batches []production.Batch) {
	t.Helper()
	var released, running []production.Batch
	for _, b := range batches {
		if !strings.HasPrefix(b.LineCode, "L30-") || !strings.HasPrefix(b.ProductCode, "ALP-") {
			continue
		}
		switch b.State {
		case production.BatchReleased:
			released = append(released, b)
		case production.BatchInProgress:
			running = append(running, b)
		}
	}
	if len(released) == 0 {
		t.Fatal("no Alpha batch released to the floor in Bâtiment 30")
	}
	sort.SliceStable(released, func(i, j int) bool { return released[i].LineCode < released[j].LineCode })
	b := released[0]
	rec, err := ps.Record(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.StepsDone != 0 || rec.Steps[0].Step.Kind != production.StepClearance || rec.Steps[0].State != production.StepPending {
		t.Errorf("released batch %s: %d steps done, first step %s %s", b.Lot, b.StepsDone, rec.Steps[0].Step.Kind, rec.Steps[0].State)
	}
	next := slices.IndexFunc(rec.Steps[1:], func(s production.StepRecord) bool { return s.Step.Kind == production.StepNumeric })
	t.Logf("released Alpha batch for the browser tests: lot %s, %s, line %s; first numeric step %d", b.Lot, b.ProductCode, b.LineCode, next+2)
	floor, err := ps.Floor(ctx, b.LineID)
	if err != nil {
		t.Fatal(err)
	}
	if floor.Batch == nil || floor.Batch.ID != b.ID || floor.Next == nil || floor.Next.Step.Kind != production.StepClearance {
		t.Errorf("the tablet of line %s does not show batch %s at its line clearance: %+v", b.LineCode, b.Lot, floor.Batch)
	}

	found := false
	for _, b := range running {
		rec, err := ps.Record(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(rec.Steps, func(s production.StepRecord) bool { return s.State != production.StepDone })
		if i >= 0 && i+3 <= len(rec.Steps) && slices.ContainsFunc(rec.Steps[i:i+3], func(s production.StepRecord) bool { return s.Step.Kind == production.StepNumeric }) {
			t.Logf("Alpha batch in progress: lot %s, %s, line %s, %d of %d steps done, next %s (%s)",
				b.Lot, b.ProductCode, b.LineCode, b.StepsDone, b.StepsTotal, rec.Steps[i].Label(), rec.Steps[i].Step.Kind)
			found = true
			break
		}
	}
	if !found {
		t.Error("no Alpha batch in progress in Bâtiment 30 with a numeric entry among its next steps")
	}
}

// TestMasters checks the masters generated for every demo product, without
// a database: valid, 30 to 150 steps, sterile ones longer, a line clearance
// first, and every kind of step.
func TestMasters(t *testing.T) {
	mat := func(code string) string {
		if _, ok := materialNames[code]; !ok {
			t.Errorf("unknown material %s", code)
		}
		return "id-" + code
	}
	kinds := map[production.StepKind]int{}
	for _, s := range productSpecs {
		m := production.Master{ProductID: "p", Code: "DLM-" + s.Code, Title: "t", BatchSize: s.size, Unit: s.unit, Hours: s.hours,
			Operations: operations(s.Form, s.SpecialClass, s.formula, mat)}
		if err := m.Validate(); err != nil {
			t.Errorf("master of %s: %v", s.Code, err)
			continue
		}
		lo, hi := 30, 90
		if s.Form.Sterile() {
			lo, hi = 90, 150
		}
		if m.Steps < lo || m.Steps > hi {
			t.Errorf("master of %s (%s): %d steps, want %d to %d", s.Code, s.Form, m.Steps, lo, hi)
		}
		var critical, signed int
		for _, st := range steps(&m) {
			kinds[st.Kind]++
			if st.Critical {
				critical++
			}
			if st.Sign {
				signed++
			}
		}
		if critical == 0 || signed < 4 {
			t.Errorf("master of %s: %d critical steps, %d signed", s.Code, critical, signed)
		}
		t.Logf("%-14s %-18s %3d steps in %d operations, %d signed, %d critical, %g h", s.Code, s.Form, m.Steps, len(m.Operations), signed, critical, s.hours)
	}
	for _, k := range production.StepKinds {
		if kinds[k] == 0 {
			t.Errorf("no step of the kind %s", k)
		}
	}
}

// checkLineTable checks the production stage sees the lines' equipment as
// the lines stage wrote it: codes, kinds, lines and qualification dates.
func checkLineTable(t *testing.T, d siteData) {
	t.Helper()
	f := &factory{loader: &loader{codes: map[string]string{}}}
	for _, l := range d.lines {
		f.codes[l.Code] = l.ID
	}
	if err := f.lineTable(); err != nil {
		t.Fatal(err)
	}
	want := map[string]site.Equipment{}
	for _, e := range d.equipment {
		want[e.Code] = e
	}
	n := 0
	for _, ln := range f.lines {
		for _, e := range ln.equipment {
			n++
			w, ok := want[e.Code]
			if !ok || w.Kind != e.Kind || w.LineID != ln.id || !w.QualificationDue.Equal(e.QualificationDue) {
				t.Errorf("equipment %s %s due %s; loaded %+v", e.Code, e.Kind, e.QualificationDue, w)
			}
		}
	}
	if n != len(d.equipment) {
		t.Errorf("%d pieces of equipment seen, %d loaded", n, len(d.equipment))
	}
}

// TestQualityDemo: the demo's quality unit has its work in every state: a
// specification in force for every product; deviations in every state of
// their workflow; OOS investigations open and closed, with both outcomes;
// the register with a certified and a rejected batch; the laboratory's day
// of work to do.
func TestQualityDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	products, err := db.Production().Products(ctx, production.ProductFilter{})
	if err != nil {
		t.Fatal(err)
	}
	markets := map[string]int{}
	for _, p := range products {
		specs, err := db.Lab().Specs(ctx, quality.SpecFilter{ProductID: p.ID, Status: quality.SpecEffective})
		everywhere := 0
		for _, sp := range specs {
			markets[sp.Market]++
			if sp.Market == "" {
				everywhere++
			}
		}
		if err != nil || everywhere != 1 {
			t.Errorf("product %s: %d specifications in force for every market (%v)", p.Code, everywhere, err)
		}
	}
	// A specification of its own for a market, which differs.
	if markets["US"] != 1 {
		t.Errorf("specifications by market: %v, want one for the US", markets)
	}
	// Samples of every kind a batch or a lot gives: a raw material lot's,
	// received, its test to do; a stability sample, its assay out of
	// specification under investigation.
	kinds := map[quality.SampleKind]int{}
	samples, err := db.Lab().Samples(ctx, quality.SampleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		kinds[s.Kind]++
	}
	for _, k := range []quality.SampleKind{quality.SampleRawMaterial, quality.SampleInProcess, quality.SampleFinished, quality.SampleStability} {
		if kinds[k] == 0 {
			t.Errorf("no sample %s (%v)", k, kinds)
		}
	}
	phase1, err := db.Lab().Investigations(ctx, quality.OOSFilter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	inPhase1 := 0
	for _, inv := range phase1 {
		if inv.State == quality.OOSPhase1 && inv.Hypothesis != "" && inv.LabError == nil {
			inPhase1++
		}
	}
	if inPhase1 == 0 {
		t.Errorf("no investigation in phase I, its hypothesis stated: %v", phase1)
	}
	// The batch of Alpha QA reviewed whose tests are all to do, for the
	// whole flow.
	reviewed, err := db.Production().Batches(ctx, production.BatchFilter{States: []production.BatchState{production.BatchQAReviewed}})
	if err != nil {
		t.Fatal(err)
	}
	toTest := 0
	for _, b := range reviewed {
		res, err := db.Lab().Results(ctx, quality.ResultFilter{BatchID: b.ID})
		ss, err2 := db.Lab().Samples(ctx, quality.SampleFilter{BatchID: b.ID, State: quality.SampleReceived})
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		if len(res) == 0 && len(ss) == 2 {
			toTest++
		}
	}
	if toTest != 1 {
		t.Errorf("%d batches QA reviewed with their samples received and every test to do, want 1", toTest)
	}
	devs, err := db.Deviations().Deviations(ctx, quality.DeviationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[quality.DeviationState]int{}
	for _, d := range devs {
		seen[d.State]++
	}
	for _, s := range quality.DeviationStates {
		if seen[s] == 0 {
			t.Errorf("no deviation %s (%v)", s, seen)
		}
	}
	invs, err := db.Lab().Investigations(ctx, quality.OOSFilter{})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[quality.OOSOutcome]int{}
	for _, inv := range invs {
		outcomes[inv.Outcome]++
	}
	if outcomes[quality.OOSInvalidated] == 0 || outcomes[quality.OOSConfirmed] == 0 {
		t.Errorf("investigations' outcomes: %v", outcomes)
	}
	reg, err := db.Release().Register(ctx, quality.RegisterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[quality.Decision]int{}
	for _, l := range reg {
		decisions[l.Decision]++
	}
	if decisions[quality.DecisionCertified] == 0 || decisions[quality.DecisionRejected] == 0 {
		t.Errorf("register: %v", decisions)
	}
	work, err := db.Lab().Worklist(ctx)
	if err != nil || len(work) == 0 {
		t.Errorf("the laboratory's worklist: %d tests (%v)", len(work), err)
	}
	t.Logf("deviations %v, investigations %v, register %v, %d tests to do", seen, outcomes, decisions, len(work))
}

// TestAgreementDemo: every demo client has its quality agreement; Alpha's
// major deviations were notified and summarised in time, but the latest,
// whose notification runs late; the client sees the same countdown.
func TestAgreementDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	clients, err := db.Clients().Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if ag, err := db.Agreements().Agreement(ctx, c.ID); err != nil || ag.Reference == "" {
			t.Errorf("client %s: agreement %+v %v", c.Code, ag, err)
		}
	}
	obs, err := db.Agreements().Obligations(ctx, quality.ObligationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	states := map[string]int{}
	for _, o := range obs {
		states[string(o.Kind)+"/"+string(o.State(now))]++
	}
	if states["notify/late"] != 1 || states["notify/met"] < 3 || states["summary/met"] < 2 {
		t.Errorf("the demo's obligations by kind and state: %v; want one notification late, the others met", states)
	}

	// Beta approves its masters: its version in review is one its user
	// reads, waiting for the client's approval.
	for _, c := range clients {
		ag, _ := db.Agreements().Agreement(ctx, c.ID)
		if ag == nil || ag.ClientApprovesMasters != (c.Code == "BETA") {
			t.Errorf("client %s approves its masters: %+v", c.Code, ag)
		}
	}
	var betaID string
	for _, c := range clients {
		if c.Code == "BETA" {
			betaID = c.ID
		}
	}
	beta := identity.WithActor(context.Background(), identity.Actor{UserID: "beta-user", ClientID: betaID, Roles: []identity.Role{identity.RoleClientUser}})
	ms, err := db.Production().Masters(beta, production.MasterFilter{Status: production.MasterInReview})
	if err != nil || len(ms) != 1 || ms[0].Code != "DLM-BET-VITD-GTT" {
		t.Errorf("Beta's masters in review: %+v %v", ms, err)
	}
}

// TestProjectDemo: every demo client has one or two projects, in
// different phases, with decisions of both sides, tasks of both sides
// (one late), messages; the first project holds the client's
// specification.
func TestProjectDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	ps, err := db.Projects().Projects(ctx, project.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byClient, phases := map[string]int{}, map[project.Phase]bool{}
	count := map[string]int{}
	late := 0
	for _, p := range ps {
		byClient[p.ClientID]++
		phases[p.Phase] = true
		v, err := db.Projects().Project(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range v.Entries {
			count[string(e.Kind)+"/"+string(e.Side)]++
			if e.Overdue(db.Now(), time.UTC) {
				late++
			}
		}
	}
	if len(byClient) != 3 || len(phases) < 3 {
		t.Errorf("projects by client %v, phases %v: want every client's, three phases at least", byClient, phases)
	}
	for _, k := range []string{"decision/site", "decision/client", "task/site", "task/client", "message/site", "message/client", "milestone/site", "objective/site"} {
		if count[k] == 0 {
			t.Errorf("no %s in the demo's projects: %v", k, count)
		}
	}
	if late == 0 {
		t.Error("no late task in the demo's projects")
	}
	if db.HasMasterKey() {
		docs, err := db.Documents().Documents(ctx, document.Filter{ProjectID: ps[0].ID})
		if err != nil || len(docs) == 0 {
			t.Errorf("the first project's documents: %v %v", docs, err)
		}
	}
}
