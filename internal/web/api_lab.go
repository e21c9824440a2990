package web

import (
	"context"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/quality"
)

// routesLab registers the QC laboratory's JSON API: specifications,
// samples, the worklist, results (typed or imported) and OOS
// investigations. The laboratory's service checks every permission and
// scope; the handlers only translate. QA approves a specification and
// closes an investigation by signing it (meaning approved) through the
// signature routes, entities "spec" and "oos_investigation".
func (s *Server) routesLab() {
	lab := func(h func(l quality.Lab, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if s.Lab == nil {
				s.apiError(w, r, errs.E(errs.Internal, "web.lab_unavailable"))
				return
			}
			h(s.Lab, w, r)
		}
	}

	s.handle("GET", "/api/v1/specs", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		list(s, func(r *http.Request) ([]quality.Spec, error) {
			return l.Specs(r.Context(), quality.SpecFilter{ProductID: q.Get("product_id"), Status: quality.SpecStatus(q.Get("status"))})
		})(w, r)
	}))
	s.handle("GET", "/api/v1/products/{id}/specs", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		list(s, func(r *http.Request) ([]quality.Spec, error) {
			if _, err := s.Production.Product(r.Context(), r.PathValue("id")); err != nil {
				return nil, err
			}
			return l.Specs(r.Context(), quality.SpecFilter{ProductID: r.PathValue("id")})
		})(w, r)
	}))
	s.handle("POST", "/api/v1/specs", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		create(s, l.CreateSpec)(w, r)
	}))
	s.handle("GET", "/api/v1/specs/{id}", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		get(s, l.Spec)(w, r)
	}))
	s.handle("PUT", "/api/v1/specs/{id}", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		update(s, func(v *quality.Spec, id string) { v.ID = id }, l.UpdateSpec)(w, r)
	}))
	s.handle("POST", "/api/v1/specs/{id}/move", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		var in moveBody
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		sp, err := l.MoveSpec(r.Context(), r.PathValue("id"), quality.SpecMove(strings.TrimSpace(in.Action)), in.Reason)
		if err == nil {
			setETag(w, sp)
		}
		s.answer(w, r, http.StatusOK, sp, err)
	}))

	s.handle("GET", "/api/v1/samples", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		list(s, func(r *http.Request) ([]quality.Sample, error) {
			q := r.URL.Query()
			limit, offset, err := pageOf(q)
			if err != nil {
				return nil, err
			}
			return l.Samples(r.Context(), quality.SampleFilter{BatchID: q.Get("batch_id"), ProductID: q.Get("product_id"),
				State: quality.SampleState(q.Get("state")), Kind: quality.SampleKind(q.Get("kind")), Limit: limit, Offset: offset})
		})(w, r)
	}))
	s.handle("POST", "/api/v1/samples", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		var in quality.SampleRequest
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		sm, err := l.TakeSample(r.Context(), in)
		s.answer(w, r, http.StatusCreated, sm, err)
	}))
	s.handle("GET", "/api/v1/samples/{id}", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		get(s, l.Sample)(w, r)
	}))
	s.handle("POST", "/api/v1/samples/{id}/receive", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		var in quality.Receipt
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		sm, err := l.ReceiveSample(r.Context(), r.PathValue("id"), in)
		if err == nil {
			setETag(w, sm)
		}
		s.answer(w, r, http.StatusOK, sm, err)
	}))
	s.handle("POST", "/api/v1/samples/{id}/results", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		var in quality.Entry
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		out, err := l.EnterResult(r.Context(), r.PathValue("id"), in)
		s.answer(w, r, http.StatusCreated, out, err)
	}))
	s.handle("GET", "/api/v1/worklist", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		list(s, func(r *http.Request) ([]quality.Work, error) { return l.Worklist(r.Context()) })(w, r)
	}))

	s.handle("GET", "/api/v1/results", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		list(s, func(r *http.Request) ([]quality.Result, error) {
			q := r.URL.Query()
			st, err := filterState(q.Get("state"), quality.ResultEntered, quality.ResultReviewed, quality.ResultInvalidated)
			if err != nil {
				return nil, err
			}
			return l.Results(r.Context(), quality.ResultFilter{SampleID: q.Get("sample_id"), BatchID: q.Get("batch_id"), State: st})
		})(w, r)
	}))
	s.handle("GET", "/api/v1/results/{id}", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		get(s, l.Result)(w, r)
	}))
	s.handle("POST", "/api/v1/results/{id}/review", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		res, err := l.ReviewResult(r.Context(), r.PathValue("id"))
		if err == nil {
			setETag(w, res)
		}
		s.answer(w, r, http.StatusOK, res, err)
	}))
	s.handle("POST", "/api/v1/results/import", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		data, instrument, err := importFile(w, r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		out, err := l.ImportResults(r.Context(), data, instrument)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, itemsBody[quality.ResultOutcome]{Items: out})
	}))

	s.handle("GET", "/api/v1/oos", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		list(s, func(r *http.Request) ([]quality.Investigation, error) {
			q := r.URL.Query()
			st, err := filterState(q.Get("state"), quality.OOSPhase1, quality.OOSPhase2, quality.OOSClosed)
			if err != nil {
				return nil, err
			}
			return l.Investigations(r.Context(), quality.OOSFilter{BatchID: q.Get("batch_id"), State: st, Open: q.Get("open") == "true"})
		})(w, r)
	}))
	s.handle("GET", "/api/v1/oos/{id}", false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
		get(s, l.Investigation)(w, r)
	}))
	// phase registers one step of an investigation: its body decoded into
	// in, the version asked by If-Match (0: any).
	phase := func(suffix string, in func() any, do func(l quality.Lab, ctx context.Context, id string, body any, version int) (*quality.Investigation, error)) {
		s.handle("POST", "/api/v1/oos/{id}/"+suffix, false, lab(func(l quality.Lab, w http.ResponseWriter, r *http.Request) {
			body := in()
			if err := decode(w, r, body); err != nil {
				s.apiError(w, r, err)
				return
			}
			var v quality.Investigation
			if err := ifMatch(r, &v); err != nil {
				s.apiError(w, r, err)
				return
			}
			inv, err := do(l, r.Context(), r.PathValue("id"), body, v.Version)
			if err == nil {
				setETag(w, inv)
			}
			s.answer(w, r, http.StatusOK, inv, err)
		}))
	}
	type hypothesis struct {
		Hypothesis string `json:"hypothesis"`
	}
	phase("hypothesis", func() any { return &hypothesis{} }, func(l quality.Lab, ctx context.Context, id string, b any, v int) (*quality.Investigation, error) {
		return l.StateHypothesis(ctx, id, b.(*hypothesis).Hypothesis, v)
	})
	type retests struct {
		Retests int `json:"retests"`
	}
	phase("retests", func() any { return &retests{} }, func(l quality.Lab, ctx context.Context, id string, b any, v int) (*quality.Investigation, error) {
		return l.PlanRetests(ctx, id, b.(*retests).Retests, v)
	})
	type phase1 struct {
		LabError *bool  `json:"lab_error"`
		Cause    string `json:"cause"`
	}
	phase("phase1", func() any { return &phase1{} }, func(l quality.Lab, ctx context.Context, id string, b any, v int) (*quality.Investigation, error) {
		p := b.(*phase1)
		if p.LabError == nil {
			return nil, errs.Field("lab_error", "web.lab_error_required")
		}
		return l.ConcludePhase1(ctx, id, *p.LabError, p.Cause, v)
	})
	type findings struct {
		Findings    string `json:"findings"`
		DeviationID string `json:"deviation_id"`
	}
	phase("findings", func() any { return &findings{} }, func(l quality.Lab, ctx context.Context, id string, b any, v int) (*quality.Investigation, error) {
		f := b.(*findings)
		return l.RecordFindings(ctx, id, f.Findings, f.DeviationID, v)
	})
}

// importFile reads an instrument's export from the request: a CSV body
// (text/csv), or the part "file" of a multipart form. The instrument is
// named by the query's "instrument", else by the file's name.
func importFile(w http.ResponseWriter, r *http.Request) (data []byte, instrument string, err error) {
	instrument = strings.TrimSpace(r.URL.Query().Get("instrument"))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "text/csv", "text/plain":
		data, err = readBody(w, r)
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if perr := r.ParseMultipartForm(MaxBody); perr != nil {
			return nil, "", errs.Field("file", "web.import_file")
		}
		f, h, ferr := r.FormFile("file")
		if ferr != nil {
			return nil, "", errs.Field("file", "web.import_file")
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, MaxBody+1)); err == nil && len(data) > MaxBody {
			return nil, "", errs.E(errs.TooLarge, "web.request_body_larger_than", MaxBody)
		}
		if instrument == "" {
			instrument = path.Base(h.Filename)
		}
	default:
		return nil, "", errs.Field("file", "web.import_file")
	}
	if instrument == "" {
		instrument = "import.csv"
	}
	if r := []rune(instrument); len(r) > 120 {
		instrument = string(r[:120])
	}
	return data, instrument, err
}

// filterState reads a list's filter by one state: "" is every state,
// another value must be one of states (400 naming the field otherwise, as
// the document's enum says, rather than an empty list).
func filterState[T ~string](v string, states ...T) (T, error) {
	if v == "" || slices.Contains(states, T(v)) {
		return T(v), nil
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return "", errs.Field("state", "web.state_must_be_one_of", strings.Join(names, ", "))
}
