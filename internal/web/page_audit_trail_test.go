package web_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestBatchTrailFromItsPage: as a QA reviewer does it, from a batch's page
// one click shows the trail of that batch and its steps, newest first, in
// words (commands, fields, the operator's name rather than an id), with the
// PDF's limit said before the click; the PDF export of that trail answers
// a PDF; a refused export answers a browser a page it shows.
func TestBatchTrailFromItsPage(t *testing.T) {
	f := newFloorEnv(t)
	f.ok(t, f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[0]}, map[string]any{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}), http.StatusOK, "record a step")
	qa := f.browserWith(t, "qa", testPassword, "")

	p := qa.get("/batches/" + f.batch)
	m := regexp.MustCompile(`href="(/audit\?[^"]+)">Piste d&#39;audit<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the batch's page has no link to its trail:\n%s", p.body)
	}
	link := html.UnescapeString(m[1])
	if !strings.Contains(link, "record="+f.lot) {
		t.Errorf("the trail link %q is not filtered on the batch's lot %s", link, f.lot)
	}
	trail := qa.get(link)
	trail.has(t, http.StatusOK, "Piste d'audit", "Saisie d'une étape", "Réalisé par", "Otto Operator", "Étape de lot", f.lot+" · Preparation", "À faire → Faite",
		"L'export PDF contient au plus 2000 entrées")
	trail.lacks(t, ">performed_by<", ">batch.step.record<", f.accounts["operator"].ID+"<")
	// Newest first: the step recorded last comes before the batch's
	// scheduling.
	if i, j := strings.Index(trail.text, "Saisie d'une étape"), strings.Index(trail.text, "Planification d'un lot"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first: step at %d, scheduling at %d", i, j)
	}
	// Only this batch's records.
	other := f.order(t, f.product, 1)[0]
	trail.lacks(t, other)

	pm := regexp.MustCompile(`href="(/api/v1/audit/export\.pdf\?[^"]+)"`).FindStringSubmatch(trail.body)
	if pm == nil {
		t.Fatal("the trail page has no PDF export")
	}
	req, _ := http.NewRequest("GET", f.srv.URL+html.UnescapeString(pm[1]), nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*")
	pdf := qa.do(req)
	if pdf.status != http.StatusOK || !strings.HasPrefix(pdf.body, "%PDF-") {
		t.Fatalf("the PDF export: status %d, %.200q", pdf.status, pdf.body)
	}

	// A refused export (a day that is no day) is a page a person reads.
	for _, path := range []string{"/api/v1/audit/export.pdf?from=someday", "/api/v1/audit/export.csv?from=someday"} {
		req, _ = http.NewRequest("GET", f.srv.URL+path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*")
		bad := qa.do(req)
		if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "<html") || strings.HasPrefix(strings.TrimSpace(bad.body), "{") {
			t.Errorf("%s refused: status %d, want a page: %.300q", path, bad.status, bad.body)
		}
	}
	// Every record page links to its own trail.
	qa.get("/products").has(t, http.StatusOK, `href="/audit?record=CEF-1G"`)
	qa.get("/masters/"+f.master).has(t, http.StatusOK, `href="/audit?entity=master&amp;entity_id=`+f.master+`"`)
	qa.get("/lines/"+f.line.ID).has(t, http.StatusOK, `href="/audit?entity=line&amp;entity_id=`+f.line.ID+`"`)

	// The API's callers still get JSON.
	f.call(t, "qa", "GET", "/api/v1/audit/export.pdf?from=someday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
}
