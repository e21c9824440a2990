package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// orderForm is the new order's form: a product, a quantity, a due date.
func orderForm(productID, quantity, due string) url.Values {
	return url.Values{"product_id": {productID}, "quantity": {quantity}, "due_on": {due}}
}

// scheduleForm is the schedule form of a batch: a line, a start in the
// site's zone, why.
func scheduleForm(lineID string, start time.Time, reason string) url.Values {
	lt := start.In(site.DefaultLocation())
	return url.Values{"line_id": {lineID}, "start_on": {lt.Format(time.DateOnly)}, "start": {lt.Format("15:04")}, "reason": {reason}}
}

// TestOrderPages: the supervisor orders a product through the new order's
// page, which makes its batches as the API does; each bad input is refused
// in words and writes nothing; the operator, QA and a client's users are
// refused the form; the list shows each order's batches and their states,
// a client's user only their own, without the form.
func TestOrderPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		p.effectiveMaster(t, product, "MBR-CEF")
		bare := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-2G"))
		due := time.Now().AddDate(0, 2, 0).Format(time.DateOnly)

		sup := p.browserWith(t, "supervisor", testPassword, "")
		sup.get("/orders").has(t, http.StatusOK, "Commandes", `href="/orders/new"`, "Nouvelle commande", "Aucune commande.")
		sup.get("/orders/new").has(t, http.StatusOK, "Nouvelle commande", "Produit", "Quantité commandée", "Date d'échéance",
			"CEF-1G — Ceftriaxone 1 g", `<optgroup label="Alpha Laboratories (ALPHA)">`)

		before := p.prodSnapshot(t)
		for _, c := range []struct {
			form  url.Values
			field string
			words string
		}{
			{orderForm("", "1000", due), "product_id", "Choisissez le produit commandé."},
			{orderForm(product, "beaucoup", due), "quantity", "Écrivez un nombre, par exemple 20,5."},
			{orderForm(product, "0", due), "quantity", "La quantité commandée doit être un nombre positif."},
			{orderForm(product, "51000", due), "quantity", "Cette quantité demande 51 lots de 1\u202f000 vials ; un ordre en fait au plus 50."},
			{orderForm(product, "1000", ""), "due_on", "Indiquez la date d'échéance (AAAA-MM-JJ)."},
			{orderForm(product, "1000", "2020-01-01"), "due_on", "La date d'échéance ne peut pas être passée."},
			{orderForm(product, "1000", "1er mars"), "due_on", "Choisissez une date."},
		} {
			r := sup.post("/orders", c.form)
			r.has(t, http.StatusBadRequest, `id="e-`+c.field+`"`, c.words)
		}
		sup.post("/orders", orderForm(bare, "1000", due)).has(t, http.StatusConflict, "Le produit CEF-2G n'a aucun dossier de lot maître en vigueur")
		sup.post("/orders", orderForm(newUUID(t), "1000", due)).has(t, http.StatusBadRequest, `id="e-product_id"`, "Ce produit n'existe pas.")
		for _, who := range []string{"operator", "qa", "client-alpha"} {
			b := p.browserWith(t, who, testPassword, "")
			b.get("/orders/new").has(t, http.StatusForbidden)
			b.post("/orders", orderForm(product, "1000", due)).has(t, http.StatusForbidden, "Seul un superviseur de production peut créer produits et ordres")
		}
		p.prodUnchanged(t, before)

		done := sup.post("/orders", orderForm(product, "2500", due))
		list := sup.follow(t, done)
		list.has(t, http.StatusOK, "Modifications enregistrées.", "OF", "CEF-1G — Ceftriaxone 1 g", "Alpha Laboratories (ALPHA)", "vials", "Planifié")
		orders := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/orders", nil), http.StatusOK, "orders").items(t)
		if len(orders) != 1 {
			t.Fatalf("%d orders, want 1", len(orders))
		}
		id := orders[0]["id"].(string)
		o := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/orders/"+id, nil), http.StatusOK, "the order").object(t)
		bs, _ := o["batches"].([]any)
		if len(bs) != 3 || o["due_on"] == nil || !strings.HasPrefix(o["due_on"].(string), due) {
			t.Fatalf("the order made through the page: %s", mustJSON(t, o))
		}
		if !strings.Contains(done.location, "#order-"+id) {
			t.Errorf("the form returns to %q", done.location)
		}
		if len(p.auditOf(t, "order", id)) == 0 {
			t.Error("the order wrote no audit entry")
		}
		for _, b := range bs {
			b := b.(map[string]any)
			list.has(t, http.StatusOK, b["lot"].(string), `href="/batches/`+b["id"].(string)+`"`)
		}
		p.browserWith(t, "supervisor", testPassword, "en").get("/orders").has(t, http.StatusOK, "Orders", "New order", "vials", "Planned")

		alpha := p.browserWith(t, "client-alpha", testPassword, "")
		mine := alpha.get("/orders")
		mine.has(t, http.StatusOK, "CEF-1G", "Planifié")
		mine.lacks(t, `href="/orders/new"`, "Nouvelle commande")
		beta := p.browserWith(t, "client-beta", testPassword, "")
		beta.get("/orders").lacks(t, "CEF-1G", orders[0]["code"].(string))
	})
}

// TestBatchSchedulePages: the supervisor schedules a batch from its page
// and moves it from the Gantt chart to another line and time; each rule of
// the schedule (a line that cannot run the product, an overlap, the
// changeover, a maintenance window, unstaffed hours, the past, a time out
// of range) is refused in words on the form and changes nothing; release
// and unschedule are buttons with their reason on the batch's page. The
// operator is refused (403), a client's user sees no form and another
// client's batch answers 404 (21 CFR 11.10(f): the sequence of steps is
// enforced by the same rules as the API's).
func TestBatchSchedulePages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		p.effectiveMaster(t, product, "MBR-CEF")
		ids := p.order(t, product, 2)
		b0, b1 := ids[0], ids[1]
		lot0 := p.batchLot(t, b0)
		sup := p.browserWith(t, "supervisor", testPassword, "")

		page := sup.get("/batches/" + b0)
		page.has(t, http.StatusOK, "Planification", `href="/batches/`+b0+`/schedule"`, "Planifier")
		page.lacks(t, `value="release"`)
		sup.get("/batches/"+b0+"/schedule").has(t, http.StatusOK, "Planifier le lot", lot0, "L1 — Vial filling", "LT — Tablet press",
			"Jour de début", "Heure de début", "(Europe/Paris)")

		p.browserWith(t, "supervisor", testPassword, "en").get("/batches/"+b0+"/schedule").has(t, http.StatusOK, "Schedule the batch", "Start day",
			"Start time (HH:MM)", "The day and time are the site's (Europe/Paris).")

		// Scheduled from the batch's page.
		tue := slot(time.Tuesday, 7)
		r := sup.post("/batches/"+b0+"/schedule", scheduleForm(e.line.ID, tue, "Plan de la semaine"))
		if r.location != "/batches/"+b0+"?done=schedule" {
			t.Fatalf("the schedule returns to %q (status %d):\n%s", r.location, r.status, r.text)
		}
		sup.follow(t, r).has(t, http.StatusOK, "Lot de fabrication planifié.", "Ordonnancé", "L1", tue.In(site.DefaultLocation()).Format("02/01/2006 15:04"),
			`value="release"`, `value="unschedule"`, "Déplacer")
		got := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+b0, nil), http.StatusOK, "the batch").object(t)
		if got["state"] != "scheduled" || got["line_id"] != e.line.ID || got["start"] != tue.UTC().Format(time.RFC3339) {
			t.Fatalf("the batch scheduled through the page: %s", mustJSON(t, got))
		}

		// Each rule's refusal, in words, on the form; nothing changed.
		win := p.created(t, "supervisor", "/api/v1/windows", map[string]any{"line_id": e.line.ID,
			"start": slot(time.Wednesday, 6).Format(time.RFC3339), "end": slot(time.Wednesday, 14).Format(time.RFC3339), "reason": "Requalification du remplisseur"})
		if win == "" {
			t.Fatal("no window")
		}
		before := p.prodSnapshot(t)
		yesterday := time.Now().In(site.DefaultLocation()).AddDate(0, 0, -1)
		for _, c := range []struct {
			name   string
			form   url.Values
			status int
			words  string
		}{
			{"a line that cannot run it", scheduleForm(p.tablets.ID, slot(time.Tuesday, 7), "x"), http.StatusConflict, "Règle de planification « ligne et produit » : CEF-1G est stérile ; la ligne LT n'est pas une ligne stérile."},
			{"an overlap", scheduleForm(e.line.ID, slot(time.Tuesday, 8), "x"), http.StatusConflict, "la ligne est occupée par le lot " + lot0},
			{"the changeover", scheduleForm(e.line.ID, slot(time.Tuesday, 10), "x"), http.StatusConflict, "2 h de changement et de nettoyage sont nécessaires entre ce lot et le lot " + lot0},
			{"a maintenance window", scheduleForm(e.line.ID, slot(time.Wednesday, 8), "x"), http.StatusConflict, "la ligne est en maintenance"},
			{"unstaffed hours", scheduleForm(e.line.ID, slot(time.Thursday, 3), "x"), http.StatusConflict, "« calendrier des équipes » : aucune équipe n'est en poste le"},
			{"the past", scheduleForm(e.line.ID, time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 8, 0, 0, 0, site.DefaultLocation()), "x"), http.StatusConflict, "un lot ne peut pas être planifié dans le passé."},
			{"a time out of range", url.Values{"line_id": {e.line.ID}, "start_on": {"2150-01-04"}, "start": {"08:00"}}, http.StatusBadRequest, "Cette date est hors de la plage acceptée : de l'an 2000 à l'an 2100."},
			{"a time that is none", url.Values{"line_id": {e.line.ID}, "start_on": {slot(time.Friday, 7).Format(time.DateOnly)}, "start": {"25:99"}}, http.StatusBadRequest, "Donnez une heure sous la forme HH:MM."},
			{"no line", scheduleForm("", slot(time.Friday, 7), "x"), http.StatusBadRequest, "Choisissez la ligne qui produira le lot."},
		} {
			r := sup.post("/batches/"+b1+"/schedule", c.form)
			if r.status != c.status || !strings.Contains(r.text, c.words) {
				t.Errorf("%s: status %d, want %d with %q:\n%s", c.name, r.status, c.status, c.words, r.text)
			}
			if !strings.Contains(r.body, `value="`+c.form.Get("start")+`"`) {
				t.Errorf("%s: the form lost what was typed", c.name)
			}
		}
		sup.post("/batches/"+b1+"/schedule", scheduleForm(e.line.ID, slot(time.Wednesday, 8), "x")).has(t, http.StatusConflict, "Requalification du remplisseur", "Rien n'a été changé")
		p.prodUnchanged(t, before)
		if st := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+b1, nil), http.StatusOK, "b1").object(t)["state"]; st != "planned" {
			t.Errorf("a refused schedule left the batch %v", st)
		}

		// The Gantt: the bar coloured by state opens its tooltip, which
		// leads to the move form, which returns to the chart.
		week := "/schedule?" + url.Values{"building": {e.building.ID}, "from": {tue.AddDate(0, 0, -1).Format(time.DateOnly)}}.Encode()
		chart := sup.get(week)
		chart.has(t, http.StatusOK, `class="gantt-bar bar-scheduled" popovertarget="tip-`+b0+`"`, `id="tip-`+b0+`" class="gantt-tip" popover`,
			"Ouvrir le lot", "Déplacer", "Lots de fabrication à planifier", p.batchLot(t, b1), `href="/batches/`+b1+`/schedule?back=`)
		chart.lacks(t, "Laboratoires clients :")
		move := "/batches/" + b0 + "/schedule?" + url.Values{"back": {week}}.Encode()
		if !strings.Contains(chart.body, `href="`+strings.ReplaceAll(move, "&", "&amp;")+`"`) {
			t.Errorf("the tooltip does not lead to %s", move)
		}
		form := sup.get(move)
		form.has(t, http.StatusOK, "Déplacer le lot", `value="`+tue.In(site.DefaultLocation()).Format(time.DateOnly)+`"`, `value="07:00"`, `<option value="`+e.line.ID+`" selected>`)
		thu := slot(time.Thursday, 8)
		mv := scheduleForm(e.line.ID, thu, "Retard de l'approvisionnement")
		mv.Set("back", week)
		r = sup.post("/batches/"+b0+"/schedule", mv)
		if r.location != week+"&done=schedule" {
			t.Fatalf("the move returns to %q (status %d):\n%s", r.location, r.status, r.text)
		}
		sup.follow(t, r).has(t, http.StatusOK, "Lot de fabrication planifié.", `popovertarget="tip-`+b0+`"`, thu.In(site.DefaultLocation()).Format("02/01/2006 08:00"))
		got = p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+b0, nil), http.StatusOK, "the batch").object(t)
		if got["start"] != thu.UTC().Format(time.RFC3339) {
			t.Errorf("the batch moved to %v, want %s", got["start"], thu.UTC().Format(time.RFC3339))
		}
		var reasoned bool
		for _, en := range p.auditOf(t, "batch", b0) {
			if en.Field == "start" && en.New == thu.UTC().Format(time.RFC3339) && en.Reason == "Retard de l'approvisionnement" {
				reasoned = true
			}
		}
		if !reasoned {
			t.Error("the move is not in the audit trail with its reason")
		}
		// Only the chart's own addresses are followed back.
		evil := scheduleForm(e.line.ID, slot(time.Friday, 7), "x")
		evil.Set("back", "https://evil.example/schedule")
		if r := sup.post("/batches/"+b1+"/schedule", evil); r.location != "/batches/"+b1+"?done=schedule" {
			t.Errorf("the form followed back to %q", r.location)
		}

		// The moves on the batch's page: unschedule and release, with a
		// reason; a move the state refuses is said in words.
		r = sup.post("/batches/"+b1+"/move", url.Values{"action": {"unschedule"}, "reason": {"Client a décalé la commande"}})
		sup.follow(t, r).has(t, http.StatusOK, "Lot de fabrication retiré du planning.", "Planifié", `href="/batches/`+b1+`/schedule"`)
		r = sup.post("/batches/"+b0+"/move", url.Values{"action": {"release"}, "reason": {"Matières prêtes"}})
		sup.follow(t, r).has(t, http.StatusOK, "Lot de fabrication libéré en production.", "Lancé en atelier")
		before = p.prodSnapshot(t)
		sup.post("/batches/"+b0+"/move", url.Values{"action": {"unschedule"}, "reason": {"x"}}).has(t, http.StatusConflict, "Le mouvement a été refusé", "Un lot au statut Lancé en atelier ne peut pas recevoir l'action « retirer du planning » ; il faut un lot au statut Ordonnancé.")
		sup.post("/batches/"+b0+"/move", url.Values{"action": {"explode"}}).has(t, http.StatusBadRequest, "L'action doit être l'une de")
		sup.post("/batches/"+b0+"/schedule", scheduleForm(e.line.ID, slot(time.Friday, 7), "x")).has(t, http.StatusConflict, "Rien n'a été changé", "l'action « planifier » ; il faut un lot au statut Planifié, Ordonnancé.")
		p.prodUnchanged(t, before)

		// Who may not plan: the operator is refused; a client's user sees
		// no form, and another client's batch does not exist for them.
		op := p.browserWith(t, "operator", testPassword, "")
		op.get("/batches/"+b1+"/schedule").has(t, http.StatusForbidden)
		op.post("/batches/"+b1+"/schedule", scheduleForm(e.line.ID, slot(time.Friday, 7), "x")).has(t, http.StatusForbidden, "Seul un superviseur de production")
		op.post("/batches/"+b1+"/move", url.Values{"action": {"unschedule"}, "reason": {"x"}}).has(t, http.StatusForbidden)
		op.get("/batches/"+b1).lacks(t, `/batches/`+b1+`/schedule"`, `action="/batches/`+b1+`/move"`)
		alpha := p.browserWith(t, "client-alpha", testPassword, "")
		alpha.get("/batches/"+b1).lacks(t, "/batches/"+b1+"/schedule", "/batches/"+b1+"/move", "Planification")
		alpha.get("/batches/"+b1+"/schedule").has(t, http.StatusForbidden)
		alpha.post("/batches/"+b1+"/schedule", scheduleForm(e.line.ID, slot(time.Friday, 7), "x")).has(t, http.StatusForbidden)
		beta := p.browserWith(t, "client-beta", testPassword, "")
		beta.get("/batches/"+b1+"/schedule").has(t, http.StatusNotFound)
		beta.post("/batches/"+b1+"/schedule", scheduleForm(e.line.ID, slot(time.Friday, 7), "x")).has(t, http.StatusNotFound)
		beta.post("/batches/"+b0+"/move", url.Values{"action": {"unschedule"}, "reason": {"x"}}).has(t, http.StatusNotFound)
		sup.get("/batches/"+newUUID(t)+"/schedule").has(t, http.StatusNotFound)
		p.prodUnchanged(t, before)
	})
}

// TestScheduleChartClients: staff who see several clients see each bar
// with its client's colour and a legend; who sees one client sees the
// other's batches as reserved slots, without legend; the chart marks
// today and now.
func TestScheduleChartClients(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p := newProdEnv(t, e, "operator")
	sys := identity.WithActor(context.Background(), identity.System)
	for _, who := range []string{"supervisor", "qa"} {
		as := identity.Assignment{AccountID: p.accounts[who].ID, ClientID: e.beta.ID}
		if err := e.db.Identity().Admin().Assign(sys, &as, ""); err != nil {
			t.Fatal(err)
		}
	}
	alphaProduct := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
	p.effectiveMaster(t, alphaProduct, "MBR-CEF")
	betaBody := p.productBody("BET-10")
	betaBody["client_id"], betaBody["form"], betaBody["name"] = e.beta.ID, "tablet", "Bêtaxol 10 mg"
	betaProduct := p.created(t, "supervisor", "/api/v1/products", betaBody)
	p.effectiveMaster(t, betaProduct, "MBR-BET")
	a := p.order(t, alphaProduct, 1)[0]
	o := p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": betaProduct, "quantity": 1000,
		"due_on": slot(time.Friday, 8).AddDate(0, 1, 0).Format(time.DateOnly)}), http.StatusCreated, "beta's order").object(t)
	b := o["batches"].([]any)[0].(map[string]any)["id"].(string)
	p.ok(t, p.schedule(t, a, e.line.ID, slot(time.Tuesday, 7)), http.StatusOK, "alpha's batch")
	p.ok(t, p.schedule(t, b, p.tablets.ID, slot(time.Tuesday, 8)), http.StatusOK, "beta's batch")

	from := slot(time.Monday, 0).Format(time.DateOnly)
	sup := p.browserWith(t, "supervisor", testPassword, "")
	chart := sup.get("/schedule?from=" + from)
	chart.has(t, http.StatusOK, "Laboratoires clients :", "Alpha Laboratories (ALPHA)", `class="legend client-0"`, `class="legend client-1"`,
		`class="gantt-bar bar-scheduled client-0" popovertarget="tip-`+a+`"`, `class="gantt-bar bar-scheduled client-1" popovertarget="tip-`+b+`"`,
		"Bêtaxol 10 mg")
	en := p.browserWith(t, "supervisor", testPassword, "en").get("/schedule?from=" + from)
	en.has(t, http.StatusOK, "Client laboratories:", "Scheduled", "Tap or click a bar to see the batch and move it.", "Open the batch")

	admin := p.browserWith(t, "admin", testPassword, "") // beta's only
	view := admin.get("/schedule?from=" + from)
	view.has(t, http.StatusOK, `class="gantt-bar reserved"`, `popovertarget="tip-`+b+`"`)
	view.lacks(t, "Laboratoires clients :", "tip-"+a, p.batchLot(t, a), "CEF-1G")

	now := sup.get("/schedule")
	now.has(t, http.StatusOK, `class="gantt-now"`, `class="gantt-today"`, "Maintenant")
}
