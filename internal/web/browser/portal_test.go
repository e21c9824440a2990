package browser_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"galenix/internal/demo"

	"github.com/chromedp/chromedp"
)

// TestBrowserClientPortal: client-alpha signs in and lands on its space:
// its batches by phase, what its quality agreement owes it with the
// demo's notification running late, counted, its latest news and its
// volumes; it follows the late notification to its deviation, whose page
// shows the same deadline; at tablet size nothing scrolls sideways; in
// English the same words are its own.
func TestBrowserClientPortal(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	shots := screenshotDir(t)

	u := newUser(t, newBrowser(t, ctx, execPath), "client-alpha")
	u.do("desktop", chromedp.EmulateViewport(1280, 900))
	u.signIn(base, "/", "main h1", false)
	if loc := u.location(); loc != base+"/portal" {
		t.Fatalf("client-alpha's home is %s, want its space", loc)
	}
	page := u.text("main")
	for _, w := range []string{"Votre espace client", "Vos projets avec le site", "PRJ-ALPHA-01", "En fabrication", "Ce que l'accord qualité vous doit", "1 en retard", "Notification au client",
		"en retard de", "Dernières nouvelles", "Commandé et livré", "Vos lots en fabrication"} {
		if !strings.Contains(page, w) {
			t.Errorf("the client's space lacks %q:\n%.3000s", w, page)
		}
	}
	u.screenshot(shots, "portal-client-desktop-fr")
	u.noViolations("the client's space")

	// Its project's dashboard: the phases, the plan, the decision log, the
	// tasks of both sides (its own late), the thread, the documents; no
	// person of the site.
	u.load("open its first project", "main h1", chromedp.Click(chromedp.CSS(`#projects a[href^="/projects/"]`)))
	dash := u.text("main")
	for _, w := range []string{"PRJ-ALPHA-01", "Transfert de technologie", "Jalons", "Objectifs", "Journal des décisions", "Base sans saccharose retenue",
		"Envoyer l'étalon de référence", "en retard", "Échanges", "Documents du projet", "Cahier des charges"} {
		if !strings.Contains(dash, w) {
			t.Errorf("the project's dashboard lacks %q:\n%.3000s", w, dash)
		}
	}
	for _, staff := range []string{"Isabelle Fontaine", "Assurance qualité", "Maintenance B20", "Passer à la phase"} {
		if strings.Contains(dash, staff) {
			t.Errorf("the client's project dashboard shows %q", staff)
		}
	}
	u.noViolations("the project's dashboard")
	// A decision of the client's side, in its name.
	u.do("write a decision",
		chromedp.SendKeys(chromedp.CSS(`#dec-title`), "Flacon de 150 mL retenu"),
		chromedp.SendKeys(chromedp.CSS(`#dec-body`), "Demande des pharmacies hospitalières"))
	u.load("record the decision", "main h1", chromedp.Click(chromedp.CSS(`#decisions form button[type=submit]`)))
	if decisions := u.text("#decisions"); !strings.Contains(decisions, "Flacon de 150 mL retenu") || !strings.Contains(decisions, "Sophie Marchand") {
		t.Errorf("the decision recorded is not in the log, in the client's name:\n%s", decisions)
	}
	u.screenshot(shots, "project-client-desktop-fr")
	projectPath := u.location()[len(base):]
	if i := strings.Index(projectPath, "?"); i >= 0 {
		projectPath = projectPath[:i]
	}
	// On a portrait tablet, in English: the same dashboard, nothing
	// wider than the screen.
	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	u.navigate(base+"/lang?to=en&next="+projectPath, "main h1")
	dash = u.text("main")
	for _, w := range []string{"Technology transfer", "Milestones", "Decision log", "Tasks", "Messages", "The project's documents", "overdue"} {
		if !strings.Contains(dash, w) {
			t.Errorf("the project's dashboard in English lacks %q:\n%.3000s", w, dash)
		}
	}
	if wide, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
		t.Errorf("the project's dashboard scrolls sideways on a portrait tablet (%v)", err)
	}
	u.screenshot(shots, "project-client-tablet-en")
	u.navigate(base+"/lang?to=fr&next="+projectPath, "main h1")
	u.do("desktop again", chromedp.EmulateViewport(1280, 900))
	// Its specification approved with its electronic signature.
	spec, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#documents a')).find(a => a.textContent.startsWith('Cahier des charges')).href`))
	if err != nil {
		t.Fatalf("the project's specification: %v", err)
	}
	u.navigate(spec, "main h1")
	u.do("sign the specification",
		chromedp.SendKeys(chromedp.CSS(`#s-username`), "client-alpha"),
		chromedp.SendKeys(chromedp.CSS(`#s-password`), demo.Password))
	u.load("approve the specification", "main h1", chromedp.Click(chromedp.CSS(`form.sign-form button[type=submit]`)))
	if doc := u.text("main"); u.lastStatus != http.StatusOK || !strings.Contains(doc, "Approuvé") || strings.Contains(doc, "Isabelle Fontaine") {
		t.Errorf("the specification after the client's signature (%d):\n%.2000s", u.lastStatus, doc)
	}
	u.screenshot(shots, "document-approved-client-desktop-fr")
	u.navigate(base+"/portal", "main h1")

	u.load("open the late deviation", "main h1", chromedp.Click(chromedp.CSS(`#due a[href^="/deviations/"]`)))
	agreement := u.text("#agreement")
	for _, w := range []string{"Notification au client", "En retard", "en retard de"} {
		if !strings.Contains(agreement, w) {
			t.Errorf("the deviation's deadlines lack %q:\n%s", w, agreement)
		}
	}
	if strings.Contains(agreement, "Notifier le client") {
		t.Error("the client is offered the site's form")
	}
	u.screenshot(shots, "portal-deviation-desktop-fr")

	u.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	for _, path := range []string{"/portal", u.location()[len(base):]} {
		u.navigate(base+path, "main h1")
		if wide, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
			t.Errorf("%s scrolls sideways on a portrait tablet (%v)", path, err)
		}
	}
	u.screenshot(shots, "portal-deviation-tablet-fr")

	u.navigate(base+"/lang?to=en&next=/portal", "main h1")
	page = u.text("main")
	for _, w := range []string{"Your client space", "Being made", "What the quality agreement owes you", "1 late", "late by", "Latest news"} {
		if !strings.Contains(page, w) {
			t.Errorf("the client's space in English lacks %q:\n%.3000s", w, page)
		}
	}
	u.screenshot(shots, "portal-client-tablet-en")

	// Beta's user, on a portrait tablet: the master in review its quality
	// agreement has it approve, on its space and its page, without the
	// signing form (its manager signs).
	b := newUser(t, newBrowser(t, ctx, execPath), "client-beta")
	b.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	b.signIn(base, "/", "main h1", false)
	if approvals := b.text("#approvals"); !strings.Contains(approvals, "Dossiers de lot maîtres à approuver") || !strings.Contains(approvals, "DLM-BET-VITD-GTT") {
		t.Errorf("Beta's space lacks its master to approve:\n%s", approvals)
	}
	b.load("open the master to approve", "main h1", chromedp.Click(chromedp.CSS(`#approvals a`)))
	master := b.text("main")
	for _, w := range []string{"Approbation du client", "En attente de l'approbation du client", "Dossier de lot maître"} {
		if !strings.Contains(master, w) {
			t.Errorf("the master's page lacks %q:\n%.3000s", w, master)
		}
	}
	if strings.Contains(master, "Signer l'approbation du client") {
		t.Error("the client's user is offered the manager's signature")
	}
	if wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
		t.Errorf("the master's page scrolls sideways on a portrait tablet (%v)", err)
	}
	b.noViolations("the master's page for the client")
	b.screenshot(shots, "master-client-tablet-fr")

	// Gamma's manager, in English: the documents of its certified batch
	// its agreement provides.
	g := newUser(t, newBrowser(t, ctx, execPath), "client-gamma")
	g.do("desktop", chromedp.EmulateViewport(1280, 900))
	g.signIn(base, "/", "main h1", false)
	g.navigate(base+"/lang?to=en&next=/portal", "main h1")
	dossiers := g.text("#dossiers")
	for _, w := range []string{"Batch documents", "Certificate of analysis", "Environment report"} {
		if !strings.Contains(dossiers, w) {
			t.Errorf("Gamma's space lacks %q:\n%s", w, dossiers)
		}
	}
	if strings.Contains(dossiers, "Batch record") {
		t.Error("Gamma is offered a document its agreement does not provide")
	}
	g.screenshot(shots, "portal-dossier-desktop-en")
}
