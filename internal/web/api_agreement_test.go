package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// agreementBody is a client's quality agreement as a PUT sends it.
func agreementBody() map[string]any {
	return map[string]any{"reference": "QA-ALPHA-2026", "notify_major_hours": 48, "notify_critical_hours": 24, "summary_working_days": 5,
		"client_approves_masters": false, "client_approves_major_closure": true, "batch_documents": []string{"certificate_of_analysis", "batch_record"},
		"notify_to": []string{"qa@alpha.example"}}
}

// majorDeviation reports a deviation by hand and classifies it major: the
// agreement starts its notification's countdown. It returns its id.
func (d *devEnv) majorDeviation(t *testing.T) string {
	t.Helper()
	id := d.manual(t)
	d.ok(t, d.devPost(t, "supervisor", id, "assess", map[string]any{"class": "major", "reason": "Airlock open during filling."}), http.StatusOK, "assess")
	return id
}

// exerciseAgreements records alpha's quality agreement, classifies a
// deviation major (its notification's countdown starts), escalates it
// late as the leader does, and notifies the client (the summary's
// countdown starts): every command of the agreements.
func exerciseAgreements(t *testing.T, p *prodEnv) {
	t.Helper()
	d := &devEnv{prodEnv: p}
	d.ok(t, d.call(t, "qa", "PUT", "/api/v1/clients/"+d.alpha.ID+"/agreement", agreementBody()), http.StatusOK, "record the agreement")
	id := d.majorDeviation(t)
	real := d.db.Now
	later := real().Add(49 * time.Hour)
	d.db.Now = func() time.Time { return later }
	n, err := d.db.Agreements().EscalateObligations(identity.WithActor(context.Background(), identity.System))
	d.db.Now = real
	if err != nil || n == 0 {
		t.Fatalf("escalation: %d, %v", n, err)
	}
	obs := d.call(t, "qa", "GET", "/api/v1/obligations?deviation_id="+id, nil).items(t)
	if len(obs) != 1 {
		t.Fatalf("obligations of the deviation: %v", obs)
	}
	d.ok(t, d.call(t, "qa", "POST", "/api/v1/obligations/"+obs[0]["id"].(string)+"/meet",
		map[string]any{"message": "Déviation majeure sur votre lot : sas ouvert pendant le remplissage."}), http.StatusOK, "notify")
}

// TestAgreementAPI: quality assurance records a client's agreement; the
// client reads it, another client and unassigned staff do not; bad terms
// answer 400 naming the field and change nothing; new terms need the
// version read and a reason. A major deviation starts the countdown both
// sides see (state, seconds left); QA's notification meets it once and
// starts the summary's.
func TestAgreementAPI(t *testing.T) {
	d := newDevEnv(t, newProdEnv(t, newEnv(t, store.SQLite), "operator"))
	path := "/api/v1/clients/" + d.alpha.ID + "/agreement"
	d.call(t, "qa", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
	d.call(t, "supervisor", "PUT", path, agreementBody()).wantError(t, http.StatusForbidden, "forbidden", "")
	for field, value := range map[string]any{"notify_major_hours": 0, "notify_critical_hours": 500, "summary_working_days": 61,
		"reference": " ", "batch_documents": []string{"recipe"}, "notify_to": []string{"Quality <qa@alpha.example>"}} {
		body := agreementBody()
		body[field] = value
		before := d.snapshot(t)
		d.call(t, "qa", "PUT", path, body).wantError(t, http.StatusBadRequest, "invalid", field)
		d.unchanged(t, before)
	}
	body := agreementBody()
	body["notify_critical_hours"] = 72
	d.call(t, "qa", "PUT", path, body).wantError(t, http.StatusBadRequest, "invalid", "notify_critical_hours")
	r := d.ok(t, d.call(t, "qa", "PUT", path, agreementBody()), http.StatusOK, "record")
	if r.header.Get("ETag") != `"1"` {
		t.Errorf("ETag of the new agreement: %q", r.header.Get("ETag"))
	}
	got := d.ok(t, d.call(t, "client-alpha", "GET", path, nil), http.StatusOK, "the client reads it").object(t)
	if got["notify_critical_hours"] != float64(24) || got["reference"] != "QA-ALPHA-2026" || fmt.Sprint(got["notify_to"]) != "[qa@alpha.example]" {
		t.Errorf("the client's agreement: %v", got)
	}
	d.call(t, "client-alpha", "PUT", path, agreementBody()).wantError(t, http.StatusForbidden, "forbidden", "")
	d.call(t, "client-alpha", "GET", "/api/v1/clients/"+d.beta.ID+"/agreement", nil).wantError(t, http.StatusNotFound, "not_found", "")
	// New terms: a reason, the version read.
	body = agreementBody()
	body["notify_major_hours"] = 72
	d.call(t, "qa", "PUT", path, body).wantError(t, http.StatusBadRequest, "invalid", "reason")
	body["reason"] = "Amendment 1 signed on 2 March."
	d.call(t, "qa", "PUT", path, body, "If-Match", `"7"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
	d.ok(t, d.call(t, "qa", "PUT", path, body, "If-Match", `"1"`), http.StatusOK, "amend")

	// The countdown, on both sides.
	id := d.majorDeviation(t)
	for _, who := range []string{"qa", "client-alpha"} {
		obs := d.ok(t, d.call(t, who, "GET", "/api/v1/obligations?open=true", nil), http.StatusOK, "obligations").items(t)
		if len(obs) != 1 || obs[0]["kind"] != "notify" || obs[0]["state"] != "running" || obs[0]["deviation_id"] != id {
			t.Fatalf("%s's obligations: %v", who, obs)
		}
		if left := obs[0]["seconds_left"].(float64); left < 71*3600 || left > 72*3600 {
			t.Errorf("%s sees %v s left, want about 72 h", who, left)
		}
	}
	d.call(t, "qa", "GET", "/api/v1/obligations?open=maybe", nil).wantError(t, http.StatusBadRequest, "invalid", "open")
	obs := d.call(t, "qa", "GET", "/api/v1/obligations?deviation_id="+id, nil).items(t)
	meet := "/api/v1/obligations/" + obs[0]["id"].(string) + "/meet"
	msg := map[string]any{"message": "Déviation majeure sur votre lot : sas ouvert pendant le remplissage."}
	d.call(t, "supervisor", "POST", meet, msg).wantError(t, http.StatusForbidden, "forbidden", "")
	d.call(t, "client-alpha", "POST", meet, msg).wantError(t, http.StatusForbidden, "forbidden", "")
	d.call(t, "qa", "POST", meet, map[string]any{"message": "short"}).wantError(t, http.StatusBadRequest, "invalid", "message")
	d.call(t, "qa", "POST", "/api/v1/obligations/"+store.NewID()+"/meet", msg).wantError(t, http.StatusNotFound, "not_found", "")
	met := d.ok(t, d.call(t, "qa", "POST", meet, msg), http.StatusOK, "notify").object(t)
	if met["state"] != "met" || met["message"] != msg["message"] {
		t.Errorf("met: %v", met)
	}
	d.call(t, "qa", "POST", meet, msg).wantError(t, http.StatusConflict, "conflict", "")
	obs = d.call(t, "client-alpha", "GET", "/api/v1/obligations?open=true", nil).items(t)
	if len(obs) != 1 || obs[0]["kind"] != "summary" {
		t.Fatalf("after the notification: %v", obs)
	}
	all := d.call(t, "client-alpha", "GET", "/api/v1/obligations", nil).items(t)
	if len(all) != 2 {
		t.Errorf("the client's obligations: %v", all)
	}

	// The CAPA: the client reads them once its agreement shares them,
	// without a name.
	inv := d.devAt(t, "investigated")
	if got := d.ok(t, d.call(t, "client-alpha", "GET", "/api/v1/deviations/"+inv, nil), http.StatusOK, "read").object(t); len(got["actions"].([]any)) != 0 {
		t.Errorf("the client reads CAPA its agreement does not share: %v", got["actions"])
	}
	body = agreementBody()
	body["share_capa"], body["reason"] = true, "Amendment 2: CAPA shared."
	d.ok(t, d.call(t, "qa", "PUT", path, body), http.StatusOK, "share the CAPA")
	got = d.ok(t, d.call(t, "client-alpha", "GET", "/api/v1/deviations/"+inv, nil), http.StatusOK, "read").object(t)
	acts := got["actions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["description"] != "Restore the interlock" || acts[0].(map[string]any)["owner_name"] != nil {
		t.Errorf("the client's CAPA shared: %v", acts)
	}
	page := d.browserWith(t, "client-alpha", testPassword, "en").get("/deviations/" + inv)
	page.has(t, http.StatusOK, "Restore the interlock")
	if strings.Contains(page.text, "Quentin") {
		t.Error("the client's deviation page names the CAPA's owner")
	}
	if lst := d.call(t, "client-alpha", "GET", "/api/v1/deviations", nil).items(t); len(lst) == 0 || len(lst[0]["actions"].([]any)) != 0 {
		t.Errorf("the client's list of deviations carries actions: %v", lst)
	}
}

// agreementIdemCases are the idempotency cases of the agreements' writes
// (TestIdempotencyEveryWriteRoute).
func agreementIdemCases(t *testing.T, p *prodEnv) map[string]func(t *testing.T) idemRequest {
	d := &devEnv{prodEnv: p}
	path := "/api/v1/clients/" + p.alpha.ID + "/agreement"
	return map[string]func(t *testing.T) idemRequest{
		"setQualityAgreement": func(t *testing.T) idemRequest {
			body := agreementBody()
			body["reason"] = "Amendment signed."
			return idemRequest{who: "qa", path: path, body: body}
		},
		"meetObligation": func(t *testing.T) idemRequest {
			if r := d.call(t, "qa", "GET", path, nil); r.status == http.StatusNotFound {
				d.ok(t, d.call(t, "qa", "PUT", path, agreementBody()), http.StatusOK, "record the agreement")
			}
			id := d.majorDeviation(t)
			obs := d.call(t, "qa", "GET", "/api/v1/obligations?deviation_id="+id, nil).items(t)
			if len(obs) != 1 {
				t.Fatalf("obligations of a major deviation: %v", obs)
			}
			return idemRequest{who: "qa", path: "/api/v1/obligations/" + obs[0]["id"].(string) + "/meet",
				body: map[string]any{"message": "Déviation majeure sur votre lot : sas ouvert pendant le remplissage."}}
		},
	}
}

// TestAgreementDeviationPage: the deviation's page shows what the
// client's agreement has the site owe the client, with its countdown, to
// quality assurance (who sends it from there, words too short refused and
// shown again) and to the client (in English here, without the form);
// once the summary is sent, the client's manager approves the closure by
// signature on the page, and only then may QA close it.
func TestAgreementDeviationPage(t *testing.T) {
	d := newDevEnv(t, newProdEnv(t, newEnv(t, store.SQLite), "operator"))
	d.seedAccounts(t, identity.Account{Username: "manager-alpha", Name: "Mia Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: d.alpha.ID})
	body := agreementBody()
	d.ok(t, d.call(t, "qa", "PUT", "/api/v1/clients/"+d.alpha.ID+"/agreement", body), http.StatusOK, "record the agreement")
	id := d.majorDeviation(t)
	page := "/deviations/" + id

	qa := d.browserWith(t, "qa", testPassword, "fr")
	qa.get(page).has(t, http.StatusOK, "Accord qualité : ce qui est dû au client", "Notification au client", "En cours", "reste ", "Notifier le client")
	en := d.browserWith(t, "client-alpha", testPassword, "en")
	p := en.get(page)
	p.has(t, http.StatusOK, "Quality agreement: what the client is owed", "Notification to the client", "Running", " left")
	if strings.Contains(p.text, "Send to the client") {
		t.Error("the client is offered the site's form")
	}
	obs := d.call(t, "qa", "GET", "/api/v1/obligations?deviation_id="+id, nil).items(t)
	form := url.Values{"obligation_id": {obs[0]["id"].(string)}, "obligation_version": {"1"}, "message": {"court"}}
	before := d.snapshot(t)
	qa.post(page+"/meet", form).has(t, http.StatusBadRequest, "court")
	d.unchanged(t, before)
	form.Set("message", "Déviation majeure sur votre lot : sas ouvert pendant le remplissage.")
	qa.follow(t, qa.post(page+"/meet", form)).has(t, http.StatusOK, "Envoyé à temps", "sas ouvert pendant le remplissage", "Résumé d'investigation")

	// The investigation, the summary: the client's manager approves the
	// closure on the page; QA's closure was refused before.
	d.ok(t, d.devPost(t, "qa", id, "approve", nil), http.StatusOK, "approve")
	d.ok(t, d.devPost(t, "supervisor", id, "investigate", map[string]any{"root_cause": "Interlock switched off for maintenance and not restored.",
		"actions": []any{map[string]any{"description": "Restore the interlock", "owner_id": d.accounts["qa"].ID,
			"due": time.Now().AddDate(0, 0, 7).Format(time.DateOnly)}}}), http.StatusOK, "investigate")
	d.ok(t, d.devPost(t, "qa", id, "plan-check", map[string]any{"effectiveness_due": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}),
		http.StatusOK, "plan the check")
	obs = d.call(t, "qa", "GET", "/api/v1/obligations?open=true&deviation_id="+id, nil).items(t)
	d.ok(t, d.call(t, "qa", "POST", "/api/v1/obligations/"+obs[0]["id"].(string)+"/meet",
		map[string]any{"message": "Résumé : l'interlock du sas était coupé pour maintenance ; il est rétabli et vérifié chaque semaine."}),
		http.StatusOK, "summary")
	d.sign(t, "qa", "deviation", id, "approved").wantError(t, http.StatusConflict, "conflict", "")
	mgr := d.browserWith(t, "manager-alpha", testPassword, "en")
	mgr.get(page).has(t, http.StatusOK, "The closure waits for the client's approval", "Approve the closure (electronic signature)")
	if strings.Contains(en.get(page).text, "Approve the closure") {
		t.Error("a client user without the manager's authority is offered the approval")
	}
	mgr.post(page+"/client-approve", url.Values{"username": {"manager-alpha"}, "password": {"wrong password"}}).
		has(t, http.StatusUnauthorized, "Approve the closure")
	mgr.follow(t, mgr.post(page+"/client-approve", url.Values{"username": {"manager-alpha"}, "password": {testPassword}})).
		has(t, http.StatusOK, "Closure approved by the client")
	d.ok(t, d.sign(t, "qa", "deviation", id, "approved"), http.StatusCreated, "close")
}

// TestPortal: a client's user lands on its space, which shows its batches
// by phase, ordered against delivered by product and what its agreement
// owes it with the countdown, in French and in English; the same as JSON;
// never another client's record nor a person of the site; staff have no
// portal.
func TestPortal(t *testing.T) {
	d := newDevEnv(t, newProdEnv(t, newEnv(t, store.SQLite), "operator"))
	d.ok(t, d.call(t, "qa", "PUT", "/api/v1/clients/"+d.alpha.ID+"/agreement", agreementBody()), http.StatusOK, "record the agreement")
	id := d.majorDeviation(t)
	// A batch of alpha on the floor, its pH recorded out of limits.
	batch, _ := d.exceptionDeviation(t)

	got := d.ok(t, d.call(t, "client-alpha", "GET", "/api/v1/portal", nil), http.StatusOK, "the dashboard").object(t)
	due := got["due"].([]any)
	if len(due) != 1 || due[0].(map[string]any)["deviation_id"] != id || got["late"] != float64(0) {
		t.Errorf("the dashboard's deadlines: %v", got["due"])
	}
	phases, live := got["phases"].(map[string]any), got["live"].([]any)
	if phases["floor"] != float64(1) || len(live) != 1 || live[0].(map[string]any)["id"] != batch || live[0].(map[string]any)["exceptions"] != float64(1) {
		t.Errorf("the dashboard's phases %v and live batches %v, want the batch on the floor with its exception", phases, live)
	}
	vols := got["volumes"].([]any)
	if len(vols) != 1 || vols[0].(map[string]any)["ordered"].(float64) <= 0 || vols[0].(map[string]any)["in_making"].(float64) <= 0 {
		t.Errorf("the dashboard's volumes: %v", vols)
	}
	d.call(t, "qa", "GET", "/api/v1/portal", nil).wantError(t, http.StatusForbidden, "forbidden", "")

	// The dashboard live: at once, then when QA notifies the client.
	stream := openStream(t, d.srv.URL+"/api/v1/portal/events", d.token(t, "client-alpha"))
	defer stream.close()
	if first := stream.dashboard(t, 10*time.Second); len(first["due"].([]any)) != 1 {
		t.Fatalf("the stream's first dashboard: %v", first["due"])
	}
	d.call(t, "qa", "GET", "/api/v1/portal/events", nil).wantError(t, http.StatusForbidden, "forbidden", "")

	// QA notifies the client: the client's space tells it, with a link
	// to the deviation, next to the batch's moves and the deviation the
	// record opened.
	obs := d.call(t, "qa", "GET", "/api/v1/obligations?deviation_id="+id, nil).items(t)
	d.ok(t, d.call(t, "qa", "POST", "/api/v1/obligations/"+obs[0]["id"].(string)+"/meet",
		map[string]any{"message": "Déviation majeure sur votre lot : sas ouvert pendant le remplissage."}), http.StatusOK, "notify")
	if next := stream.dashboard(t, 10*time.Second); next["due"].([]any)[0].(map[string]any)["kind"] != "summary" || len(next["notices"].([]any)) == 0 {
		t.Errorf("the stream's dashboard after the notification: due %v, notices %v", next["due"], next["notices"])
	}
	got = d.ok(t, d.call(t, "client-alpha", "GET", "/api/v1/portal", nil), http.StatusOK, "the dashboard").object(t)
	keys := map[string]string{}
	for _, n := range got["notices"].([]any) {
		n := n.(map[string]any)
		keys[n["key"].(string)] = n["href"].(string)
	}
	if keys["notice.client_notified.notify.no_lot"] != "/deviations/"+id || keys["notice.deviation_opened"] == "" || keys["notice.batch_moved"] == "" {
		t.Errorf("the client's notices: %v", got["notices"])
	}
	if due := got["due"].([]any); len(due) != 1 || due[0].(map[string]any)["kind"] != "summary" {
		t.Errorf("due after the notification: %v, want the summary", got["due"])
	}

	fr := d.browserWith(t, "client-alpha", testPassword, "fr")
	p := fr.get("/portal")
	p.has(t, http.StatusOK, "Votre espace client", "Planifiés", "Ce que l'accord qualité vous doit", "Résumé d'investigation", "reste ",
		"Commandé et livré", "Mon espace", "Vos lots en fabrication", "En fabrication", "Dernières nouvelles", "reçue")
	for _, staff := range []string{"Victor", "Quinn", "Quentin", "Quiterie", "Otto"} {
		if strings.Contains(p.text, staff) {
			t.Errorf("the client's space names %s of the site", staff)
		}
	}
	d.browserWith(t, "client-alpha", testPassword, "en").get("/portal").
		has(t, http.StatusOK, "Your client space", "Planned", "What the quality agreement owes you", "Investigation summary", " left", "Ordered and delivered",
			"Latest news", "received")
	if r := d.browserWith(t, "qa", testPassword, "fr").get("/portal"); r.status != http.StatusForbidden {
		t.Errorf("staff's portal: status %d", r.status)
	}
}

// dashboard waits for the stream's next event "portal" and returns its
// dashboard.
func (s *eventStream) dashboard(t *testing.T, within time.Duration) map[string]any {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.name != "portal" {
				continue
			}
			var d map[string]any
			if err := json.Unmarshal(ev.data, &d); err != nil {
				t.Fatalf("event data %s: %v", ev.data, err)
			}
			return d
		case <-timer.C:
			t.Fatalf("no event portal within %s", within)
		}
	}
}

// TestMasterClientApproval: when the agreement has the client approve its
// master batch records, a master in review shows on the client's portal
// and its page, French and English; the client's user reads it (never a
// draft, never the site's signers) without the signing form; the client's
// manager signs it on the page, a wrong password refused and nothing
// signed; QA's approval is refused before and takes effect after; the
// other client finds nothing.
func TestMasterClientApproval(t *testing.T) {
	p := newProdEnv(t, newEnv(t, store.SQLite), "operator")
	p.seedAccounts(t, identity.Account{Username: "manager-alpha", Name: "Mia Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: p.alpha.ID})
	body := agreementBody()
	body["client_approves_masters"] = true
	p.ok(t, p.call(t, "qa", "PUT", "/api/v1/clients/"+p.alpha.ID+"/agreement", body), http.StatusOK, "record the agreement")
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
	draft := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, "MBR-DRAFT"))
	id := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, "MBR-CLIENT"))
	p.submit(t, id)

	// The client's user: the master in review, not the draft.
	var got []string
	for _, it := range p.call(t, "client-alpha", "GET", "/api/v1/masters", nil).items(t) {
		got = append(got, it["id"].(string))
	}
	if !slices.Contains(got, id) || slices.Contains(got, draft) {
		t.Errorf("the client's masters %v: want %s in review and not the draft %s", got, id, draft)
	}
	p.call(t, "client-alpha", "GET", "/api/v1/masters/"+draft, nil).wantError(t, http.StatusNotFound, "not_found", "")
	p.call(t, "client-beta", "GET", "/api/v1/masters/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")
	portal := p.ok(t, p.call(t, "client-alpha", "GET", "/api/v1/portal", nil), http.StatusOK, "the dashboard").object(t)
	if ap := portal["approvals"].([]any); len(ap) != 1 || ap[0].(map[string]any)["id"] != id {
		t.Errorf("the portal's masters to approve: %v", portal["approvals"])
	}
	user := p.browserWith(t, "client-alpha", testPassword, "fr")
	user.get("/portal").has(t, http.StatusOK, "Dossiers de lot maîtres à approuver", "MBR-CLIENT")
	page := "/masters/" + id
	pg := user.get(page)
	// The materials its steps add, named though the client does not read
	// the site's catalogue.
	var apiName string
	for _, m := range p.call(t, "qa", "GET", "/api/v1/materials", nil).items(t) {
		if m["id"] == p.api {
			apiName = m["name"].(string)
		}
	}
	if apiName == "" {
		t.Fatal("the active substance has no name")
	}
	pg.has(t, http.StatusOK, "Approbation du client", "En attente de l'approbation du client", "Clear the line", apiName)
	if strings.Contains(pg.text, "Signer l'approbation du client") || strings.Contains(pg.text, p.accounts["supervisor"].Name) {
		t.Error("the client's user is offered the signature, or reads the site's signer")
	}

	// QA's approval waits for the client's.
	p.sign(t, "qa", "master", id, "approved").wantError(t, http.StatusConflict, "conflict", "")
	qa := p.browserWith(t, "qa", testPassword, "en")
	qa.get(page).has(t, http.StatusOK, "Client's approval", "Awaiting the client's approval")

	mgr := p.browserWith(t, "manager-alpha", testPassword, "en")
	mgr.get(page).has(t, http.StatusOK, "Sign the client's approval")
	mgr.post(page+"/client-approve", url.Values{"username": {"manager-alpha"}, "password": {"wrong password"}}).
		has(t, http.StatusUnauthorized, "Sign the client's approval")
	mgr.get(page).has(t, http.StatusOK, "Awaiting the client's approval")
	// Only the client's manager signs: its user and QA are refused.
	p.call(t, "client-alpha", "POST", "/api/v1/signatures/challenge", map[string]any{"entity": "master_client", "entity_id": id, "meaning": "approved"}).
		wantError(t, http.StatusNotFound, "not_found", "")
	p.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]any{"entity": "master_client", "entity_id": id, "meaning": "approved"}).
		wantError(t, http.StatusNotFound, "not_found", "")
	mgr.follow(t, mgr.post(page+"/client-approve", url.Values{"username": {"manager-alpha"}, "password": {testPassword}})).
		has(t, http.StatusOK, "Your approval is signed", "Approved by the client", "Mia Manager")
	qa.get(page).has(t, http.StatusOK, "Approved by the client")
	p.ok(t, p.sign(t, "qa", "master", id, "approved"), http.StatusCreated, "QA's approval after the client's")
	if st := p.ok(t, p.call(t, "qa", "GET", "/api/v1/masters/"+id, nil), http.StatusOK, "master").object(t)["status"]; st != "approved" {
		t.Errorf("the master after both approvals: %v", st)
	}
}
