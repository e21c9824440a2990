package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The QC laboratory's pages (Bâtiment 25): the analysts' worklist with the
// samples to receive and the results to review, a sample's page where its
// results are entered (tablet-friendly, like the floor) and reviewed, the
// OOS investigations (page_lab_oos.go) and the products' specifications
// (page_lab_spec.go). Every page asks the laboratory's service, which
// checks the permissions and the client scope; the pages only hide what
// would be refused anyway, and never show a client's user a name.

func (s *Server) routesLabPages() {
	// write registers a form of the laboratory: h gets its values.
	write := func(path string, h func(http.ResponseWriter, *http.Request, url.Values)) {
		s.handle("POST", path, false, func(w http.ResponseWriter, r *http.Request) {
			if s.Lab == nil {
				s.pageError(w, r, errs.E(errs.Internal, "web.lab_unavailable"))
				return
			}
			vals, err := postForm(w, r)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			h(w, r, vals)
		})
	}
	// read registers a page of the laboratory.
	read := func(path string, h http.HandlerFunc) {
		s.handle("GET", path, false, func(w http.ResponseWriter, r *http.Request) {
			if s.Lab == nil {
				s.pageError(w, r, errs.E(errs.Internal, "web.lab_unavailable"))
				return
			}
			h(w, r)
		})
	}
	read("/lab", s.labPage)
	s.handle("POST", "/lab/import", false, s.labImport)
	read("/lab/samples/{id}", s.labSamplePage)
	write("/lab/samples/{id}/receive", s.labReceive)
	write("/lab/samples/{id}/results", s.labEnter)
	write("/lab/results/{id}/review", s.labReview)

	read("/lab/oos", s.labOOSListPage)
	read("/lab/oos/{id}", s.labOOSPage)
	for _, step := range []string{"hypothesis", "retests", "phase1", "findings", "sign"} {
		write("/lab/oos/{id}/"+step, s.labOOSStep(step))
	}

	read("/lab/specs", s.labSpecsPage)
	read("/lab/specs/new", s.labSpecNewPage)
	write("/lab/specs", s.labSpecCreate)
	read("/lab/specs/{id}", s.labSpecPage)
	write("/lab/specs/{id}", s.labSpecUpdate)
	write("/lab/specs/{id}/move", s.labSpecMove)
	write("/lab/specs/{id}/sign", s.labSpecSign)
}

// labBase is what every laboratory page has: the layout's base, the
// laboratory's tabs, and times and numbers written in the page's language.
type labBase struct {
	base
	Tabs []prodTab
	// Client: a client laboratory's user, who never sees a name.
	Client bool
	// Lab: the reader does the laboratory's work; QA decides.
	Lab, QA bool
	// Notice confirms what was just done; Error is a refusal.
	Notice, Error string
	zone          *time.Location
}

func (s *Server) labBase(r *http.Request, tab string) labBase {
	b := s.base(r, "lab")
	a := b.Actor
	l := labBase{base: b, Client: a.IsClient(), Lab: a.Can(identity.PermLabWork), QA: a.Can(identity.PermQualityDecide), zone: s.zone()}
	for _, t := range []struct {
		href, key string
		show      bool
	}{
		{"/lab", "worklist", l.Lab},
		{"/lab/oos", "oos", true},
		{"/lab/specs", "specs", true},
	} {
		if t.show {
			l.Tabs = append(l.Tabs, prodTab{Href: t.href, Key: "lab.tab." + t.key, Current: t.key == tab})
		}
	}
	if n := r.URL.Query().Get("done"); n != "" && hasMsg("lab.notice."+n) {
		l.Notice = tr(l.Lang, "lab.notice."+n)
	}
	return l
}

// When writes a time (time.Time or *time.Time) in the site's zone.
func (l labBase) When(v any) string { return prodWhen(l.Lang, v, l.zone) }

// Criterion is a test's acceptance criterion in the page's language.
func (l labBase) Criterion(t quality.Test) string { return t.Criterion(l.Lang) }

// fail sets the refusal of a form on the page and its status.
func (l *labBase) fail(err error) int {
	if err == nil {
		return http.StatusOK
	}
	l.Error = errs.MessageOf(err, l.Lang)
	return refusalStatus(err)
}

// labPage is the analysts' worklist: the tests to do, earliest due first;
// the samples waiting to be received; the results waiting for a second
// analyst.
type labPage struct {
	labBase
	Work      []quality.Work
	ToReceive []quality.Sample
	ToReview  []quality.Result
	// Codes names the samples by id.
	Codes map[string]string
}

func (s *Server) labPage(w http.ResponseWriter, r *http.Request) {
	s.renderLab(w, r, nil)
}

func (s *Server) renderLab(w http.ResponseWriter, r *http.Request, refusal error) {
	ctx := r.Context()
	d := labPage{labBase: s.labBase(r, "worklist"), Codes: map[string]string{}}
	status := d.fail(refusal)
	var err error
	if d.Work, err = s.Lab.Worklist(ctx); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.ToReceive, err = s.Lab.Samples(ctx, quality.SampleFilter{State: quality.SampleTaken}); err != nil {
		s.pageError(w, r, err)
		return
	}
	entered, err := s.Lab.Results(ctx, quality.ResultFilter{State: quality.ResultEntered})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, res := range entered {
		if res.EnteredBy != d.Actor.UserID {
			d.ToReview = append(d.ToReview, res)
		}
	}
	if len(d.ToReview) > 0 {
		all, err := s.Lab.Samples(ctx, quality.SampleFilter{State: quality.SampleReceived})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, sm := range all {
			d.Codes[sm.ID] = sm.Code
		}
	}
	if r.URL.Query().Get("done") == "imported" {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		d.Notice = text.RenderCount(d.Lang, "lab.imported_n", n, n)
	}
	s.render(w, r, status, "lab", d)
}

// labImport enters an instrument's CSV export sent from the worklist's
// form: all its lines or none, each bad line named.
func (s *Server) labImport(w http.ResponseWriter, r *http.Request) {
	if s.Lab == nil {
		s.pageError(w, r, errs.E(errs.Internal, "web.lab_unavailable"))
		return
	}
	data, instrument, err := importFile(w, r)
	if err == nil {
		var out []quality.ResultOutcome
		if out, err = s.Lab.ImportResults(r.Context(), data, instrument); err == nil {
			http.Redirect(w, r, "/lab?done=imported&n="+strconv.Itoa(len(out)), http.StatusSeeOther)
			return
		}
	}
	s.logIfInternal(r, err)
	s.renderLab(w, r, err)
}

// labSamplePage is one sample: what it is, its receipt, and each of its
// tests with its criterion, its results (every one, verdict in words and
// colour), the form to enter the next and the reviews to give.
type labSamplePage struct {
	labBase
	Sample *quality.Sample
	Spec   *quality.Spec
	Tests  []labTest
	// Conditions are the receipt's choices.
	Conditions []quality.Condition
}

// labTest is one test of a sample on its page.
type labTest struct {
	Test    quality.Test
	Results []quality.Result
	// Todo: a result (or a planned retest) is to be entered.
	Todo, Retest bool
	// Open is the investigation open on the test, if any.
	Open *quality.Investigation
	// OOS names the investigations by id, for the results' links.
	OOS map[string]string
}

func (s *Server) labSamplePage(w http.ResponseWriter, r *http.Request) {
	s.renderSample(w, r, r.PathValue("id"), nil)
}

func (s *Server) renderSample(w http.ResponseWriter, r *http.Request, id string, refusal error) {
	ctx := r.Context()
	sm, err := s.Lab.Sample(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := labSamplePage{labBase: s.labBase(r, "worklist"), Sample: sm, Conditions: quality.Conditions}
	status := d.fail(refusal)
	if r.Method == http.MethodPost {
		d.Path = "/lab/samples/" + url.PathEscape(sm.ID)
	}
	if d.Spec, err = s.Lab.Spec(ctx, sm.SpecID); err != nil {
		s.pageError(w, r, err)
		return
	}
	results, err := s.Lab.Results(ctx, quality.ResultFilter{SampleID: sm.ID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	invs, err := s.Lab.Investigations(ctx, quality.OOSFilter{BatchID: sm.BatchID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var mine []quality.Investigation
	codes := map[string]string{}
	for _, inv := range invs {
		if inv.SampleID == sm.ID {
			mine = append(mine, inv)
			codes[inv.ID] = inv.Code
		}
	}
	work := quality.Worklist([]quality.Sample{*sm}, results, mine)
	for _, code := range sm.Tests {
		t, ok := d.Spec.TestFor(code)
		if !ok {
			continue
		}
		lt := labTest{Test: *t, OOS: codes}
		for _, res := range results {
			if res.TestCode == code {
				lt.Results = append(lt.Results, res)
			}
		}
		for _, wk := range work {
			if wk.Test == code {
				lt.Todo, lt.Retest = true, wk.Retest
			}
		}
		for i := range mine {
			if mine[i].TestCode == code && mine[i].State != quality.OOSClosed {
				lt.Open = &mine[i]
			}
		}
		d.Tests = append(d.Tests, lt)
	}
	s.render(w, r, status, "lab_sample", d)
}

// labReceive records the sample's receipt.
func (s *Server) labReceive(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	q, err := decimal(vals, "quantity", false)
	if err == nil {
		_, err = s.Lab.ReceiveSample(r.Context(), id, quality.Receipt{Quantity: q, Unit: vals.Get("unit"),
			Condition: quality.Condition(vals.Get("condition")), Note: vals.Get("note")})
	}
	s.labDone(w, r, err, "/lab/samples/"+url.PathEscape(id), "received", func(err error) { s.renderSample(w, r, id, err) })
}

// labEnter enters a result of one of the sample's tests: the page then
// shows its verdict, and the investigation an OOS opened.
func (s *Server) labEnter(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	out, err := s.Lab.EnterResult(r.Context(), id, quality.Entry{Test: vals.Get("test"), Value: vals.Get("value"), Comment: vals.Get("comment")})
	done := "entered"
	if err == nil {
		done = "entered_" + string(out.Result.Verdict)
	}
	s.labDone(w, r, err, "/lab/samples/"+url.PathEscape(id)+"#test-"+url.PathEscape(vals.Get("test")), done, func(err error) { s.renderSample(w, r, id, err) })
}

// labReview records the second analyst's review, from the worklist or the
// sample's page (back names which).
func (s *Server) labReview(w http.ResponseWriter, r *http.Request, vals url.Values) {
	res, err := s.Lab.ReviewResult(r.Context(), r.PathValue("id"))
	back := "/lab"
	if err == nil && vals.Get("back") == "sample" {
		back = "/lab/samples/" + url.PathEscape(res.SampleID)
	}
	if err != nil && errs.Is(err, errs.NotFound) {
		s.pageError(w, r, err)
		return
	}
	s.labDone(w, r, err, back, "reviewed", func(err error) { s.renderLab(w, r, err) })
}

// labDone redirects to the page after a form's success, with its notice
// (done: the catalogue's lab.notice.<done>); or shows the refusal on the
// page (again), logged when internal. The "#…" of the page is kept.
func (s *Server) labDone(w http.ResponseWriter, r *http.Request, err error, page, done string, again func(error)) {
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		again(err)
		return
	}
	path, frag := page, ""
	for i := range page {
		if page[i] == '#' {
			path, frag = page[:i], page[i:]
			break
		}
	}
	http.Redirect(w, r, path+"?done="+done+frag, http.StatusSeeOther)
}
