package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"galenix/internal/store"
	"galenix/internal/text"
)

// masterForm is a new master typed in the editor: two operations with a
// step of every kind, and a blank row left in the first.
func (p *prodEnv) masterForm(productID, code string) url.Values {
	return url.Values{"product_id": {productID}, "code": {code}, "title": {"Flacons de ceftriaxone"}, "batch_size": {"1000"},
		"unit": {"flacons"}, "hours": {"2,5"}, "ops": {"2"},
		"o1.title": {"Préparation"}, "o1.steps": {"4"},
		"s1.1.kind": {"line_clearance"}, "s1.1.text": {"Vide de ligne"}, "s1.1.checklist": {"Lot précédent retiré\r\n\r\nLigne propre"},
		"s1.2.kind": {"instruction"}, // blank: no step
		"s1.3.kind": {"material"}, "s1.3.text": {"Ajouter le principe actif"}, "s1.3.material_id": {p.api}, "s1.3.quantity": {"10,5"}, "s1.3.tolerance": {"5"},
		"s1.4.kind": {"equipment"}, "s1.4.text": {"Vérifier la remplisseuse"}, "s1.4.equipment_kind": {"filler"},
		"o2.title": {"Remplissage"}, "o2.steps": {"3"},
		"s2.1.kind": {"numeric"}, "s2.1.text": {"Mesurer le pH"}, "s2.1.unit": {"pH"}, "s2.1.target": {"7"}, "s2.1.low": {"6,5"}, "s2.1.high": {"7,5"},
		"s2.1.decimals": {"2"}, "s2.1.sign": {"on"},
		"s2.2.kind": {"instruction"}, "s2.2.text": {"Contrôler le sertissage"}, "s2.2.critical": {"on"},
		"s2.3.kind": {"sampling"}, "s2.3.text": {"Prélever l'échantillon"}, "s2.3.sample_point": {"Sortie remplisseuse"},
	}
}

// with is a copy of the form with one value changed.
func formWith(v url.Values, kv ...string) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

// tail is a message without its first letter, which a row capitalises.
func tail(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[n:]
}

// invalidRow is the markup of a step's row marked refused.
func invalidRow(op, step string) string {
	return `class="step-row invalid" id="s` + op + `-` + step + `-row"`
}

// TestMasterEditorPages: a supervisor writes a master through the editor,
// with a step of every kind; "add a step" and "add an operation" draw the
// form again with one more row and write nothing; bad input is refused
// with words on the row or the field at fault, and writes nothing; the
// draft is changed at its revision, and a stale form shows the draft as
// it is now; the author signs the review; the operator is refused, a
// client's user finds nothing.
func TestMasterEditorPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newProdEnv(t, e, "operator")
		product := f.created(t, "supervisor", "/api/v1/products", f.productBody("CEF-1G"))
		sup := f.browserWith(t, "supervisor", testPassword, "")
		sup.get("/masters").has(t, http.StatusOK, `href="/masters/new"`, "Nouveau dossier maître")
		sup.get("/masters/new").has(t, http.StatusOK, "Nouveau dossier maître", "Ceftriaxone 1 g (CEF-1G)", `name="s1.1.text"`,
			`<option value="line_clearance" selected>Vide de ligne</option>`, "Ajouter une étape", "Ajouter une opération", "M-API — Active substance (g)")

		form := f.masterForm(product, "MBR-PAGE")
		before := f.prodSnapshot(t)
		// One more row, nothing saved.
		sup.post("/masters", formWith(form, "add", "step:1")).has(t, http.StatusOK, `name="s1.5.text"`, `name="o1.steps" value="5"`, "Vérifier la remplisseuse")
		sup.post("/masters", formWith(form, "add", "op")).has(t, http.StatusOK, `name="o3.title"`, `name="s3.1.text"`, `name="ops" value="3"`)
		// A step moved down swaps with the next, every field of theirs.
		moved := sup.post("/masters", formWith(form, "move", "down:2.1"))
		moved.has(t, http.StatusOK, `name="move" value="up:2.2"`)
		mv := formOf(t, moved.body)
		if mv.Get("s2.1.text") != "Contrôler le sertissage" || mv.Get("s2.1.critical") != "on" || mv.Get("s2.2.text") != "Mesurer le pH" ||
			mv.Get("s2.2.low") != "6,5" || mv.Get("s2.2.kind") != "numeric" || mv.Get("s2.2.critical") != "" || mv.Get("s2.2.sign") != "on" {
			t.Errorf("after moving step 2.1 down the form reads %v", mv)
		}
		if strings.Contains(moved.body, `value="up:2.1"`) || strings.Contains(moved.body, `value="down:2.3"`) {
			t.Error("the first step moves up, or the last down")
		}
		// Refusals, each on its row or field, in words; nothing written.
		sup.post("/masters", formWith(form, "s2.1.target", "sept")).has(t, http.StatusBadRequest, invalidRow("2", "1"),
			"Étape 2.1 : "+text.Render(text.FR, "input.number"), `aria-invalid="true"`, `href="#s2-1-row"`, "Mesurer le pH", "sept")
		sup.post("/masters", formWith(form, "s2.1.low", "7,2")).has(t, http.StatusBadRequest, invalidRow("2", "1"),
			"Étape 2.1 : Les limites doivent encadrer la cible")
		// The rules count no blank row; the form names the row as typed.
		p := sup.post("/masters", formWith(form, "s1.3.material_id", "no-such-material"))
		p.has(t, http.StatusBadRequest, invalidRow("1", "3"), "Étape 1.3 : La matière choisie n'existe pas.")
		p.lacks(t, invalidRow("1", "2"))
		sup.post("/masters", formWith(form, "s1.1.kind", "instruction")).has(t, http.StatusBadRequest, invalidRow("1", "1"),
			text.Render(text.FR, "production.first_step_must_line"))
		sup.post("/masters", formWith(form, "o2.title", "")).has(t, http.StatusBadRequest, `class="card op-row invalid" id="op-2"`,
			text.Render(text.FR, "production.operation_needs_title_1", 2))
		sup.post("/masters", formWith(form, "batch_size", "0")).has(t, http.StatusBadRequest, text.Render(text.FR, "production.batch_size_must_positive"))
		sup.post("/masters", formWith(form, "s1.4.equipment_kind", "")).has(t, http.StatusBadRequest, invalidRow("1", "4"),
			tail(text.Render(text.FR, "production.equipment_check_names_class")))
		sup.post("/masters", formWith(form, "s2.3.sample_point", " ")).has(t, http.StatusBadRequest, invalidRow("2", "3"))
		// The operator may not write masters; a client's user neither.
		op := f.browserWith(t, "operator", testPassword, "")
		op.get("/masters/new").has(t, http.StatusForbidden)
		op.post("/masters", form).has(t, http.StatusForbidden)
		op.post("/masters", formWith(form, "add", "op")).has(t, http.StatusForbidden)
		client := f.browserWith(t, "client-alpha", testPassword, "")
		client.post("/masters", form).has(t, http.StatusForbidden)
		f.prodUnchanged(t, before)

		created := sup.post("/masters", form)
		if created.status != http.StatusSeeOther || !strings.HasPrefix(created.location, "/masters/") {
			t.Fatalf("create: status %d, location %q:\n%s", created.status, created.location, created.text)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(created.location, "/masters/"), "?done=created")
		page := "/masters/" + id
		sup.follow(t, created).has(t, http.StatusOK, "Brouillon enregistré.", "MBR-PAGE", "Brouillon", "Vide de ligne", "Lot précédent retiré",
			"Sortie remplisseuse", "Critique", `href="/masters/`+id+`/edit"`, "Signer la revue")
		m := f.ok(t, f.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil), http.StatusOK, "master").object(t)
		got := mustJSON(t, m["operations"])
		for _, want := range []string{`"kind":"line_clearance"`, `"checklist":["Lot précédent retiré","Ligne propre"]`, `"material_id":"` + f.api + `"`,
			`"quantity":10.5`, `"tolerance_pct":5`, `"equipment_kind":"filler"`, `"low":6.5`, `"high":7.5`, `"decimals":2`, `"critical":true`,
			`"sample_point":"Sortie remplisseuse"`} {
			if !strings.Contains(got, want) {
				t.Errorf("the master recorded lacks %s: %s", want, got)
			}
		}
		if m["steps"] != float64(6) || m["hours"] != 2.5 || m["version"] != float64(1) {
			t.Errorf("the master recorded: %v", m)
		}
		if len(f.auditOf(t, "master", id)) == 0 {
			t.Error("the creation wrote no audit entry")
		}

		t.Run("edit", func(t *testing.T) {
			rev := strings.TrimSuffix(mustJSON(t, m["revision"]), ".0")
			edit := sup.get(page + "/edit")
			edit.has(t, http.StatusOK, "Modifier le brouillon", `name="version" value="`+rev+`"`, `value="Mesurer le pH"`, "Raison de la modification",
				"Lot précédent retiré\nLigne propre", `name="s2.2.critical" checked`)
			vals := formOf(t, edit.body)
			vals.Set("title", "Flacons de ceftriaxone 1 g")
			vals.Set("s2.1.high", "7,6")
			before := f.prodSnapshot(t)
			sup.post(page+"/edit", vals).has(t, http.StatusBadRequest, "une raison est exigée")
			sup.post(page+"/edit", formWith(vals, "reason", "Limite revue", "s2.1.high", "6")).has(t, http.StatusBadRequest, invalidRow("2", "1"))
			op.post(page+"/edit", formWith(vals, "reason", "x")).has(t, http.StatusForbidden)
			op.get(page+"/edit").has(t, http.StatusForbidden)
			client.get(page+"/edit").has(t, http.StatusNotFound)
			client.post(page+"/edit", formWith(vals, "reason", "x")).has(t, http.StatusNotFound)
			f.prodUnchanged(t, before)

			vals.Set("reason", "Limite haute revue")
			sup.follow(t, sup.post(page+"/edit", vals)).has(t, http.StatusOK, "Brouillon modifié.", "Flacons de ceftriaxone 1 g", "7,6")
			// The form as drawn before the change is stale: refused in
			// words, the draft shown as it is now, nothing written.
			before = f.prodSnapshot(t)
			vals.Del("idempotency_key") // the form of another page
			stale := sup.post(page+"/edit", formWith(vals, "title", "Autre titre", "reason", "Encore"))
			stale.has(t, http.StatusPreconditionFailed, "Quelqu'un d'autre a modifié cet enregistrement", `value="Flacons de ceftriaxone 1 g"`, "Encore")
			stale.lacks(t, `value="Autre titre"`)
			f.prodUnchanged(t, before)
		})

		t.Run("review", func(t *testing.T) {
			before := f.prodSnapshot(t)
			sup.post(page+"/review", url.Values{"username": {"supervisor"}, "password": {"wrong"}}).
				has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect", "Signer la revue")
			op.post(page+"/review", url.Values{"username": {"operator"}, "password": {testPassword}}).has(t, http.StatusForbidden)
			client.post(page+"/review", url.Values{"username": {"client-alpha"}, "password": {testPassword}}).has(t, http.StatusNotFound)
			// A refused signature is signed nowhere (its attempt is in the
			// security trail).
			if after := f.prodSnapshot(t); after["signatures"] != before["signatures"] || after["masters"] != before["masters"] {
				t.Errorf("a refused signature wrote: %v, before %v", after, before)
			}
			sup.follow(t, sup.post(page+"/review", url.Values{"username": {"supervisor"}, "password": {testPassword}, "reason": {"Relu"},
				"content_sha256": {hiddenValue(t, sup.get(page).body, "content_sha256")}})).
				has(t, http.StatusOK, "Revue signée.", "Sonia Superviseure — ", "Revu / Reviewed", "Relu", "Signer et soumettre à la revue")
			op.get(page).lacks(t, "Signer la revue", "Signer et soumettre", `/edit"`)
			// The submission is the author's signature: without a valid
			// one, refused, and nothing changes.
			before = f.prodSnapshot(t)
			sup.post(page+"/author", url.Values{"username": {"supervisor"}, "password": {"wrong"}}).
				has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect", "Signer et soumettre à la revue")
			sup.post(page+"/author", url.Values{"username": {"qa"}, "password": {testPassword}}).has(t, http.StatusUnauthorized, "Signez avec votre propre identifiant")
			op.post(page+"/author", url.Values{"username": {"operator"}, "password": {testPassword}}).has(t, http.StatusForbidden)
			client.post(page+"/author", url.Values{"username": {"client-alpha"}, "password": {testPassword}}).has(t, http.StatusNotFound)
			f.call(t, "supervisor", "POST", "/api/v1/masters/"+id+"/move", map[string]string{"action": "submit", "reason": "Ready"}).
				wantError(t, http.StatusBadRequest, "invalid", "action")
			if after := f.prodSnapshot(t); after["signatures"] != before["signatures"] || after["masters"] != before["masters"] {
				t.Errorf("a refused submission wrote: %v, before %v", after, before)
			}
			if m := f.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil).object(t); m["status"] != "draft" {
				t.Errorf("after refused submissions the master is %v", m["status"])
			}
			sup.follow(t, sup.post(page+"/author", url.Values{"username": {"supervisor"}, "password": {testPassword}, "reason": {"Prêt"},
				"content_sha256": {hiddenValue(t, sup.get(page).body, "content_sha256")}})).
				has(t, http.StatusOK, "Version signée par son auteur et soumise à la revue.", "Rédigé / Authored", "En revue")
			if m := f.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil).object(t); m["status"] != "in_review" {
				t.Errorf("signed by its author, the master is %v", m["status"])
			}
			// Signed once: a version in review is not signed as authored.
			f.sign(t, "supervisor", "master", id, "authored").wantError(t, http.StatusConflict, "conflict", "")
			// Submitted for review: no editor any more.
			sup.get(page).lacks(t, "Signer la revue", "Signer et soumettre", `href="/masters/`+id+`/edit"`)
			sup.get(page+"/edit").has(t, http.StatusConflict, "seul un brouillon peut être modifié")
		})
	})
}

// TestMasterVersionCompare: the next version of an effective master starts
// from its operations; its page says, in the reader's language, what
// changed since the version before.
func TestMasterVersionCompare(t *testing.T) {
	e := newEnv(t, store.SQLite)
	f := newProdEnv(t, e, "operator")
	product := f.created(t, "supervisor", "/api/v1/products", f.productBody("CEF-1G"))
	v1 := f.effectiveMaster(t, product, "MBR-CEF")
	sup := f.browserWith(t, "supervisor", testPassword, "")
	first := sup.get("/masters/" + v1)
	first.has(t, http.StatusOK, `href="/masters/new?from=`+v1+`"`, "Nouvelle version")
	first.lacks(t, "Changements depuis")
	f.browserWith(t, "qa", testPassword, "").get("/masters/"+v1).lacks(t, "/masters/new?from=")

	next := sup.get("/masters/new?from=" + v1)
	next.has(t, http.StatusOK, "Prochaine version du dossier MBR-CEF", `value="Measure the pH"`, `name="ops" value="2"`)
	vals := formOf(t, next.body)
	vals.Set("s2.1.high", "7,8")
	vals.Set("s2.4.drop", "on")
	vals.Set("hours", "3")
	vals.Set("ops", "3")
	vals.Set("o3.title", "Conditionnement")
	vals.Set("o3.steps", "1")
	vals.Set("s3.1.kind", "instruction")
	vals.Set("s3.1.text", "Étiqueter les flacons")
	p := sup.follow(t, sup.post("/masters", vals))
	p.has(t, http.StatusOK, "Brouillon enregistré.", "MBR-CEF", "v2", "Changements depuis la version 1",
		"Durée (heures) : 2 → 3",
		"Étape 2.1 « Measure the pH » — Limite haute : 7,5 → 7,8",
		"Étape 2.4 retirée (Instruction) : « Close the batch »",
		"Opération 3 ajoutée : « Conditionnement »")
	p.lacks(t, "Étape 2.2", "Étape 1.1")
	vals.Del("idempotency_key") // another request: the next version again
	loc := strings.TrimSuffix(strings.TrimPrefix(sup.post("/masters", vals).location, "/masters/"), "?done=created")
	en := f.browserWith(t, "supervisor", testPassword, "en")
	en.get("/masters/"+loc).has(t, http.StatusOK, "Changes since version 2", "No change since the previous version.")
	en.get("/masters/"+loc+"/edit").has(t, http.StatusOK, "Edit the draft", "Operation 3", "Kind of step", "Add a step", "Add an operation",
		"Low limit", "Sampling point", "Checklist", "Reason")
	en.get("/masters/"+v1).has(t, http.StatusOK, "New version")
}

var (
	inputRe    = regexp.MustCompile(`<input [^>]*>`)
	attrRe     = regexp.MustCompile(`(\w+)="([^"]*)"`)
	textareaRe = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	selectRe   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRe = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// formOf reads the values of the page's form as a browser would send them
// (but its buttons): inputs, checked boxes, text areas, selected options.
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	i := strings.Index(body, `class="master-editor"`)
	if i < 0 {
		t.Fatal("the page has no editor")
	}
	body = body[i:]
	body = body[:strings.Index(body, "</form>")]
	v := url.Values{}
	for _, in := range inputRe.FindAllString(body, -1) {
		a := map[string]string{}
		for _, m := range attrRe.FindAllStringSubmatch(in, -1) {
			a[m[1]] = html.UnescapeString(m[2])
		}
		if a["name"] == "" {
			continue
		}
		if a["type"] == "checkbox" {
			if strings.Contains(in, " checked") {
				v.Add(a["name"], "on")
			}
			continue
		}
		v.Add(a["name"], a["value"])
	}
	for _, m := range textareaRe.FindAllStringSubmatch(body, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range selectRe.FindAllStringSubmatch(body, -1) {
		if s := selectedRe.FindStringSubmatch(m[2]); s != nil {
			v.Add(m[1], html.UnescapeString(s[1]))
		}
	}
	if len(v) == 0 {
		t.Fatal("the page has no form")
	}
	return v
}
