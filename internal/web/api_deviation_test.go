package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// devEnv is prodEnv with a second QA (qa2) assigned to alpha, for the
// effectiveness check that the investigator may not record.
type devEnv struct {
	*prodEnv
	product string
	n       int
}

func newDevEnv(t *testing.T, p *prodEnv) *devEnv {
	t.Helper()
	d, e := &devEnv{prodEnv: p}, p.env
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	sys := identity.WithActor(context.Background(), identity.System)
	if err := e.db.WriteHistory(sys, "test.seed", func(ctx context.Context, h *store.History) error {
		a := identity.Account{Username: "qa2", Name: "Quiterie Qualité", Roles: []identity.Role{identity.RoleQA}}
		if err := h.CreateAccount(&a, hash); err != nil {
			return err
		}
		e.accounts[a.Username] = a
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	as := identity.Assignment{AccountID: e.accounts["qa2"].ID, ClientID: e.alpha.ID}
	if err := e.db.Identity().Admin().Assign(sys, &as, ""); err != nil {
		t.Fatal(err)
	}
	return d
}

// exceptionDeviation runs a batch of a new product up to its pH, recorded
// out of limits: the batch record opens a deviation. It returns the batch
// and the deviation.
func (d *devEnv) exceptionDeviation(t *testing.T) (batch, deviation string) {
	t.Helper()
	if d.product == "" {
		d.product = d.created(t, "supervisor", "/api/v1/products", d.productBody("DEV-1"))
		d.effectiveMaster(t, d.product, "MBR-DEV")
	}
	batch = d.order(t, d.product, 1)[0]
	d.ok(t, d.schedule(t, batch, d.line.ID, slot(time.Monday, 6).AddDate(0, 0, 7*d.n)), http.StatusOK, "schedule")
	d.n++
	d.move(t, "supervisor", "/api/v1/batches/"+batch, "release", "released")
	steps := d.steps(t, batch)
	for i, entry := range []map[string]any{{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, {"lot": "LOT-A", "quantity": "10"}, {"lot": "LOT-B", "quantity": "20"},
		{"equipment": d.equipment.Code}, {"value": "8,2", "confirm_out_of_limits": true, "comment": "Second reading the same."}} {
		d.ok(t, d.record(t, "operator", batch, steps[i], entry), http.StatusOK, "step")
	}
	rec := d.ok(t, d.call(t, "supervisor", "GET", "/api/v1/batches/"+batch+"/record", nil), http.StatusOK, "record").object(t)
	devs := rec["deviations"].([]any)
	if len(devs) != 1 {
		t.Fatalf("the exception opened %d deviations", len(devs))
	}
	return batch, devs[0].(map[string]any)["id"].(string)
}

// manual reports a deviation of alpha by hand, as the supervisor.
func (d *devEnv) manual(t *testing.T) string {
	t.Helper()
	return d.created(t, "supervisor", "/api/v1/deviations", map[string]any{"client_id": d.alpha.ID, "title": "Door left open",
		"description": "The airlock door of room R-B was found open at 06:10."})
}

// devPost sends a step of the workflow as who.
func (d *devEnv) devPost(t *testing.T, who, id, step string, body any, hdr ...string) reply {
	t.Helper()
	return d.call(t, who, "POST", "/api/v1/deviations/"+id+"/"+step, body, hdr...)
}

// devAt reports a deviation by hand and takes it, through the API, to a
// stage of its workflow: open, assessed, approved, investigated (an action
// owned by qa; the supervisor investigates, so that qa may check),
// planned (the check due in two seconds), closed (signed by qa), due (the
// clock moved past the check's day).
func (d *devEnv) devAt(t *testing.T, stage string) string {
	t.Helper()
	id := d.manual(t)
	steps := []struct {
		name string
		do   func()
	}{
		{"assessed", func() {
			d.ok(t, d.devPost(t, "supervisor", id, "assess", map[string]any{"class": "minor", "reason": "Airlock interlock not in use."}), http.StatusOK, "assess")
		}},
		{"approved", func() { d.ok(t, d.devPost(t, "qa", id, "approve", nil), http.StatusOK, "approve") }},
		{"investigated", func() {
			d.ok(t, d.devPost(t, "supervisor", id, "investigate", map[string]any{"root_cause": "Interlock switched off for maintenance and not restored.",
				"actions": []any{map[string]any{"description": "Restore the interlock", "owner_id": d.accounts["qa"].ID,
					"due": time.Now().AddDate(0, 0, 7).Format(time.DateOnly)}}}), http.StatusOK, "investigate")
		}},
		{"planned", func() {
			d.ok(t, d.devPost(t, "qa", id, "plan-check", map[string]any{"effectiveness_due": d.db.Now().Add(2 * time.Second).Format(time.RFC3339Nano)}),
				http.StatusOK, "plan the check")
		}},
		{"closed", func() { d.ok(t, d.sign(t, "qa", "deviation", id, "approved"), http.StatusCreated, "close") }},
		{"due", func() { d.shift.Add(int64(3 * time.Second)) }},
	}
	if stage == "open" {
		return id
	}
	for _, s := range steps {
		s.do()
		if s.name == stage {
			return id
		}
	}
	t.Fatalf("no stage %q", stage)
	return ""
}

// TestDeviationsAPI: a deviation the batch record opened goes through the
// whole workflow by the API; bad input answers 400, the wrong people 403,
// a stale version 412, another client's user 404, and a client's user sees
// code, state and class without names; the record shows its state.
func TestDeviationsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		d := newDevEnv(t, newProdEnv(t, e, "operator"))
		batch, id := d.exceptionDeviation(t)
		path := "/api/v1/deviations/" + id

		got := d.ok(t, d.call(t, "qa", "GET", path, nil), http.StatusOK, "get")
		dv := got.object(t)
		if dv["state"] != "open" || dv["source"] != "batch_record" || dv["batch_id"] != batch || got.header.Get("ETag") != `"1"` {
			t.Fatalf("opened by the record: %s (ETag %s)", got.body, got.header.Get("ETag"))
		}
		if items := d.call(t, "qa", "GET", "/api/v1/deviations?state=open&batch_id="+batch, nil).items(t); len(items) != 1 {
			t.Fatalf("the board's open deviations of the batch: %v", items)
		}
		d.call(t, "qa", "GET", "/api/v1/deviations?state=shut", nil).wantError(t, http.StatusBadRequest, "invalid", "state")
		d.call(t, "qa", "GET", "/api/v1/deviations?older_than=-1", nil).wantError(t, http.StatusBadRequest, "invalid", "older_than")
		d.call(t, "client-beta", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")

		// Refusals write nothing.
		before := d.prodSnapshot(t)
		d.devPost(t, "operator", id, "assess", map[string]any{"class": "major", "reason": "pH above its limit."}).wantError(t, http.StatusForbidden, "forbidden", "")
		d.devPost(t, "supervisor", id, "assess", map[string]any{"class": "huge", "reason": "pH above its limit."}).wantError(t, http.StatusBadRequest, "invalid", "class")
		d.devPost(t, "supervisor", id, "assess", `{"class": "major",`).wantError(t, http.StatusBadRequest, "invalid", "")
		d.devPost(t, "supervisor", id, "assess", map[string]any{"klass": "major"}).wantError(t, http.StatusBadRequest, "invalid", "klass")
		d.devPost(t, "supervisor", id, "assess", map[string]any{"class": "major", "reason": "pH above its limit."}, "If-Match", `"7"`).
			wantError(t, http.StatusPreconditionFailed, "stale", "")
		d.prodUnchanged(t, before)

		r := d.ok(t, d.devPost(t, "supervisor", id, "assess", map[string]any{"class": "major", "reason": "pH above its limit.",
			"impacts": []any{map[string]any{"batch_id": batch, "affects": true}}}, "If-Match", `"1"`), http.StatusOK, "assess")
		if r.header.Get("ETag") != `"2"` || r.object(t)["assessed_name"] != "Sonia Superviseure" {
			t.Fatalf("assessed: %s", r.body)
		}
		d.devPost(t, "qa", id, "approve", map[string]any{"version": 1}).wantError(t, http.StatusPreconditionFailed, "stale", "")
		d.devPost(t, "supervisor", id, "approve", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		d.ok(t, d.devPost(t, "qa", id, "approve", map[string]any{"version": 2}), http.StatusOK, "approve")

		// The client's user: code, state and class; no names, no words.
		cv := d.ok(t, d.call(t, "client-alpha", "GET", path, nil), http.StatusOK, "client's view")
		if o := cv.object(t); o["class"] != "major" || o["state"] != "approved" || o["code"] == "" {
			t.Errorf("client's view: %s", cv.body)
		}
		for _, name := range append(staffNames, "pH above its limit") {
			if strings.Contains(string(cv.body), name) {
				t.Errorf("the client's user reads %q: %s", name, cv.body)
			}
		}

		// The investigation; an action given to the operator.
		d.devPost(t, "qa", id, "investigate", map[string]any{"root_cause": "pH meter drifted since its calibration.",
			"actions": []any{map[string]any{"description": "Calibrate weekly", "owner_id": d.accounts["operator"].ID, "due": "next week"}}}).
			wantError(t, http.StatusBadRequest, "invalid", "due")
		inv := d.ok(t, d.devPost(t, "qa", id, "investigate", map[string]any{"root_cause": "pH meter drifted since its calibration.",
			"actions": []any{map[string]any{"description": "Calibrate weekly", "owner_id": d.accounts["operator"].ID,
				"due": time.Now().AddDate(0, 0, 14).Format(time.DateOnly), "preventive": true}}}), http.StatusOK, "investigate").object(t)
		action := inv["actions"].([]any)[0].(map[string]any)["id"].(string)
		if items := d.call(t, "qa", "GET", "/api/v1/deviation-actions?open=true", nil).items(t); len(items) != 1 || items[0]["overdue"] != false {
			t.Fatalf("CAPA list: %v", items)
		}
		d.call(t, "client-alpha", "GET", "/api/v1/deviation-actions", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		d.call(t, "qa", "GET", "/api/v1/deviation-actions?open=maybe", nil).wantError(t, http.StatusBadRequest, "invalid", "open")
		if mine := d.call(t, "operator", "GET", "/api/v1/deviation-actions", nil).items(t); len(mine) != 1 {
			t.Errorf("the owner's own actions: %v", mine)
		}
		d.call(t, "supervisor", "POST", path+"/actions/"+action+"/complete", map[string]any{"evidence": "SOP-QC-012 v4 in force."}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		d.ok(t, d.call(t, "operator", "POST", path+"/actions/"+action+"/complete", map[string]any{"evidence": "SOP-QC-012 v4 in force."}), http.StatusOK, "complete")

		// The closure is QA's signature, with the check's day planned.
		d.sign(t, "qa", "deviation", id, "approved").wantError(t, http.StatusBadRequest, "invalid", "effectiveness_due")
		d.devPost(t, "qa", id, "plan-check", map[string]any{"effectiveness_due": "soon"}).wantError(t, http.StatusBadRequest, "invalid", "effectiveness_due")
		d.ok(t, d.devPost(t, "qa", id, "plan-check", map[string]any{"effectiveness_due": d.db.Now().Add(2 * time.Second).Format(time.RFC3339Nano)}),
			http.StatusOK, "plan the check")
		d.ok(t, d.sign(t, "qa", "deviation", id, "approved"), http.StatusCreated, "close")
		if st := d.call(t, "qa", "GET", path, nil).object(t)["state"]; st != "closed" {
			t.Fatalf("after the closure: %v", st)
		}
		d.shift.Add(int64(3 * time.Second))
		chk := d.devPost(t, "qa", id, "check", map[string]any{"effective": true, "note": "No drift over the month's batches."})
		chk.wantError(t, http.StatusForbidden, "forbidden", "")
		d.devPost(t, "qa2", id, "check", map[string]any{"note": "No drift over the month's batches."}).wantError(t, http.StatusBadRequest, "invalid", "effective")
		v := d.ok(t, d.devPost(t, "qa2", id, "check", map[string]any{"effective": true, "note": "No drift over the month's batches."}), http.StatusOK, "check").object(t)
		if v["state"] != "verified" || v["checked_name"] != "Quiterie Qualité" {
			t.Fatalf("verified: %v", v)
		}
		rec := d.call(t, "supervisor", "GET", "/api/v1/batches/"+batch+"/record", nil).object(t)
		if st := rec["deviations"].([]any)[0].(map[string]any)["status"]; st != "verified" {
			t.Errorf("the record shows the deviation %v", st)
		}
	})
}

// TestDeviationPages: the board, a deviation's page with its step forms,
// the CAPA list and the report form, in French and in English; the record
// links each deviation's code to its page; a refused step shows why.
func TestDeviationPages(t *testing.T) {
	d := newDevEnv(t, newProdEnv(t, newEnv(t, store.SQLite), "operator"))
	batch, id := d.exceptionDeviation(t)
	page := "/deviations/" + id

	qa := d.browserWith(t, "qa", testPassword, "")
	qa.get("/deviations").has(t, http.StatusOK, "Tableau des déviations", "Ouverte", `href="`+page+`"`, "Actions CAPA")
	qa.get("/batches/"+batch).has(t, http.StatusOK, `href="`+page+`"`, "Ouverte")
	qa.get("/batches/"+batch+"/review").has(t, http.StatusOK, `href="`+page+`"`)
	qa.get(page).has(t, http.StatusOK, "Évaluation", "Enregistrer l'évaluation", "Dossier de lot (exception)")

	sup := d.browserWith(t, "supervisor", testPassword, "")
	sup.get("/floor").has(t, http.StatusOK, `href="/deviations"`)
	p := sup.post(page+"/assess", url.Values{"class": {"major"}, "reason": {"x"}, "impact_batch": {batch}, "impact_affects": {"yes"}})
	p.has(t, http.StatusBadRequest, "caractères")
	sup.follow(t, sup.post(page+"/assess", url.Values{"class": {"major"}, "reason": {"pH above its limit."}, "impact_batch": {batch},
		"impact_affects": {"yes"}, "version": {"1"}})).has(t, http.StatusOK, "Évaluée par", "Sonia Superviseure", "majeure")
	sup.post(page+"/approve", url.Values{}).has(t, http.StatusForbidden)

	qa.follow(t, qa.post(page+"/approve", url.Values{"version": {"2"}})).has(t, http.StatusOK, "Évaluation approuvée", "Investiguer")
	qa.follow(t, qa.post(page+"/investigate", url.Values{"root_cause": {"pH meter drifted since its calibration."},
		"a0_description": {"Calibrate weekly"}, "a0_owner": {d.accounts["operator"].ID}, "a0_due": {time.Now().AddDate(0, 0, 10).Format(time.DateOnly)},
		"a1_description": {""}})).has(t, http.StatusOK, "Calibrate weekly", "Otto Operator", "Signer la clôture")
	qa.get("/capa").has(t, http.StatusOK, "Calibrate weekly", "À faire")
	// The closure without a password: refused, nothing signed.
	qa.post(page+"/close", url.Values{"effectiveness_due": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}, "username": {"qa"}, "password": {"wrong"}}).
		has(t, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect")
	qa.follow(t, qa.post(page+"/close", url.Values{"effectiveness_due": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}, "username": {"qa"},
		"password": {testPassword}})).has(t, http.StatusOK, "Close par", "Approuvé / Approved", "Contrôle d'efficacité prévu le")

	en := d.browserWith(t, "qa", testPassword, "en")
	en.get(page).has(t, http.StatusOK, "Assessment", "Investigation", "Closed by", "Effectiveness check due on")
	en.get("/deviations").has(t, http.StatusOK, "Deviation board", "Closed")
	en.get("/capa?all=1").has(t, http.StatusOK, "CAPA actions", "Calibrate weekly")
	en.get("/deviations/new?batch_id="+batch).has(t, http.StatusOK, "Report a deviation")

	// Reported by hand from the form.
	np := sup.post("/deviations", url.Values{"client_id": {d.alpha.ID}, "title": {"Door left open"}, "description": {"The airlock door was found open."}})
	sup.follow(t, np).has(t, http.StatusOK, "Door left open", "Déclarée par", "Sonia Superviseure")
	sup.post("/deviations", url.Values{"client_id": {d.alpha.ID}, "title": {"x"}, "description": {"The airlock door was found open."}}).
		has(t, http.StatusBadRequest, "Déclarer la déviation")

	// A client's user: the code and state, no forms, no names; no menu
	// entry nor CAPA list.
	cl := d.browserWith(t, "client-alpha", testPassword, "")
	cl.get(page).has(t, http.StatusOK, "Close", "majeure")
	cl.get(page).lacks(t, "Sonia Superviseure", "Quentin Qualité", "pH meter drifted", "Signer")
	cl.get("/batches").lacks(t, `href="/deviations"`)
	cl.get("/capa").has(t, http.StatusForbidden)
	cl.get("/deviations/new").has(t, http.StatusForbidden)
	// Another client's user finds nothing.
	d.browserWith(t, "client-beta", testPassword, "").get(page).has(t, http.StatusNotFound)
}

// exerciseDeviations runs every write command of the deviations through
// the API, for the audit scenario (TestEveryWriteCommandIsAudited).
func exerciseDeviations(t *testing.T, p *prodEnv) {
	t.Helper()
	d := newDevEnv(t, p)
	id := d.devAt(t, "due")
	// The action qa owns, done; the check by qa, who did not investigate.
	dv := d.call(t, "qa", "GET", "/api/v1/deviations/"+id, nil).object(t)
	action := dv["actions"].([]any)[0].(map[string]any)["id"].(string)
	d.ok(t, d.call(t, "qa", "POST", "/api/v1/deviations/"+id+"/actions/"+action+"/complete", map[string]any{"evidence": "Interlock restored."}),
		http.StatusOK, "complete")
	d.ok(t, d.devPost(t, "qa", id, "check", map[string]any{"effective": true, "note": "No door left open since."}), http.StatusOK, "check")
}

// deviationIdemCases are the idempotency cases of the deviations' writes
// (TestIdempotencyEveryWriteRoute).
func deviationIdemCases(t *testing.T, p *prodEnv) map[string]func(t *testing.T) idemRequest {
	d := newDevEnv(t, p)
	return map[string]func(t *testing.T) idemRequest{
		"openDeviation": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/deviations", body: map[string]any{"client_id": d.alpha.ID,
				"title": "Door left open", "description": "The airlock door was found open."}}
		},
		"assessDeviation": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/deviations/" + d.devAt(t, "open") + "/assess",
				body: map[string]any{"class": "minor", "reason": "Airlock interlock not in use."}}
		},
		"approveDeviationAssessment": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/deviations/" + d.devAt(t, "assessed") + "/approve"}
		},
		"investigateDeviation": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/deviations/" + d.devAt(t, "approved") + "/investigate",
				body: map[string]any{"root_cause": "Interlock switched off for maintenance."}}
		},
		"planDeviationCheck": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/deviations/" + d.devAt(t, "investigated") + "/plan-check",
				body: map[string]any{"effectiveness_due": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}
		},
		"checkDeviationEffectiveness": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/deviations/" + d.devAt(t, "due") + "/check",
				body: map[string]any{"effective": true, "note": "No door left open since."}}
		},
		"completeDeviationAction": func(t *testing.T) idemRequest {
			id := d.devAt(t, "investigated")
			dv := d.call(t, "qa", "GET", "/api/v1/deviations/"+id, nil).object(t)
			action := dv["actions"].([]any)[0].(map[string]any)["id"].(string)
			return idemRequest{who: "qa", path: "/api/v1/deviations/" + id + "/actions/" + action + "/complete",
				body: map[string]any{"evidence": "Interlock restored."}}
		},
	}
}

// TestDeviationAssessByLot: the assessment form adds another batch's
// impact by its lot number; an unknown lot, or a lot of another client,
// is refused in words and changes nothing.
func TestDeviationAssessByLot(t *testing.T) {
	d := newDevEnv(t, newProdEnv(t, newEnv(t, store.SQLite), "operator"))
	batch, id := d.exceptionDeviation(t)
	page, path := "/deviations/"+id, "/api/v1/deviations/"+id
	other := d.order(t, d.product, 1)[0]
	otherLot := d.call(t, "supervisor", "GET", "/api/v1/batches/"+other, nil).object(t)["lot"].(string)
	// The supervisor and qa work for beta too; qa2 only for alpha.
	sys := identity.WithActor(context.Background(), identity.System)
	for _, who := range []string{"supervisor", "qa"} {
		if err := d.db.Identity().Admin().Assign(sys, &identity.Assignment{AccountID: d.accounts[who].ID, ClientID: d.beta.ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	betaBody := d.productBody("DEV-BETA")
	betaBody["client_id"] = d.beta.ID
	betaProduct := d.created(t, "supervisor", "/api/v1/products", betaBody)
	d.effectiveMaster(t, betaProduct, "MBR-DEV-BETA")
	o := d.ok(t, d.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": betaProduct, "quantity": 1000,
		"due_on": slot(time.Friday, 8).AddDate(0, 1, 0).Format(time.DateOnly)}), http.StatusCreated, "beta's order").object(t)
	betaLot := o["batches"].([]any)[0].(map[string]any)["lot"].(string)

	sup := d.browserWith(t, "supervisor", testPassword, "")
	sup.get(page).has(t, http.StatusOK, `name="impact_lot"`, "Autre lot concerné")
	form := func(lot string) url.Values {
		return url.Values{"class": {"minor"}, "reason": {"pH above its limit, corrected."}, "impact_batch": {batch}, "impact_affects": {"yes"},
			"impact_lot": {lot}, "impact_lot_affects": {"no"}, "impact_lot_justification": {"Made on another line, another day."}}
	}
	unchanged := func() {
		t.Helper()
		dv := d.call(t, "qa", "GET", path, nil).object(t)
		if dv["state"] != "open" || len(dv["impacts"].([]any)) != 0 {
			t.Fatalf("a refused assessment changed the deviation: %v %v", dv["state"], dv["impacts"])
		}
	}
	sup.post(page+"/assess", form("L9999-0000")).has(t, http.StatusBadRequest, "Aucun lot L9999-0000 parmi les lots que vous pouvez voir", `value="L9999-0000"`)
	unchanged()
	// Beta's lot: another client's for the supervisor, who sees it; a lot
	// that does not exist for qa2, who does not.
	sup.post(page+"/assess", form(betaLot)).has(t, http.StatusBadRequest, betaLot)
	unchanged()
	d.browserWith(t, "qa2", testPassword, "").post(page+"/assess", form(betaLot)).
		has(t, http.StatusBadRequest, "Aucun lot "+betaLot+" parmi les lots que vous pouvez voir")
	unchanged()
	en := d.browserWith(t, "supervisor", testPassword, "en")
	en.post(page+"/assess", form("L9999-0000")).has(t, http.StatusBadRequest, "No batch L9999-0000 among the batches you may see")
	unchanged()

	sup.follow(t, sup.post(page+"/assess", form(" "+otherLot+" "))).has(t, http.StatusOK, "Évaluée par", otherLot, "Made on another line")
	dv := d.call(t, "qa", "GET", path, nil).object(t)
	impacts := dv["impacts"].([]any)
	if dv["state"] != "assessed" || len(impacts) != 2 {
		t.Fatalf("assessed: %v %v", dv["state"], impacts)
	}
	found := false
	for _, im := range impacts {
		im := im.(map[string]any)
		if im["batch_id"] == other && im["lot"] == otherLot && im["affects"] == false && im["justification"] == "Made on another line, another day." {
			found = true
		}
	}
	if !found {
		t.Errorf("the other batch's impact: %v", impacts)
	}
}
