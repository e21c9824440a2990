package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/pdf/pdftest"
	"galenix/internal/site"
)

// unicodeSample holds what the PDF core fonts printed as dots: the symbols
// of specifications, Latin Extended, Greek, Cyrillic and Chinese.
const unicodeSample = "≥ 0,5 µm ± 2 °C Δ"

// TestPDFUnicode: the batch record and the audit trail of a record holding
// "≥ µ ± ° Δ" in a step's entry, and a person named "Łukasz Żółć Пётр 王芳",
// read back by pdftotext with every character; pdffonts lists every font
// embedded; qpdf finds the syntax sound and, through its JSON, the PDF/A-2b
// structure (XMP metadata declaring part 2 conformance B, consistent with
// the information dictionary, an sRGB output intent); and an id too long
// for its column is broken after its own hyphens, with nothing added.
func TestPDFUnicode(t *testing.T) {
	pdftest.Tools(t)
	f := newFloorEnv(t)
	const name = "Łukasz Żółć Пётр 王芳"
	op := f.accounts["operator"]
	op.Name = name
	sys := identity.WithActor(context.Background(), identity.System)
	if err := f.db.Identity().Admin().UpdateAccount(sys, &op, "Nom complet"); err != nil {
		t.Fatal(err)
	}
	for i, entry := range []map[string]any{
		{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."},
		{"lot": "LOT-A", "quantity": "10"},
		{"lot": "LOT-B", "quantity": "20"},
		{"equipment": "E1"},
		{"value": "7.1", "comment": unicodeSample},
	} {
		f.ok(t, f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[i]}, entry), http.StatusOK, "record a step")
	}
	r := f.call(t, "admin", "PUT", "/api/v1/buildings/"+f.building.ID, map[string]any{"code": "B30", "name": "Корпус Δ 30 — 王",
		"role": string(site.RoleSterileProduction), "reason": "Renommage ≥ µ"})
	f.ok(t, r, http.StatusOK, "rename the building")

	for _, tc := range []struct {
		name, who, path string
		want            []string
	}{
		{"batch record", "qa", "/batches/" + f.batch + "/record.pdf?lang=fr", []string{unicodeSample, name, f.lot, "Dossier de lot"}},
		{"audit trail", "admin", "/api/v1/audit/export.pdf?lang=en", []string{"Корпус Δ 30 — 王", "Renommage ≥ µ", name, "CHANGED", "CREATED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, tc.who, "GET", tc.path, nil)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			if dir := os.Getenv("GALENIX_PDF_OUT"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".pdf"), r.body, 0o600)
			}
			txt := pdftest.Check(t, r.body)
			for _, w := range tc.want {
				if !strings.Contains(txt, w) {
					t.Errorf("the PDF lacks %q:\n%s", w, txt)
				}
			}
			if strings.Contains(txt, "(. 0,5") {
				t.Errorf("a character printed as a dot:\n%s", txt)
			}
		})
	}

	// The audit trail's ids: each UUID too long for its column comes back
	// whole once the lines ending at one of its hyphens are joined; one
	// broken by an added hyphen would not.
	raw := pdftest.RawText(t, f.call(t, "admin", "GET", "/api/v1/audit/export.pdf?entity=building&entity_id="+f.building.ID, nil).body)
	joined := regexp.MustCompile(`-\n`).ReplaceAllString(raw, "-")
	// (whole in the heading's filters, broken in each of its 4 rows)
	if n := strings.Count(joined, f.building.ID) - strings.Count(raw, f.building.ID); n != 4 {
		t.Errorf("the building's id %s is broken at its hyphens in %d rows, want 4:\n%s", f.building.ID, n, raw)
	}
	uuid := regexp.MustCompile(`[0-9a-f-]{6,}-\n[0-9a-f-]+`)
	for _, m := range uuid.FindAllString(raw, -1) {
		if id := strings.ReplaceAll(m, "\n", ""); len(id) >= 36 && !regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).MatchString(id) {
			t.Errorf("an id broken with an added character: %q", m)
		}
	}
}
