package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"galenix/internal/store"
)

// TestControlledPages: the register's pages by form, as quality
// assurance keeps it: a movement with a bad quantity refused on its field
// and nothing written; entered, then signed by its performer and by its
// witness typing their own credentials on the same session, after which
// the register shows it numbered with both names; a wrong password
// refused. An operator and a client's user are refused the register.
func TestControlledPages(t *testing.T) {
	e := newSignEnv(t, newEnv(t, store.SQLite))
	sub := created(t, e.env, "qa", "/api/v1/controlled/substances", map[string]any{"code": "MORPH", "name": "Morphine", "class": "narcotic", "unit": "g",
		"client_id": e.alpha.ID})
	vault := created(t, e.env, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": "V-1", "lot_code": "S-1",
		"place": "Coffre", "place_kind": "vault"})

	qa := e.browserWith(t, "qa", testPassword, "fr")
	qa.get("/controlled").has(t, http.StatusOK, "Registre des stupéfiants", "MORPH", "V-1", "Aucun mouvement ce mois-ci.")
	qa.get("/controlled/movements/new?substance="+sub).has(t, http.StatusOK, "Saisir un mouvement", "Sonia Superviseure (supervisor)")
	form := func(q string) url.Values {
		return url.Values{"substance_id": {sub}, "kind": {"receipt"}, "container_id": {vault}, "quantity": {q}, "party": {"Francopia"},
			"document": {"BL-1"}, "witness": {"supervisor"}}
	}
	before := e.snapshot(t)
	qa.post("/controlled/movements", form("beaucoup")).has(t, http.StatusBadRequest, "Indiquez une quantité positive")
	bad := form("12,5")
	bad.Set("witness", "qa")
	qa.post("/controlled/movements", bad).has(t, http.StatusBadRequest)
	e.unchanged(t, before)
	if n := len(e.call(t, "qa", "GET", "/api/v1/controlled/movements?pending=true", nil).items(t)); n != 0 {
		t.Fatalf("refused forms entered %d movements", n)
	}

	p := qa.post("/controlled/movements", form("12,5"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("entering: %d\n%s", p.status, p.text)
	}
	page := qa.follow(t, p)
	page.has(t, http.StatusOK, "Mouvement saisi", "en attente de signatures")
	mov := regexp.MustCompile(`/controlled/movements/([0-9a-f-]{36})`).FindStringSubmatch(p.location)
	if mov == nil {
		t.Fatalf("entering led to %q", p.location)
	}
	sign := func(meaning, who, password string) webPage {
		return qa.post("/controlled/movements/"+mov[1]+"/sign", url.Values{"meaning": {meaning}, "username": {who}, "password": {password}})
	}
	qa.follow(t, sign("performed", "qa", testPassword)).has(t, http.StatusOK, "Signature enregistrée.")
	sign("verified", "supervisor", "not the password").has(t, http.StatusUnauthorized)
	qa.follow(t, sign("verified", "supervisor", testPassword)).has(t, http.StatusOK, "Mouvement validé et numéroté au registre.", "N° 1")
	qa.get("/controlled?substance="+sub).has(t, http.StatusOK, "N° 1", "Quentin Qualité", "Sonia Superviseure", "12,500 g")

	// The English pages, and those refused.
	e.browserWith(t, "qa", testPassword, "en").get("/controlled/inventory").has(t, http.StatusOK, "Inventories", "Count a container")
	e.browserWith(t, "qp", testPassword, "en").get("/controlled/statement?substance="+sub).has(t, http.StatusOK, "Annual statement", "12.500 g")
	e.browserWith(t, "operator", testPassword, "fr").get("/controlled").has(t, http.StatusForbidden)
	e.browserWith(t, "client-alpha", testPassword, "fr").get("/controlled").has(t, http.StatusForbidden)
}
