package browser_test

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAuditTrail: QA, as a reviewer would, opens a batch of the
// demo, follows one link to that batch's audit trail, reads it in words
// (commands and records named, never an id), in French then English, at
// desktop and tablet sizes; the PDF export of what is shown downloads
// from the page and reads back (pdftotext) with the same words.
func TestBrowserAuditTrail(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "qa")
	var batch struct{ ID, Lot string }
	for _, b := range items[struct {
		ID        string `json:"id"`
		Lot       string `json:"lot"`
		StepsDone int    `json:"steps_done"`
	}](api, "/api/v1/batches") {
		if b.StepsDone > 2 {
			batch.ID, batch.Lot = b.ID, b.Lot
			break
		}
	}
	if batch.ID == "" {
		t.Fatal("the demo has no batch with steps done")
	}

	qa := newUser(t, newBrowser(t, ctx, execPath), "qa")
	qa.do("desktop", chromedp.EmulateViewport(1280, 900))
	qa.signIn(base, "/batches/"+batch.ID, "main h1", false)
	qa.load("open the batch's trail", "main h1", chromedp.Click(chromedp.CSS(`main a[href^="/audit?record="]`)))
	if loc := qa.location(); !strings.Contains(loc, "/audit?record=") {
		t.Fatalf("the trail link leads to %s", loc)
	}
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	read := func(lang string, words ...string) {
		t.Helper()
		got := qa.text("main table")
		for _, w := range append(words, batch.Lot) {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the batch's trail lacks %q:\n%.2000s", lang, w, got)
			}
		}
		if id := uuid.FindString(got); id != "" {
			t.Errorf("%s: the trail shows the id %s rather than a name:\n%.2000s", lang, id, got)
		}
	}
	read("fr", "Signature électronique", "Étape de lot", "Réalisé — contenu signé sha256:")
	qa.screenshot(shots, "audit-batch-qa-desktop-fr")
	qa.noViolations("the batch's trail")

	// On a portrait tablet nothing is wider than the window.
	qa.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	if wide, err := chromedp.Run(qa.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
		t.Errorf("the trail scrolls sideways on a portrait tablet (%v)", err)
	}
	qa.screenshot(shots, "audit-batch-qa-tablet-fr")

	// The PDF export of what is shown, as the page's button fetches it.
	href, err := chromedp.Run(qa.ctx, chromedp.AttributeValue(chromedp.CSS(`a[aria-describedby="a-pdf-limit"]`), "href"))
	if err != nil || !href.Exists || href.Value == "" {
		t.Fatalf("no PDF export on the trail's page: %v", err)
	}
	js := `fetch(` + jsString(href.Value) + `).then(r => r.ok && r.headers.get("Content-Type").startsWith("application/pdf") ? r.arrayBuffer() : Promise.reject(r.status + " " + r.headers.get("Content-Type")))
		.then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`
	b64, err := chromedp.Run(qa.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("the PDF export: %v", err)
	}
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("the PDF export is no PDF (%v): %.40q", err, pdf)
	}
	if bin, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "trail.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := exec.Command(bin, path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		got := string(raw)
		if !strings.Contains(got, batch.Lot) || !strings.Contains(got, "Signature électronique") {
			t.Errorf("the trail's PDF reads (want %s and the command in words):\n%.2000s", batch.Lot, got)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("pdftotext is needed (poppler-utils)")
	}

	// In English, the same trail in English words.
	qa.load("switch to English", "main h1", chromedp.Click(chromedp.CSS(`.lang a[lang=en]`)))
	read("en", "Electronic signature", "Batch step", "Performed — content signed sha256:")
	if got := qa.text("main table"); strings.Contains(got, "Signature électronique") || strings.Contains(got, "contenu signé") {
		t.Errorf("the English trail shows French words:\n%.1500s", got)
	}
	qa.screenshot(shots, "audit-batch-qa-tablet-en")
}
