package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// TestBrowserMasterEditor: on the demo site, in Chromium, on a tablet in
// landscape (1024×768), the supervisor writes a new master batch record
// with two operations through the editor: the "add" buttons draw the form
// again with one more row (no script needed), each step shows the fields
// of its kind, a refusal is shown on its row, and the draft saved shows
// its operations and the review's signing form.
func TestBrowserMasterEditor(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	api := signInAPI(t, ctx, base, "supervisor")
	products := items[struct{ ID, Code string }](api, "/api/v1/products")
	materials := items[struct{ ID, Code string }](api, "/api/v1/materials")
	if len(products) == 0 || len(materials) == 0 {
		t.Fatal("the demo has no products or materials")
	}

	sup := newUser(t, newBrowser(t, ctx, execPath), "supervisor")
	sup.do("landscape tablet", chromedp.EmulateViewport(1024, 768))
	sup.signIn(base, "/masters", "main h1", false)
	if sup.count(`a[href="/masters/new"]`) != 1 {
		t.Fatalf("the supervisor's masters page offers no new master:\n%.1500s", sup.text("main"))
	}
	sup.load("open the editor", "#f-product_id", chromedp.Click(chromedp.CSS(`a[href="/masters/new"]`)))
	sup.do("fill the master",
		chromedp.SetValue(chromedp.CSS(`#f-product_id`), products[0].ID),
		chromedp.SendKeys(chromedp.CSS(`#f-code`), "BRW-MBR-1"),
		chromedp.SendKeys(chromedp.CSS(`#f-title`), "Dossier écrit au navigateur"),
		chromedp.SendKeys(chromedp.CSS(`#f-batch_size`), "5000"),
		chromedp.SendKeys(chromedp.CSS(`#f-unit`), "comprimés"),
		chromedp.SendKeys(chromedp.CSS(`#f-hours`), "6,5"),
		chromedp.SendKeys(chromedp.CSS(`#o1-title`), "Préparation"),
		chromedp.SendKeys(chromedp.CSS(`#s1-1-text`), "Vide de ligne"),
		chromedp.SendKeys(chromedp.CSS(`#s1-1-checklist`), "Lot précédent retiré\nLigne propre"),
		chromedp.SetValue(chromedp.CSS(`#s1-2-kind`), "material"),
		chromedp.SendKeys(chromedp.CSS(`#s1-2-text`), "Ajouter la matière"),
		chromedp.SetValue(chromedp.CSS(`#s1-2-material_id`), materials[0].ID),
		chromedp.SendKeys(chromedp.CSS(`#s1-2-quantity`), "12,5"),
		chromedp.SendKeys(chromedp.CSS(`#s1-2-tolerance`), "2"))
	// Each step shows the fields of its kind only.
	shown := func(sel string) bool {
		v, err := chromedp.Run(sup.ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(`+jsString(sel)+`)).display !== "none"`))
		if err != nil {
			t.Fatalf("display of %s: %v", sel, err)
		}
		return v
	}
	if !shown("#s1-1-row .kf-line_clearance") || shown("#s1-1-row .kf-numeric") || !shown("#s1-2-row .kf-material") || shown("#s1-2-row .kf-line_clearance") {
		t.Error("a step's row shows the fields of another kind, or hides its own")
	}
	noSideways(sup, "the editor")

	// One more operation: the form comes back with what was typed.
	sup.load("add an operation", "#o2-title", chromedp.Click(chromedp.CSS(`button[name=add][value=op]`)))
	if got, _ := chromedp.Run(sup.ctx, chromedp.Value(chromedp.CSS(`#s1-2-quantity`))); got != "12,5" {
		t.Fatalf("after adding an operation the quantity typed reads %q", got)
	}
	sup.do("fill the second operation",
		chromedp.SendKeys(chromedp.CSS(`#o2-title`), "Compression"),
		chromedp.SetValue(chromedp.CSS(`#s2-1-kind`), "numeric"),
		chromedp.SendKeys(chromedp.CSS(`#s2-1-text`), "Peser 10 comprimés"),
		chromedp.SendKeys(chromedp.CSS(`#s2-1-unit`), "mg"),
		chromedp.SendKeys(chromedp.CSS(`#s2-1-target`), "250"),
		chromedp.SendKeys(chromedp.CSS(`#s2-1-low`), "260"), // above the target: refused
		chromedp.SendKeys(chromedp.CSS(`#s2-1-high`), "262,5"))
	sup.load("add a step", "#s2-2-text", chromedp.Click(chromedp.CSS(`button[name=add][value="step:2"]`)))
	sup.do("fill the added step",
		chromedp.SetValue(chromedp.CSS(`#s2-2-kind`), "sampling"),
		chromedp.SendKeys(chromedp.CSS(`#s2-2-text`), "Prélever"),
		chromedp.SendKeys(chromedp.CSS(`#s2-2-sample_point`), "Sortie presse"),
		chromedp.Click(chromedp.CSS(`input[name="s2.2.critical"]`)))
	sup.screenshot(shots, "master-editor-1024-fr")
	sup.load("save", "main h1", chromedp.Click(chromedp.CSS(`.editor-bar button[name=save]`)))
	if sup.lastStatus != 400 || sup.count(`#s2-1-row.invalid`) != 1 {
		t.Fatalf("limits that do not frame the target: status %d, the row marked %d times:\n%.2000s", sup.lastStatus, sup.count(`#s2-1-row.invalid`), sup.text("main"))
	}
	if got := sup.text("#s2-1-row .error"); !strings.Contains(got, "ncadrer la cible") {
		t.Errorf("the refused row says %q", got)
	}
	sup.do("go to the row refused", chromedp.Click(chromedp.CSS(`.alert a[href="#s2-1-row"]`)))
	sup.screenshot(shots, "master-editor-refused-fr")
	sup.do("correct the low limit", chromedp.SetValue(chromedp.CSS(`#s2-1-low`), "237,5"))
	sup.load("save", "main h1", chromedp.Click(chromedp.CSS(`.editor-bar button[name=save]`)))
	got := sup.text("main")
	for _, want := range []string{"Brouillon enregistré.", "BRW-MBR-1", "Préparation", "Compression", "Lot précédent retiré", "Sortie presse", "Signer la revue"} {
		if !strings.Contains(got, want) {
			t.Errorf("the draft's page lacks %q:\n%.2500s", want, got)
		}
	}
	sup.screenshot(shots, "master-draft-1024-fr")
	noSideways(sup, "the draft's page")
	// The draft's editor, on a tablet in portrait too.
	sup.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	sup.load("edit the draft", "#s2-2-sample_point", chromedp.Click(chromedp.CSS(`.head-actions a[href$="/edit"]`)))
	if got, _ := chromedp.Run(sup.ctx, chromedp.Value(chromedp.CSS(`#s2-1-low`))); got != "237,5" {
		t.Errorf("the draft's editor shows the low limit %q, want 237,5", got)
	}
	noSideways(sup, "the draft's editor in portrait")
	sup.screenshot(shots, "master-edit-768-fr")
	sup.noViolations("the master editor")

	// The operations reorder with buttons of 48 px at least; the form
	// comes back with the operations swapped, saving nothing.
	size, err := chromedp.Run(sup.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('button[name=move][value="opup:2"]').getBoundingClientRect(); return [r.width, r.height]; })()`))
	if err != nil || len(size) != 2 || size[0] < 48 || size[1] < 48 {
		t.Errorf("the button moving an operation measures %v, want 48 px at least each way", size)
	}
	sup.load("move the second operation up", "#o1-title", chromedp.Click(chromedp.CSS(`button[name=move][value="opup:2"]`)))
	if got, _ := chromedp.Run(sup.ctx, chromedp.Value(chromedp.CSS(`#o1-title`))); got != "Compression" {
		t.Errorf("after moving operation 2 up the first reads %q", got)
	}
	sup.load("move it back down", "#o2-title", chromedp.Click(chromedp.CSS(`button[name=move][value="opdown:1"]`)))
	if got, _ := chromedp.Run(sup.ctx, chromedp.Value(chromedp.CSS(`#o1-title`))); got != "Préparation" {
		t.Errorf("after moving it back the first operation reads %q", got)
	}

	// The author signs the draft as written, which submits it for review.
	sup.load("back to the draft", "main h1", chromedp.Click(chromedp.CSS(`.editor-bar a.btn`)))
	sup.do("sign as the author",
		chromedp.SendKeys(chromedp.CSS(`#author #s-username`), "supervisor"),
		chromedp.SendKeys(chromedp.CSS(`#author #s-password`), demo.Password))
	sup.load("sign and submit", "main h1", chromedp.Click(chromedp.CSS(`#author button.btn-primary`)))
	got = sup.text("main")
	for _, want := range []string{"Version signée par son auteur et soumise à la revue.", "En revue", "Rédigé / Authored"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the author's signature the page lacks %q:\n%.2000s", want, got)
		}
	}
}
