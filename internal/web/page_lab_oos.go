package web

import (
	"net/http"
	"net/url"
	"strconv"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/quality"
)

// The OOS investigations' pages: the list, and one investigation through
// its phases (FDA guidance on OOS results, 2022): the hypothesis stated
// before anything is measured again, the retests fixed beforehand and done
// by another analyst, phase I's conclusion, phase II's findings, and QA's
// closing signature.

type labOOSListPage struct {
	labBase
	Investigations []quality.Investigation
}

func (s *Server) labOOSListPage(w http.ResponseWriter, r *http.Request) {
	invs, err := s.Lab.Investigations(r.Context(), quality.OOSFilter{Open: r.URL.Query().Get("open") == "true"})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "lab_oos_list", labOOSListPage{labBase: s.labBase(r, "oos"), Investigations: invs})
}

// labOOSPage is one investigation, its result and retests, and the forms
// of the phase it is in.
type labOOSPage struct {
	labBase
	Inv     *quality.Investigation
	Sample  *quality.Sample
	Results []quality.Result
	// RetestsDone counts the retests entered within the investigation.
	RetestsDone int
	Signatures  []esign.Signature
	// Sign is QA's closing form, as typed, with its refusal.
	Sign *form
	// CanClose shows QA's closing form.
	CanClose bool
}

func (s *Server) labOOSPage(w http.ResponseWriter, r *http.Request) {
	s.renderOOS(w, r, nil, nil)
}

func (s *Server) renderOOS(w http.ResponseWriter, r *http.Request, refusal error, sign *form) {
	ctx := r.Context()
	content := s.contentOf(r, "oos_investigation", r.PathValue("id"))
	inv, err := s.Lab.Investigation(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := labOOSPage{labBase: s.labBase(r, "oos"), Inv: inv, Sign: sign}
	status := http.StatusOK
	if sign == nil {
		status = d.fail(refusal)
		d.Sign = &form{Values: url.Values{}, lang: d.Lang}
	} else {
		status = refusalStatus(sign.Err)
	}
	d.Sign.Values.Set("content_sha256", content)
	if r.Method == http.MethodPost {
		d.Path = "/lab/oos/" + url.PathEscape(inv.ID)
	}
	if d.Sample, err = s.Lab.Sample(ctx, inv.SampleID); err != nil {
		s.pageError(w, r, err)
		return
	}
	all, err := s.Lab.Results(ctx, quality.ResultFilter{SampleID: inv.SampleID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, res := range all {
		if res.TestCode == inv.TestCode {
			d.Results = append(d.Results, res)
			if res.Retest && res.InvestigationID == inv.ID {
				d.RetestsDone++
			}
		}
	}
	if svc := s.Signatures; svc != nil && !d.Client {
		if d.Signatures, err = svc.Signatures(ctx, "oos_investigation", inv.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	d.CanClose = d.QA && inv.State != quality.OOSClosed && inv.LabError != nil
	s.render(w, r, status, "lab_oos", d)
}

// labOOSStep is the form of one phase of an investigation.
func (s *Server) labOOSStep(step string) func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, vals url.Values) {
		ctx, id := r.Context(), r.PathValue("id")
		version, _ := strconv.Atoi(vals.Get("version"))
		var err error
		switch step {
		case "hypothesis":
			_, err = s.Lab.StateHypothesis(ctx, id, vals.Get("hypothesis"), version)
		case "retests":
			var n int
			if n, err = integer(vals, "retests"); err == nil {
				_, err = s.Lab.PlanRetests(ctx, id, n, version)
			}
		case "phase1":
			switch vals.Get("lab_error") {
			case "true", "false":
				_, err = s.Lab.ConcludePhase1(ctx, id, vals.Get("lab_error") == "true", vals.Get("cause"), version)
			default:
				err = errs.Field("lab_error", "web.lab_error_required")
			}
		case "findings":
			_, err = s.Lab.RecordFindings(ctx, id, vals.Get("findings"), vals.Get("deviation_id"), version)
		case "sign":
			if _, err = s.signRecord(r, "oos_investigation", id, string(esign.Approved), vals); err != nil {
				s.logIfInternal(r, err)
				vals.Del("password")
				s.renderOOS(w, r, nil, &form{Values: vals, Err: err, lang: langOf(r), shown: signFields})
				return
			}
		}
		s.labDone(w, r, err, "/lab/oos/"+url.PathEscape(id), "oos_"+step, func(err error) { s.renderOOS(w, r, err, nil) })
	}
}
