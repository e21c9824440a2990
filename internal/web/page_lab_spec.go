package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// The products' specifications: the list (by product), one version with
// its tests, the draft's form (a row per test, blank rows to add one), the
// moves of its life cycle and QA's approval by signature.

type labSpecsPage struct {
	labBase
	Specs    []quality.Spec
	Products map[string]production.Product
	// Product is the product the list is narrowed to, if any.
	Product *production.Product
	CanEdit bool
}

func (s *Server) labSpecsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := labSpecsPage{labBase: s.labBase(r, "specs"), Products: map[string]production.Product{}}
	d.CanEdit = d.Actor.Can(identity.PermSpecEdit)
	pid := r.URL.Query().Get("product_id")
	var err error
	if pid != "" {
		if d.Product, err = s.Production.Product(ctx, pid); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if d.Specs, err = s.Lab.Specs(ctx, quality.SpecFilter{ProductID: pid}); err != nil {
		s.pageError(w, r, err)
		return
	}
	ps, err := s.Production.Products(ctx, production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, p := range ps {
		d.Products[p.ID] = p
	}
	s.render(w, r, http.StatusOK, "lab_specs", d)
}

// labSpecPage is one version with its tests; the draft's form when it may
// be changed (or a new version's), its moves and QA's approval.
type labSpecPage struct {
	labBase
	Spec    *quality.Spec
	Product *production.Product
	// Products are the choices of a new specification's product.
	Products []production.Product
	// Edit shows the draft's form, its rows the tests as typed.
	Edit       bool
	Rows       []specRow
	Values     url.Values
	Moves      []quality.SpecMove
	CanApprove bool
	Signatures []esign.Signature
	Sign       *form
	Kinds      []quality.SampleKind
}

// specRow is one test's row of the draft's form, with the prefix of its
// fields' names.
type specRow struct {
	P string
	T quality.Test
}

func (r specRow) Staged(k quality.SampleKind) bool {
	for _, st := range r.T.Stages {
		if st == k {
			return true
		}
	}
	return false
}

// Lim writes a limit's value for the form; "" when absent.
func (r specRow) Lim(l *quality.Limit) string {
	if l == nil {
		return ""
	}
	return strconv.FormatFloat(l.Value, 'f', -1, 64)
}

// Op is a limit's operator for the form; def when absent.
func (r specRow) Op(l *quality.Limit, def quality.Op) string {
	if l == nil {
		return string(def)
	}
	return string(l.Op)
}

func rowsOf(tests []quality.Test) []specRow {
	out := make([]specRow, 0, len(tests)+2)
	for i, t := range append(append([]quality.Test(nil), tests...), quality.Test{Kind: quality.TestNumeric}, quality.Test{Kind: quality.TestNumeric}) {
		out = append(out, specRow{P: "t" + strconv.Itoa(i) + "_", T: t})
	}
	return out
}

func (s *Server) labSpecNewPage(w http.ResponseWriter, r *http.Request) {
	s.renderSpecForm(w, r, nil, url.Values{"product_id": {r.URL.Query().Get("product_id")}}, nil, nil)
}

// renderSpecForm draws a new specification's form, as typed.
func (s *Server) renderSpecForm(w http.ResponseWriter, r *http.Request, sp *quality.Spec, vals url.Values, tests []quality.Test, refusal error) {
	d := labSpecPage{labBase: s.labBase(r, "specs"), Edit: true, Values: vals, Rows: rowsOf(tests), Kinds: quality.SampleKinds, Spec: sp}
	status := d.fail(refusal)
	if err := d.Actor.Require(identity.PermSpecEdit); err != nil {
		s.pageError(w, r, err)
		return
	}
	ps, err := s.Production.Products(r.Context(), production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Products = ps
	s.render(w, r, status, "lab_spec", d)
}

func (s *Server) labSpecPage(w http.ResponseWriter, r *http.Request) {
	s.renderSpec(w, r, nil, nil, nil)
}

// renderSpec draws one version; vals and tests are the draft's form as
// typed, sign the signing form, each with the refusal.
func (s *Server) renderSpec(w http.ResponseWriter, r *http.Request, vals url.Values, tests []quality.Test, refusal error) {
	s.renderSpecSigned(w, r, vals, tests, refusal, nil)
}

func (s *Server) renderSpecSigned(w http.ResponseWriter, r *http.Request, vals url.Values, tests []quality.Test, refusal error, sign *form) {
	ctx := r.Context()
	content := s.contentOf(r, "spec", r.PathValue("id"))
	sp, err := s.Lab.Spec(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := labSpecPage{labBase: s.labBase(r, "specs"), Spec: sp, Kinds: quality.SampleKinds, Sign: sign}
	status := d.fail(refusal)
	if sign == nil {
		d.Sign = &form{Values: url.Values{}, lang: d.Lang}
	} else {
		status = refusalStatus(sign.Err)
	}
	d.Sign.Values.Set("content_sha256", content)
	if r.Method == http.MethodPost {
		d.Path = "/lab/specs/" + url.PathEscape(sp.ID)
	}
	if d.Product, err = s.Production.Product(ctx, sp.ProductID); err != nil {
		s.pageError(w, r, err)
		return
	}
	a := d.Actor
	d.Edit = sp.Status == quality.SpecDraft && a.Can(identity.PermSpecEdit)
	if d.Edit {
		if vals == nil {
			vals = url.Values{"title": {sp.Title}, "market": {sp.Market}, "revision": {strconv.Itoa(sp.Revision)},
				"effective_from": {sp.EffectiveFrom.In(d.zone).Format(time.DateOnly)}}
			tests = sp.Tests
		}
		d.Values, d.Rows = vals, rowsOf(tests)
	}
	for _, mv := range []quality.SpecMove{quality.SpecSubmit, quality.SpecReject, quality.SpecRetire} {
		if _, err := sp.Status.Next(mv); err == nil && quality.MaySpecMove(a, mv, "-") == nil {
			d.Moves = append(d.Moves, mv)
		}
	}
	d.CanApprove = sp.Status == quality.SpecInReview && a.Can(identity.PermQualityDecide)
	if svc := s.Signatures; svc != nil && !d.Client {
		if d.Signatures, err = svc.Signatures(ctx, "spec", sp.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "lab_spec", d)
}

// specFromForm reads the draft's form: its heading and a test per row
// whose code is filled in.
func specFromForm(vals url.Values, zone *time.Location) (*quality.Spec, []quality.Test, error) {
	sp := &quality.Spec{ProductID: vals.Get("product_id"), Code: vals.Get("code"), Title: vals.Get("title"), Market: vals.Get("market")}
	sp.Revision, _ = strconv.Atoi(vals.Get("revision"))
	if v := strings.TrimSpace(vals.Get("effective_from")); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, zone)
		if err != nil {
			return nil, nil, errs.Field("effective_from", "web.lab_date")
		}
		sp.EffectiveFrom = t.UTC()
	}
	rows, _ := strconv.Atoi(vals.Get("rows"))
	for i := 0; i < rows && i < quality.MaxTests+2; i++ {
		p := "t" + strconv.Itoa(i) + "_"
		if strings.TrimSpace(vals.Get(p+"code")) == "" {
			continue
		}
		t := quality.Test{Code: vals.Get(p + "code"), Name: vals.Get(p + "name"), Method: vals.Get(p + "method"), Kind: quality.TestKind(vals.Get(p + "kind")),
			Unit: vals.Get(p + "unit"), Expected: vals.Get(p + "expected")}
		t.Decimals, _ = strconv.Atoi(strings.TrimSpace(vals.Get(p + "decimals")))
		for _, st := range vals[p+"stages"] {
			t.Stages = append(t.Stages, quality.SampleKind(st))
		}
		for _, l := range []struct {
			field string
			op    quality.Op
			dst   **quality.Limit
		}{{"min", quality.Op(vals.Get(p + "min_op")), &t.Min}, {"max", quality.Op(vals.Get(p + "max_op")), &t.Max},
			{"alert_min", quality.AtLeast, &t.AlertMin}, {"alert_max", quality.AtMost, &t.AlertMax}} {
			if strings.TrimSpace(vals.Get(p+l.field)) == "" {
				continue
			}
			v, err := decimal(vals, p+l.field, false)
			if err != nil {
				return nil, nil, errs.Field("tests["+strconv.Itoa(i)+"]."+l.field, "web.lab_number")
			}
			*l.dst = &quality.Limit{Op: l.op, Value: v}
		}
		sp.Tests = append(sp.Tests, t)
	}
	return sp, sp.Tests, nil
}

func (s *Server) labSpecCreate(w http.ResponseWriter, r *http.Request, vals url.Values) {
	sp, tests, err := specFromForm(vals, s.zone())
	if err == nil {
		if err = s.Lab.CreateSpec(r.Context(), sp); err == nil {
			http.Redirect(w, r, "/lab/specs/"+url.PathEscape(sp.ID)+"?done=spec_created", http.StatusSeeOther)
			return
		}
	}
	s.logIfInternal(r, err)
	s.renderSpecForm(w, r, nil, vals, tests, err)
}

func (s *Server) labSpecUpdate(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	sp, tests, err := specFromForm(vals, s.zone())
	if err == nil {
		sp.ID = id
		err = s.Lab.UpdateSpec(r.Context(), sp, vals.Get("reason"))
	}
	s.labDone(w, r, err, "/lab/specs/"+url.PathEscape(id), "spec_saved", func(err error) { s.renderSpec(w, r, vals, tests, err) })
}

func (s *Server) labSpecMove(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	_, err := s.Lab.MoveSpec(r.Context(), id, quality.SpecMove(vals.Get("action")), vals.Get("reason"))
	s.labDone(w, r, err, "/lab/specs/"+url.PathEscape(id), "spec_moved", func(err error) { s.renderSpec(w, r, nil, nil, err) })
}

// labSpecSign is QA's approval: a signature, meaning approved (21 CFR
// 11.200: username and password at every signing).
func (s *Server) labSpecSign(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "spec", id, string(esign.Approved), vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderSpecSigned(w, r, nil, nil, nil, &form{Values: vals, Err: err, lang: langOf(r), shown: signFields})
		return
	}
	http.Redirect(w, r, "/lab/specs/"+url.PathEscape(id)+"?done=spec_approved", http.StatusSeeOther)
}
