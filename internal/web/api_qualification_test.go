package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/site"
	"galenix/internal/store"
)

// exerciseQualifications records a qualification of the env's person,
// has quality assurance grant it by signature and revoke it.
func exerciseQualifications(t *testing.T, p *prodEnv) string {
	t.Helper()
	id := p.created(t, "supervisor", "/api/v1/qualifications", qualificationBody(p.person.ID, "MBR-EXERCISE"))
	p.ok(t, p.sign(t, "qa", "qualification", id, "approved"), http.StatusCreated, "grant the qualification")
	p.ok(t, p.call(t, "qa", "POST", "/api/v1/qualifications/"+id+"/revoke", map[string]any{"reason": "Échec à la requalification", "revision": 2}),
		http.StatusOK, "revoke the qualification")
	return id
}

// TestQualificationsAPI: a supervisor records a person's qualification,
// refused in words when its input is bad and to the roles that do not
// record training; quality assurance grants it by signature, never one
// lapsed; the list filters; the shop floor refuses a step to an operator
// whose gowning was revoked, saying which and since when, in the reader's
// language, and accepts it once a new one is granted; a client reads none
// of it.
func TestQualificationsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("QUAL-1"))
		p.effectiveMaster(t, product, "MBR-QUAL") // trains the floor
		operator := p.people["operator"]
		if operator == "" {
			t.Fatal("the floor was not trained")
		}
		before := p.prodSnapshot(t)
		bad := func(who string, edit func(b map[string]any), status int, code, field string) {
			t.Helper()
			b := qualificationBody(operator, "MBR-QUAL")
			edit(b)
			p.call(t, who, "POST", "/api/v1/qualifications", b).wantError(t, status, code, field)
		}
		same := func(map[string]any) {}
		bad("operator", same, http.StatusForbidden, "forbidden", "")
		bad("client-alpha", same, http.StatusForbidden, "forbidden", "")
		bad("supervisor", func(b map[string]any) { b["person_id"] = p.accounts["operator"].ID }, http.StatusBadRequest, "invalid", "person_id")
		bad("supervisor", func(b map[string]any) { b["kind"] = "driving" }, http.StatusBadRequest, "invalid", "kind")
		bad("supervisor", func(b map[string]any) { b["evidence"] = "ok" }, http.StatusBadRequest, "invalid", "evidence")
		bad("supervisor", func(b map[string]any) { b["version"] = 0 }, http.StatusBadRequest, "invalid", "version")
		bad("supervisor", func(b map[string]any) { b["valid_until"] = time.Now().AddDate(5, 0, 0) }, http.StatusBadRequest, "invalid", "valid_until")
		bad("supervisor", func(b map[string]any) { b["granted_at"] = "yesterday" }, http.StatusBadRequest, "invalid", "")
		bad("supervisor", func(b map[string]any) { b["evidence"] = strings.Repeat("x", 501) }, http.StatusBadRequest, "invalid", "evidence")
		p.call(t, "qa", "GET", "/api/v1/qualifications?expiring_days=0", nil).wantError(t, http.StatusBadRequest, "invalid", "expiring_days")
		p.call(t, "qa", "GET", "/api/v1/qualifications?kind=driving", nil).wantError(t, http.StatusBadRequest, "invalid", "kind")
		p.call(t, "client-alpha", "GET", "/api/v1/qualifications", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		p.prodUnchanged(t, before)

		// The operator's gowning, revoked: the step is refused, in words.
		gowns := p.ok(t, p.call(t, "qa", "GET", "/api/v1/qualifications?kind=gowning&person_id="+operator, nil), http.StatusOK, "gowning").items(t)
		if len(gowns) != 1 || gowns[0]["status"] != "granted" || gowns[0]["person"] != p.accounts["operator"].Name {
			t.Fatalf("the operator's gowning: %v", gowns)
		}
		p.call(t, "supervisor", "POST", "/api/v1/qualifications/"+gowns[0]["id"].(string)+"/revoke", map[string]any{"reason": "Échec à la requalification"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		p.call(t, "qa", "POST", "/api/v1/qualifications/"+gowns[0]["id"].(string)+"/revoke", map[string]any{"reason": "Échec à la requalification", "revision": 1}).
			wantError(t, http.StatusPreconditionFailed, "stale", "")
		p.ok(t, p.call(t, "qa", "POST", "/api/v1/qualifications/"+gowns[0]["id"].(string)+"/revoke", map[string]any{"reason": "Échec à la requalification", "revision": 2}),
			http.StatusOK, "revoke")
		batch := p.order(t, product, 1)[0]
		p.ok(t, p.schedule(t, batch, p.line.ID, slot(time.Tuesday, 6)), http.StatusOK, "schedule")
		p.move(t, "supervisor", "/api/v1/batches/"+batch, "release", "released")
		steps := p.steps(t, batch)
		clearance := map[string]any{"checked": []bool{true, true}, "reason": "Test slot a week ahead."}
		body := maps.Clone(clearance)
		body["step_id"] = steps[0]["id"]
		today := time.Now().In(site.DefaultLocation())
		refusal := p.call(t, "operator", "POST", "/api/v1/batches/"+batch+"/steps", body, "Accept-Language", "fr").wantError(t, http.StatusForbidden, "forbidden", "")
		if want := "Qualification retirée le " + today.Format("02/01/2006") + " : habillage, classe B."; refusal.Message != want {
			t.Errorf("the refusal reads %q, want %q", refusal.Message, want)
		}
		refusal = p.call(t, "operator", "POST", "/api/v1/batches/"+batch+"/steps", body, "Accept-Language", "en").wantError(t, http.StatusForbidden, "forbidden", "")
		if !strings.HasPrefix(refusal.Message, "Qualification revoked on ") || !strings.HasSuffix(refusal.Message, ": gowning, grade B.") {
			t.Errorf("the refusal reads %q in English", refusal.Message)
		}

		// A new gowning for grade B: recorded, it holds nothing; one
		// already lapsed cannot be granted; granted, the step is taken.
		gown := qualificationBody(operator, "")
		gown["kind"], gown["subject"], gown["version"] = "gowning", "B", 0
		lapsed := maps.Clone(gown)
		lapsed["granted_at"], lapsed["valid_until"] = time.Now().AddDate(-1, 0, -2), time.Now().AddDate(0, 0, -2)
		old := p.created(t, "supervisor", "/api/v1/qualifications", lapsed)
		p.sign(t, "qa", "qualification", old, "approved").wantError(t, http.StatusBadRequest, "invalid", "valid_until")
		id := p.created(t, "supervisor", "/api/v1/qualifications", gown)
		p.call(t, "operator", "POST", "/api/v1/batches/"+batch+"/steps", body).wantError(t, http.StatusForbidden, "forbidden", "")
		p.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "qualification", "entity_id": id, "meaning": "approved"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		p.ok(t, p.sign(t, "qa", "qualification", id, "approved"), http.StatusCreated, "grant")
		p.ok(t, p.sign(t, "qa", "qualification", id, "approved"), http.StatusConflict, "grant twice")
		got := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/qualifications/"+id, nil), http.StatusOK, "read").object(t)
		if got["status"] != "granted" || got["granted_by"] != p.accounts["qa"].ID {
			t.Fatalf("granted: %v", got)
		}
		p.ok(t, p.record(t, "operator", batch, steps[0], clearance), http.StatusOK, "the step, gowned again")

		// The lists: by status, what lapses within 400 days.
		if pending := p.ok(t, p.call(t, "qa", "GET", "/api/v1/qualifications?status=recorded", nil), http.StatusOK, "recorded").items(t); len(pending) != 1 || pending[0]["id"] != old {
			t.Errorf("recorded and not granted: %v", pending)
		}
		if soon := p.ok(t, p.call(t, "qa", "GET", "/api/v1/qualifications?expiring_days=400&q=otto", nil), http.StatusOK, "expiring").items(t); len(soon) < 2 {
			t.Errorf("Otto's lapsing within 400 days: %v", soon)
		}
	})
}

// TestQualificationPages: the supervisor records a training through the
// list's form (a badge nobody holds refused in words), quality assurance
// grants it by signature on its page in English (a wrong password grants
// nothing) and revokes it with its reason; a client's user is refused.
func TestQualificationPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p := newProdEnv(t, e, "operator")
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("QUAL-P"))
	p.effectiveMaster(t, product, "MBR-QP")

	sup := e.browserWith(t, "supervisor", testPassword, "fr")
	sup.get("/qualifications").has(t, http.StatusOK, "Qualifications et formations", "Otto Operator", "MBR-QP v1", "Enregistrer une formation ou une qualification")
	sup.get("/qualifications?person_id="+p.people["operator"]).has(t, http.StatusOK, "Otto Operator", "F-OPERATOR", "Habillage", "Valide")
	today := time.Now().In(site.DefaultLocation())
	form := url.Values{"badge": {"NOPE"}, "kind": {"method"}, "subject": {"HPLC-UV"}, "granted_at": {today.Format(time.DateOnly)},
		"valid_until": {today.AddDate(2, 0, 0).Format(time.DateOnly)}, "evidence": {"Transfert de méthode, rapport TM-12"}}
	sup.post("/qualifications", form).has(t, http.StatusBadRequest, "Aucune personne ne porte le badge « NOPE ».")
	form.Set("badge", "f-operator")
	form.Set("valid_until", today.AddDate(4, 0, 0).Format(time.DateOnly))
	sup.post("/qualifications", form).has(t, http.StatusBadRequest, "Une qualification est octroyée pour 3 ans au plus.")
	form.Set("valid_until", today.AddDate(2, 0, 0).Format(time.DateOnly))
	rec := sup.post("/qualifications", form)
	if rec.status != http.StatusSeeOther || !strings.HasPrefix(rec.location, "/qualifications/") {
		t.Fatalf("record through the page: %d %s", rec.status, rec.text)
	}
	page := strings.TrimSuffix(rec.location, "?done=recorded")
	got := sup.get(rec.location)
	got.has(t, http.StatusOK, "Qualification enregistrée : l'assurance qualité doit l'octroyer.", "HPLC-UV", "À octroyer", "Transfert de méthode")
	if strings.Contains(got.body, "Signer et octroyer") {
		t.Error("the supervisor is offered the grant")
	}

	qa := e.browserWith(t, "qa", testPassword, "en")
	qa.get("/qualifications").has(t, http.StatusOK, "Awaiting quality assurance's grant", "HPLC-UV")
	qa.get(page).has(t, http.StatusOK, "Sign and grant", "To be granted")
	grant := url.Values{"username": {"qa"}, "password": {"wrong password"}, "reason": {"Transfer report read"}}
	if r := qa.post(page+"/grant", grant); r.status == http.StatusSeeOther {
		t.Fatal("a wrong password granted the qualification")
	}
	grant.Set("password", testPassword)
	if r := qa.post(page+"/grant", grant); r.status != http.StatusSeeOther {
		t.Fatalf("grant through the page: %d %s", r.status, r.text)
	}
	qa.get(page+"?done=granted").has(t, http.StatusOK, "Qualification granted.", "Valid", "Transfer report read", "Qualification recorded")
	qa.post(page+"/revoke", url.Values{"reason": {"no"}, "revision": {"2"}}).has(t, http.StatusBadRequest, "Say why the qualification is revoked")
	if r := qa.post(page+"/revoke", url.Values{"reason": {"Method withdrawn"}, "revision": {"2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke through the page: %d %s", r.status, r.text)
	}
	qa.get(page).has(t, http.StatusOK, "Revoked", "Method withdrawn")

	e.browserWith(t, "client-alpha", testPassword, "fr").get("/qualifications").has(t, http.StatusForbidden)
}
