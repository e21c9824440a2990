package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
)

// The quality stage: a specification for every product, approved by QA two
// months ago; the batches in QA review taken through the laboratory and
// the disposition: one certified, with a result out of specification
// invalidated by a laboratory error proven; one rejected, its result out
// of specification confirmed and its deviation investigated; one QA
// reviewed, waiting for the qualified person, a result still to review;
// the other deviations of the batch records assessed or left open.

// qualityStage holds what the quality stage works with.
type qualityStage struct {
	*loader
	lab *store.LabStore
	dev *store.DeviationStore
	rel *store.ReleaseStore
	// The demo's people of quality, acting in the history's context.
	analyst, second, qa, qp, supervisor context.Context
	qaSigner, qpSigner                  signer
}

// quality writes the quality demo.
func (l *loader) quality() error {
	q := &qualityStage{loader: l, lab: l.db.Lab(), dev: l.db.Deviations(), rel: l.db.Release()}
	now := l.h.Now()
	defer func() { l.h.Backdate(now) }()
	var err error
	for _, p := range []struct {
		username string
		ctx      *context.Context
		sig      *signer
	}{{"lab", &q.analyst, nil}, {"lab2", &q.second, nil}, {"qa", &q.qa, &q.qaSigner}, {"qp", &q.qp, &q.qpSigner}, {"supervisor", &q.supervisor, nil}} {
		a, err := l.person(p.username)
		if err != nil {
			return err
		}
		*p.ctx = l.h.As(l.ctx, a)
		if p.sig != nil {
			*p.sig = signer{id: a.UserID, name: a.Name}
		}
	}
	if err = q.specs(now.AddDate(0, -2, 0)); err != nil {
		return err
	}
	if err = q.agreements(now.AddDate(-1, 0, 0)); err != nil {
		return err
	}
	l.h.Backdate(now)
	return q.dispositions(now)
}

// agreements records each client's quality agreement, signed a year ago:
// Alpha's asks to hear of a major deviation within 24 hours and of a
// critical one within 12, and the summary within 5 working days; Beta's
// and Gamma's also ask to approve the closure of a major deviation.
// Alpha's and Gamma's share the CAPA with the client; each but Gamma's
// names the client's quality contacts, who are e-mailed its notices.
func (q *qualityStage) agreements(at time.Time) error {
	q.h.Backdate(at)
	for _, c := range []struct {
		code, ref       string
		major, critical int
		days            int
		approves        bool
		docs            []quality.BatchDocument
		to              []string
		shareCAPA       bool
	}{
		{"ALPHA", "AQ-ALPHA-2025-01", 24, 12, 5, false, []quality.BatchDocument{quality.DocCertificate, quality.DocDeviationSummary},
			[]string{"assurance-qualite@alpha-pharma.example"}, true},
		{"BETA", "QAA-BETA-2025-07", 48, 24, 10, true, []quality.BatchDocument{quality.DocBatchRecord, quality.DocCertificate, quality.DocConformity},
			[]string{"qa@beta-bio.example", "qp@beta-bio.example"}, false},
		{"GAMMA", "AQ-GAMMA-2025-03", 24, 24, 5, true, []quality.BatchDocument{quality.DocCertificate, quality.DocEnvironmentReport}, nil, true},
	} {
		id, err := q.id(c.code)
		if err != nil {
			return err
		}
		// Beta's quality assurance approves its master batch records: its
		// version in review waits for it.
		if _, err := q.db.Agreements().SetAgreement(q.qa, quality.Agreement{ClientID: id, Reference: c.ref, NotifyMajorHours: c.major, ClientApprovesMasters: c.code == "BETA",
			NotifyCriticalHours: c.critical, SummaryWorkingDays: c.days, ClientApprovesMajorClosure: c.approves, BatchDocuments: c.docs, NotifyTo: c.to, ShareCAPA: c.shareCAPA}, ""); err != nil {
			return fmt.Errorf("quality agreement of %s: %w", c.code, err)
		}
	}
	return nil
}

// meet sends the client of deviation id what its agreement owes it, of
// the kind, in words.
func (q *qualityStage) meet(id string, kind quality.ObligationKind, words string) error {
	obs, err := q.db.Agreements().Obligations(q.qa, quality.ObligationFilter{DeviationID: id})
	if err != nil {
		return err
	}
	for _, o := range obs {
		if o.Kind == kind {
			_, err := q.db.Agreements().MeetObligation(q.qa, o.ID, 0, words)
			return err
		}
	}
	return fmt.Errorf("deviation %s: no obligation %s under the agreement", id, kind)
}

// person is the actor of a demo account, as it signs in: its roles and the
// clients it is assigned to.
func (l *loader) person(username string) (identity.Actor, error) {
	for _, a := range accounts {
		if a.username != username {
			continue
		}
		id, err := l.id("account:" + username)
		if err != nil {
			return identity.Actor{}, err
		}
		act := identity.Actor{UserID: id, Username: username, Name: a.name, Roles: []identity.Role{a.role}}
		if a.client != "" {
			if act.ClientID, err = l.id(a.client); err != nil {
				return identity.Actor{}, err
			}
		}
		for _, c := range a.assigned {
			cid, err := l.id(c)
			if err != nil {
				return identity.Actor{}, err
			}
			act.Assigned = append(act.Assigned, cid)
		}
		return act, nil
	}
	return identity.Actor{}, fmt.Errorf("no demo account %q", username)
}

// lim is a limit of a test.
func lim(op quality.Op, v float64) *quality.Limit { return &quality.Limit{Op: op, Value: v} }

// appearance is what a conforming product of the form looks like.
var appearance = map[site.Form]string{
	site.FormAmpoule: "Solution limpide, incolore", site.FormVial: "Solution limpide, incolore",
	site.FormSyringe: "Solution limpide, incolore", site.FormTablet: "Comprimé blanc, rond",
	site.FormCapsule: "Gélule blanche", site.FormDrops: "Solution limpide",
	site.FormLotion: "Émulsion blanche, homogène", site.FormPaste: "Pâte blanche, homogène",
	site.FormSyrup: "Liquide limpide, légèrement jaune",
}

// testsFor are the tests of a product's specification: the assay and the
// appearance of the finished product for all; the in-process test (pH of
// the liquids and semi-solids, mass uniformity of the solid forms);
// dissolution for the solid forms; sterility and endotoxins for the
// sterile ones.
func testsFor(p production.Product) []quality.Test {
	finished, both := []quality.SampleKind{quality.SampleFinished}, []quality.SampleKind{quality.SampleInProcess, quality.SampleFinished}
	stable := []quality.SampleKind{quality.SampleFinished, quality.SampleStability}
	tests := []quality.Test{
		{Code: "ASSAY", Name: "Dosage du principe actif", Method: "HPLC-UV, MA-" + p.Code + "-01", Kind: quality.TestNumeric, Unit: "%", Decimals: 1,
			Min: lim(quality.AtLeast, 95), Max: lim(quality.AtMost, 105), AlertMin: lim(quality.AtLeast, 97), AlertMax: lim(quality.AtMost, 103), Stages: stable},
		{Code: "APP", Name: "Aspect", Method: "Examen visuel", Kind: quality.TestText, Expected: appearance[p.Form], Stages: finished},
		{Code: "IDENT", Name: "Identification du principe actif (lot de matière)", Method: "Ph. Eur. 2.2.24, spectrophotométrie IR", Kind: quality.TestText,
			Expected: "Conforme", Stages: []quality.SampleKind{quality.SampleRawMaterial}},
	}
	switch p.Form {
	case site.FormTablet, site.FormCapsule:
		tests = append(tests,
			quality.Test{Code: "MASS", Name: "Uniformité de masse", Method: "Ph. Eur. 2.9.5", Kind: quality.TestText, Expected: "Conforme", Stages: both},
			quality.Test{Code: "DISS", Name: "Dissolution à 30 min", Method: "Ph. Eur. 2.9.3, appareil 2", Kind: quality.TestNumeric, Unit: "%", Decimals: 0,
				Min: lim(quality.AtLeast, 80), AlertMin: lim(quality.AtLeast, 85), Stages: finished})
	default:
		tests = append(tests, quality.Test{Code: "PH", Name: "pH", Method: "Ph. Eur. 2.2.3", Kind: quality.TestNumeric, Unit: "pH", Decimals: 2,
			Min: lim(quality.AtLeast, 4.5), Max: lim(quality.AtMost, 7.5), AlertMin: lim(quality.AtLeast, 5), AlertMax: lim(quality.AtMost, 7), Stages: both})
	}
	if p.Sterile {
		tests = append(tests,
			quality.Test{Code: "STER", Name: "Stérilité", Method: "Ph. Eur. 2.6.1", Kind: quality.TestText, Expected: "Stérile", Stages: finished},
			quality.Test{Code: "ENDO", Name: "Endotoxines bactériennes", Method: "Ph. Eur. 2.6.14", Kind: quality.TestNumeric, Unit: "UI/mL", Decimals: 2,
				Max: lim(quality.AtMost, 0.5), Stages: finished})
	}
	return tests
}

// specs writes a specification for every product, in force from since,
// approved by quality assurance's signature.
func (q *qualityStage) specs(since time.Time) error {
	products, err := q.prod.Products(q.ctx, production.ProductFilter{})
	if err != nil {
		return err
	}
	q.h.Backdate(since.Add(-24 * time.Hour))
	// The analysts are qualified on every method the specifications name.
	var methods []string
	for _, p := range products {
		for _, tc := range testsFor(p) {
			methods = append(methods, tc.Method)
		}
	}
	methods = append(methods, "HPLC-UV, USP <621>", "USP <711>, appareil 2")
	slices.Sort(methods)
	if err := q.qualifyAnalysts(slices.Compact(methods), since.Add(-48*time.Hour)); err != nil {
		return err
	}
	for _, p := range products {
		s := &quality.Spec{ProductID: p.ID, Code: "SPEC-" + p.Code, Title: "Spécification " + p.Name, EffectiveFrom: since, Tests: testsFor(p)}
		if err := q.lab.CreateSpec(q.ctx, s); err != nil {
			return fmt.Errorf("specification of %s: %w", p.Code, err)
		}
		if _, err := q.lab.MoveSpec(q.ctx, s.ID, quality.SpecSubmit, ""); err != nil {
			return fmt.Errorf("specification of %s: %w", p.Code, err)
		}
		if err := q.h.SignRecord(store.EntitySpec, s.ID, esign.Approved, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
			return fmt.Errorf("approval of the specification of %s: %w", p.Code, err)
		}
	}
	// The first tablet's specification for the United States differs:
	// the assay within 90–110 % and dissolution Q = 75 % (its USP
	// monograph).
	for _, p := range products {
		if p.Form != site.FormTablet {
			continue
		}
		tests := testsFor(p)
		for i := range tests {
			switch tests[i].Code {
			case "ASSAY":
				tests[i].Min, tests[i].Max, tests[i].AlertMin, tests[i].AlertMax = lim(quality.AtLeast, 90), lim(quality.AtMost, 110), lim(quality.AtLeast, 93), lim(quality.AtMost, 107)
				tests[i].Method = "HPLC-UV, USP <621>"
			case "DISS":
				tests[i].Min, tests[i].AlertMin, tests[i].Method = lim(quality.AtLeast, 75), lim(quality.AtLeast, 80), "USP <711>, appareil 2"
			}
		}
		s := &quality.Spec{ProductID: p.ID, Code: "SPEC-" + p.Code + "-US", Title: "Spécification " + p.Name + " (États-Unis)", Market: "US",
			EffectiveFrom: since, Tests: tests}
		if err := q.lab.CreateSpec(q.ctx, s); err != nil {
			return fmt.Errorf("US specification of %s: %w", p.Code, err)
		}
		if _, err := q.lab.MoveSpec(q.ctx, s.ID, quality.SpecSubmit, ""); err != nil {
			return fmt.Errorf("US specification of %s: %w", p.Code, err)
		}
		if err := q.h.SignRecord(store.EntitySpec, s.ID, esign.Approved, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
			return fmt.Errorf("approval of the US specification of %s: %w", p.Code, err)
		}
		break
	}
	return nil
}

// dispositions takes the batches in QA review through the laboratory and
// their disposition, and the other deviations of the batch records through
// the first steps of their workflow.
func (q *qualityStage) dispositions(now time.Time) error {
	bs, err := q.prod.Batches(q.ctx, production.BatchFilter{States: []production.BatchState{production.BatchInReview}})
	if err != nil {
		return err
	}
	// The lab's analysts see Alpha and Gamma: the batches of those
	// clients, those without an exception first.
	alpha, err := q.id("ALPHA")
	if err != nil {
		return err
	}
	gamma, err := q.id("GAMMA")
	if err != nil {
		return err
	}
	var clean, wrong []production.Batch
	for _, b := range bs {
		if b.ClientID != alpha && b.ClientID != gamma {
			continue
		}
		if b.Exceptions == 0 {
			clean = append(clean, b)
		} else {
			wrong = append(wrong, b)
		}
	}
	// Alpha's batch last: the one left waiting for the qualified person
	// is Alpha's, whose user the browser test downloads the certificate
	// as, once certified.
	slices.SortFunc(clean, func(a, b production.Batch) int {
		if (a.ClientID == alpha) != (b.ClientID == alpha) {
			if a.ClientID == alpha {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Lot, b.Lot)
	})
	if len(clean) < 2 || len(wrong) < 1 {
		return fmt.Errorf("the demo needs two batches in QA review without exception and one with: %d and %d", len(clean), len(wrong))
	}
	if err := q.certified(clean[0], now); err != nil {
		return err
	}
	if err := q.followUp(clean[0], now); err != nil {
		return err
	}
	if err := q.rejected(wrong[0], now); err != nil {
		return err
	}
	if err := q.waiting(clean[len(clean)-1], now); err != nil {
		return err
	}
	if err := q.toTest(now, alpha); err != nil {
		return err
	}
	if err := q.pending(now, alpha, gamma); err != nil {
		return err
	}
	if err := q.reported(now, alpha); err != nil {
		return err
	}
	return q.deviations(now)
}

// sampled takes, receives and tests a batch's in-process and finished
// samples at t: each test's value on the finished product, by test code
// (the conforming one otherwise), entered by the first analyst; every result reviewed by the
// second but those of unreviewed.
func (q *qualityStage) sampled(b production.Batch, t time.Time, values map[string]string, unreviewed ...string) (map[string]*quality.ResultOutcome, error) {
	out := map[string]*quality.ResultOutcome{}
	for i, kind := range []quality.SampleKind{quality.SampleInProcess, quality.SampleFinished} {
		q.h.Backdate(t.Add(time.Duration(i) * time.Hour))
		code := b.Lot + map[quality.SampleKind]string{quality.SampleInProcess: "-IPC", quality.SampleFinished: "-PF"}[kind]
		s, err := q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: code, Kind: kind, BatchID: b.ID})
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", code, err)
		}
		q.h.Backdate(t.Add(time.Duration(i)*time.Hour + 30*time.Minute))
		if _, err := q.lab.ReceiveSample(q.analyst, s.ID, quality.Receipt{Quantity: 50, Unit: "g", Condition: quality.ConditionIntact}); err != nil {
			return nil, fmt.Errorf("receipt of %s: %w", code, err)
		}
		sp, err := q.lab.Spec(q.ctx, s.SpecID)
		if err != nil {
			return nil, err
		}
		q.h.Backdate(t.Add(time.Duration(i)*time.Hour + 4*time.Hour))
		for _, tc := range s.Tests {
			test, _ := sp.TestFor(tc)
			v, ok := values[tc]
			if !ok || kind != quality.SampleFinished {
				v = conforming(test)
			}
			r, err := q.lab.EnterResult(q.analyst, s.ID, quality.Entry{Test: tc, Value: v})
			if err != nil {
				return nil, fmt.Errorf("result %s of %s: %w", tc, code, err)
			}
			out[string(kind)+"/"+tc] = r
			if slices.Contains(unreviewed, tc) || r.Opened != nil {
				continue
			}
			if _, err := q.lab.ReviewResult(q.second, r.Result.ID); err != nil {
				return nil, fmt.Errorf("review of %s of %s: %w", tc, code, err)
			}
		}
	}
	return out, nil
}

// conforming is a typical conforming result of a test.
func conforming(t *quality.Test) string {
	if t.Kind == quality.TestText {
		return t.Expected
	}
	switch t.Code {
	case "ASSAY":
		return "99,6"
	case "PH":
		return "6,12"
	case "DISS":
		return "92"
	case "ENDO":
		return "0,08"
	}
	return "1"
}

// certified: every test conforms, but the finished product's first pH
// (or dissolution) is out of specification, a laboratory error proven (a
// dilution error), retested twice by the second analyst and closed by QA;
// QA reviews the batch, the qualified person certifies it.
func (q *qualityStage) certified(b production.Batch, now time.Time) error {
	t := now.Add(-8 * 24 * time.Hour)
	oosTest, oosValue, retest := "PH", "8,31", "6,15"
	if b.Form == string(site.FormTablet) || b.Form == string(site.FormCapsule) {
		oosTest, oosValue, retest = "DISS", "71", "91"
	}
	res, err := q.sampled(b, t, map[string]string{oosTest: oosValue})
	if err != nil {
		return err
	}
	first := res[string(quality.SampleFinished)+"/"+oosTest]
	if first == nil || first.Opened == nil {
		return fmt.Errorf("batch %s: the first %s opens no investigation", b.Lot, oosTest)
	}
	inv, err := q.lab.Investigations(q.ctx, quality.OOSFilter{BatchID: b.ID, Open: true})
	if err != nil || len(inv) != 1 {
		return fmt.Errorf("batch %s: investigations %v %w", b.Lot, inv, err)
	}
	id := inv[0].ID
	q.h.Backdate(t.Add(7 * time.Hour))
	if _, err := q.lab.StateHypothesis(q.analyst, id, "Erreur de dilution possible : fiole jaugée de 50 mL utilisée au lieu de 100 mL.", 0); err != nil {
		return err
	}
	if _, err := q.lab.PlanRetests(q.analyst, id, 2, 0); err != nil {
		return err
	}
	q.h.Backdate(t.Add(9 * time.Hour))
	for range 2 {
		r, err := q.lab.EnterResult(q.second, first.Result.SampleID, quality.Entry{Test: oosTest, Value: retest})
		if err != nil {
			return fmt.Errorf("retest of %s: %w", b.Lot, err)
		}
		if _, err := q.lab.ReviewResult(q.analyst, r.Result.ID); err != nil {
			return err
		}
	}
	if _, err := q.lab.ConcludePhase1(q.analyst, id, true, "Fiole de 50 mL retrouvée sur la paillasse ; le ticket de pesée confirme la dilution erronée.", 0); err != nil {
		return err
	}
	q.h.Backdate(t.Add(26 * time.Hour))
	if err := q.h.SignRecord(store.EntityInvestigation, id, esign.Approved, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
		return fmt.Errorf("closure of the investigation of %s: %w", b.Lot, err)
	}
	q.h.Backdate(t.Add(50 * time.Hour))
	if err := q.h.SignRecord("batch", b.ID, esign.Reviewed, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
		return fmt.Errorf("QA review of %s: %w", b.Lot, err)
	}
	q.h.Backdate(t.Add(74 * time.Hour))
	if err := q.h.SignRecord("batch", b.ID, esign.Released, q.qpSigner.id, q.qpSigner.name, ""); err != nil {
		return fmt.Errorf("certification of %s: %w", b.Lot, err)
	}
	return nil
}

// followUp: the certified batch's stability sample, its assay out of
// specification this morning, its investigation's phase I under way (the
// hypothesis stated, nothing concluded); and a lot of material the batch's
// product uses, sampled and received, its identification to do.
func (q *qualityStage) followUp(b production.Batch, now time.Time) error {
	q.h.Backdate(now.Add(-6 * time.Hour))
	st, err := q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: b.Lot + "-STAB-M1", Kind: quality.SampleStability, BatchID: b.ID})
	if err != nil {
		return fmt.Errorf("stability sample of %s: %w", b.Lot, err)
	}
	q.h.Backdate(now.Add(-5 * time.Hour))
	if _, err := q.lab.ReceiveSample(q.analyst, st.ID, quality.Receipt{Quantity: 20, Unit: "g", Condition: quality.ConditionIntact}); err != nil {
		return fmt.Errorf("receipt of %s: %w", st.Code, err)
	}
	q.h.Backdate(now.Add(-3 * time.Hour))
	r, err := q.lab.EnterResult(q.analyst, st.ID, quality.Entry{Test: "ASSAY", Value: "93,8"})
	if err != nil {
		return fmt.Errorf("stability assay of %s: %w", b.Lot, err)
	}
	if r.Opened == nil {
		return fmt.Errorf("the stability assay of %s opens no investigation", b.Lot)
	}
	q.h.Backdate(now.Add(-2 * time.Hour))
	if _, err := q.lab.StateHypothesis(q.analyst, r.Opened.ID, "Étalon de référence possiblement dégradé : flacon ouvert depuis plus de 30 jours.", 0); err != nil {
		return err
	}
	lots, err := q.prod.Lots(q.ctx, production.LotFilter{})
	if err != nil || len(lots) == 0 {
		return fmt.Errorf("the demo needs a lot of material to sample: %d (%v)", len(lots), err)
	}
	l := lots[0]
	q.h.Backdate(now.Add(-4 * time.Hour))
	rm, err := q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: l.Code + "-ID", Kind: quality.SampleRawMaterial, LotID: l.ID, ProductID: b.ProductID})
	if err != nil {
		return fmt.Errorf("sample of the lot %s: %w", l.Code, err)
	}
	q.h.Backdate(now.Add(-90 * time.Minute))
	if _, err := q.lab.ReceiveSample(q.analyst, rm.ID, quality.Receipt{Quantity: 10, Unit: "g", Condition: quality.ConditionIntact}); err != nil {
		return fmt.Errorf("receipt of %s: %w", rm.Code, err)
	}
	return nil
}

// rejected: its deviation assessed major and investigated, its assay out of
// specification and confirmed by a full investigation; QA reviews it, the
// qualified person rejects it.
func (q *qualityStage) rejected(b production.Batch, now time.Time) error {
	t := now.Add(-6 * 24 * time.Hour)
	res, err := q.sampled(b, t, map[string]string{"ASSAY": "91,4"})
	if err != nil {
		return err
	}
	if res[string(quality.SampleFinished)+"/ASSAY"].Opened == nil {
		return fmt.Errorf("batch %s: the assay opens no investigation", b.Lot)
	}
	devs, err := q.dev.Deviations(q.ctx, quality.DeviationFilter{BatchID: b.ID})
	if err != nil || len(devs) == 0 {
		return fmt.Errorf("batch %s: deviations %v %w", b.Lot, devs, err)
	}
	d := devs[0]
	q.h.Backdate(t.Add(5 * time.Hour))
	if _, err := q.dev.AssessDeviation(q.qa, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Major,
		Reason: "Valeur hors limites sur une étape critique du procédé ; impact possible sur le dosage."}); err != nil {
		return fmt.Errorf("assessment of %s: %w", d.Code, err)
	}
	q.h.Backdate(t.Add(9 * time.Hour))
	if err := q.meet(d.ID, quality.ObligeNotify, "Déviation majeure "+d.Code+" sur votre lot "+b.Lot+
		" : dosage hors spécification, investigation OOS ouverte ; le lot reste en quarantaine."); err != nil {
		return fmt.Errorf("notification of %s: %w", d.Code, err)
	}
	inv, err := q.lab.Investigations(q.ctx, quality.OOSFilter{BatchID: b.ID, Open: true})
	if err != nil || len(inv) != 1 {
		return fmt.Errorf("batch %s: investigations %v %w", b.Lot, inv, err)
	}
	id := inv[0].ID
	q.h.Backdate(t.Add(8 * time.Hour))
	if _, err := q.lab.StateHypothesis(q.analyst, id, "Erreur d'intégration possible sur le chromatogramme.", 0); err != nil {
		return err
	}
	if _, err := q.lab.ConcludePhase1(q.analyst, id, false, "Intégration vérifiée par un second analyste : aucune erreur de laboratoire.", 0); err != nil {
		return err
	}
	if _, err := q.lab.RecordFindings(q.qa, id, "Sous-dosage lié à la sonde hors étalonnage de la déviation "+d.Code+".", d.ID, 0); err != nil {
		return err
	}
	q.h.Backdate(t.Add(30 * time.Hour))
	if err := q.h.SignRecord(store.EntityInvestigation, id, esign.Approved, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
		return fmt.Errorf("closure of the investigation of %s: %w", b.Lot, err)
	}
	if err := q.justify(b, "Valeur hors limites : voir la déviation "+d.Code+", investiguée."); err != nil {
		return err
	}
	q.h.Backdate(t.Add(52 * time.Hour))
	if err := q.h.SignRecord("batch", b.ID, esign.Reviewed, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
		return fmt.Errorf("QA review of %s: %w", b.Lot, err)
	}
	q.h.Backdate(t.Add(75 * time.Hour))
	return q.h.SignRecord("batch", b.ID, esign.Rejected, q.qpSigner.id, q.qpSigner.name,
		"Dosage hors spécification confirmé par l'investigation complète ; lot refusé.")
}

// waiting: its results entered, one not yet reviewed; QA reviewed, it
// waits for the qualified person, who is told what blocks.
func (q *qualityStage) waiting(b production.Batch, now time.Time) error {
	t := now.Add(-2 * 24 * time.Hour)
	if _, err := q.sampled(b, t, nil, "APP"); err != nil {
		return err
	}
	q.h.Backdate(t.Add(20 * time.Hour))
	return q.h.SignRecord("batch", b.ID, esign.Reviewed, q.qaSigner.id, q.qaSigner.name, "")
}

// toTest is Alpha's batch completed yesterday, its exception justified and
// its deviation assessed as not affecting it, QA reviewed: its in-process
// and finished product's samples received, every test to do. The browser
// test of the whole flow takes it from the laboratory's results to the
// certificate.
func (q *qualityStage) toTest(now time.Time, alpha string) error {
	bs, err := q.prod.Batches(q.ctx, production.BatchFilter{States: []production.BatchState{production.BatchCompleted}})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(bs, func(b production.Batch) bool { return b.ClientID == alpha })
	if i < 0 {
		return fmt.Errorf("the demo needs a batch of Alpha completed")
	}
	b := bs[i]
	q.h.Backdate(now.Add(-26 * time.Hour))
	if _, err := q.prod.MoveBatch(q.ctx, b.ID, production.MoveReview, ""); err != nil {
		return fmt.Errorf("review of %s: %w", b.Lot, err)
	}
	devs, err := q.dev.Deviations(q.ctx, quality.DeviationFilter{BatchID: b.ID})
	if err != nil {
		return err
	}
	no := false
	for _, d := range devs {
		q.h.Backdate(now.Add(-25 * time.Hour))
		if _, err := q.dev.AssessDeviation(q.supervisor, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Minor,
			Reason:  "Écart ponctuel sur une étape non critique, corrigé dans la tolérance de l'étape suivante.",
			Impacts: []quality.Impact{{BatchID: b.ID, Affects: &no, Justification: "Valeur revenue dans les limites à l'étape suivante ; aucun attribut qualité concerné."}}}); err != nil {
			return fmt.Errorf("assessment of %s: %w", d.Code, err)
		}
		q.h.Backdate(now.Add(-24 * time.Hour))
		if _, err := q.dev.ApproveAssessment(q.qa, d.ID, quality.DeviationStep{}); err != nil {
			return fmt.Errorf("approval of %s: %w", d.Code, err)
		}
	}
	if err := q.justify(b, "Écart évalué sans impact sur le lot : voir la déviation liée."); err != nil {
		return err
	}
	q.h.Backdate(now.Add(-23 * time.Hour))
	if err := q.h.SignRecord("batch", b.ID, esign.Reviewed, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
		return fmt.Errorf("QA review of %s: %w", b.Lot, err)
	}
	for i, kind := range []quality.SampleKind{quality.SampleInProcess, quality.SampleFinished} {
		code := b.Lot + map[quality.SampleKind]string{quality.SampleInProcess: "-IPC", quality.SampleFinished: "-PF"}[kind]
		q.h.Backdate(now.Add(time.Duration(i-22) * time.Hour))
		s, err := q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: code, Kind: kind, BatchID: b.ID})
		if err != nil {
			return fmt.Errorf("sample %s: %w", code, err)
		}
		q.h.Backdate(now.Add(time.Duration(i-21) * time.Hour))
		if _, err := q.lab.ReceiveSample(q.analyst, s.ID, quality.Receipt{Quantity: 50, Unit: "g", Condition: quality.ConditionIntact}); err != nil {
			return fmt.Errorf("receipt of %s: %w", code, err)
		}
	}
	return nil
}

// pending gives the laboratory its day's work: a batch just completed,
// its in-process sample received and its tests to do, its finished
// product's sample taken and still to receive.
func (q *qualityStage) pending(now time.Time, clients ...string) error {
	bs, err := q.prod.Batches(q.ctx, production.BatchFilter{States: []production.BatchState{production.BatchCompleted}})
	if err != nil {
		return err
	}
	for _, b := range bs {
		if !slices.Contains(clients, b.ClientID) {
			continue
		}
		q.h.Backdate(now.Add(-3 * time.Hour))
		ipc, err := q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: b.Lot + "-IPC", Kind: quality.SampleInProcess, BatchID: b.ID})
		if err != nil {
			return fmt.Errorf("sample of %s: %w", b.Lot, err)
		}
		q.h.Backdate(now.Add(-2 * time.Hour))
		if _, err := q.lab.ReceiveSample(q.analyst, ipc.ID, quality.Receipt{Quantity: 50, Unit: "g", Condition: quality.ConditionIntact}); err != nil {
			return fmt.Errorf("receipt of %s: %w", ipc.Code, err)
		}
		q.h.Backdate(now.Add(-time.Hour))
		_, err = q.lab.TakeSample(q.analyst, quality.SampleRequest{Code: b.Lot + "-PF", Kind: quality.SampleFinished, BatchID: b.ID})
		return err
	}
	return nil
}

// reported are deviations of Alpha reported by hand: one closed three
// months ago whose actions were found effective two months later, one
// closed last fortnight whose check is to come, one whose assessment QA
// approved, its investigation to do, one reported this morning, to assess.
func (q *qualityStage) reported(now time.Time, alpha string) error {
	owner, err := q.person("supervisor")
	if err != nil {
		return err
	}
	for _, r := range []struct {
		ago, check time.Duration
		title, why string
		verified   bool
		// approvedOnly stops once QA approved the assessment; openOnly
		// leaves it reported, to assess.
		approvedOnly, openOnly bool
	}{
		{100 * day24, 60 * day24, "Étiquettes d'un lot d'excipient interverties à la réception",
			"Deux palettes d'excipient reçues avec des étiquettes interverties ; détecté au contrôle de réception.", true, false, false},
		{20 * day24, -30 * day24, "Enregistreur de température de la chambre froide CF-2 arrêté 6 heures",
			"Pile de l'enregistreur épuisée ; les températures de la nuit ne sont pas enregistrées.", false, false, false},
		{3 * day24, 0, "Porte du sas du Bâtiment 30 restée ouverte 4 minutes",
			"Alarme de porte acquittée sans intervention ; aucun lot en cours dans la zone.", false, true, false},
		{5 * time.Hour, 0, "Balance de la salle de pesée du Bâtiment 30 hors tolérance à la vérification du matin",
			"Écart de 0,4 % sur le poids étalon de 2 kg ; balance étiquetée hors service, pesées reportées sur la balance voisine.", false, false, true},
	} {
		day := func(d time.Duration) { q.h.Backdate(now.Add(-r.ago + d)) }
		day(0)
		d, err := q.dev.OpenDeviation(q.supervisor, quality.NewDeviation{ClientID: alpha, Title: r.title, Description: r.why})
		if err != nil {
			return fmt.Errorf("deviation %q: %w", r.title, err)
		}
		if r.openOnly {
			continue
		}
		day(4 * time.Hour)
		if _, err := q.dev.AssessDeviation(q.supervisor, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Major,
			Reason: "Risque de confusion ou de perte de données GMP ; aucun lot libéré concerné."}); err != nil {
			return fmt.Errorf("assessment of %s: %w", d.Code, err)
		}
		// The client hears of it within its agreement's 24 hours, but
		// of the latest, which is late.
		if !r.approvedOnly {
			day(10 * time.Hour)
			if err := q.meet(d.ID, quality.ObligeNotify, "Déviation majeure "+d.Code+" : "+r.title+
				". Aucun lot libéré n'est concerné ; l'investigation suit."); err != nil {
				return fmt.Errorf("notification of %s: %w", d.Code, err)
			}
		}
		day(day24)
		if _, err := q.dev.ApproveAssessment(q.qa, d.ID, quality.DeviationStep{}); err != nil {
			return fmt.Errorf("approval of %s: %w", d.Code, err)
		}
		if r.approvedOnly {
			continue
		}
		day(3 * day24)
		inv, err := q.dev.InvestigateDeviation(q.supervisor, d.ID, quality.DeviationStep{}, quality.Findings{
			RootCause: "Procédure de réception et de maintenance sans vérification par une seconde personne.",
			Actions: []quality.Action{{Description: "Ajouter une vérification par une seconde personne à la procédure", OwnerID: owner.UserID,
				OwnerName: owner.Name, Due: now.Add(-r.ago + 20*day24)}}})
		if err != nil {
			return fmt.Errorf("investigation of %s: %w", d.Code, err)
		}
		day(3*day24 + 2*time.Hour)
		if err := q.meet(d.ID, quality.ObligeSummary, "Résumé de l'investigation de "+d.Code+
			" : la procédure ne prévoyait pas de vérification par une seconde personne ; elle est ajoutée, l'équipe formée."); err != nil {
			return fmt.Errorf("summary of %s: %w", d.Code, err)
		}
		if r.verified {
			day(15 * day24)
			if _, err := q.dev.CompleteAction(q.supervisor, d.ID, inv.Actions[0].ID, "Procédure PR-REC-004 révision 3, formation faite le jour même."); err != nil {
				return fmt.Errorf("action of %s: %w", d.Code, err)
			}
		}
		day(16 * day24)
		if _, err := q.dev.PlanEffectivenessCheck(q.qa, d.ID, quality.DeviationStep{}, now.Add(-r.ago+r.ago-r.check)); err != nil {
			return fmt.Errorf("check's day of %s: %w", d.Code, err)
		}
		if err := q.h.SignRecord("deviation", d.ID, esign.Approved, q.qaSigner.id, q.qaSigner.name, ""); err != nil {
			return fmt.Errorf("closure of %s: %w", d.Code, err)
		}
		if r.verified {
			q.h.Backdate(now.Add(-r.check + day24))
			if _, err := q.dev.CheckEffectiveness(q.qa, d.ID, quality.DeviationStep{}, true,
				"Aucune récurrence sur trois mois de réceptions ; la vérification par une seconde personne est appliquée."); err != nil {
				return fmt.Errorf("check of %s: %w", d.Code, err)
			}
		}
	}
	return nil
}

// justify writes QA's justification of each exception of the batch.
func (q *qualityStage) justify(b production.Batch, why string) error {
	rec, err := q.prod.Record(q.ctx, b.ID)
	if err != nil {
		return err
	}
	js := map[string]string{}
	for _, st := range rec.Steps {
		if st.Exception {
			js[st.ID] = why
		}
	}
	_, err = q.rel.Justify(q.qa, b.ID, js, 0, "")
	return err
}

// deviations: the other deviations of the batch records: one of Alpha's
// (whose batches the supervisor sees) assessed by the supervisor, approved
// by QA and investigated with its CAPA action; the others left open.
func (q *qualityStage) deviations(now time.Time) error {
	open, err := q.dev.Deviations(q.ctx, quality.DeviationFilter{States: []quality.DeviationState{quality.DeviationOpen}})
	if err != nil {
		return err
	}
	alpha, err := q.id("ALPHA")
	if err != nil {
		return err
	}
	slices.SortFunc(open, func(a, b quality.Deviation) int { return strings.Compare(a.Code, b.Code) })
	for _, d := range open {
		if d.ClientID != alpha {
			continue
		}
		q.h.Backdate(now.Add(-30 * time.Hour))
		if _, err := q.dev.AssessDeviation(q.supervisor, d.ID, quality.DeviationStep{}, quality.Assessment{Class: quality.Minor,
			Reason: "Écart ponctuel, corrigé dans la tolérance de l'étape suivante ; impact à confirmer."}); err != nil {
			return fmt.Errorf("assessment of %s: %w", d.Code, err)
		}
		q.h.Backdate(now.Add(-26 * time.Hour))
		if _, err := q.dev.ApproveAssessment(q.qa, d.ID, quality.DeviationStep{}); err != nil {
			return fmt.Errorf("approval of %s: %w", d.Code, err)
		}
		owner, err := q.person("supervisor")
		if err != nil {
			return err
		}
		q.h.Backdate(now.Add(-20 * time.Hour))
		_, err = q.dev.InvestigateDeviation(q.qa, d.ID, quality.DeviationStep{}, quality.Findings{
			RootCause: "Consigne mal relue au changement d'équipe ; la fiche de poste ne la rappelait pas.",
			Actions: []quality.Action{{Description: "Ajouter la consigne à la fiche de poste et former l'équipe", OwnerID: owner.UserID,
				OwnerName: owner.Name, Due: now.AddDate(0, 0, 14)}}})
		if err != nil {
			return fmt.Errorf("investigation of %s: %w", d.Code, err)
		}
		return nil
	}
	return nil
}
