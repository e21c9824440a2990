package web

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/pdf/pdftest"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// TestDossierPDFs: the deviation summaries, read back by pdftotext, show
// each deviation as its client reads it (class, state, what the site sent
// it, the CAPA shared) and never who owns or did an action, nor the
// site's internal words; the certificate of conformity names the master's
// version it was made to, in French and in English.
func TestDossierPDFs(t *testing.T) {
	pdftest.Tools(t)
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	done := at.Add(20 * time.Hour)
	d := &quality.Delivery{Dossier: quality.Dossier{Lot: "L2611-0042", ProductCode: "ALP-VIAL", Product: "Alphacaïne 10 mg/mL"},
		Master:        production.Master{Code: "DLM-ALP-VIAL", Version: 3, Title: "Alphacaïne, flacons"},
		Certification: &quality.Certification{SignedAt: at.Add(72 * time.Hour), SignatureID: "01a246e2-71e9-72a8-9b3a-92463c0e1d12"}}
	full := quality.Deviation{ID: "dev1", Code: "DEV2611-0007", Class: quality.Major, State: quality.DeviationClosed, OpenedAt: at, ClosedAt: &done,
		Title: "Sas ouvert", Description: "Interlock coupé par Marc Dupont", RootCause: "Interlock non rétabli",
		Actions: []quality.Action{{ID: "a1", Description: "Rétablir l'interlock ≥ 1 fois/jour", OwnerName: "Marc Dupont", Due: at.AddDate(0, 0, 7),
			DoneAt: &done, DoneName: "Marc Dupont", Evidence: "photo.jpg"}}}
	told := map[string][]quality.ObligationItem{"dev1": {
		{Obligation: quality.Obligation{Kind: quality.ObligeNotify, DoneAt: &done}, Message: "Déviation majeure sur votre lot : sas ouvert."},
		{Obligation: quality.Obligation{Kind: quality.ObligeSummary}, Message: ""}}}
	s := &Server{}
	for _, tc := range []struct {
		lang, share string
		capa        bool
		want        []string
	}{
		{langFR, "partage", true, []string{"Résumés des déviations", "L2611-0042", "DEV2611-0007 — Close — majeure", "Déviation majeure sur votre lot : sas ouvert.",
			"Rétablir l'interlock ≥ 1 fois/jour", "Action corrective", "page 1 / 1"}},
		{langEN, "no CAPA", false, []string{"Deviation summaries", "DEV2611-0007 — Closed — major", "Notification to the client"}},
	} {
		doc, err := s.deviationSummariesPDF(tc.lang, d, "Alpha Laboratoires (ALPHA)", "Sophie Marchand", []quality.Deviation{full.ClientView(tc.capa)}, told)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(strings.Fields(pdftest.Check(t, doc)), " ")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %s: the summaries lack %q:\n%s", tc.lang, tc.share, w, got)
			}
		}
		for _, never := range []string{"Marc Dupont", "photo.jpg", "Interlock coupé", "Sas ouvert", "Interlock non rétabli"} {
			if strings.Contains(got, never) {
				t.Errorf("%s %s: the client's summaries show %q", tc.lang, tc.share, never)
			}
		}
		if !tc.capa && strings.Contains(got, "interlock ≥") {
			t.Errorf("the CAPA shown without the agreement sharing it")
		}
	}
	for lang, want := range map[string]string{langFR: "dossier de lot maître DLM-ALP-VIAL version 3 approuvé", langEN: "approved master batch record DLM-ALP-VIAL version 3"} {
		doc, err := s.conformityDoc(lang, d, "Alpha Laboratoires (ALPHA)")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(pdftest.Check(t, doc)), " "); !strings.Contains(got, want) || !strings.Contains(got, "L2611-0042") {
			t.Errorf("%s: the certificate of conformity lacks %q:\n%s", lang, want, got)
		}
	}
}
