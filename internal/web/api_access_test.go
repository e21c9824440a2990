package web_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"galenix/internal/access"
	"galenix/internal/store"
)

// accessReader gives the env a reader's machine token (scope
// access:write), called "reader-token", once.
func accessReader(t *testing.T, e *env) {
	t.Helper()
	e.mu.Lock()
	_, done := e.tokens["reader-token"]
	e.mu.Unlock()
	if done {
		return
	}
	r := e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": "Readers B30", "scopes": []string{"access:write"}, "reason": "New reader controller"})
	if r.status != http.StatusCreated {
		t.Fatalf("a reader's token: %d %s", r.status, r.body)
	}
	e.withToken("reader-token", r.object(t)["secret"].(string))
}

// exerciseAccess has the administrator record a zone and its reader and
// change both, and a reader's controller deliver two events; it returns
// the zone's and the reader's ids.
func exerciseAccess(t *testing.T, e *env) (zone, reader string) {
	t.Helper()
	zone = created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "Z-EX", "name": "Bâtiment exercice", "kind": "building"})
	reader = created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "R-EX", "zone_id": zone, "direction": "in", "door": "Porte principale"})
	z := e.call(t, "admin", "GET", "/api/v1/zones/"+zone, nil).object(t)
	z["assembly_point"], z["reason"] = "Parking nord", "Point de rassemblement affiché"
	if r := e.call(t, "admin", "PUT", "/api/v1/zones/"+zone, z); r.status != http.StatusOK {
		t.Fatalf("update the zone: %d %s", r.status, r.body)
	}
	rd := e.call(t, "admin", "GET", "/api/v1/readers/"+reader, nil).object(t)
	rd["door"], rd["reason"] = "Porte principale, côté est", "Porte renommée"
	if r := e.call(t, "admin", "PUT", "/api/v1/readers/"+reader, rd); r.status != http.StatusOK {
		t.Fatalf("update the reader: %d %s", r.status, r.body)
	}
	accessReader(t, e)
	now := time.Now().UTC()
	events := []access.Event{{Reader: "R-EX", Seq: 1, Badge: e.person.Badge, At: now, Allow: true, Rule: "allowed", Policy: 1},
		{Reader: "R-EX", Seq: 2, Badge: "NOBODY", At: now, Rule: "badge", Policy: 1}}
	if r := e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": events}); r.status != http.StatusOK {
		t.Fatalf("deliver events: %d %s", r.status, r.body)
	}
	// The alarm: the person let in is on site, checked off, the muster
	// ended.
	m := e.call(t, "admin", "POST", "/api/v1/musters", map[string]any{"reason": "Exercice d'évacuation"})
	if m.status != http.StatusCreated {
		t.Fatalf("start a muster: %d %s", m.status, m.body)
	}
	id := m.object(t)["id"].(string)
	if r := e.call(t, "admin", "POST", "/api/v1/musters/"+id+"/check", map[string]any{"person_id": e.person.ID}); r.status != http.StatusOK {
		t.Fatalf("check off: %d %s", r.status, r.body)
	}
	if r := e.call(t, "admin", "POST", "/api/v1/musters/"+id+"/end", map[string]any{"reason": "Tout le monde est là"}); r.status != http.StatusOK {
		t.Fatalf("end the muster: %d %s", r.status, r.body)
	}
	return zone, reader
}

// created posts a new record as who and returns its id.
func created(t *testing.T, e *env, who, path string, body any) string {
	t.Helper()
	r := e.call(t, who, "POST", path, body)
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	return r.object(t)["id"].(string)
}

// TestAccessAPI: the administrator records zones and readers, refused in
// words when the input is bad and to other roles; a reader's machine
// token fetches the policy, signed by the site's key, verifies it, and
// delivers its events: stored once each, the gap reported then closed;
// the token reaches nothing else, and an operator neither.
func TestAccessAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		key := withAuditKey(t, e)
		e.call(t, "operator", "POST", "/api/v1/zones", map[string]any{"code": "Z", "name": "Z", "kind": "building"}).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "admin", "POST", "/api/v1/zones", map[string]any{"code": "Z", "name": "Z", "kind": "clean_area"}).wantError(t, http.StatusBadRequest, "invalid", "grade")
		e.call(t, "admin", "POST", "/api/v1/zones", map[string]any{"code": "Z", "name": "Z", "kind": "garden"}).wantError(t, http.StatusBadRequest, "invalid", "kind")
		e.call(t, "admin", "POST", "/api/v1/zones", map[string]any{"code": "S", "name": "Serveurs", "kind": "server_room", "roles": []string{"operator"}}).
			wantError(t, http.StatusBadRequest, "invalid", "roles")
		clean := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "B30-B", "name": "Zone B", "kind": "clean_area", "grade": "B",
			"building_id": e.building.ID, "assembly_point": "Parking nord"})
		e.call(t, "admin", "POST", "/api/v1/zones", map[string]any{"code": "B30-B", "name": "Again", "kind": "building"}).wantError(t, http.StatusConflict, "conflict", "code")
		e.call(t, "admin", "POST", "/api/v1/readers", map[string]any{"code": "R", "zone_id": clean, "direction": "up", "door": "SAS"}).
			wantError(t, http.StatusBadRequest, "invalid", "direction")
		e.call(t, "admin", "POST", "/api/v1/readers", map[string]any{"code": "R", "zone_id": newUUID(t), "direction": "in", "door": "SAS"}).
			wantError(t, http.StatusBadRequest, "invalid", "zone_id")
		created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "R-B-IN", "zone_id": clean, "direction": "in", "door": "SAS B"})
		if zs := e.call(t, "operator", "GET", "/api/v1/zones", nil).items(t); len(zs) != 1 || zs[0]["grade"] != "B" {
			t.Errorf("the zones as the operator reads them: %v", zs)
		}
		e.call(t, "client-alpha", "GET", "/api/v1/zones", nil).wantError(t, http.StatusForbidden, "forbidden", "")

		// The reader's token: the policy, verified with the site's key.
		accessReader(t, e)
		e.call(t, "operator", "GET", "/api/v1/access/policy", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		r := e.call(t, "reader-token", "GET", "/api/v1/access/policy", nil)
		if r.status != http.StatusOK {
			t.Fatalf("the policy: %d %s", r.status, r.body)
		}
		var b access.Bundle
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		d := access.NewDevice(key.Public().(ed25519.PublicKey))
		if err := d.Load(&b); err != nil {
			t.Fatalf("the reader refuses the site's policy: %v", err)
		}
		// Claire Dubois, the env's person, has no gowning: refused, in words.
		ev := d.Swipe("R-B-IN", e.person.Badge, time.Now())
		if ev.Allow || ev.Rule != access.RuleQualification {
			t.Fatalf("no gowning at grade B: %+v", ev)
		}
		e.call(t, "reader-token", "GET", "/api/v1/zones", nil).wantError(t, http.StatusForbidden, "forbidden", "")

		// Offline, three more; delivered without the second, then all.
		d.Online = false
		for range 3 {
			d.Swipe("R-B-IN", e.person.Badge, time.Now())
		}
		all := d.Pending()
		part := []access.Event{all[0], all[2], all[3]}
		e.call(t, "operator", "POST", "/api/v1/access/events", map[string]any{"events": part}).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "admin", "POST", "/api/v1/access/events", map[string]any{"events": part}).wantError(t, http.StatusForbidden, "forbidden", "")
		got := e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": part}).object(t)
		if got["stored"] != 3.0 || got["acked"].(map[string]any)["R-B-IN"] != 1.0 || len(got["gaps"].([]any)) != 1 {
			t.Fatalf("the first delivery: %v", got)
		}
		if gaps := e.call(t, "admin", "GET", "/api/v1/access/gaps", nil).items(t); len(gaps) != 1 || gaps[0]["from"] != 2.0 || gaps[0]["to"] != 2.0 {
			t.Fatalf("the gaps: %v", gaps)
		}
		got = e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": all}).object(t)
		if got["stored"] != 1.0 || got["duplicates"] != 3.0 || got["acked"].(map[string]any)["R-B-IN"] != 4.0 || len(got["gaps"].([]any)) != 0 {
			t.Fatalf("everything: %v", got)
		}
		e.call(t, "reader-token", "POST", "/api/v1/access/events", `{"events": "garbage"}`).wantError(t, http.StatusBadRequest, "invalid", "events")
	})
}

// TestMusterPages: the env's person let in by a reader is on site; the
// administrator (who holds the security permission) starts the muster
// from the presence page, a reason required, checks the person off, and
// ends it; an operator is refused the pages.
func TestMusterPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "SITE", "name": "Site", "kind": "perimeter", "assembly_point": "Parking nord"})
	created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "GATE", "zone_id": zone, "direction": "in", "door": "Portail"})
	accessReader(t, e)
	events := []access.Event{{Reader: "GATE", Seq: 1, Badge: e.person.Badge, At: time.Now().UTC().Add(-time.Minute), Allow: true, Rule: "allowed", Policy: 1}}
	if r := e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": events}); r.status != http.StatusOK {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	b := e.browserWith(t, "admin", testPassword, "fr")
	b.get("/security/presence").has(t, http.StatusOK, "1 personne sur le site", "Claire Dubois", "Parking nord", "Lancer le rassemblement")
	b.post("/security/musters", url.Values{"reason": {" "}}).has(t, http.StatusBadRequest, "Dites pourquoi")
	p := b.post("/security/musters", url.Values{"reason": {"Alarme incendie"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("start: %d %s", p.status, p.text)
	}
	b.get(p.location).has(t, http.StatusOK, "Alarme incendie", "1 manquant sur 1", "Claire Dubois", "Présent")
	b.post(p.location+"/check", url.Values{"person_id": {newUUID(t)}}).has(t, http.StatusBadRequest, "n'était pas sur le site")
	if c := b.post(p.location+"/check", url.Values{"person_id": {e.person.ID}}); c.status != http.StatusSeeOther {
		t.Fatalf("check: %d %s", c.status, c.text)
	}
	b.get(p.location).has(t, http.StatusOK, "0 manquant sur 1", "Présent à")
	if c := b.post(p.location+"/end", url.Values{"reason": {"Tout le monde est là"}}); c.status != http.StatusSeeOther {
		t.Fatalf("end: %d %s", c.status, c.text)
	}
	b.get(p.location).has(t, http.StatusOK, "terminé")
	e.browserWith(t, "operator", testPassword, "fr").get("/security/presence").has(t, http.StatusForbidden)
}

// TestZonePages: the PC Sécurité adds a zone and its reader from the
// page, refused in words for a clean area without its grade; the page
// shows what entering each zone takes and its readers; an operator is
// refused the page.
func TestZonePages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	b := e.browserWith(t, "admin", testPassword, "fr")
	b.get("/security/zones").has(t, http.StatusOK, "Zones et lecteurs de badges", "Aucune zone.", "Ajouter une zone")
	b.post("/security/zones", url.Values{"code": {"B30-B"}, "name": {"Zone B"}, "kind": {"clean_area"}}).has(t, http.StatusBadRequest, "classe")
	if p := b.post("/security/zones", url.Values{"code": {"B30-B"}, "name": {"Zone B"}, "kind": {"clean_area"}, "grade": {"B"},
		"building_id": {e.building.ID}, "assembly_point": {"Parking nord"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add a zone: %d %s", p.status, p.text)
	}
	zones := e.call(t, "admin", "GET", "/api/v1/zones", nil).items(t)
	if len(zones) != 1 {
		t.Fatalf("zones: %v", zones)
	}
	b.post("/security/readers", url.Values{"code": {"R-B"}, "zone_id": {zones[0]["id"].(string)}, "direction": {"up"}, "door": {"SAS"}}).
		has(t, http.StatusBadRequest, "up")
	if p := b.post("/security/readers", url.Values{"code": {"R-B"}, "zone_id": {zones[0]["id"].(string)}, "direction": {"in"}, "door": {"SAS B"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add a reader: %d %s", p.status, p.text)
	}
	b.get("/security/zones").has(t, http.StatusOK, "Zone B", "Zone à atmosphère contrôlée", "habillage qualifié pour la classe B", "interdite aux visiteurs",
		"R-B", "SAS B", "Parking nord")
	e.browserWith(t, "admin", testPassword, "en").get("/security/zones").has(t, http.StatusOK, "Clean area", "gowning qualified for grade B")
	e.browserWith(t, "operator", testPassword, "fr").get("/security/zones").has(t, http.StatusForbidden)
}
