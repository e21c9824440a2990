package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
)

// TestControlledAPI: the register through the API — a substance and its
// containers, a receipt entered with bad input refused in words and
// nothing written, then signed by its performer and, on the same
// session, its witness; it then has its serial number, and the month's
// balance and the year's statement follow. The wrong roles are refused,
// a client sees nothing of it.
func TestControlledAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		sub := map[string]any{"code": "MORPH", "name": "Morphine chlorhydrate", "class": "narcotic", "unit": "g", "client_id": e.alpha.ID}
		e.call(t, "operator", "POST", "/api/v1/controlled/substances", sub).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "client-alpha", "GET", "/api/v1/controlled/substances", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		bad := map[string]any{"code": "X", "name": "X", "class": "narcotic", "unit": "L", "client_id": e.alpha.ID}
		e.call(t, "qa", "POST", "/api/v1/controlled/substances", bad).wantError(t, http.StatusBadRequest, "invalid", "unit")
		subID := created(t, base, "qa", "/api/v1/controlled/substances", sub)
		vault := created(t, base, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": subID, "code": "V-1", "lot_code": "S-26-01",
			"place": "Coffre B70", "place_kind": "vault"})
		e.call(t, "qa", "POST", "/api/v1/controlled/containers", map[string]any{"substance_id": subID, "code": "V-2", "lot_code": "S",
			"place": "Coffre", "place_kind": "garage"}).wantError(t, http.StatusBadRequest, "invalid", "place_kind")

		receipt := func() map[string]any {
			return map[string]any{"kind": "receipt", "substance_id": subID, "container_id": vault, "quantity": "25.5", "party": "Francopia",
				"document": "BL-778", "witness_id": e.accounts["supervisor"].ID}
		}
		before := e.snapshot(t)
		for _, c := range []struct {
			set   func(m map[string]any)
			field string
		}{
			{func(m map[string]any) { m["quantity"] = "-3" }, "quantity"},
			{func(m map[string]any) { m["quantity"] = "1.2345" }, "quantity"},
			{func(m map[string]any) { m["quantity"] = "many" }, "quantity"},
			{func(m map[string]any) { delete(m, "witness_id") }, "witness_id"},
			{func(m map[string]any) { m["witness_id"] = e.accounts["qa"].ID }, "witness_id"},
			{func(m map[string]any) { m["document"] = "" }, "document"},
			{func(m map[string]any) { m["container_id"] = "b6b1e7b2-0000-4000-8000-000000000000" }, "container_id"},
			{func(m map[string]any) { m["at"] = "2020-01-01T00:00:00Z" }, "at"},
		} {
			m := receipt()
			c.set(m)
			e.call(t, "qa", "POST", "/api/v1/controlled/movements", m).wantError(t, http.StatusBadRequest, "invalid", c.field)
		}
		e.call(t, "operator", "POST", "/api/v1/controlled/movements", receipt()).wantError(t, http.StatusForbidden, "forbidden", "")
		e.unchanged(t, before)

		r := e.call(t, "qa", "POST", "/api/v1/controlled/movements", receipt())
		if r.status != http.StatusCreated || r.object(t)["state"] != "entered" || r.object(t)["quantity"] != "25.500" || r.object(t)["performer_name"] != "Quentin Qualité" {
			t.Fatalf("entered: %d %s", r.status, r.body)
		}
		id := r.object(t)["id"].(string)
		if got := e.sign(t, "qa", "controlled_movement", id, "performed"); got.status != http.StatusCreated {
			t.Fatalf("performed: %d %s", got.status, got.body)
		}
		c := e.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]any{"entity": "controlled_movement", "entity_id": id, "meaning": "verified", "second_person": true})
		if c.status != http.StatusCreated {
			t.Fatalf("witness's challenge: %d %s", c.status, c.body)
		}
		if got := e.call(t, "qa", "POST", "/api/v1/signatures", signBody("supervisor", "controlled_movement", id, "verified", c.object(t)["challenge"].(string))); got.status != http.StatusCreated {
			t.Fatalf("witnessed: %d %s", got.status, got.body)
		}
		m := e.call(t, "qp", "GET", "/api/v1/controlled/movements/"+id, nil).object(t)
		if m["serial"] != float64(1) || m["state"] != "validated" || m["witness_name"] != "Sonia Superviseure" || len(m["signatures"].([]any)) != 2 {
			t.Fatalf("validated: %v", m)
		}
		reg := e.call(t, "qp", "GET", "/api/v1/controlled/movements?substance_id="+subID, nil).items(t)
		if len(reg) != 1 {
			t.Fatalf("register: %v", reg)
		}
		e.call(t, "qp", "GET", "/api/v1/controlled/movements?from=yesterday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
		month := e.call(t, "qp", "GET", "/api/v1/controlled/substances/"+subID+"/month", nil).object(t)
		if s := month["summary"].(map[string]any); s["closing"] != "25.500" || s["opening"] != "0.000" {
			t.Fatalf("month: %v", month)
		}
		e.call(t, "qp", "GET", "/api/v1/controlled/substances/"+subID+"/month?month=13-2026", nil).wantError(t, http.StatusBadRequest, "invalid", "month")
		year := time.Now().UTC().Year()
		st := e.call(t, "qp", "GET", "/api/v1/controlled/substances/"+subID+"/statement?year="+strconv.Itoa(year), nil).object(t)
		if st["received"] != "25.500" || st["closing"] != "25.500" {
			t.Fatalf("statement: %v", st)
		}
		e.call(t, "qp", "GET", "/api/v1/controlled/substances/"+subID+"/statement?year=abc", nil).wantError(t, http.StatusBadRequest, "invalid", "year")
		// No batch took any: nothing to reconcile; the substance is asked for.
		if items := e.call(t, "qp", "GET", "/api/v1/controlled/reconciliation?substance_id="+subID, nil).items(t); len(items) != 0 {
			t.Fatalf("reconciliation: %v", items)
		}
		e.call(t, "qp", "GET", "/api/v1/controlled/reconciliation", nil).wantError(t, http.StatusBadRequest, "invalid", "substance_id")

		// A sampling of more than the vault holds: refused, raised.
		over := map[string]any{"kind": "sampling", "substance_id": subID, "container_id": vault, "quantity": "30", "party": "Laboratoire CQ",
			"witness_id": e.accounts["supervisor"].ID}
		got := e.call(t, "qa", "POST", "/api/v1/controlled/movements", over)
		got.wantError(t, http.StatusConflict, "conflict", "")
		if !strings.Contains(string(got.body), "25.500") {
			t.Errorf("the refusal does not say what the container holds: %s", got.body)
		}
		alerts := e.call(t, "qp", "GET", "/api/v1/controlled/alerts", nil, "Accept-Language", "fr").items(t)
		if len(alerts) != 1 || alerts[0]["kind"] != "negative" || alerts[0]["message"] != "Refusé : Prélèvement de 30,000 g de MORPH depuis le contenant V-1, qui n'en contient pas assez." {
			t.Fatalf("alerts: %v", alerts)
		}
		aid := alerts[0]["id"].(string)
		e.call(t, "qp", "POST", "/api/v1/controlled/alerts/"+aid+"/acknowledge", map[string]any{"comment": ""}).wantError(t, http.StatusBadRequest, "invalid", "comment")
		if r := e.call(t, "qp", "POST", "/api/v1/controlled/alerts/"+aid+"/acknowledge", map[string]any{"comment": "Saisie erronée, revue avec l'équipe"}); r.status != http.StatusNoContent {
			t.Fatalf("acknowledge: %d %s", r.status, r.body)
		}

		// The inventory: a discrepancy opens a deviation.
		cnt := e.call(t, "qa", "POST", "/api/v1/controlled/counts", map[string]any{"container_id": vault, "counted": "25.4", "note": "Pesée contradictoire"})
		if cnt.status != http.StatusCreated || cnt.object(t)["deviation"] == "" || cnt.object(t)["expected"] != "25.500" {
			t.Fatalf("count: %d %s", cnt.status, cnt.body)
		}
		e.call(t, "qa", "POST", "/api/v1/controlled/counts", map[string]any{"container_id": vault, "counted": "lots"}).wantError(t, http.StatusBadRequest, "invalid", "counted")
		// The copy's state, before the leading node wrote any.
		cp := e.call(t, "qp", "GET", "/api/v1/controlled/copy", nil).object(t)
		if cp["whole"] != true || cp["missing"] != float64(1) {
			t.Fatalf("copy: %v", cp)
		}
		// To who may not read the register, a movement does not exist.
		e.call(t, "client-alpha", "GET", "/api/v1/controlled/movements/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")
		e.call(t, "operator", "GET", "/api/v1/controlled/substances/"+subID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	})
}

// exerciseControlled runs every write of the register through the API
// (and the leading node's periodic work through the store): the
// establishment set, a substance, two containers (one in the vault), a
// receipt signed by its performer and its witness, a sampling refused
// (raised) and its alert taken in charge, a loss signed then discharged,
// an inventory with a discrepancy, a dispensing to a batch done (doneBatch)
// that its master does not foresee, the vault's cross-check, the batches'
// reconciliation and the month recorded, hours and weeks later.
func exerciseControlled(t *testing.T, p *prodEnv, doneBatch string) {
	t.Helper()
	ok := func(r reply, status int, what string) reply {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		}
		return r
	}
	ok(p.call(t, "qa", "PUT", "/api/v1/controlled/establishment", map[string]any{"authorisation": "ANSM-EP-2026-0042", "authorised_on": "2026-01-15",
		"pharmacist": "Paula Personne Qualifiée"}), http.StatusOK, "establishment")
	sub := p.created(t, "qa", "/api/v1/controlled/substances", map[string]any{"code": "MORPH", "name": "Morphine", "class": "narcotic", "unit": "g", "client_id": p.alpha.ID})
	vault := p.created(t, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": "V-1", "lot_code": "S-1", "place": "Coffre", "place_kind": "vault"})
	signed := func(body map[string]any) string { return signedMovement(t, p, sub, vault, body) }
	signed(map[string]any{"kind": "receipt", "quantity": "10", "party": "Francopia", "document": "BL-1"})
	p.call(t, "qa", "POST", "/api/v1/controlled/movements", map[string]any{"kind": "sampling", "substance_id": sub, "container_id": vault, "quantity": "50",
		"party": "Laboratoire", "witness_id": p.accounts["supervisor"].ID}).wantError(t, http.StatusConflict, "conflict", "")
	alert := p.call(t, "qa", "GET", "/api/v1/controlled/alerts", nil).items(t)[0]["id"].(string)
	ok(p.call(t, "qa", "POST", "/api/v1/controlled/alerts/"+alert+"/acknowledge", map[string]any{"comment": "Erreur de saisie"}), http.StatusNoContent, "acknowledge")
	loss := signed(map[string]any{"kind": "loss", "quantity": "0.5", "cause": "Flacon brisé"})
	ok(p.call(t, "qa", "POST", "/api/v1/controlled/movements/"+loss+"/discharge", map[string]any{"document": "PV-1"}), http.StatusOK, "discharge")
	ok(p.call(t, "qa", "POST", "/api/v1/controlled/counts", map[string]any{"container_id": vault, "counted": "9.4"}), http.StatusCreated, "count")
	// A batch done on the floor took some though its master foresees
	// none: the reconciliation raises it.
	signed(map[string]any{"kind": "dispensing", "quantity": "0.1", "batch_id": doneBatch})
	sys := identity.WithActor(context.Background(), identity.System)
	real := p.db.Now
	defer func() { p.db.Now = real }()
	later := real().Add(2 * time.Hour)
	p.db.Now = func() time.Time { return later }
	// The receipt, the loss and the dispensing moved the vault's stock
	// with no one's entry: three raised.
	if n, err := p.db.Controlled().CrossCheckVault(sys); err != nil || n != 3 {
		t.Fatalf("cross-check: %d %v", n, err)
	}
	if n, err := p.db.Controlled().ReconcileBatches(sys); err != nil || n != 1 {
		t.Fatalf("reconciliation: %d %v", n, err)
	}
	weeks := real().AddDate(0, 1, 10)
	p.db.Now = func() time.Time { return weeks }
	if n, err := p.db.Controlled().RecordMonths(sys); err != nil || n < 1 {
		t.Fatalf("months: %d %v", n, err)
	}
}

// signedMovement enters a movement of the substance's container as "qa",
// witnessed by "supervisor", and has both sign it (the witness on qa's
// session): validated.
func signedMovement(t *testing.T, p *prodEnv, sub, container string, body map[string]any) string {
	t.Helper()
	ok := func(r reply, status int, what string) reply {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		}
		return r
	}
	body["substance_id"], body["container_id"], body["witness_id"] = sub, container, p.accounts["supervisor"].ID
	id := p.created(t, "qa", "/api/v1/controlled/movements", body)
	ok(p.sign(t, "qa", "controlled_movement", id, "performed"), http.StatusCreated, "performed")
	c := ok(p.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]any{"entity": "controlled_movement", "entity_id": id, "meaning": "verified",
		"second_person": true}), http.StatusCreated, "witness's challenge").object(t)["challenge"].(string)
	ok(p.call(t, "qa", "POST", "/api/v1/signatures", signBody("supervisor", "controlled_movement", id, "verified", c)), http.StatusCreated, "witnessed")
	return id
}
