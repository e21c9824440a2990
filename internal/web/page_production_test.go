package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/store"
)

// floorEnv is a batch of the client alpha released to the floor of the
// sterile line, from an effective master of 8 steps (prodEnv.masterBody),
// with the ids of its steps in order.
type floorEnv struct {
	*prodEnv
	product, master, batch, lot string
	stepIDs                     []string
	monday                      time.Time
}

func newFloorEnv(t *testing.T) *floorEnv {
	t.Helper()
	return newFloorEnvOn(t, store.SQLite)
}

// newFloorEnvOn is newFloorEnv on the database of the dialect.
func newFloorEnvOn(t *testing.T, d store.Dialect) *floorEnv {
	t.Helper()
	e := newEnv(t, d)
	f := &floorEnv{prodEnv: newProdEnv(t, e, "operator")}
	f.product = f.created(t, "supervisor", "/api/v1/products", f.productBody("CEF-1G"))
	f.master = f.effectiveMaster(t, f.product, "MBR-CEF")
	f.batch = f.order(t, f.product, 1)[0]
	start := slot(time.Tuesday, 7)
	f.monday = start.AddDate(0, 0, -1)
	f.ok(t, f.schedule(t, f.batch, e.line.ID, start), http.StatusOK, "schedule the batch")
	f.move(t, "supervisor", "/api/v1/batches/"+f.batch, "release", "released")
	f.lot = f.batchLot(t, f.batch)
	for _, st := range f.steps(t, f.batch) {
		f.stepIDs = append(f.stepIDs, st["id"].(string))
	}
	if len(f.stepIDs) != 8 {
		t.Fatalf("the batch has %d steps, want 8", len(f.stepIDs))
	}
	return f
}

// lacks fails the test if the page shows any of the phrases.
func (p webPage) lacks(t *testing.T, phrases ...string) {
	t.Helper()
	for _, ph := range phrases {
		if strings.Contains(p.text, ph) || strings.Contains(p.body, ph) {
			t.Errorf("the page shows %q; it should not", ph)
		}
	}
}

// follow loads the page a post redirected to.
func (b *webBrowser) follow(t *testing.T, p webPage) webPage {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect (303):\n%s", p.status, p.text)
	}
	return b.get(p.location)
}

// TestPageWritesWakeTheStreams: a step recorded on the tablet's page, as
// one through the API, reaches the live streams at once, not at their next
// reading of the change mark (here set beyond the test's length); a form
// refused wakes nobody for nothing.
func TestPageWritesWakeTheStreams(t *testing.T) {
	f := newFloorEnv(t)
	f.web.SetEventsPoll(time.Hour)
	stream := openEvents(t, f.srv.URL, f.token(t, "supervisor"))
	if items, ok := stream.next(t, 5*time.Second); !ok || len(items) != 1 || items[0]["steps_done"] != float64(0) {
		t.Fatalf("first event: %v %v", items, ok)
	}
	op := f.browserWith(t, "operator", testPassword, "")
	line := "/floor/lines/" + f.line.ID
	refused := op.post(line+"/step", url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[0]}, "items": {"2"}, "check": {"0"}})
	refused.has(t, http.StatusBadRequest, "Le point 2 du vide de ligne n'est pas coché")
	p := op.post(line+"/step", url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[0]}, "items": {"2"}, "check": {"0", "1"}, "reason": {"Test slot two weeks ahead."}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("the line clearance: status %d:\n%s", p.status, p.text)
	}
	items, ok := stream.next(t, 10*time.Second)
	if !ok || len(items) != 1 || items[0]["steps_done"] != float64(1) || items[0]["state"] != "in_progress" {
		t.Fatalf("the event after the clearance recorded on the page: %v %v", items, ok)
	}
}

// TestFloorTabletPage runs a batch on the line's tablet page as the
// operator: the line clearance refused with an item unticked then
// recorded, a step recorded meanwhile on another device, a quarantined
// lot refused, a value out of limits recorded as an exception with its
// deviation, and a critical step signed as performed and, by another
// person only, as verified.
func TestFloorTabletPage(t *testing.T) {
	f := newFloorEnv(t)
	op := f.browserWith(t, "operator", testPassword, "")
	line := "/floor/lines/" + f.line.ID
	step := func(i int, more url.Values) url.Values {
		v := url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[i]}}
		for k, vs := range more {
			v[k] = vs
		}
		return v
	}

	op.get("/floor").has(t, http.StatusOK, "Atelier", "Bâtiment 30", "L1", f.lot, `href="`+line+`"`)
	p := op.get(line)
	p.has(t, http.StatusOK, "L1 — Vial filling", f.lot, "Ceftriaxone 1 g", "MBR-CEF", "Lancé en atelier", "0 étape faite sur 8",
		"Étape 1.1", "Vide de ligne", "Clear the line", "Previous batch removed", "Line swept", "Ligne libérée",
		`name="step_id" value="`+f.stepIDs[0]+`"`, `name="check" value="1"`)

	t.Run("an item unticked is refused", func(t *testing.T) {
		before := f.prodSnapshot(t)
		p := op.post(line+"/step", step(0, url.Values{"items": {"2"}, "check": {"0"}}))
		p.has(t, http.StatusBadRequest, "Le point 2 du vide de ligne n'est pas coché : Line swept. La ligne n'est pas libérée.",
			"Clear the line", `value="0" checked`)
		f.prodUnchanged(t, before)
	})

	t.Run("the clearance recorded, the page moves on", func(t *testing.T) {
		p := op.post(line+"/step", step(0, url.Values{"items": {"2"}, "check": {"0", "1"}, "reason": {"Test slot two weeks ahead."}}))
		if !strings.Contains(p.location, "done=recorded") {
			t.Errorf("recorded: went to %q", p.location)
		}
		op.follow(t, p).has(t, http.StatusOK, "Étape enregistrée.", "En cours", "1 étape faite sur 8", "Étape 1.2",
			"Add the active substance", "Quantité attendue", "M-API", `id="f-lot"`, `name="step_id" value="`+f.stepIDs[1]+`"`,
			"Dernières étapes faites", "Otto Operator")
	})

	t.Run("a step recorded on another device", func(t *testing.T) {
		before := f.prodSnapshot(t)
		p := op.post(line+"/step", step(0, url.Values{"items": {"2"}, "check": {"0", "1"}, "reason": {"Test slot two weeks ahead."}}))
		p.has(t, http.StatusConflict, "Cette étape vient d'être enregistrée sur un autre poste.", "Add the active substance",
			`name="step_id" value="`+f.stepIDs[1]+`"`)
		f.prodUnchanged(t, before)
	})

	t.Run("a quarantined lot is refused", func(t *testing.T) {
		before := f.prodSnapshot(t)
		p := op.post(line+"/step", step(1, url.Values{"lot": {"LOT-Q"}, "quantity": {"10"}}))
		p.has(t, http.StatusBadRequest, "Le lot LOT-Q est en quarantaine", `value="LOT-Q"`)
		f.prodUnchanged(t, before)
	})

	t.Run("a quantity out of tolerance", func(t *testing.T) {
		p := op.get(line)
		p.has(t, http.StatusOK, `data-low="9.5"`, `data-high="10.5"`, "Hors tolérance")
		if box := confirmBox.FindString(p.body); box == "" || !strings.Contains(box, " hidden") {
			t.Errorf("the page asks for a confirmation before a quantity is typed: %q", box)
		}
		// Not confirmed, then not explained: refused, nothing recorded.
		before := f.prodSnapshot(t)
		p = op.post(line+"/step", step(1, url.Values{"lot": {"LOT-A"}, "quantity": {"12"}}))
		p.has(t, http.StatusBadRequest, "Quantité hors tolérance (10 ± 5 %) : confirmez et expliquez en commentaire.", `value="12"`,
			`name="confirm_out_of_limits" value="yes" required`, "Commentaire (obligatoire)")
		if box := confirmBox.FindString(p.body); box == "" || strings.Contains(box, " hidden") {
			t.Errorf("the refusal hides the confirmation: %q", box)
		}
		op.post(line+"/step", step(1, url.Values{"lot": {"LOT-A"}, "quantity": {"12"}, "confirm_out_of_limits": {"yes"}, "comment": {" "}})).
			has(t, http.StatusBadRequest, `name="confirm_out_of_limits" value="yes" checked required`)
		f.prodUnchanged(t, before)
	})

	for i, entry := range []url.Values{
		{"lot": {"LOT-A"}, "quantity": {"10"}},
		{"lot": {"LOT-B"}, "quantity": {"20,0"}},
		{"equipment": {"E1"}},
	} {
		p := op.post(line+"/step", step(i+1, entry))
		if p.status != http.StatusSeeOther {
			t.Fatalf("step %d: status %d:\n%s", i+2, p.status, p.text)
		}
	}

	t.Run("a value out of limits", func(t *testing.T) {
		p := op.get(line)
		p.has(t, http.StatusOK, "Measure the pH", "Cible", "6,5", "7,5", `data-low="6.5"`, `data-high="7.5"`, `id="limit-hint"`, "Hors limites")
		if box := confirmBox.FindString(p.body); box == "" || !strings.Contains(box, " hidden") {
			t.Errorf("the page asks for a confirmation before a value is typed: %q", box)
		}
		// Not confirmed, then not explained: refused, nothing recorded, the
		// form again with the value kept, the confirmation and the comment
		// asked for (without a script too).
		before := f.prodSnapshot(t)
		p = op.post(line+"/step", step(4, url.Values{"value": {"8,2"}}))
		p.has(t, http.StatusBadRequest, "Valeur hors limites [6,5 ; 7,5] : confirmez et expliquez en commentaire.", `value="8,2"`,
			`name="confirm_out_of_limits" value="yes" required`, "Commentaire (obligatoire)", `name="comment" type="text" maxlength="1000" value="" required`)
		if box := confirmBox.FindString(p.body); box == "" || strings.Contains(box, " hidden") {
			t.Errorf("the refusal hides the confirmation: %q", box)
		}
		p = op.post(line+"/step", step(4, url.Values{"value": {"8,2"}, "confirm_out_of_limits": {"yes"}, "comment": {"  "}}))
		p.has(t, http.StatusBadRequest, "Valeur hors limites [6,5 ; 7,5] : confirmez et expliquez en commentaire.", `value="8,2"`,
			`name="confirm_out_of_limits" value="yes" checked required`)
		f.prodUnchanged(t, before)

		why := "Sonde vérifiée, 2e mesure : 8,2 — chef d'équipe prévenu"
		p = op.post(line+"/step", step(4, url.Values{"value": {"8,2"}, "confirm_out_of_limits": {"yes"}, "comment": {why}}))
		if !strings.Contains(p.location, "step="+f.stepIDs[4]) || !strings.HasSuffix(p.location, "#exception") {
			t.Errorf("an exception: went to %q, want its alert", p.location)
		}
		p = op.follow(t, p)
		p.has(t, http.StatusOK, `role="alert" id="exception"`, "Valeur hors limites enregistrée comme exception.", "<strong>8,20 pH</strong>", "8,20 pH est hors des limites [6,50 ; 7,50] pH.",
			"La déviation DEV", "Votre commentaire : « "+why+" »", `id="understood" href="`+line+`#next">Compris</a>`, "Check the stoppering")
		devs := f.call(t, "qa", "GET", "/api/v1/batches/"+f.batch+"/review", nil).object(t)["deviations"].([]any)
		if len(devs) != 1 || !strings.Contains(p.text, devs[0].(map[string]any)["code"].(string)) {
			t.Fatalf("the exception does not name its deviation %v", devs)
		}
		if d := devs[0].(map[string]any); d["description"] != why {
			t.Errorf("the deviation's description is %q, want the operator's comment %q", d["description"], why)
		}
		// Acknowledged, the alert is gone.
		op.get(line).lacks(t, `id="exception"`, "Valeur hors limites enregistrée comme exception.")
	})

	t.Run("a critical step is signed by two people", func(t *testing.T) {
		p := op.follow(t, op.post(line+"/step", step(5, url.Values{"confirm": {"true"}})))
		p.has(t, http.StatusOK, "Check the stoppering", "Signature électronique", "Réalisé / Performed", "Vérifié / Verified",
			`name="meaning" value="performed"`, `id="s-password"`)
		sign := func(who, meaning, password string) url.Values {
			return url.Values{"step_id": {f.stepIDs[5]}, "meaning": {meaning}, "username": {who}, "password": {password}}
		}
		p = op.post(line+"/sign", sign("operator", "performed", "not my password"))
		p.has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect : rien n'a été signé.", "Check the stoppering")
		if strings.Contains(p.body, "not my password") {
			t.Error("the refused signing form shows the password typed")
		}
		p = op.follow(t, op.post(line+"/sign", sign("operator", "performed", testPassword)))
		p.has(t, http.StatusOK, "Signature enregistrée.", "Otto Operator — ", "(Europe/Paris, UTC", "Réalisé / Performed", "Vérifié / Verified")
		p = op.post(line+"/sign", sign("operator", "verified", testPassword))
		p.has(t, http.StatusForbidden, "autre personne")

		// The supervisor verifies on the operator's tablet, with their own
		// username and password, without signing the operator out.
		op.get(line).has(t, http.StatusOK, `name="meaning" value="verified" checked`, "sans déconnecter l’opérateur")
		op.post(line+"/sign", sign("supervisor", "verified", "not my password")).
			has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect : rien n'a été signé.")
		op.follow(t, op.post(line+"/sign", sign("supervisor", "verified", testPassword))).has(t, http.StatusOK,
			"Signature enregistrée.", "Take the sample", "Filler outlet", `id="f-sample"`)
		sigs := f.call(t, "qa", "GET", "/api/v1/signatures?entity=batch_step&entity_id="+f.stepIDs[5], nil).items(t)
		if len(sigs) != 2 || sigs[1]["meaning"] != "verified" || sigs[1]["signer_id"] != f.accounts["supervisor"].ID {
			t.Fatalf("the verification on the operator's tablet: %v", sigs)
		}
		op.get(line).has(t, http.StatusOK, "6 étapes faites sur 8", "Take the sample", "Otto Operator")
	})

	t.Run("in English", func(t *testing.T) {
		en := f.browserWith(t, "operator", testPassword, "en")
		en.get(line).has(t, http.StatusOK, "Shop floor", "Step 2.3", "Sampling point:", "Sample label", "6 of 8 steps done")
	})

	t.Run("the batch completed and taken into review", func(t *testing.T) {
		op.follow(t, op.post(line+"/step", step(6, url.Values{"value": {"ECH-001"}}))).has(t, http.StatusOK, "Close the batch")
		p := op.follow(t, op.post(line+"/step", step(7, url.Values{"confirm": {"true"}})))
		p.has(t, http.StatusOK, "8 étapes faites sur 8", "Toutes les étapes de ce lot sont faites.", "Terminer le lot")
		op.follow(t, op.post(line+"/complete", url.Values{"batch_id": {f.batch}})).has(t, http.StatusOK, "Lot terminé", "Aucun lot n'est lancé sur cette ligne")

		qa := f.browserWith(t, "qa", testPassword, "")
		review := "/batches/" + f.batch + "/review"
		qa.get(review).has(t, http.StatusOK, "Terminé", "Prendre le lot en revue", "1 Exception")
		op.post(review, nil).has(t, http.StatusForbidden)
		qa.follow(t, qa.post(review, nil)).has(t, http.StatusOK, "Le lot est en revue qualité.", "En revue qualité")
		qa.get(review).lacks(t, "Prendre le lot en revue")
	})
}

// confirmBox finds the opening tag of the confirmation a value out of
// limits asks for.
var confirmBox = regexp.MustCompile(`<div id="oolimits"[^>]*>`)

// TestBatchPages: the batch's record for staff, its summary for its
// client's users without names, nothing for another client; QA's review by
// exception; the record as PDF; the schedule, the capacity, the genealogy
// and the lists.
func TestBatchPages(t *testing.T) {
	f := newFloorEnv(t)
	// The steps through the API, one out of limits and one signed.
	for i, entry := range []map[string]any{
		{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."},
		{"lot": "LOT-A", "quantity": "10"},
		{"lot": "LOT-B", "quantity": "20"},
		{"equipment": "E1"},
		{"value": "6.1", "confirm_out_of_limits": true, "comment": "Second reading the same."},
		{"confirm": true},
	} {
		f.ok(t, f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[i]}, entry), http.StatusOK, "record a step")
	}
	f.ok(t, f.sign(t, "operator", "batch_step", f.stepIDs[5], "performed"), http.StatusCreated, "sign as performed")
	f.ok(t, f.sign(t, "supervisor", "batch_step", f.stepIDs[5], "verified"), http.StatusCreated, "sign as verified")

	qa := f.browserWith(t, "qa", testPassword, "")
	batch := "/batches/" + f.batch

	t.Run("the record", func(t *testing.T) {
		p := qa.get(batch)
		p.has(t, http.StatusOK, f.lot, "Ceftriaxone 1 g", "MBR-CEF", "6 étapes faites sur 8", "Dossier de lot électronique",
			"1. Preparation", "2. Filling", "Measure the pH", "6,10 pH", "6,10 pH est hors des limites [6,50 ; 7,50] pH.", "DEV", "Otto Operator",
			"Lot "+f.lot+", étape 2.1 : 6,10 pH est hors des limites", "2/2 cochés", "propre, qualifié", "confirmée",
			"Sonia Superviseure — ", "Vérifié / Verified", "LOT-A", "Active substance", `href="`+batch+`/review"`, `href="`+batch+`/record.pdf?lang=fr"`,
			`href="/genealogy?batch=`+f.batch+`"`)
		p.lacks(t, "modifié après saisie", "stored.", `{&#34;key`, "6.10 pH")
		en := f.browserWith(t, "qa", testPassword, "en").get(batch)
		en.has(t, http.StatusOK, "6.10 pH is outside the limits [6.50; 7.50] pH.", "Batch "+f.lot+", step 2.1: 6.10 pH", "2/2 ticked", ": clean, qualified", "confirmed")
		// The audit trail keeps the stored form, and its page reads it.
		qa.get("/audit?entity=batch_step&entity_id="+f.stepIDs[4]).has(t, http.StatusOK, `>6,10 pH</span>`, `title="{&#34;key&#34;:&#34;stored.step.numeric&#34;`)
	})

	t.Run("the client's summary", func(t *testing.T) {
		alpha := f.browserWith(t, "client-alpha", testPassword, "")
		p := alpha.get(batch)
		p.has(t, http.StatusOK, f.lot, "Ceftriaxone 1 g", "6 étapes faites sur 8", `<progress max="8" value="6">`)
		p.lacks(t, append(staffNames, "Measure the pH", "/review", "record.pdf")...)
		list := alpha.get("/batches")
		list.has(t, http.StatusOK, f.lot, `id="batch-`+f.batch+`"`, "6 / 8", `data-live="/api/v1/batches/events?limit=100&amp;state=released%2Cin_progress%2Ccompleted%2Cin_review"`, "batches.js")
		list.lacks(t, `rel="next"`, `rel="prev"`)
		alpha.get("/batches?state=all&page=2").has(t, http.StatusOK, "Aucun lot", `rel="prev"`, `href="/batches?state=all"`)
		alpha.get("/batches?state=shipped").has(t, http.StatusNotFound)
		list.lacks(t, staffNames...)
		alpha.get(batch+"/review").has(t, http.StatusNotFound)
		alpha.get(batch+"/record.pdf").has(t, http.StatusNotFound)
		alpha.get("/floor").has(t, http.StatusForbidden)

		beta := f.browserWith(t, "client-beta", testPassword, "")
		for _, path := range []string{batch, batch + "/review", batch + "/record.pdf", "/genealogy?batch=" + f.batch} {
			p := beta.get(path)
			p.has(t, http.StatusNotFound, "Page introuvable")
			p.lacks(t, f.lot)
		}
		beta.get("/batches").lacks(t, f.lot)
	})

	t.Run("the review by exception", func(t *testing.T) {
		p := qa.get(batch + "/review")
		p.has(t, http.StatusOK, "Revue par exception", f.lot, "Measure the pH", "6,10 pH", "DEV", "Signatures à contrôler", "Lot "+f.lot+", étape 2.1 : 6,10 pH",
			"Otto Operator — ", "Sonia Superviseure — ", "0 signature rompue")
		p.lacks(t, "Add the water")
		if n := strings.Count(p.body, `<tr class="overdue">`); n != 1 {
			t.Errorf("the review lists %d exceptions, want 1", n)
		}
		op := f.browserWith(t, "operator", testPassword, "")
		op.get(batch+"/review").has(t, http.StatusForbidden)
		op.get(batch+"/record.pdf").has(t, http.StatusForbidden, "impriment le dossier de lot")
	})

	t.Run("the record as PDF", func(t *testing.T) {
		txt := pdfText(t, f.call(t, "qa", "GET", batch+"/record.pdf?lang=fr", nil))
		for _, s := range []string{"Dossier de lot / Batch record", f.lot, "Alpha Laboratories (ALPHA)", "MBR-CEF version 1", "L1",
			"Clear the line", "Measure the pH", "6,10 pH", "EXCEPTION", "6,10 pH est hors des limites", "Otto Operator", "Sonia Superviseure",
			"Réalisé / Performed", "Vérifié / Verified", "(Europe/Paris, UTC", "valide", "DEV", "LOT-A", "Active substance", "page 1 /"} {
			if !strings.Contains(txt, s) {
				t.Errorf("the PDF lacks %q:\n%s", s, txt)
			}
		}
		// A value changed after its first entry is marked, with the count.
		f.ok(t, f.call(t, "supervisor", "PUT", "/api/v1/batches/"+f.batch+"/steps/"+f.stepIDs[4],
			map[string]any{"value": "6.9", "comment": "Probe recalibrated", "reason": "Wrong probe reading"}), http.StatusOK, "correct a step")
		txt = pdfText(t, f.call(t, "supervisor", "GET", batch+"/record.pdf?lang=en", nil))
		for _, s := range []string{"CHANGED AFTER ENTRY: 1 correction,", "6.90 pH", "Probe recalibrated", "Performed by", "Performed", "valid"} {
			if !strings.Contains(txt, s) {
				t.Errorf("the PDF lacks %q:\n%s", s, txt)
			}
		}
		qa.get(batch).has(t, http.StatusOK, "modifié après saisie", "(1 correction)", "6,90 pH")
		qa.get(batch+"/review").has(t, http.StatusOK, "Valeurs modifiées après saisie", "Measure the pH", "0 signature rompue")
	})

	// A correction from the record's page, with the API's rules: the
	// reason, and for a value out of its limits the confirmation and a
	// comment; each refusal in words, with nothing changed.
	t.Run("a correction from the page", func(t *testing.T) {
		step := f.stepIDs[4]
		form := "/batches/" + f.batch + "/steps/" + step + "/correct"
		trail := func() int {
			return len(f.auditEntries(t, audit.Filter{Entity: "batch_step", EntityID: step}))
		}
		// Quality reviews; it does not correct.
		qa.get(batch).lacks(t, `action="`+form+`"`, "Corriger la saisie")
		sv := f.browserWith(t, "supervisor", testPassword, "")
		p := sv.get(batch)
		p.has(t, http.StatusOK, `action="`+form+`"`, "Corriger la saisie", "Pourquoi corriger (obligatoire)")
		// Only numeric and sampling entries are corrected from the page.
		p.lacks(t, `action="/batches/`+f.batch+`/steps/`+f.stepIDs[0]+`/correct"`, `action="/batches/`+f.batch+`/steps/`+f.stepIDs[5]+`/correct"`)
		before := trail()
		for _, c := range []struct {
			vals  url.Values
			words string
		}{
			{url.Values{"value": {"7.0"}, "reason": {" "}}, "Indiquez pourquoi vous corrigez cette saisie"},
			{url.Values{"value": {"8.2"}, "reason": {"Second probe"}}, "Valeur hors limites [6,5 ; 7,5] : confirmez et expliquez en commentaire."},
			{url.Values{"value": {"8.2"}, "confirm_out_of_limits": {"yes"}, "reason": {"Second probe"}}, "Valeur hors limites [6,5 ; 7,5]"},
			{url.Values{"value": {"sept"}, "reason": {"Second probe"}}, "Saisissez un nombre, par exemple 7,42."},
		} {
			r := sv.post(form, c.vals)
			r.has(t, http.StatusBadRequest, c.words, `id="correct-`+step+`" open`, "6,90 pH")
			r.lacks(t, "8,20 pH", "Saisie corrigée")
		}
		if n := trail(); n != before {
			t.Fatalf("refused corrections wrote %d audit entries", n-before)
		}
		sv.get(batch).has(t, http.StatusOK, "(1 correction)")
		// In English, the refusal in English.
		en := f.browserWith(t, "supervisor", testPassword, "en")
		en.post(form, url.Values{"value": {"7.0"}}).has(t, http.StatusBadRequest, "Say why you correct this entry", "Correct the entry")
		// The client's user is refused in words, without learning the step.
		cl := f.browserWith(t, "client-alpha", testPassword, "").post(form, url.Values{"value": {"7.0"}, "reason": {"x"}})
		cl.has(t, http.StatusForbidden, "Seuls les opérateurs et superviseurs de production peuvent exécuter un lot.")
		cl.lacks(t, "Measure the pH", "6,90 pH")
		if n := trail(); n != before {
			t.Fatalf("refused corrections wrote %d audit entries", n-before)
		}

		ok := sv.post(form, url.Values{"value": {"8.2"}, "confirm_out_of_limits": {"yes"}, "comment": {"Two probes agree"}, "reason": {"Second probe"}})
		if ok.location != batch+"?done=correct#step-"+step {
			t.Fatalf("the correction went to %q (%d):\n%s", ok.location, ok.status, ok.text)
		}
		sv.follow(t, ok).has(t, http.StatusOK, "Saisie corrigée : ses signatures sont à redonner.", "8,20 pH", "Two probes agree", "(2 corrections)")
		var last audit.Entry
		for _, x := range f.auditEntries(t, audit.Filter{Entity: "batch_step", EntityID: step}) {
			if x.Command == "batch.step.correct" {
				last = x
			}
		}
		if last.Reason != "Second probe" || last.ActorName != "Sonia Superviseure" {
			t.Errorf("the correction's trail: %+v", last)
		}
	})

	t.Run("the record as PDF through the API", func(t *testing.T) {
		path := "/api/v1/batches/" + f.batch + "/record.pdf"
		r := f.call(t, "qa", "GET", path+"?lang=en", nil)
		if ct := r.header.Get("Content-Type"); r.status != http.StatusOK || ct != "application/pdf" {
			t.Fatalf("GET %s: status %d, Content-Type %q: %.200s", path, r.status, ct, r.body)
		}
		if txt := pdfText(t, r); !strings.Contains(txt, f.lot) || !strings.Contains(txt, "Measure the pH") {
			t.Errorf("the API's PDF lacks the lot or its steps:\n%s", txt)
		}
		// Refusals in the error envelope, as the document says.
		f.call(t, "operator", "GET", path, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		f.call(t, "client-alpha", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
		f.call(t, "qa", "GET", "/api/v1/batches/"+newUUID(t)+"/record.pdf", nil).wantError(t, http.StatusNotFound, "not_found", "")
	})

	t.Run("a line reserved for another client", func(t *testing.T) {
		// The administrator is assigned to the client beta only.
		admin := f.browserWith(t, "admin", testPassword, "")
		p := admin.get("/floor/lines/" + f.line.ID)
		p.has(t, http.StatusOK, "L1 — Vial filling", "Ligne réservée")
		p.lacks(t, f.lot, "Ceftriaxone", "Measure the pH", "Otto Operator")
		admin.get("/floor").has(t, http.StatusOK, "Ligne réservée")
		p = admin.get("/schedule?from=" + f.monday.Format(time.DateOnly))
		p.has(t, http.StatusOK, `class="gantt-bar reserved"`, "Réservé", "Un lot d'un autre laboratoire client occupe la ligne.")
		p.lacks(t, f.lot, batch)
		admin.get(batch).has(t, http.StatusNotFound)
	})

	t.Run("the schedule and the capacity", func(t *testing.T) {
		week := f.monday.Format(time.DateOnly)
		p := qa.get("/schedule?from=" + week)
		p.has(t, http.StatusOK, "Planning des lignes — Bâtiment 30", "L1", `class="gantt-bar bar-in_progress" popovertarget="tip-`+f.batch+`"`, `href="`+batch+`"`, f.lot, "mar. ")
		if !strings.Contains(p.body, `class="gantt-weekend"`) {
			t.Error("the schedule shades no weekend")
		}
		p = qa.get("/capacity?building=" + f.building.ID + "&week=" + week)
		p.has(t, http.StatusOK, "Capacité des lignes", "L1", "Disponible", "Charge", "<meter")
		qa.get("/schedule?from=yesterday").has(t, http.StatusBadRequest, "AAAA-MM-JJ")
	})

	t.Run("the genealogy and the lists", func(t *testing.T) {
		qa.get("/genealogy?lot=LOT-A").has(t, http.StatusOK, "LOT-A", "Active substance", f.lot, `href="`+batch+`"`)
		qa.get("/genealogy?batch="+f.batch).has(t, http.StatusOK, f.lot, "LOT-A", "LOT-B", "Water for injections")
		qa.get("/genealogy?lot=NOPE").has(t, http.StatusOK, "Aucun lot de matière ne porte ce code.")
		qa.get("/products").has(t, http.StatusOK, "CEF-1G", "Ceftriaxone 1 g", "flacon")
		qa.get("/lots").has(t, http.StatusOK, "LOT-A", "LOT-Q", "Quarantaine", "Libéré")
		qa.get("/masters").has(t, http.StatusOK, "MBR-CEF", "En vigueur", `href="/masters/`+f.master+`"`)
		qa.get("/masters/"+f.master).has(t, http.StatusOK, "MBR-CEF", "1. Preparation", "Previous batch removed", "Critique",
			"Quentin Qualité — ", "Approuvé / Approved", "Retirer")
		qa.get("/batches").has(t, http.StatusOK, f.lot, "6 / 8")
	})
}

// TestMasterApprovalPage: quality assurance approves a master in review
// by signing on its page, then makes it effective; each refusal says why.
func TestMasterApprovalPage(t *testing.T) {
	e := newEnv(t, store.SQLite)
	f := newProdEnv(t, e, "operator")
	product := f.created(t, "supervisor", "/api/v1/products", f.productBody("CEF-1G"))
	id := f.created(t, "supervisor", "/api/v1/masters", f.masterBody(product, "MBR-CEF"))
	f.submit(t, id)
	page := "/masters/" + id

	sup := f.browserWith(t, "supervisor", testPassword, "")
	sup.get(page).has(t, http.StatusOK, "En revue", "Measure the pH")
	sup.get(page).lacks(t, "Signer l'approbation", "Renvoyer")

	qa := f.browserWith(t, "qa", testPassword, "")
	qa.get(page).has(t, http.StatusOK, "En revue", "Signer l'approbation", "Renvoyer en brouillon")
	p := qa.post(page+"/sign", url.Values{"username": {"qa"}, "password": {"wrong"}})
	p.has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect")
	p = qa.post(page+"/sign", url.Values{"username": {"supervisor"}, "password": {testPassword}})
	p.has(t, http.StatusUnauthorized, "Signez avec votre propre identifiant")
	// The form carries the content it showed: a record changed since signs nothing, said in words.
	qa.post(page+"/sign", url.Values{"username": {"qa"}, "password": {testPassword}, "content_sha256": {strings.Repeat("0", 64)}}).
		has(t, http.StatusConflict, "a changé depuis que vous l")
	shown := hiddenValue(t, qa.get(page).body, "content_sha256")
	ch := f.ok(t, f.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "master", "entity_id": id, "meaning": "approved"}),
		http.StatusCreated, "challenge").object(t)
	if len(shown) != 64 || ch["content_sha256"] != shown {
		t.Fatalf("the signing form carries %q, the master's content is %v", shown, ch["content_sha256"])
	}
	// The master is sent back, changed and submitted again
	// while QA's page is open: QA's form, as drawn, signs nothing.
	f.move(t, "qa", "/api/v1/masters/"+id, "reject", "draft")
	m := f.ok(t, f.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil), http.StatusOK, "master").object(t)
	m["title"], m["reason"] = "Ceftriaxone 1 g, changed", "Title changed during the review"
	f.ok(t, f.call(t, "supervisor", "PUT", "/api/v1/masters/"+id, m), http.StatusOK, "change the draft")
	f.submit(t, id)
	qa.post(page+"/sign", url.Values{"username": {"qa"}, "password": {testPassword}, "content_sha256": {shown}}).
		has(t, http.StatusConflict, "a changé depuis que vous l")
	// Only the author's two signatures: the first broken by the change.
	if sigs := f.call(t, "qa", "GET", "/api/v1/signatures?entity=master&entity_id="+id, nil).items(t); len(sigs) != 2 ||
		sigs[0]["meaning"] != "authored" || sigs[0]["status"] != "broken" || sigs[1]["meaning"] != "authored" || sigs[1]["status"] != "valid" {
		t.Fatalf("a stale form signed: %v", sigs)
	}
	if again := hiddenValue(t, qa.get(page).body, "content_sha256"); again == shown || len(again) != 64 {
		t.Fatalf("the page drawn again carries %q, want the new content", again)
	}
	qa.follow(t, qa.post(page+"/sign", url.Values{"username": {"qa"}, "password": {testPassword}, "reason": {"Conforme au dossier"}})).
		has(t, http.StatusOK, "Approbation signée.", "Approuvé", "Quentin Qualité — ", "Approuvé / Approved", "Conforme au dossier", "Mettre en vigueur")

	before := f.prodSnapshot(t)
	qa.post(page+"/move", url.Values{"action": {"effective"}}).has(t, http.StatusBadRequest, "une raison est exigée")
	sup.post(page+"/move", url.Values{"action": {"effective"}, "reason": {"x"}}).has(t, http.StatusForbidden, "Seule l'assurance qualité")
	f.prodUnchanged(t, before)
	qa.follow(t, qa.post(page+"/move", url.Values{"action": {"effective"}, "reason": {"Formation faite"}})).
		has(t, http.StatusOK, "Statut du dossier maître modifié.", "En vigueur")
}

// hiddenValue returns the value of the page's hidden input of that name.
func hiddenValue(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no hidden %s in the page", name)
	}
	return m[1]
}
