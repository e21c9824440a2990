package web

import (
	"errors"
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
)

// signatureItem is a signature as the API shows it: with its display text,
// printed name, date and time with zone, and meaning (11.50(b)).
type signatureItem struct {
	esign.Signature
	Display string `json:"display"`
}

func newSignatureItem(s esign.Signature, zone *time.Location) signatureItem {
	return signatureItem{Signature: s, Display: s.DisplayIn(zone)}
}

// routesSignatures registers electronic signatures. The service is the
// identity service's: signing checks credentials again, as signing in does.
func (s *Server) routesSignatures() {
	svc := s.Signatures
	ready := func(w http.ResponseWriter, r *http.Request) bool {
		if svc == nil {
			s.apiError(w, r, errs.Wrap(errNoSignatures, "signatures"))
			return false
		}
		return true
	}

	s.handle("POST", "/api/v1/signatures/challenge", false, func(w http.ResponseWriter, r *http.Request) {
		var req esign.ChallengeRequest
		if err := decode(w, r, &req); err != nil {
			s.apiError(w, r, err)
			return
		}
		if !ready(w, r) {
			return
		}
		c, err := svc.Challenge(r.Context(), req)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})

	s.handle("POST", "/api/v1/signatures", false, func(w http.ResponseWriter, r *http.Request) {
		var req esign.SignRequest
		if err := decode(w, r, &req); err != nil {
			s.apiError(w, r, err)
			return
		}
		if !ready(w, r) {
			return
		}
		sig, err := svc.Sign(r.Context(), req)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, newSignatureItem(*sig, s.zone()))
	})

	s.handle("GET", "/api/v1/signatures", false, list(s, func(r *http.Request) ([]signatureItem, error) {
		if svc == nil {
			return nil, errs.Wrap(errNoSignatures, "signatures")
		}
		q := r.URL.Query()
		sigs, err := svc.Signatures(r.Context(), q.Get("entity"), q.Get("entity_id"))
		if err != nil {
			return nil, err
		}
		items := make([]signatureItem, len(sigs))
		for i, sig := range sigs {
			items[i] = newSignatureItem(sig, s.zone())
		}
		return items, nil
	}))
}

// errNoSignatures: galenix was wired without a signature service.
var errNoSignatures = errors.New("no electronic signature service is wired")
