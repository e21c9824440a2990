package web

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galenix/internal/esign"
	"galenix/internal/quality"
)

// TestCertificatePDF: the certificate of analysis, read back by pdftotext
// and pdffonts (poppler), names what WHO TRS 1010 annex 4 asks in the
// reader's language, prints "≥", "µ" and a signer's "Łukasz Żółć" as
// themselves, and embeds its fonts.
func TestCertificatePDF(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdffonts"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed (poppler-utils)", tool)
			}
			t.Skipf("%s not installed (poppler-utils): the PDF is not read back", tool)
		}
	}
	min, max := 95.0, 105.0
	at := time.Date(2026, 12, 3, 13, 5, 0, 0, time.UTC)
	c := &quality.Certificate{Number: "CoA-2026-0007", Laboratory: "CENEXIS Fontenay-sous-Bois — Bâtiment 25", Address: "94120 Fontenay-sous-Bois, France",
		Client: "Alpha Laboratories", Product: "Alphacaïne 10 mg/mL", Code: "ALP-VIAL", Lot: "L2612-0042", Quantity: 10000, Unit: "flacons",
		Spec: "SPEC-ALP", SpecVer: 3, IssuedAt: at,
		Tests: []quality.Line{
			{Test: quality.Test{Code: "ASSAY", Name: "Dosage", Method: "HPLC M-102", Kind: quality.TestNumeric, Unit: "%", Decimals: 1,
				Min: &quality.Limit{Op: quality.AtLeast, Value: min}, Max: &quality.Limit{Op: quality.AtMost, Value: max}}, Result: "99.5", Unit: "%", Verdict: quality.Conform},
			{Test: quality.Test{Code: "PART", Name: "Particules (≥ 10 µm)", Method: "Ph. Eur. 2.9.19", Kind: quality.TestNumeric, Unit: "/flacon", Decimals: 0,
				Max: &quality.Limit{Op: quality.AtMost, Value: 6000}}, Result: "120", Unit: "/flacon", Verdict: quality.Conform},
			{Test: quality.Test{Code: "APP", Name: "Aspect", Method: "Visuel", Kind: quality.TestText, Expected: "Solution limpide"}, Result: "Solution limpide", Verdict: quality.Conform},
		},
		Signature: esign.Signature{SignerName: "Łukasz Żółć", SignedAt: at, Meaning: esign.Released}}
	s := &Server{}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{langFR, []string{"Certificat d'analyse", "CoA-2026-0007", "Alpha Laboratories", "L2612-0042", "≥ 95,0 % et ≤ 105,0 %", "99,5 %",
			"Particules (≥ 10 µm)", "Le lot L2612-0042 est conforme à la spécification SPEC-ALP version 3.", "Łukasz Żółć", "page 1 / 1",
			"94120 Fontenay-sous-Bois"}},
		{langEN, []string{"Certificate of analysis", "≥ 95.0 % and ≤ 105.0 %", "99.5 %", "Batch L2612-0042 conforms to specification SPEC-ALP version 3.",
			"Certified by the qualified person", "Łukasz Żółć"}},
	} {
		doc, err := certificateDoc(tc.lang, c, s)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "coa.pdf")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(strings.Fields(string(out)), " ")
		for _, w := range tc.want {
			if !strings.Contains(got, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: the certificate lacks %q:\n%s", tc.lang, w, out)
			}
		}
		fonts, err := exec.Command("pdffonts", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSpace(fonts), []byte("\n"))
		if len(lines) < 3 {
			t.Fatalf("no font listed:\n%s", fonts)
		}
		for _, l := range lines[2:] {
			// name type encoding emb sub uni object ID: "emb" must be yes.
			f := strings.Fields(string(l))
			if len(f) < 7 || f[len(f)-5] != "yes" {
				t.Errorf("%s: a font is not embedded: %s", tc.lang, l)
			}
		}
	}
}
