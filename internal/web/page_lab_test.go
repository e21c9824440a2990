package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"galenix/internal/store"
)

// TestLabPages walks the laboratory's pages in French and in English: the
// worklist, a sample's receipt and result entry (the verdict in words at
// once, an OOS naming its investigation), the second analyst's review
// (refused to the analyst who entered), the investigation through phase I
// and QA's closing signature, the specifications and a draft's form; the
// client's user gets no menu entry and never an analyst's name.
func TestLabPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	l := newLabEnv(t, e)
	lab := e.browserWith(t, "lab", testPassword, "")
	lab.get("/lab").has(t, http.StatusOK, "Laboratoire", "Travail à faire", "ECH-API-1", "Import d'un instrument", `href="/lab"`)
	sample := "/lab/samples/" + l.sample
	lab.get(sample).has(t, http.StatusOK, "Échantillon", "ECH-API-1", "Au laboratoire", "Critère d'acceptation", "≥ 95,0 % et ≤ 105,0 %", "Enregistrer le résultat")
	// A malformed value: refused, said, nothing recorded.
	lab.post(sample+"/results", url.Values{"test": {"ASSAY"}, "value": {"beaucoup"}}).has(t, http.StatusBadRequest, "Saisissez un nombre")
	p := lab.follow(t, lab.post(sample+"/results", url.Values{"test": {"ASSAY"}, "value": {"93,2"}}))
	p.has(t, http.StatusOK, "HORS SPÉCIFICATION", "Hors spécification", "verdict-out_of_spec", "OOS-")
	start := strings.Index(p.body, `href="/lab/oos/`)
	if start < 0 {
		t.Fatalf("the sample's page links no investigation:\n%s", p.text)
	}
	oos := p.body[start+len(`href="`):]
	oos = oos[:strings.Index(oos, `"`)]
	p = lab.follow(t, lab.post(sample+"/results", url.Values{"test": {"APP"}, "value": {"White powder"}}))
	p.has(t, http.StatusOK, "Résultat enregistré : conforme.")

	// The review: never by the analyst who entered it.
	var rid string
	for _, r := range l.call(t, "lab", "GET", "/api/v1/results?sample_id="+l.sample, nil).items(t) {
		if r["test"] == "APP" {
			rid = r["id"].(string)
		}
	}
	lab.post("/lab/results/"+rid+"/review", url.Values{"back": {"sample"}}).has(t, http.StatusForbidden, "que celui qui l'a saisi")
	lab2 := e.browserWith(t, "lab2", testPassword, "en")
	lab2.get("/lab").has(t, http.StatusOK, "Worklist", "Results to review", "Léa Analyste")
	lab2.follow(t, lab2.post("/lab/results/"+rid+"/review", url.Values{"back": {"sample"}})).has(t, http.StatusOK, "Result reviewed.", "Reviewed")

	// The investigation: the hypothesis, one retest by lab2, phase I.
	lab.get(oos).has(t, http.StatusOK, "Phase I", "Énoncer l'hypothèse")
	lab.follow(t, lab.post(oos+"/hypothesis", url.Values{"hypothesis": {"Erreur de dilution : fiole de 50 mL utilisée."}})).has(t, http.StatusOK, "Hypothèse enregistrée.")
	lab.follow(t, lab.post(oos+"/retests", url.Values{"retests": {"1"}})).has(t, http.StatusOK, "Nombre de re-tests fixé.", "0 sur 1")
	lab.post(sample+"/results", url.Values{"test": {"ASSAY"}, "value": {"99,1"}}).has(t, http.StatusForbidden, "autre analyste")
	lab2.follow(t, lab2.post(sample+"/results", url.Values{"test": {"ASSAY"}, "value": {"99.1"}})).has(t, http.StatusOK, "Result recorded: conform.", "Retest")
	for _, r := range l.call(t, "lab", "GET", "/api/v1/results?sample_id="+l.sample+"&state=entered", nil).items(t) {
		reviewer := lab2 // lab's OOS
		if r["retest"] == true {
			reviewer = lab // lab2's retest
		}
		reviewer.follow(t, reviewer.post("/lab/results/"+r["id"].(string)+"/review", nil))
	}
	lab.follow(t, lab.post(oos+"/phase1", url.Values{"lab_error": {"true"}, "cause": {"Fiole de 50 mL retrouvée sur la paillasse."}})).has(t, http.StatusOK, "Phase I conclue.", "Erreur de laboratoire prouvée")
	qa := e.browserWith(t, "qa", testPassword, "")
	qa.get(oos).has(t, http.StatusOK, "Clôture par l'assurance qualité")
	qa.post(oos+"/sign", url.Values{"username": {"qa"}, "password": {"wrong"}}).has(t, http.StatusUnauthorized)
	qa.follow(t, qa.post(oos+"/sign", url.Values{"username": {"qa"}, "password": {testPassword}})).has(t, http.StatusOK, "Investigation clôturée.", "Clôturée", "Résultat invalidé", "Quentin Qualité")

	// The specifications, in both languages; a draft's form.
	lab.get("/products").has(t, http.StatusOK, `href="/lab/specs?product_id=`+l.product+`"`)
	lab.get("/lab/specs?product_id="+l.product).has(t, http.StatusOK, "Spécifications des produits", "SPEC-CEF", "En vigueur")
	lab.get("/lab/specs").has(t, http.StatusOK, "Spécifications des produits", "SPEC-CEF", "En vigueur")
	lab2.get("/lab/specs/"+l.spec).has(t, http.StatusOK, "Specification", "SPEC-CEF", "Effective", "≥ 95.0 % and ≤ 105.0 %")
	lab.get("/lab/specs/new?product_id="+l.product).has(t, http.StatusOK, "Nouvelle spécification", "Alerte basse")
	created := lab.post("/lab/specs", url.Values{"product_id": {l.product}, "code": {"SPEC-CEF"}, "title": {"Ceftriaxone v2"}, "rows": {"1"},
		"t0_code": {"PH"}, "t0_name": {"pH"}, "t0_method": {"Ph. Eur."}, "t0_kind": {"numeric"}, "t0_unit": {"pH"}, "t0_decimals": {"2"},
		"t0_min_op": {">"}, "t0_min": {"4,5"}, "t0_max_op": {"<"}, "t0_max": {"7"}, "t0_stages": {"finished"}})
	lab.follow(t, created).has(t, http.StatusOK, "Brouillon enregistré.", "SPEC-CEF", "v2", "Modifier le brouillon", "&gt; 4,50 pH et &lt; 7,00 pH")

	// The client: its results without names, no laboratory menu entry.
	client := e.browserWith(t, "client-alpha", testPassword, "")
	cp := client.get(sample)
	cp.has(t, http.StatusOK, "ECH-API-1")
	cp.lacks(t, "Léa Analyste", "Wang Fang", `href="/lab"`, "Enregistrer le résultat")
	client.get("/lab").has(t, http.StatusForbidden)
	beta := e.browserWith(t, "client-beta", testPassword, "")
	beta.get(sample).has(t, http.StatusNotFound)
	beta.get(oos).has(t, http.StatusNotFound)
}
