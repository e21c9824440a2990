package web_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/site"
	"galenix/internal/store"
)

// pdfText checks that r is a PDF to download and returns its text as
// pdftotext extracts it, page layout kept. Without pdftotext the test is
// skipped, unless CI is set.
func pdfText(t *testing.T, r reply) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q, want application/pdf", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".pdf") {
		t.Errorf("Content-Disposition %q, want an attachment .pdf", cd)
	}
	if !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("the answer does not start with %%PDF-: %q", r.body[:min(20, len(r.body))])
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (Debian package poppler-utils) is needed to read the PDF export in CI")
		}
		t.Skip("pdftotext not found: install poppler-utils (apt-get install poppler-utils) to check the PDF export's text")
	}
	in := filepath.Join(t.TempDir(), "audit.pdf")
	if err := os.WriteFile(in, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestAuditPDF(t *testing.T) {
	e := newSignEnv(t, newEnv(t, store.SQLite))
	// A change after the building's first entry, and a signed line.
	r := e.call(t, "admin", "PUT", "/api/v1/buildings/"+e.building.ID, map[string]any{"code": "B30", "name": "Bâtiment 30 bis",
		"role": string(site.RoleSterileProduction), "reason": "Renommage"})
	if r.status != http.StatusOK {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if r := e.sign(t, "operator", "line", e.line.ID, "performed"); r.status != http.StatusCreated {
		t.Fatalf("sign: %d %s", r.status, r.body)
	}

	txt := pdfText(t, e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?lang=fr", nil))
	for _, s := range []string{"Piste d'audit / Audit trail", "Bâtiment 30 bis", "MODIFIÉ", "SIGNÉ", "CRÉÉ", "Signatures",
		"Otto Operator", "Réalisé / Performed", "valide", "(Europe/Paris, UTC+0", "Admin", "page 1 /"} {
		if !strings.Contains(txt, s) {
			t.Errorf("the PDF lacks %q:\n%s", s, txt)
		}
	}
	if !strings.Contains(txt, "séquence") || !strings.Contains(txt, "nouvelle valeur") && !strings.Contains(txt, "Ancienne valeur") {
		t.Errorf("the French PDF lacks its French headings:\n%s", txt)
	}

	// The filters of the CSV export: the line only, with its signature.
	txt = pdfText(t, e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?entity=line&entity_id="+e.line.ID, nil))
	if strings.Contains(txt, "Bâtiment 30 bis") || !strings.Contains(txt, "Otto Operator") || !strings.Contains(txt, "entity_id="+e.line.ID) {
		t.Errorf("filtered by the line:\n%s", txt)
	}
	if !strings.Contains(txt, "sequence") || !strings.Contains(txt, "valid") {
		t.Errorf("the English PDF lacks its English headings:\n%s", txt)
	}

	// A client's user reads only its laboratory's trail.
	txt = pdfText(t, e.call(t, "client-alpha", "GET", "/api/v1/audit/export.pdf", nil))
	for _, s := range []string{"Beta Pharma", e.beta.ID, "Bâtiment 30", "Otto Operator"} {
		if strings.Contains(txt, s) {
			t.Errorf("the client user's PDF holds another's data %q", s)
		}
	}

	e.call(t, "", "GET", "/api/v1/audit/export.pdf", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?from=yesterday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")

	// The audit page links to it.
	if p := e.call(t, "admin", "GET", "/audit", nil); !strings.Contains(string(p.body), "Exporter en PDF") ||
		!strings.Contains(string(p.body), "/api/v1/audit/export.pdf?lang=fr") {
		t.Error("the audit page lacks the PDF export link")
	}
	if dir := os.Getenv("GALENIX_PDF_OUT"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "audit.pdf"), e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?lang=fr", nil).body, 0o600)
	}
}
