package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// hostPerson links the operator's account to a person of the staff: a
// host of visits.
func hostPerson(t *testing.T, e *env) site.Person {
	t.Helper()
	p := site.Person{Badge: "0002", Name: "Otto Operator", Job: "Operator", TeamID: e.team.ID, AccountID: e.accounts["operator"].ID}
	if err := e.db.Site().CreatePerson(identity.WithActor(context.Background(), identity.System), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVisitsAPI: a host registers their visitor, the PC Sécurité hands
// the badge, the readers' policy holds it, the host extends the stay, the
// badge comes back; each step refused to the wrong role, out of turn or
// with bad input, in words and without a write.
func TestVisitsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		withAuditKey(t, e)
		otto := hostPerson(t, e)
		now := time.Now().UTC()
		body := func() map[string]any {
			return map[string]any{"visitor": "Vera Visiteuse", "company": "Alpha Laboratories", "purpose": "Audit",
				"expected_at": now.Add(-10 * time.Minute).Format(time.RFC3339), "expected_until": now.Add(3 * time.Hour).Format(time.RFC3339)}
		}
		bad := body()
		bad["company"] = ""
		e.call(t, "operator", "POST", "/api/v1/visits", bad).wantError(t, http.StatusBadRequest, "invalid", "company")
		bad = body()
		bad["expected_until"] = now.Add(-time.Hour).Format(time.RFC3339)
		e.call(t, "operator", "POST", "/api/v1/visits", bad).wantError(t, http.StatusBadRequest, "invalid", "expected_until")
		e.call(t, "client-alpha", "POST", "/api/v1/visits", body()).wantError(t, http.StatusForbidden, "forbidden", "")
		if r := e.call(t, "admin", "GET", "/api/v1/visits", nil); r.status != http.StatusOK || len(r.items(t)) != 0 {
			t.Fatalf("refused registrations wrote: %d %s", r.status, r.body)
		}
		r := e.call(t, "operator", "POST", "/api/v1/visits", body())
		if r.status != http.StatusCreated || r.object(t)["host"] != "Otto Operator" || r.object(t)["status"] != "expected" {
			t.Fatalf("registered: %d %s", r.status, r.body)
		}
		id := r.object(t)["id"].(string)
		// The admin (the PC Sécurité's permission) registers one for Claire.
		other := body()
		other["visitor"], other["host_id"] = "Max Monteur", e.person.ID
		max := created(t, e, "admin", "/api/v1/visits", other)
		if r := e.call(t, "operator", "GET", "/api/v1/visits", nil); len(r.items(t)) != 1 {
			t.Fatalf("the host's visits: %s", r.body)
		}
		e.call(t, "operator", "GET", "/api/v1/visits/"+max, nil).wantError(t, http.StatusNotFound, "not_found", "")

		// At the gate.
		e.call(t, "operator", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": "V-01"}).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": e.person.Badge}).wantError(t, http.StatusConflict, "conflict", "badge")
		e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": ""}).wantError(t, http.StatusBadRequest, "invalid", "badge")
		r = e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": "V-01"})
		if r.status != http.StatusOK || r.object(t)["status"] != "on_site" || r.object(t)["badge"] != "V-01" {
			t.Fatalf("arrived: %d %s", r.status, r.body)
		}
		e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": "V-02"}).wantError(t, http.StatusConflict, "conflict", "")
		var bundle struct {
			Policy struct {
				Holders []struct {
					Badge   string `json:"badge"`
					Visitor bool   `json:"visitor"`
					Host    string `json:"host"`
				} `json:"holders"`
			} `json:"policy"`
		}
		e.call(t, "admin", "GET", "/api/v1/access/policy", nil).decode(t, &bundle)
		found := false
		for _, h := range bundle.Policy.Holders {
			found = found || (h.Badge == "V-01" && h.Visitor && h.Host == "Otto Operator")
		}
		if !found {
			t.Fatalf("the policy holds no visitor V-01: %+v", bundle.Policy.Holders)
		}

		// The host extends the stay, with a reason.
		ext := body()
		ext["expected_until"], ext["version"], ext["host_id"] = now.Add(5*time.Hour).Format(time.RFC3339), 2, otto.ID
		e.call(t, "operator", "PUT", "/api/v1/visits/"+id, ext).wantError(t, http.StatusBadRequest, "invalid", "reason")
		ext["reason"] = "Réunion prolongée"
		if r := e.call(t, "operator", "PUT", "/api/v1/visits/"+id, ext); r.status != http.StatusOK || r.object(t)["version"] != float64(3) {
			t.Fatalf("extended: %d %s", r.status, r.body)
		}

		// The badge comes back once.
		if r := e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/depart", map[string]any{}); r.status != http.StatusOK || r.object(t)["status"] != "left" {
			t.Fatalf("departed: %d %s", r.status, r.body)
		}
		e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/depart", map[string]any{}).wantError(t, http.StatusConflict, "conflict", "")
		e.call(t, "operator", "POST", "/api/v1/visits/"+max+"/cancel", map[string]any{"reason": "Reportée"}).wantError(t, http.StatusNotFound, "not_found", "")
		if r := e.call(t, "admin", "POST", "/api/v1/visits/"+max+"/cancel", map[string]any{"reason": "Intervention reportée"}); r.status != http.StatusOK ||
			r.object(t)["status"] != "cancelled" {
			t.Fatalf("cancelled: %d %s", r.status, r.body)
		}
	})
}

// TestVisitPages: a host registers a visit from the page, refused in
// words for a bad time; the PC Sécurité hands the badge at the gate and
// takes it back, in French and in English.
func TestVisitPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	hostPerson(t, e)
	zone, _ := time.LoadLocation("Europe/Paris")
	at := time.Now().In(zone).Add(-5 * time.Minute)
	host := e.browserWith(t, "operator", testPassword, "fr")
	host.get("/visits").has(t, http.StatusOK, "Vos visiteurs", "Enregistrer une visite", "Aucun visiteur sur le site.")
	form := url.Values{"visitor": {"Vera Visiteuse"}, "company": {"Alpha Laboratories"}, "expected_at": {"demain"}, "expected_until": {at.Add(3 * time.Hour).Format("2006-01-02T15:04")}}
	host.post("/visits", form).has(t, http.StatusBadRequest, "Choisissez une date et une heure.")
	form.Set("expected_at", at.Format("2006-01-02T15:04"))
	p := host.post("/visits", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("register: %d %s", p.status, p.text)
	}
	host.get(p.location).has(t, http.StatusOK, "Visite enregistrée", "Vera Visiteuse", "Otto Operator", "Attendue", "Annuler la visite")
	visit := p.location[:len(p.location)-len("?done=registered")]
	host.post(visit+"/arrive", url.Values{"badge": {"V-01"}}).has(t, http.StatusForbidden)

	guard := e.browserWith(t, "admin", testPassword, "fr")
	guard.get("/visits").has(t, http.StatusOK, "Hôte (badge ou nom)", "Vera Visiteuse")
	guard.post("/visits", url.Values{"visitor": {"Max"}, "company": {"Beta"}, "host": {"Personne"}, "expected_at": {at.Format("2006-01-02T15:04")},
		"expected_until": {at.Add(time.Hour).Format("2006-01-02T15:04")}}).has(t, http.StatusBadRequest, "Aucune personne du personnel n'a le badge ou le nom « Personne »")
	guard.get(visit).has(t, http.StatusOK, "Accueil au portail", "Remettre le badge")
	guard.post(visit+"/arrive", url.Values{"badge": {"0001"}}).has(t, http.StatusConflict, "Le badge 0001 est déjà porté")
	if r := guard.post(visit+"/arrive", url.Values{"badge": {"V-01"}}); r.status != http.StatusSeeOther {
		t.Fatalf("arrive: %d %s", r.status, r.text)
	}
	guard.get("/visits").has(t, http.StatusOK, "1 visiteur sur le site", "V-01")
	// Through the gate: on the presence list, with her host.
	perimeter := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "SITE", "name": "Site", "kind": "perimeter", "assembly_point": "Parking nord"})
	created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "GATE", "zone_id": perimeter, "direction": "in", "door": "Portail"})
	accessReader(t, e)
	gate := []map[string]any{{"reader": "GATE", "seq": 1, "badge": "V-01", "at": time.Now().UTC().Add(-time.Second), "allow": true, "rule": "allowed", "policy": 1}}
	if r := e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": gate}); r.status != http.StatusOK {
		t.Fatalf("the gate: %d %s", r.status, r.body)
	}
	guard.get("/security/presence").has(t, http.StatusOK, "Vera Visiteuse", "visiteur", "Hôte : Otto Operator")
	en := e.browserWith(t, "admin", testPassword, "en")
	en.get(visit).has(t, http.StatusOK, "On site", "Take the badge back", "Change the expected departure")
	r := guard.post(visit+"/depart", url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("depart: %d %s", r.status, r.text)
	}
	guard.get(r.location).has(t, http.StatusOK, "Partie", "Badge repris")
	e.browserWith(t, "client-alpha", testPassword, "fr").get("/visits").has(t, http.StatusForbidden)
}

// visitBody is a visit hosted by a person, expected from ten minutes ago
// for three hours.
func visitBody(host string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{"visitor": "Vera Visiteuse", "company": "Alpha Laboratories", "host_id": host,
		"expected_at": now.Add(-10 * time.Minute).Format(time.RFC3339), "expected_until": now.Add(3 * time.Hour).Format(time.RFC3339)}
}

// exerciseVisits runs every step of visits for the audit scenario: one
// registered, welcomed, extended, past its departure (the leader's alert,
// two hours later), gone; one cancelled; one left expected, whose id it
// answers.
func exerciseVisits(t *testing.T, e *env) string {
	t.Helper()
	id := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
	if r := e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": "V-EX"}); r.status != http.StatusOK {
		t.Fatalf("arrive: %d %s", r.status, r.body)
	}
	v := e.call(t, "admin", "GET", "/api/v1/visits/"+id, nil).object(t)
	body := visitBody(e.person.ID)
	body["version"], body["purpose"], body["reason"] = v["version"], "Audit prolongé", "Réunion prolongée"
	if r := e.call(t, "admin", "PUT", "/api/v1/visits/"+id, body); r.status != http.StatusOK {
		t.Fatalf("extend: %d %s", r.status, r.body)
	}
	real := e.db.Now
	later := real().Add(4 * time.Hour)
	e.db.Now = func() time.Time { return later }
	n, err := e.db.Access().RaiseOverdueVisits(identity.WithActor(context.Background(), identity.System))
	e.db.Now = real
	if err != nil || n != 1 {
		t.Fatalf("overdue: %d %v", n, err)
	}
	if r := e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/depart", map[string]any{}); r.status != http.StatusOK {
		t.Fatalf("depart: %d %s", r.status, r.body)
	}
	other := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
	if r := e.call(t, "admin", "POST", "/api/v1/visits/"+other+"/cancel", map[string]any{"reason": "Reportée"}); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	return created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
}

// TestJournal: the readers' journal shows the PC Sécurité each event with
// its door, who the badge was and why the reader decided, in the reader's
// language, the refusals alone on request; refused to others and to a bad
// query.
func TestJournal(t *testing.T) {
	e := newEnv(t, store.SQLite)
	zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "B30-B", "name": "Zone B", "kind": "clean_area", "grade": "B"})
	created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "R-B", "zone_id": zone, "direction": "in", "door": "SAS B"})
	accessReader(t, e)
	at := time.Now().UTC().Add(-time.Minute)
	lapsed := map[string]any{"key": "qualification.lapsed", "args": []map[string]any{{"text": map[string]any{"key": "qualification.kind.gowning"}}, {"str": "B"}, {"day": "2026-02-28"}}}
	events := []map[string]any{
		{"reader": "R-B", "seq": 1, "badge": e.person.Badge, "at": at, "allow": false, "rule": "qualification", "policy": 1, "reason": lapsed},
		{"reader": "R-B", "seq": 2, "badge": e.person.Badge, "at": at.Add(time.Second), "allow": true, "rule": "allowed", "policy": 1,
			"reason": map[string]any{"key": "access.rule.allowed", "args": []map[string]any{{"str": "Zone B"}}}},
	}
	if r := e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": events}); r.status != http.StatusOK {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	r := e.call(t, "admin", "GET", "/api/v1/access/journal?refused=1", nil, "Accept-Language", "fr")
	items := r.items(t)
	if r.status != http.StatusOK || len(items) != 1 || items[0]["name"] != "Claire Dubois" || items[0]["door"] != "SAS B" ||
		items[0]["message"] != "Qualification échue le 28/02/2026 : habillage, classe B." {
		t.Fatalf("the refusals: %d %s", r.status, r.body)
	}
	if items := e.call(t, "admin", "GET", "/api/v1/access/journal?badge="+e.person.Badge, nil).items(t); len(items) != 2 {
		t.Fatalf("the badge's journal: %v", items)
	}
	e.call(t, "admin", "GET", "/api/v1/access/journal?limit=0", nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
	e.call(t, "operator", "GET", "/api/v1/access/journal", nil).wantError(t, http.StatusForbidden, "forbidden", "")
	e.call(t, "client-alpha", "GET", "/api/v1/access/journal", nil).wantError(t, http.StatusForbidden, "forbidden", "")
	e.browserWith(t, "admin", testPassword, "en").get("/security/journal?refused=1").has(t, http.StatusOK, "Passages at the doors",
		"Claire Dubois", "SAS B", "Refused", "Qualification lapsed on 28 Feb 2026: gowning, grade B.")
	e.browserWith(t, "operator", testPassword, "fr").get("/security/journal").has(t, http.StatusForbidden)
}
