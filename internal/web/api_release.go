package web

import (
	"net/http"
	"time"

	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The disposition of batches in the API: QA's justifications of a batch's
// exceptions (the review itself, and the qualified person's decision, are
// signatures: POST /api/v1/signatures on the entity "batch"), the
// qualified person's view with what blocks certification in words, the
// certification register and the certificates of analysis.
func (s *Server) routesRelease() {
	rel := s.Release
	write := func(method, path string, h http.HandlerFunc) { s.handle(method, path, false, s.live.after(h)) }
	s.handle("GET", "/api/v1/batches/{id}/justifications", false, get(s, rel.Review))
	write("PUT", "/api/v1/batches/{id}/justifications", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Justifications map[string]string `json:"justifications"`
			Version        int               `json:"version"`
		}
		reason, err := decodeWithReason(w, r, &in)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		v := quality.BatchReview{Version: in.Version}
		if err := ifMatch(r, &v); err != nil {
			s.apiError(w, r, err)
			return
		}
		rv, err := rel.Justify(r.Context(), r.PathValue("id"), in.Justifications, v.Version, reason)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, rv)
		writeJSON(w, http.StatusOK, rv)
	})
	s.handle("GET", "/api/v1/batches/{id}/release", false, func(w http.ResponseWriter, r *http.Request) {
		v, err := rel.View(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, releaseAnswer(apiLang(r), v))
	})
	s.handle("GET", "/api/v1/certifications", false, list(s, func(r *http.Request) ([]quality.Certification, error) {
		f, err := registerFilter(r, s.zone())
		if err != nil {
			return nil, err
		}
		return rel.Register(r.Context(), f)
	}))
	s.handle("GET", "/api/v1/certificates/events", false, s.certificateEvents(s.live))
	s.handle("GET", "/api/v1/batches/{id}/certificate", false, get(s, rel.Certificate))
	s.handle("GET", "/api/v1/batches/{id}/certificate.pdf", false, s.certificatePDF)
}

// blockerAnswer is one thing that blocks a certification: its catalogue
// key, for programs, and its sentence in the request's language.
type blockerAnswer struct {
	Key     string `json:"key"`
	Message string `json:"message"`
}

// releaseView is the qualified person's view as the API answers it.
type releaseView struct {
	Batch          production.Batch        `json:"batch"`
	Review         quality.BatchReview     `json:"review"`
	Exceptions     []quality.Exception     `json:"exceptions"`
	Spec           *quality.Spec           `json:"spec"`
	Samples        []quality.Sample        `json:"samples"`
	Results        []quality.Result        `json:"results"`
	Investigations []quality.Investigation `json:"investigations"`
	Deviations     []quality.Deviation     `json:"deviations"`
	Lots           []production.Lot        `json:"lots"`
	Blockers       []blockerAnswer         `json:"blockers"`
	Excursions     []blockerAnswer         `json:"excursions"`
	Certifiable    bool                    `json:"certifiable"`
	Decision       *quality.Certification  `json:"decision"`
}

func releaseAnswer(lang string, v *quality.ReleaseView) releaseView {
	out := releaseView{Batch: v.Batch, Review: v.Review, Exceptions: nonNil(v.Exceptions), Spec: v.Spec, Samples: nonNil(v.Samples),
		Results: nonNil(v.Results), Investigations: nonNil(v.Investigations), Deviations: nonNil(v.Deviations), Lots: nonNil(v.Lots),
		Blockers: []blockerAnswer{}, Excursions: []blockerAnswer{}, Certifiable: len(v.Blockers) == 0, Decision: v.Decision}
	for _, x := range v.Excursions {
		out.Excursions = append(out.Excursions, blockerAnswer{Key: x.Key, Message: x.Localize(lang)})
	}
	for _, b := range v.Blockers {
		out.Blockers = append(out.Blockers, blockerAnswer{Key: b.Key, Message: text.Render(lang, b.Key, b.Args...)})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// registerFilter reads the register's filters: from and to (RFC 3339, or
// calendar days in the site's zone, both included) and a client.
func registerFilter(r *http.Request, zone *time.Location) (quality.RegisterFilter, error) {
	q := r.URL.Query()
	f := quality.RegisterFilter{ClientID: q.Get("client_id")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		t, ok, err := timeParam(q, p.name, true, zone)
		if err != nil {
			return f, err
		}
		if ok {
			*p.dst = t
		}
	}
	return f, nil
}
