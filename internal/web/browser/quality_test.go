package browser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/text"
)

// TestBrowserQualityFlow: the demo's batch of Alpha QA reviewed, its
// samples received and every test to do, taken through the laboratory to
// the certificate in Chromium. The analyst enters the results on the
// laboratory's tablet page (portrait), one out of specification; the
// investigation's phase I is run on its page (hypothesis, retest by the
// second analyst, laboratory error proven); the qualified person's view
// then says in words that the investigation is open and offers no
// certification; QA signs the investigation's closure; the second analyst
// reviews the results; the qualified person certifies; Alpha's user is
// told live, finds the certificate and downloads it (read back by
// pdftotext); Beta's user sees no trace of it, and its address answers 404.
// French at desktop and tablet sizes, the QP's view in English.
func TestBrowserQualityFlow(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	// The batch: QA reviewed, no result yet.
	labAPI := signInAPI(t, ctx, base, "lab")
	qpAPI := signInAPI(t, ctx, base, "qp")
	type batch struct {
		ID, Lot, Unit string
		Quantity      float64
	}
	var b batch
	for _, w := range items[batch](qpAPI, "/api/v1/batches?state=qa_reviewed") {
		var v struct {
			Results []json.RawMessage `json:"results"`
		}
		qpAPI.get("/api/v1/batches/"+w.ID+"/release", &v)
		if len(v.Results) == 0 {
			b = w
		}
	}
	if b.ID == "" {
		t.Fatal("the demo has no batch QA reviewed whose tests are all to do")
	}
	type sample struct {
		ID, Code, Kind, State string
		Tests                 []string
	}
	samples := items[sample](labAPI, "/api/v1/samples?batch_id="+b.ID)
	if len(samples) != 2 {
		t.Fatalf("batch %s: %d samples, want its in-process and finished product's", b.Lot, len(samples))
	}
	// The test out of specification: the finished product's dissolution
	// (solid forms) or pH.
	oosTest, oosValue, retest := "", "", ""
	for _, s := range samples {
		if s.State != "received" {
			t.Fatalf("sample %s is %s, want received", s.Code, s.State)
		}
		if s.Kind != "finished" {
			continue
		}
		for _, tc := range s.Tests {
			switch {
			case tc == "DISS":
				oosTest, oosValue, retest = tc, "71", "91"
			case tc == "PH" && oosTest == "":
				oosTest, oosValue, retest = tc, "8,31", "6,15"
			}
		}
	}
	if oosTest == "" {
		t.Fatalf("the finished product's sample has no dissolution nor pH: %v", samples)
	}
	conforming := map[string]string{"ASSAY": "99,6", "PH": "6,12", "DISS": "92", "ENDO": "0,08"}

	// The analyst, on the laboratory's tablet in portrait: the worklist
	// names the samples; each result entered on the sample's page.
	lab := newUser(t, newBrowser(t, ctx, execPath), "lab")
	lab.do("portrait tablet", chromedp.EmulateViewport(800, 1280))
	lab.signIn(base, "/lab", "main h1", false)
	if got := lab.text(".lab-work"); !strings.Contains(got, b.Lot+"-PF") || !strings.Contains(got, b.Lot+"-IPC") {
		t.Fatalf("the worklist does not list the samples of %s:\n%.1500s", b.Lot, got)
	}
	lab.screenshot(shots, "quality-worklist-tablet-fr")
	noSideways(lab, "the laboratory's worklist")
	var pf sample
	for _, s := range samples {
		if s.Kind == "finished" {
			pf = s
		}
		lab.navigate(base+"/lab/samples/"+s.ID, "main h1")
		for _, tc := range s.Tests {
			value := conforming[tc]
			if s.Kind == "finished" && tc == oosTest {
				value = oosValue
			}
			if value == "" {
				// A text test: the expected text, as the criterion says it.
				value = lab.text("#test-" + tc + " .facts strong")
			}
			lab.do("type the result of "+tc, chromedp.SendKeys(chromedp.CSS("#v-"+tc), value))
			lab.load("enter the result of "+tc, "main h1", chromedp.Click(chromedp.CSS("#test-"+tc+" form.lab-entry button[type=submit]")))
			if lab.lastStatus != http.StatusOK {
				t.Fatalf("entering %s of %s answered %d:\n%.1500s", tc, s.Code, lab.lastStatus, lab.text("main"))
			}
		}
		if n := lab.count("form.lab-entry"); n != 0 {
			t.Errorf("sample %s: %d tests still offered after every result:\n%.2000s", s.Code, n, lab.text("main"))
		}
	}
	// The finished product's page: the result out of specification kept,
	// and its investigation opened.
	lab.navigate(base+"/lab/samples/"+pf.ID+"#test-"+oosTest, "#test-"+oosTest+" .alert a")
	if got := lab.text("#test-" + oosTest); !strings.Contains(got, "Hors spécification") {
		t.Errorf("the result out of specification reads:\n%s", got)
	}
	if got := lab.text("#test-ASSAY"); !strings.Contains(got, "99,6 %") {
		t.Errorf("the assay reads %q, want 99,6 %% with the French decimal mark", got)
	}
	lab.screenshot(shots, "quality-oos-entered-tablet-fr")
	noSideways(lab, "the sample's page")
	lab.noViolations("the sample's page")
	lab.load("open the investigation", "#o-h", chromedp.Click(chromedp.CSS("#test-"+oosTest+" .alert a")))
	oosURL := lab.location()

	// Phase I: the hypothesis before any re-measurement, one retest fixed.
	lab.do("state the hypothesis", chromedp.SendKeys(chromedp.CSS("#o-h"), "Erreur de dilution possible : fiole de 50 mL au lieu de 100 mL."))
	lab.load("submit the hypothesis", "#o-n", chromedp.Click(chromedp.CSS(`form[action$="/hypothesis"] button[type=submit]`)))
	lab.do("fix the retests", chromedp.SendKeys(chromedp.CSS("#o-n"), "1"))
	lab.load("submit the retests", "main h1", chromedp.Click(chromedp.CSS(`form[action$="/retests"] button[type=submit]`)))
	if got := lab.text("main"); !strings.Contains(got, "0 sur 1") {
		t.Errorf("after fixing the retests the investigation reads:\n%.1500s", got)
	}

	// The retest by the second analyst (never the first), whose result the
	// first reviews.
	lab2API := signInAPI(t, ctx, base, "lab2")
	var out struct {
		Result struct{ ID, Verdict string } `json:"result"`
	}
	body, _ := json.Marshal(map[string]string{"test": oosTest, "value": retest})
	if status := lab2API.call("POST", "/api/v1/samples/"+pf.ID+"/results", body, nil); status != http.StatusCreated {
		t.Fatalf("the retest by the second analyst answered %d", status)
	}
	reviewed := 0
	for _, r := range items[struct {
		ID, Test string
		Retest   bool
	}](labAPI, "/api/v1/results?sample_id="+pf.ID+"&state=entered") {
		if r.Test == oosTest && r.Retest {
			if status := labAPI.call("POST", "/api/v1/results/"+r.ID+"/review", nil, &out); status != http.StatusOK {
				t.Fatalf("the first analyst's review of the retest answered %d", status)
			}
			reviewed++
		}
	}
	if reviewed != 1 {
		t.Fatalf("%d retests of %s to review, want 1", reviewed, oosTest)
	}

	// The conclusion of phase I: a laboratory error proven.
	lab.navigate(oosURL, "main h1")
	lab.do("conclude phase I",
		chromedp.Click(chromedp.CSS(`input[name=lab_error][value=true]`)),
		chromedp.SendKeys(chromedp.CSS("#o-c"), "Fiole de 50 mL retrouvée sur la paillasse ; le ticket de pesée confirme la dilution erronée."))
	lab.load("submit phase I", "main h1", chromedp.Click(chromedp.CSS(`form[action$="/phase1"] button[type=submit]`)))
	if got := lab.text("main"); !strings.Contains(got, "prouvée") {
		t.Errorf("after phase I the investigation reads:\n%.2000s", got)
	}
	lab.screenshot(shots, "quality-oos-phase1-tablet-fr")

	// The qualified person, at a desk: the investigation open blocks, in
	// words; no certification offered.
	releaseURL := base + "/batches/" + b.ID + "/release"
	qp := newUser(t, newBrowser(t, ctx, execPath), "qp")
	qp.signIn(base, "/batches/"+b.ID+"/release", ".blockers", false)
	if got := qp.text(".blockers"); !strings.Contains(got, "L'investigation OOS") || !strings.Contains(got, "est ouverte") {
		t.Errorf("the QP's view says %q, want the investigation open", got)
	}
	if qp.count(`input[name=meaning][value=released]:disabled`) != 1 {
		t.Error("the certification is offered while an investigation is open")
	}
	if got, want := qp.text(".page-head .facts"), text.FormatQuantity("fr", b.Quantity)+" "+b.Unit; !strings.Contains(got, want) {
		t.Errorf("the QP's view shows the quantity as %q, want %q", got, want)
	}
	qp.screenshot(shots, "quality-release-blocked-fr")
	qp.noViolations("the QP's view")

	// QA closes the investigation with its signature.
	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.signIn(base, strings.TrimPrefix(oosURL, base), ".sign-form", false)
	qa.do("sign the closure",
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-username`), "qa"),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-password`), "galenix-demo"))
	qa.load("submit the closure", "main h1", chromedp.Click(chromedp.CSS(`.sign-form button[type=submit]`)))
	if got := qa.text("main"); !strings.Contains(got, "Clôturée") && !strings.Contains(got, "clôturée") {
		t.Errorf("after QA's signature the investigation reads:\n%.2000s", got)
	}
	if qa.count(".sign-form") != 0 {
		t.Error("the closure is still offered after QA's signature")
	}
	qa.screenshot(shots, "quality-oos-closed-fr")

	// The second analyst reviews the first's results.
	for _, r := range items[struct{ ID string }](lab2API, "/api/v1/results?batch_id="+b.ID+"&state=entered") {
		if status := lab2API.call("POST", "/api/v1/results/"+r.ID+"/review", nil, &out); status != http.StatusOK {
			t.Fatalf("the second analyst's review of %s answered %d", r.ID, status)
		}
	}

	// The qualified person, on a tablet in portrait: nothing blocks; the
	// signature certifies the batch. Alpha's user, on the certificates
	// page, is told live.
	alpha := newUser(t, newBrowser(t, ctx, execPath), "client-alpha")
	alpha.signIn(base, "/certificates", "main h1", false)
	if got := alpha.text("main"); strings.Contains(got, b.Lot) {
		t.Fatalf("Alpha's certificates list %s before its certification:\n%.1500s", b.Lot, got)
	}
	if alpha.count("#cert-live") != 1 || alpha.count("#cert-live:not([hidden])") != 0 {
		t.Error("Alpha's certificates page has no hidden live notice before the certification")
	}
	qp.do("portrait tablet", chromedp.EmulateViewport(800, 1280))
	qp.navigate(releaseURL, "form.sign-form")
	if got := qp.text("main"); !strings.Contains(got, "Tout est en ordre") {
		t.Fatalf("after the closure and the reviews the QP's view says:\n%.2000s", got)
	}
	noSideways(qp, "the QP's view on a portrait tablet")
	qp.screenshot(shots, "quality-release-ready-tablet-fr")
	qp.do("certify",
		chromedp.Click(chromedp.CSS(`input[name=meaning][value=released]`)),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-username`), "qp"),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-password`), "galenix-demo"))
	qp.load("sign the decision", "main h1", chromedp.Click(chromedp.CSS(`.sign-form button[type=submit]`)))
	if got := qp.text("main"); !strings.Contains(got, "Lot certifié") || !strings.Contains(got, "CoA-") {
		t.Fatalf("after the signature the QP's view says:\n%.1500s", got)
	}
	qp.screenshot(shots, "quality-release-certified-tablet-fr")

	// In English: the quantity grouped the English way.
	en := newUser(t, newBrowser(t, ctx, execPath), "qp")
	en.signIn(base, "/batches/"+b.ID+"/release", "main h1", false)
	en.load("switch to English", "main h1", chromedp.Click(chromedp.CSS(`.lang a[lang=en]`)))
	if got, want := en.text(".page-head .facts"), text.FormatQuantity("en", b.Quantity); !strings.Contains(got, want) || !strings.Contains(en.text("main"), "Certified") {
		t.Errorf("the QP's view in English shows %q, want the quantity %q and the certification", got, want)
	}
	en.screenshot(shots, "quality-release-certified-en")

	// Alpha's user, still on the page, is told of the certificate live.
	if err := alpha.poll(`(() => { const n = document.getElementById("cert-live"); return !!n && !n.hidden && n.textContent.includes(`+jsString(b.Lot)+`); })()`, 10*time.Second); err != nil {
		t.Errorf("Alpha's certificates page did not announce %s live: %v", b.Lot, err)
	}
	alpha.screenshot(shots, "quality-certificates-live-notice-fr")

	// Alpha's user: the certificate, listed and downloaded.
	alpha.navigate(base+"/certificates", "main h1")
	if got := alpha.text("main"); !strings.Contains(got, b.Lot) || strings.Contains(got, "Hélène Rousseau") {
		t.Errorf("Alpha's certificates:\n%.1500s", got)
	}
	alpha.screenshot(shots, "quality-certificates-client-alpha-fr")
	pdf := download(t, signInAPI(t, ctx, base, "client-alpha"), "/api/v1/batches/"+b.ID+"/certificate.pdf?lang=fr", http.StatusOK)
	if bin, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "coa.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := exec.Command(bin, path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(string(raw))
		want := strings.ReplaceAll(text.FormatQuantity("fr", b.Quantity), "\u202f", " ")
		if !strings.Contains(got, "Certificat d'analyse") || !strings.Contains(got, b.Lot) || !strings.Contains(got, want) || !strings.Contains(got, retest) {
			t.Errorf("the certificate reads (want %s, %s %s and the retest %s):\n%s", b.Lot, want, b.Unit, retest, got)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("pdftotext is needed (poppler-utils)")
	}

	// Beta's user: neither the line nor the certificate, nor a sign that
	// it exists.
	beta := newUser(t, newBrowser(t, ctx, execPath), "client-beta")
	beta.signIn(base, "/certificates", "main h1", false)
	if got := beta.text("main"); strings.Contains(got, b.Lot) {
		t.Errorf("Beta's certificates show Alpha's batch:\n%.1500s", got)
	}
	betaAPI := signInAPI(t, ctx, base, "client-beta")
	for _, l := range items[struct{ BatchID, Lot string }](betaAPI, "/api/v1/certifications") {
		if l.BatchID == b.ID || l.Lot == b.Lot {
			t.Errorf("Beta's certifications list Alpha's batch %s", b.Lot)
		}
	}
	download(t, betaAPI, "/api/v1/batches/"+b.ID+"/certificate.pdf", http.StatusNotFound)
	download(t, betaAPI, "/api/v1/batches/"+b.ID+"/certificate", http.StatusNotFound)
	beta.navigate(base+"/batches/"+b.ID+"/certificate.pdf", "main")
	if beta.lastStatus != http.StatusNotFound {
		t.Errorf("Beta's browser at Alpha's certificate: %d, want 404", beta.lastStatus)
	}
}

// jsString quotes s for a script.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// noSideways fails when the page, or a table in it, is wider than the
// window: nothing should scroll sideways on a portrait tablet.
func noSideways(u *user, where string) {
	u.t.Helper()
	wide, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		if (document.documentElement.scrollWidth > window.innerWidth) out.push("the page: " + document.documentElement.scrollWidth + " > " + window.innerWidth);
		for (const w of document.querySelectorAll(".table-wrap")) {
			if (w.scrollWidth > w.clientWidth + 1) out.push("a table: " + w.scrollWidth + " > " + w.clientWidth + " (" + (w.closest("section")?.querySelector("h2")?.textContent || "") + ")");
		}
		return out;
	})()`))
	if err != nil {
		u.t.Fatalf("%s: measuring: %v", where, err)
	}
	if len(wide) > 0 {
		u.t.Errorf("%s scrolls sideways: %v", where, wide)
	}
}
