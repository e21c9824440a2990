package browser_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRelease: the demo's batch QA reviewed and waiting for the
// qualified person, in Chromium. The QP's view says in words what blocks
// (a result not yet reviewed) and offers no certification; the second
// analyst reviews the result on the laboratory's page; the QP, on a
// tablet, then certifies the batch with a signature; Alpha's user finds its
// certificate and downloads it (read back by pdftotext); Beta's user sees
// no trace of it. French, and the QP's view in English.
func TestBrowserRelease(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "qp")
	waiting := items[struct {
		ID, Lot string
	}](api, "/api/v1/batches?state=qa_reviewed")
	// The batch QA reviewed whose results are entered, one not reviewed
	// (the other waits for the laboratory: TestBrowserQualityFlow's).
	type resultView struct {
		Results []struct {
			ID, State, Test string
		} `json:"results"`
		Blockers []struct{ Key, Message string } `json:"blockers"`
	}
	var b struct{ ID, Lot string }
	var view resultView
	var unreviewed string
	for _, w := range waiting {
		var v resultView
		api.get("/api/v1/batches/"+w.ID+"/release", &v)
		for _, r := range v.Results {
			if r.State == "entered" {
				b, view, unreviewed = w, v, r.ID
			}
		}
	}
	if unreviewed == "" || len(view.Blockers) == 0 {
		t.Fatalf("no batch QA reviewed with a result to review among %v (%v)", waiting, view.Blockers)
	}
	releaseURL := base + "/batches/" + b.ID + "/release"

	// The QP, at a desk: what blocks, in words; no certification offered.
	qp := newUser(t, newBrowser(t, ctx, execPath), "qp")
	qp.signIn(base, "/batches/"+b.ID+"/release", ".blockers", false)
	if got := qp.text(".blockers"); !strings.Contains(got, "n'est pas revu") {
		t.Errorf("the QP's view says %q, want the result not reviewed", got)
	}
	if qp.count(`input[name=meaning][value=released]:disabled`) != 1 {
		t.Error("the certification is offered while a result is not reviewed")
	}
	qp.screenshot(shots, "release-blocked-fr")
	qp.noViolations("the QP's view")

	// The second analyst reviews the result on the laboratory's page.
	lab := newUser(t, newBrowser(t, ctx, execPath), "lab2")
	lab.signIn(base, "/lab", "main h1", false)
	form := `form[action="/lab/results/` + unreviewed + `/review"] button`
	if lab.count(form) != 1 {
		t.Fatalf("the laboratory's page offers no review of %s:\n%.1500s", unreviewed, lab.text("main"))
	}
	lab.load("review the result", "main h1", chromedp.Click(chromedp.CSS(form)))
	lab.screenshot(shots, "lab-reviewed")

	// The QP, now on a tablet in portrait: nothing blocks; the signature
	// certifies the batch.
	qp.do("portrait tablet", chromedp.EmulateViewport(800, 1280))
	qp.navigate(releaseURL, "form.sign-form")
	if got := qp.text("main"); !strings.Contains(got, "Tout est en ordre") {
		t.Fatalf("after the review the QP's view says:\n%.1500s", got)
	}
	qp.do("certify",
		chromedp.Click(chromedp.CSS(`input[name=meaning][value=released]`)),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-username`), "qp"),
		chromedp.SendKeys(chromedp.CSS(`.sign-form #s-password`), "galenix-demo"))
	qp.load("sign the decision", "main h1", chromedp.Click(chromedp.CSS(`.sign-form button[type=submit]`)))
	if got := qp.text("main"); !strings.Contains(got, "Lot certifié") || !strings.Contains(got, "CoA-") {
		t.Fatalf("after the signature the QP's view says:\n%.1500s", got)
	}
	qp.screenshot(shots, "release-certified-tablet-fr")

	// In English.
	en := newUser(t, newBrowser(t, ctx, execPath), "qp")
	en.signIn(base, "/batches/"+b.ID+"/release", "main h1", false)
	en.load("switch to English", "main h1", chromedp.Click(chromedp.CSS(`.lang a[lang=en]`)))
	if got := en.text("main"); !strings.Contains(got, "The qualified person's decision") || !strings.Contains(got, "Certified") {
		t.Errorf("the QP's view in English:\n%.1500s", got)
	}
	en.screenshot(shots, "release-certified-en")

	// Alpha's user: the certificate, listed and downloaded.
	alpha := newUser(t, newBrowser(t, ctx, execPath), "client-alpha")
	alpha.signIn(base, "/certificates", "main h1", false)
	if got := alpha.text("main"); !strings.Contains(got, b.Lot) || strings.Contains(got, "Hélène Rousseau") {
		t.Errorf("Alpha's certificates:\n%.1500s", got)
	}
	alpha.screenshot(shots, "certificates-client-alpha")
	pdf := download(t, signInAPI(t, ctx, base, "client-alpha"), "/api/v1/batches/"+b.ID+"/certificate.pdf?lang=fr", http.StatusOK)
	if bin, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "coa.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if text := string(out); !strings.Contains(text, "Certificat d'analyse") || !strings.Contains(text, b.Lot) || !strings.Contains(text, "≥") {
			t.Errorf("the certificate reads:\n%s", text)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("pdftotext is needed (poppler-utils)")
	}

	// Beta's user: neither the line nor the certificate.
	beta := newUser(t, newBrowser(t, ctx, execPath), "client-beta")
	beta.signIn(base, "/certificates", "main h1", false)
	if got := beta.text("main"); strings.Contains(got, b.Lot) {
		t.Errorf("Beta's certificates show Alpha's batch:\n%.1500s", got)
	}
	download(t, signInAPI(t, ctx, base, "client-beta"), "/api/v1/batches/"+b.ID+"/certificate.pdf", http.StatusNotFound)
}

// download reads a file of the API, which must answer the status.
func download(t *testing.T, c *apiClient, path string, want int) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(c.ctx, "GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %.300s", path, resp.StatusCode, want, body)
	}
	return body
}
