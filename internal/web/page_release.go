package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The pages of the disposition of batches: QA's justifications and signed
// review on the batch's review page, the qualified person's queue and
// view of a batch with the decision's signature, the certification
// register, and the certificates a client laboratory downloads.
func (s *Server) routesReleasePages() {
	s.handle("GET", "/release", false, s.releaseQueuePage)
	s.handle("GET", "/batches/{id}/release", false, s.releasePage)
	s.formWrite("/batches/{id}/justify", s.batchJustify)
	s.formWrite("/batches/{id}/review/sign", s.batchReviewSign)
	s.formWrite("/batches/{id}/decide", s.batchDecide)
	s.handle("GET", "/register", false, s.registerPage)
	s.handle("GET", "/certificates", false, s.certificatesPage)
	s.handle("GET", "/batches/{id}/certificate.pdf", false, s.certificatePDF)
}

// mayRelease says whether the reader works on the disposition of batches:
// quality assurance and qualified persons.
func mayRelease(a identity.Actor) bool {
	return !a.IsClient() && (a.Can(identity.PermQualityDecide) || a.Can(identity.PermBatchRelease))
}

// qaReview is QA's part of the batch's review page: the justifications and
// the signed review.
type qaReview struct {
	Review *quality.BatchReview
	// CanJustify: the reader is QA and the batch in QA review.
	CanJustify bool
	Justify    *form
	Sign       *form
}

// loadQAReview adds QA's review to the review page's data, for those who
// work on the disposition of batches.
func (s *Server) loadQAReview(r *http.Request, d *reviewPage, justify, sign *form, content string) error {
	a := d.Actor
	if !mayRelease(a) {
		return nil
	}
	rv, err := s.Release.Review(r.Context(), d.Review.Batch.ID)
	if err != nil {
		return err
	}
	lang := d.Lang
	if justify == nil {
		justify = &form{Values: url.Values{}, lang: lang}
		for id, j := range rv.Justifications {
			justify.Values.Set("j-"+id, j)
		}
	}
	if sign == nil {
		sign = &form{Values: url.Values{}, lang: lang}
	}
	justify.shown = []string{"reason"}
	sign.shown = signFields
	sign.Values.Set("content_sha256", content)
	d.QA = &qaReview{Review: rv, CanJustify: a.Can(identity.PermQualityDecide) && d.Review.Batch.State == production.BatchInReview,
		Justify: justify, Sign: sign}
	return nil
}

// batchJustify records QA's justifications of the batch's exceptions.
func (s *Server) batchJustify(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	js := map[string]string{}
	for k, v := range vals {
		if step, ok := strings.CutPrefix(k, "j-"); ok && len(v) > 0 {
			js[step] = v[0]
		}
	}
	version, _ := strconv.Atoi(vals.Get("version"))
	if _, err := s.Release.Justify(r.Context(), id, js, version, vals.Get("reason")); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderReviewWith(w, r, refusalStatus(err), nil, &form{Values: vals, Err: err, lang: langOf(r)}, nil)
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"/review?done=justified", http.StatusSeeOther)
}

// batchReviewSign is QA's signature of the review by exception.
func (s *Server) batchReviewSign(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "batch", id, string(esign.Reviewed), vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderReviewWith(w, r, refusalStatus(err), nil, nil, &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"/release?done=reviewed", http.StatusSeeOther)
}

// releasePage is the qualified person's view of a batch.
type releasePage struct {
	prodBase
	View     *quality.ReleaseView
	Blockers []string
	// Excursions are the environment's action-level excursions during
	// the batch's manufacture, in words.
	Excursions []string
	Tests      []releaseTest
	// CanDecide: the reader is a qualified person and the batch QA
	// reviewed, not yet decided.
	CanDecide bool
	Decide    *form
	Notice    string
	// Dossier is what the batch's client receives for it.
	Dossier *quality.Dossier
}

// releaseTest is a test of the batch's samples, with its reportable
// result.
type releaseTest struct {
	Sample, Test, Method, Criterion, Result string
	Verdict                                 quality.Verdict
	State                                   quality.ResultState
	Missing                                 bool
}

func (s *Server) releasePage(w http.ResponseWriter, r *http.Request) {
	s.renderRelease(w, r, http.StatusOK, nil)
}

func (s *Server) renderRelease(w http.ResponseWriter, r *http.Request, status int, decide *form) {
	content := s.contentOf(r, "batch", r.PathValue("id"))
	v, err := s.Release.View(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := releasePage{prodBase: s.prodBase(r, "release", ""), View: v, Notice: r.URL.Query().Get("done")}
	if r.Method == http.MethodPost {
		d.Path = "/batches/" + url.PathEscape(v.Batch.ID) + "/release"
	}
	for _, b := range v.Blockers {
		d.Blockers = append(d.Blockers, text.Render(d.Lang, b.Key, b.Args...))
	}
	for _, x := range v.Excursions {
		d.Excursions = append(d.Excursions, x.Localize(d.Lang))
	}
	if v.Spec != nil {
		for _, sm := range v.Samples {
			for _, code := range sm.Tests {
				t, ok := v.Spec.TestFor(code)
				if !ok {
					continue
				}
				row := releaseTest{Sample: sm.Code, Test: t.Name + " (" + t.Code + ")", Method: t.Method, Criterion: t.Criterion(d.Lang)}
				if res, ok := quality.Reportable(v.Results, v.Investigations, sm.ID, code); ok {
					row.Result, row.Verdict, row.State = res.Value, res.Verdict, res.State
					if t.Kind == quality.TestNumeric {
						row.Result = text.LocalizeNumber(d.Lang, res.Value) + " " + t.Unit
					}
				} else {
					row.Missing = true
				}
				d.Tests = append(d.Tests, row)
			}
		}
	}
	if decide == nil {
		decide = &form{Values: url.Values{}, lang: d.Lang}
	}
	decide.shown = signFields
	decide.Values.Set("content_sha256", content)
	d.Decide = decide
	d.CanDecide = d.Actor.Can(identity.PermBatchRelease) && v.Decision == nil && v.Batch.State == production.BatchQAReviewed
	if d.Dossier, err = s.Release.Dossier(r.Context(), v.Batch.ID); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "release", d)
}

// batchDecide is the qualified person's signed decision: certified
// (meaning released) or rejected, with its reason.
func (s *Server) batchDecide(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	meaning := vals.Get("meaning")
	if meaning != string(esign.Released) && meaning != string(esign.Rejected) {
		s.renderRelease(w, r, http.StatusBadRequest, &form{Values: vals, Err: errs.Field("meaning", "quality.release.meaning"), lang: langOf(r)})
		return
	}
	if _, err := s.signRecord(r, "batch", id, meaning, vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderRelease(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"/release?done="+meaning, http.StatusSeeOther)
}

// queuePage is the qualified person's queue: the batches in QA review and
// QA reviewed, waiting for a decision.
type queuePage struct {
	prodBase
	Reviewed, InReview []production.Batch
	// Metrics are the quality unit's figures.
	Metrics *quality.Metrics
	Ages    []string
}

func (s *Server) releaseQueuePage(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	if !mayRelease(a) {
		s.pageError(w, r, errs.E(errs.Forbidden, "identity.refused.batch_release"))
		return
	}
	bs, err := s.Production.Batches(r.Context(), production.BatchFilter{States: []production.BatchState{production.BatchQAReviewed, production.BatchInReview}})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := queuePage{prodBase: s.prodBase(r, "release", ""), Ages: quality.AgeBuckets}
	if d.Metrics, err = s.Release.Metrics(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, b := range bs {
		if b.State == production.BatchQAReviewed {
			d.Reviewed = append(d.Reviewed, b)
		} else {
			d.InReview = append(d.InReview, b)
		}
	}
	s.render(w, r, http.StatusOK, "release_queue", d)
}

// registerPage is the certification register, or a client's certificates.
type registerPage struct {
	prodBase
	Lines []quality.Certification
	// Certificates: the client's page, the certified batches alone.
	Certificates bool
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) {
	s.renderRegister(w, r, false)
}

func (s *Server) certificatesPage(w http.ResponseWriter, r *http.Request) {
	s.renderRegister(w, r, true)
}

func (s *Server) renderRegister(w http.ResponseWriter, r *http.Request, certificates bool) {
	f, err := registerFilter(r, s.zone())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	lines, err := s.Release.Register(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	nav := "release"
	if certificates {
		nav = "certificates"
		kept := lines[:0]
		for _, l := range lines {
			if l.Decision == quality.DecisionCertified {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	s.render(w, r, http.StatusOK, "register", registerPage{prodBase: s.prodBase(r, nav, ""), Lines: lines, Certificates: certificates})
}
