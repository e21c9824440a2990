package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/web"
)

// withAuditKey serves e with a site signing key, as the application does.
func withAuditKey(t *testing.T, e *env) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.web.Deps
	d.AuditKey = func() ed25519.PrivateKey { return key }
	d.Registry = nil // New registers its metrics on a fresh one
	e.web = web.New(d)
	e.srv = httptest.NewServer(checkContract(t, e.web.Handler()))
	t.Cleanup(e.srv.Close)
	return key
}

func TestAuditBundleAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		key := withAuditKey(t, e)
		path := "/api/v1/audit/bundle?entity=client&entity_id=" + e.alpha.ID

		r := e.call(t, "client-alpha", "GET", path, nil)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if ct, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); ct != "application/json" {
			t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
		}
		disp, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != "audit-bundle-client-"+e.alpha.ID+".json" {
			t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
		}
		rep, err := audit.VerifyBundle(r.body)
		if err != nil {
			t.Fatalf("the downloaded bundle does not verify: %v\n%s", err, r.body)
		}
		if rep.Entity != "client" || rep.EntityID != e.alpha.ID || rep.Entries != 2 ||
			rep.KeyFingerprint != audit.KeyFingerprint(key.Public().(ed25519.PublicKey)) {
			t.Errorf("report %+v", rep)
		}
		// Beta's record, created in the same command, is in the segment
		// as a digest only.
		for _, leak := range []string{e.beta.Name, e.beta.Code, e.beta.ID, e.accounts["admin"].ID} {
			if bytes.Contains(r.body, []byte(leak)) {
				t.Errorf("the bundle of alpha's record holds %q", leak)
			}
		}
		if !bytes.Contains(r.body, []byte(e.alpha.Name)) {
			t.Errorf("the bundle lacks the record's own values")
		}
		bad := bytes.Clone(r.body)
		i := bytes.Index(bad, []byte(e.alpha.Name))
		bad[i] ^= 0x01
		if _, err := audit.VerifyBundle(bad); err == nil {
			t.Errorf("a bundle with one byte changed verifies")
		}

		// Another client's record, or one the caller may not see: 404.
		e.call(t, "client-alpha", "GET", "/api/v1/audit/bundle?entity=client&entity_id="+e.beta.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
		e.call(t, "operator", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
		e.call(t, "client-alpha", "GET", "/api/v1/audit/bundle?entity=line&entity_id="+e.line.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
		// The administrator is assigned to beta: beta's record is theirs.
		if r := e.call(t, "admin", "GET", "/api/v1/audit/bundle?entity=client&entity_id="+e.beta.ID, nil); r.status != http.StatusOK {
			t.Errorf("admin, beta's record: status %d: %s", r.status, r.body)
		} else if _, err := audit.VerifyBundle(r.body); err != nil {
			t.Errorf("admin, beta's record: %v", err)
		}
		// A site record, for staff.
		r = e.call(t, "operator", "GET", "/api/v1/audit/bundle?entity=line&entity_id="+e.line.ID, nil)
		if _, err := audit.VerifyBundle(r.body); r.status != http.StatusOK || err != nil {
			t.Errorf("operator, the line's record: status %d, %v", r.status, err)
		}

		e.call(t, "client-alpha", "GET", "/api/v1/audit/bundle?entity_id="+e.alpha.ID, nil).wantError(t, http.StatusBadRequest, "invalid", "entity")
		e.call(t, "client-alpha", "GET", "/api/v1/audit/bundle?entity=client", nil).wantError(t, http.StatusBadRequest, "invalid", "entity_id")
		e.call(t, "", "GET", path, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")

		// The export signed a checkpoint covering the record; a later
		// export reuses it.
		cps, err := e.db.Checkpoints(identity.WithActor(context.Background(), identity.System))
		if err != nil || len(cps) != 1 {
			t.Errorf("checkpoints %+v %v, want the one the first export signed", cps, err)
		}
	})
}

// TestAuditBundleWithoutKey: a server not given the site's key cannot sign
// the checkpoint a bundle needs; it says so as an internal error.
func TestAuditBundleWithoutKey(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.call(t, "client-alpha", "GET", "/api/v1/audit/bundle?entity=client&entity_id="+e.alpha.ID, nil).wantError(t, http.StatusInternalServerError, "internal", "")
}
