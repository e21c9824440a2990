package browser_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"galenix/internal/app"
	"galenix/internal/demo"
	"galenix/internal/demotest"
)

// chromium returns the path of Debian's Chromium. Without it the test
// skips, except under CI, where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "Chromium not installed (no /usr/bin/chromium): skipping the browser test; install Debian's chromium package"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startGalenix runs the real application on loopback with the demo site, as
// `galenix serve --demo` does, and stops it when the test ends.
// Options change the configuration first.
func startGalenix(t *testing.T, ctx context.Context, options ...func(*app.Config)) string {
	t.Helper()
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, ShutdownTimeout: 5 * time.Second}
	for _, o := range options {
		o(&cfg)
	}
	if cfg.Demo && cfg.DSN == "" {
		copyDemo(t, ctx, cfg.DataDir)
	}
	m := app.New(cfg, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatalf("open galenix: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("galenix stopped with: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("galenix did not stop within 15 s")
		}
		if err := m.Close(); err != nil {
			t.Errorf("close galenix: %v", err)
		}
	})
	return m.URL()
}

// demoRoot holds, for the test binary's life, the data directory in which
// galenix loaded the demo site once (TestMain removes it).
var demoRoot string

var demoLoad struct {
	once sync.Once
	dir  string
	err  error
}

// loadDemo loads the demo site into demoRoot once for the test binary,
// with its own time: the load is the binary's, not the first test's, and
// a busy machine may spend minutes on it. TestMain calls it before the
// tests when Chromium is there, so that no test's deadline pays for it.
//
// The demo is the fixture of these tests, not what they test: the galenix
// binary built as a site serves it first (demotest.Serve: seconds, where
// this test binary under the race detector takes minutes). Each test then
// serves a copy in this process.
func loadDemo() {
	demoLoad.dir = filepath.Join(demoRoot, "demo")
	demoLoad.err = demotest.Serve(demoLoad.dir, "")
}

// copyDemo puts into dir a copy of a data directory where galenix loaded
// the demo site, as a site restored from its backup: loading the demo (800
// people, months of batches) takes most of a minute under the race
// detector, and every test would pay it. The copy is made of a galenix
// that was closed, so its files are whole; the next start finds the site
// there and loads nothing.
func copyDemo(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	demoLoad.once.Do(loadDemo)
	if demoLoad.err != nil {
		t.Fatalf("load the demo site: %v", demoLoad.err)
	}
	err := filepath.WalkDir(demoLoad.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(demoLoad.dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		to := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.Mkdir(to, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy the demo site: %v", err)
	}
}

// newBrowser starts a headless Chromium with a fresh profile, quiet and
// offline: the flags Debian's Chromium needs to run as root without network.
func newBrowser(t *testing.T, ctx context.Context, execPath string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// A 10-inch tablet in landscape.
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// cspWatch records, in every page the browser opens, the violations of the
// Content-Security-Policy, so that the test can say that none happened.
const cspWatch = `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

func TestBrowser(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	b := newBrowser(t, ctx, execPath)

	if _, err := chromedp.Call(b, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
		t.Fatalf("install the CSP watch: %v", err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Screenshots go to a temporary directory, or to the one named by
	// GALENIX_SCREENSHOTS, to look at them.
	shots := os.Getenv("GALENIX_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("screenshot %s is not a PNG", name)
		}
		file := filepath.Join(shots, name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", file)
	}
	noViolations := func(where string) {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Evaluate[[]string](`window.__csp`))
		if err != nil {
			t.Fatalf("%s: reading the CSP watch: %v", where, err)
		}
		if len(v) > 0 {
			t.Errorf("%s: the page broke its Content-Security-Policy: %v", where, v)
		}
	}

	// A page asked for without a session leads to the login form, which
	// leads back to it.
	step("open the site", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	if loc := location(); !strings.HasPrefix(loc, base+"/login?next=") {
		t.Fatalf("without a session the site went to %s, want the login page", loc)
	}
	step("sign in",
		chromedp.SendKeys(chromedp.CSS(`#username`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		// Signed in: the login page has a heading too.
		chromedp.WaitVisible(chromedp.CSS(`header a.who`)),
	)
	// The administrator lands on their home; the site's overview has its
	// own address.
	if loc := location(); loc != base+"/admin/accounts" {
		t.Errorf("after signing in the browser is at %s, want the administrator's home", loc)
	}
	step("open the site's overview", chromedp.Navigate(base+"/site"), chromedp.WaitVisible(chromedp.CSS(`section.building`)))
	lang, err := chromedp.Run(b, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || lang != "fr" {
		t.Errorf("the page's language is %q (%v), want fr", lang, err)
	}
	overview := text("main")
	for _, name := range []string{"PC Sécurité", "Chaufferie", "Bâtiment 25", "Bâtiment 30", "Bâtiment 40", "Bâtiment 70", "Bâtiment 90"} {
		if !strings.Contains(overview, name) {
			t.Errorf("the overview does not show the building %q", name)
		}
	}
	if !strings.Contains(overview, "Production stérile") || !strings.Contains(overview, "50 lignes") {
		t.Errorf("the overview lacks the roles or the count of lines:\n%.2000s", overview)
	}
	htmx, err := chromedp.Run(b, chromedp.Evaluate[bool](`typeof htmx === "object"`))
	if err != nil || !htmx {
		t.Errorf("htmx did not load (%v)", err)
	}
	noViolations("overview")
	screenshot("overview-fr")

	// Open a line by its link.
	href, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS(`a.line-link`), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("no line link on the overview: %v", err)
	}
	step("open a line", chromedp.Click(chromedp.CSS(`a.line-link`)), chromedp.WaitVisible(chromedp.CSS(`dl.props`)))
	if loc := location(); loc != base+href.Value {
		t.Errorf("the line link led to %s, want %s", loc, base+href.Value)
	}
	heading := text("h1")
	if !strings.HasPrefix(heading, "L") || !strings.Contains(text("main"), "Équipements de la ligne") {
		t.Errorf("the line page shows %q", heading)
	}
	noViolations("line page")
	screenshot("line-fr")

	// The language switch keeps the page and speaks English.
	step("switch to English", chromedp.Click(chromedp.CSS(`.lang a[lang=en]`)), chromedp.WaitVisible(chromedp.CSS(`dl.props`)))
	if got := text("main"); !strings.Contains(got, "Equipment of the line") {
		t.Errorf("after the switch the line page is not in English:\n%.1000s", got)
	}
	if loc := location(); loc != base+href.Value {
		t.Errorf("the switch left the line page for %s", loc)
	}
	screenshot("line-en")

	// htmx reloads the rooms a new room may cascade to when its building
	// changes, within the CSP.
	step("open the room form", chromedp.Navigate(base+"/rooms/new"), chromedp.WaitVisible(chromedp.CSS(`#f-building_id`)))
	step("choose Bâtiment 30",
		chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector("#f-building_id");
			s.value = [...s.options].find(o => o.text.startsWith("Bâtiment 30")).value;
			s.dispatchEvent(new Event("change", {bubbles: true}));
		})()`),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#f-cascades_to option").length > 10`, chromedp.WithPollingTimeout(15*time.Second)),
	)
	if got := text("#f-cascades_to"); !strings.Contains(got, "B30-") || strings.Contains(got, "B40-") {
		t.Errorf("the cascade choices are not the rooms of Bâtiment 30: %.300s", got)
	}
	noViolations("room form")

	// A refused form shows its message in the browser too.
	step("submit a room the wrong way round",
		chromedp.SendKeys(chromedp.CSS(`#f-code`), "B30-X01"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Test"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-grade").value = "C"`),
		chromedp.SendKeys(chromedp.CSS(`#f-temp_min`), "25"),
		chromedp.SendKeys(chromedp.CSS(`#f-temp_max`), "20"),
		chromedp.SendKeys(chromedp.CSS(`#f-humidity_min`), "30"),
		chromedp.SendKeys(chromedp.CSS(`#f-humidity_max`), "60"),
		chromedp.Click(chromedp.CSS(`.actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#e-temp_min`)),
	)
	if got := text("#e-temp_min"); !strings.Contains(got, "minimum temperature (25 °C) must be below the maximum (20 °C)") {
		t.Errorf("the refusal reads %q", got)
	}
	screenshot("room-refused-en")
}
