package web

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/esign"
	"galenix/internal/pdf/pdftest"
	"galenix/internal/quality"
)

// TestCertificatePDF: the certificate of analysis, read back by pdftotext
// and pdffonts (poppler), names what WHO TRS 1010 annex 4 asks in the
// reader's language, prints "≥", "µ", "Δ", "±" and a signer's "Łukasz Żółć
// Пётр 王芳" as themselves, embeds its fonts and is PDF/A-2b (pdftest).
func TestCertificatePDF(t *testing.T) {
	pdftest.Tools(t)
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
			{Test: quality.Test{Code: "APP", Name: "Aspect", Method: "Visuel", Kind: quality.TestText, Expected: "Solution limpide, ΔE ± 2 °"}, Result: "Solution limpide, ΔE ± 2 °", Verdict: quality.Conform},
		},
		Signature: esign.Signature{SignerName: "Łukasz Żółć Пётр 王芳", SignedAt: at, Meaning: esign.Released}}
	s := &Server{}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{langFR, []string{"Certificat d'analyse", "CoA-2026-0007", "Alpha Laboratories", "L2612-0042", "≥ 95,0 % et ≤ 105,0 %", "99,5 %",
			"Particules (≥ 10 µm)", "ΔE ± 2 °", "Łukasz Żółć Пётр 王芳", "Le lot L2612-0042 est conforme à la spécification SPEC-ALP version 3.", "Łukasz Żółć", "page 1 / 1",
			"94120 Fontenay-sous-Bois"}},
		{langEN, []string{"Certificate of analysis", "≥ 95.0 % and ≤ 105.0 %", "99.5 %", "Batch L2612-0042 conforms to specification SPEC-ALP version 3.",
			"Certified by the qualified person", "Łukasz Żółć"}},
	} {
		doc, err := certificateDoc(tc.lang, c, s)
		if err != nil {
			t.Fatal(err)
		}
		got := pdftest.Check(t, doc)
		for _, w := range tc.want {
			if !strings.Contains(got, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: the certificate lacks %q:\n%s", tc.lang, w, got)
			}
		}
	}
}

// TestAuditMark: each row of the audit PDF is marked with what its entry
// did, not with whether its record was ever changed: a creation is
// created, a replaced value changed, a removed value deleted, a signature
// signed, an event without a value nothing.
func TestAuditMark(t *testing.T) {
	for _, tc := range []struct {
		e    audit.Entry
		want string
	}{
		{audit.Entry{Command: "building.create", Field: "name", New: "Bâtiment 30"}, markCreated},
		{audit.Entry{Command: "batch.step.record", Field: "value", New: "6.1"}, markCreated},
		{audit.Entry{Command: "building.update", Field: "name", Old: "Bâtiment 30", New: "Bâtiment 30 bis"}, markChanged},
		{audit.Entry{Command: "batch.step.correct", Field: "value", Old: "6.1", New: "6.9"}, markChanged},
		{audit.Entry{Command: "account.withdraw", Field: "roles", Old: "operator"}, markDeleted},
		{audit.Entry{Command: "backup.remove", Field: "file"}, markDeleted},
		{audit.Entry{Command: "signature.sign", Field: "signature", New: "Otto Operator — performed"}, markSigned},
		{audit.Entry{Command: "signature.sign", Field: "status", Old: "pending", New: "done"}, markSigned},
		{audit.Entry{Command: "session.open"}, ""},
	} {
		if got := auditMark(tc.e); got != tc.want {
			t.Errorf("%s %s %q → %q: %q, want %q", tc.e.Command, tc.e.Field, tc.e.Old, tc.e.New, got, tc.want)
		}
	}
	for _, lang := range []string{langFR, langEN} {
		for _, k := range []string{markCreated, markChanged, markDeleted, markSigned} {
			if v := tr(lang, "audit.pdf.mark."+k); v == "" || v == "audit.pdf.mark."+k {
				t.Errorf("%s: no words for the mark %s", lang, k)
			}
		}
	}
	if tr(langFR, "audit.pdf.mark.created") == tr(langEN, "audit.pdf.mark.created") {
		t.Error("the mark is not in the reader's language")
	}
}
