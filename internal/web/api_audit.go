package web

import (
	"context"
	"crypto/ed25519"
	"errors"
	"mime"
	"net/http"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
)

// routesAuditExtras registers the audit trail's exports and proofs.
func (s *Server) routesAuditExtras() {
	s.handle("GET", "/api/v1/audit/bundle", false, s.auditBundle)
	s.routesAuditPages()
}

// AuditBundler builds the proof bundle of one record's audit entries; the
// store's audit reader is one.
type AuditBundler interface {
	Bundle(ctx context.Context, entity, entityID string, key ed25519.PrivateKey) (*audit.Bundle, error)
}

// auditBundle answers, as a file to download, the proof of one record's
// audit entries that its holder verifies offline with
// `galenix audit verify --bundle FILE`.
func (s *Server) auditBundle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bundler := s.AuditBundles
	if bundler == nil || s.AuditKey == nil || s.AuditKey() == nil {
		s.apiError(w, r, errs.Wrap(errors.New("audit bundles need the audit reader of the store and the site's key"), "audit bundle"))
		return
	}
	b, err := bundler.Bundle(r.Context(), q.Get("entity"), q.Get("entity_id"), s.AuditKey())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data, err := b.Encode()
	if err != nil {
		s.apiError(w, r, errs.Wrap(err, "audit bundle"))
		return
	}
	name := "audit-bundle-" + fileSafe(b.Entity) + "-" + fileSafe(b.EntityID) + ".json"
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// fileSafe keeps the letters, digits, dots, dashes and underscores of s, for
// a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
