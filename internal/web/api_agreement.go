package web

import (
	"errors"
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/quality"
)

// The quality agreements' JSON API: a client's agreement (read by its own
// users and the staff of its scope, recorded by quality assurance at the
// version read, with a reason for new terms), the obligations it sets
// (each deviation's notification and summary, counted down on both sides)
// and QA meeting one with its words for the client. The client's approval
// of a closure is a signature (POST /api/v1/signatures, entity
// "deviation_closure", meaning "approved").

// errNoAgreements: galenix was wired without the agreements' service.
var errNoAgreements = errors.New("web: no quality agreement service wired")

// agreements returns the agreements' service, or the error a request gets
// when galenix was wired without one.
func (s *Server) agreements() (quality.AgreementService, error) {
	if s.Agreements == nil {
		return nil, errs.Wrap(errNoAgreements, "agreements")
	}
	return s.Agreements, nil
}

// routesAgreements registers the agreements' API.
func (s *Server) routesAgreements() {
	s.handle("GET", "/api/v1/clients/{id}/agreement", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.agreements()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		ag, err := svc.Agreement(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, ag)
		writeJSON(w, http.StatusOK, ag)
	})
	s.handle("PUT", "/api/v1/clients/{id}/agreement", false, func(w http.ResponseWriter, r *http.Request) {
		var ag quality.Agreement
		reason, err := decodeWithReason(w, r, &ag)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		ag.ClientID = r.PathValue("id")
		if err := ifMatch(r, &ag); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.agreements()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		out, err := svc.SetAgreement(r.Context(), ag, reason)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, out)
		writeJSON(w, http.StatusOK, out)
	})
	s.handle("GET", "/api/v1/obligations", false, list(s, func(r *http.Request) ([]apiObligation, error) {
		svc, err := s.agreements()
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		f := quality.ObligationFilter{ClientID: q.Get("client_id"), DeviationID: q.Get("deviation_id")}
		if f.Open, err = boolParam(q.Get("open"), "open"); err != nil {
			return nil, err
		}
		items, err := svc.Obligations(r.Context(), f)
		out := make([]apiObligation, len(items))
		now := time.Now()
		for i := range items {
			out[i] = obligationAnswer(&items[i], now)
		}
		return out, err
	}))
	s.handle("POST", "/api/v1/obligations/{id}/meet", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Message string `json:"message"`
			Version int    `json:"version"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.agreements()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		o, err := svc.MeetObligation(r.Context(), r.PathValue("id"), in.Version, in.Message)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, obligationAnswer(o, time.Now()))
	})
}

// apiObligation is an obligation as the API answers it: with its state
// and the seconds left at the time of the answer (negative once late).
type apiObligation struct {
	quality.ObligationItem
	State       quality.ObligationState `json:"state"`
	SecondsLeft int64                   `json:"seconds_left"`
}

func obligationAnswer(o *quality.ObligationItem, now time.Time) apiObligation {
	return apiObligation{ObligationItem: *o, State: o.State(now), SecondsLeft: int64(o.Left(now) / time.Second)}
}
