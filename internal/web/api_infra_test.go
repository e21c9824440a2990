package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/text"
)

// itAccount seeds the IT engineer "it" of the environment, once.
func itAccount(t *testing.T, e *env) {
	t.Helper()
	if _, ok := e.accounts["it"]; !ok {
		e.seedAccounts(t, identity.Account{Username: "it", Name: "Ines Informatique", Roles: []identity.Role{identity.RoleIT}})
	}
}

// infraIDs are the records exerciseInfra wrote.
type infraIDs struct {
	zoneOT, zoneDC, conduit, check, flow            string
	panel, sw1, sw2, pair, plc, line, gw, mon, plan string
}

// exerciseInfra writes, through the API as IT, every kind of the
// infrastructure's records: zones, assets with a redundancy group, a line
// and a room's monitoring, a conduit, flows (one withdrawn), checks (one
// changed, one withdrawn), a result recorded by the supervision, an
// import, a planned shutdown, and an asset removed.
func exerciseInfra(t *testing.T, e *env) infraIDs {
	t.Helper()
	itAccount(t, e)
	var ids infraIDs
	ids.zoneOT = created(t, e, "it", "/api/v1/infra/zones", map[string]any{"code": "Z-OT", "name": "OT stérile", "target_sl": 3})
	ids.zoneDC = created(t, e, "it", "/api/v1/infra/zones", map[string]any{"code": "Z-DC", "name": "Centre de données", "target_sl": 3})
	asset := func(body map[string]any) string { t.Helper(); return created(t, e, "it", "/api/v1/infra/assets", body) }
	ids.panel = asset(map[string]any{"code": "B1-PWR", "name": "TGBT B1", "kind": "power_panel", "building_id": e.building.ID, "isa95_level": 0})
	ids.sw1 = asset(map[string]any{"code": "B1-SW-1", "name": "Switch 1", "kind": "switch", "room_id": e.roomD.ID, "zone_id": ids.zoneOT,
		"isa95_level": 2, "addresses": []string{"10.30.0.11"}, "depends_on": []string{ids.panel}})
	ids.sw2 = asset(map[string]any{"code": "B1-SW-2", "name": "Switch 2", "kind": "switch", "room_id": e.roomD.ID, "zone_id": ids.zoneOT,
		"isa95_level": 2, "depends_on": []string{ids.panel}})
	ids.pair = asset(map[string]any{"code": "B1-SW-PAIR", "name": "Paire", "kind": "redundancy_group", "need": 1, "isa95_level": 2,
		"depends_on": []string{ids.sw1, ids.sw2}})
	ids.plc = asset(map[string]any{"code": "L1-PLC", "name": "Automate L1", "kind": "plc", "line_id": e.line.ID, "zone_id": ids.zoneOT,
		"isa95_level": 1, "depends_on": []string{ids.pair}})
	ids.line = asset(map[string]any{"code": "L1", "name": "Ligne L1", "kind": "line", "line_id": e.line.ID, "gmp_impact": "critical",
		"isa95_level": 0, "depends_on": []string{ids.plc}})
	ids.gw = asset(map[string]any{"code": "R-GW", "name": "Passerelle", "kind": "sensor_gateway", "room_id": e.roomD.ID, "zone_id": ids.zoneDC,
		"isa95_level": 1, "depends_on": []string{ids.sw1}})
	ids.mon = asset(map[string]any{"code": "R-MON", "name": "Surveillance", "kind": "room_monitoring", "room_id": e.roomD.ID,
		"gmp_impact": "relevant", "isa95_level": 1, "depends_on": []string{ids.gw}})
	ids.conduit = created(t, e, "it", "/api/v1/infra/conduits", map[string]any{"code": "C-OT-DC", "name": "OT vers DC", "zone_a_id": ids.zoneOT,
		"zone_b_id": ids.zoneDC, "target_sl": 3, "services": []string{"tcp/8883"}})
	ids.flow = created(t, e, "it", "/api/v1/infra/flows", map[string]any{"from_id": ids.gw, "to_id": ids.plc, "service": "tcp/8883", "purpose": "MQTT"})
	gone := created(t, e, "it", "/api/v1/infra/flows", map[string]any{"from_id": ids.plc, "to_id": ids.gw, "service": "tcp/502"})
	if r := e.call(t, "it", "POST", "/api/v1/infra/flows/"+gone+"/remove", map[string]any{"reason": "Modbus retiré"}); r.status != http.StatusNoContent {
		t.Fatalf("withdraw a flow: %d %s", r.status, r.body)
	}
	ids.check = created(t, e, "it", "/api/v1/infra/checks", map[string]any{"asset_id": ids.sw1, "kind": "tcp", "target": "10.30.0.11:22", "every_seconds": 30})
	other := created(t, e, "it", "/api/v1/infra/checks", map[string]any{"asset_id": ids.sw2, "kind": "http", "target": "http://10.30.0.12/"})
	if r := e.call(t, "it", "POST", "/api/v1/infra/checks/"+other+"/remove", map[string]any{"reason": "Doublon"}); r.status != http.StatusNoContent {
		t.Fatalf("withdraw a check: %d %s", r.status, r.body)
	}
	// The supervision's result (the leading node's): switch 1 down.
	sys := identity.WithActor(context.Background(), identity.System)
	if _, err := e.db.Infra().Record(sys, map[string]infra.Result{ids.check: {State: infra.StateDown, Detail: text.Code("stored.infra.refused")}},
		time.Now()); err != nil {
		t.Fatal(err)
	}
	// An import adding an asset; one removed.
	if r := e.call(t, "it", "POST", "/api/v1/infra/inventory", "code,name,kind,building\nB1-UPS,Onduleur B1,ups,"+e.building.Code+"\n", "Content-Type", "text/csv"); r.status != http.StatusOK {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	ups := e.call(t, "it", "GET", "/api/v1/infra/assets?q=B1-UPS", nil).items(t)[0]["id"].(string)
	if r := e.call(t, "it", "POST", "/api/v1/infra/assets/"+ups+"/remove", map[string]any{"reason": "Saisi par erreur"}); r.status != http.StatusNoContent {
		t.Fatalf("remove an asset: %d %s", r.status, r.body)
	}
	// Each kind of record changed once, with its reason.
	for _, c := range []struct {
		path, field string
		value       any
	}{{"/api/v1/infra/assets/" + ids.sw2, "serial", "FOC1234X"},
		{"/api/v1/infra/zones/" + ids.zoneOT, "target_sl", 4}, {"/api/v1/infra/conduits/" + ids.conduit, "target_sl", 4},
		{"/api/v1/infra/checks/" + ids.check, "every_seconds", 60}} {
		rec := e.call(t, "it", "GET", c.path, nil).object(t)
		rec[c.field], rec["reason"] = c.value, "Relevé sur site"
		if r := e.call(t, "it", "PUT", c.path, rec); r.status != http.StatusOK {
			t.Fatalf("change %s: %d %s", c.path, r.status, r.body)
		}
	}
	from := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
	ids.plan = created(t, e, "it", "/api/v1/infra/plans", map[string]any{"title": "Remplacement du switch 1", "scope": map[string]any{"asset_ids": []string{ids.sw1}},
		"from": from.Format(time.RFC3339), "to": from.Add(2 * time.Hour).Format(time.RFC3339), "measures": "Relevés manuels en R-D."})
	return ids
}

// TestInfraAPI: the infrastructure through the API on both databases, as
// IT keeps it and as the others read it: who may read and write, bad input
// refused in words with nothing written, a loop refused, the single
// points of failure, a what-if and what is down now, the CSV round trip
// and an import refused whole, the checks, findings and events in the
// reader's language, and a planned shutdown.
func TestInfraAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ids := exerciseInfra(t, e)

		// Who reads and who writes.
		if r := e.call(t, "operator", "GET", "/api/v1/infra/assets", nil); r.status != http.StatusForbidden {
			t.Errorf("an operator lists the infrastructure: %d", r.status)
		}
		if r := e.call(t, "client-alpha", "GET", "/api/v1/infra/assets/"+ids.sw1, nil); r.status != http.StatusNotFound {
			t.Errorf("a client's user reads an asset: %d", r.status)
		}
		if r := e.call(t, "admin", "GET", "/api/v1/infra/analysis", nil); r.status != http.StatusOK {
			t.Errorf("an administrator reads the analysis: %d", r.status)
		}
		before := e.snapshot(t)
		e.call(t, "admin", "POST", "/api/v1/infra/assets", map[string]any{"code": "X", "name": "X", "kind": "switch", "building_id": e.building.ID}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		// Bad input, in words, nothing written.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"code": "has space", "name": "X", "kind": "switch", "building_id": e.building.ID}, "code"},
			{map[string]any{"code": "X", "name": "X", "kind": "toaster", "building_id": e.building.ID}, "kind"},
			{map[string]any{"code": "X", "name": "X", "kind": "switch"}, "building_id"},
			{map[string]any{"code": "X", "name": "X", "kind": "switch", "building_id": e.building.ID, "isa95_level": 7}, "isa95_level"},
			{map[string]any{"code": "X", "name": "X", "kind": "switch", "building_id": e.building.ID, "addresses": []string{"10.0.0.999"}}, "addresses"},
			{map[string]any{"code": "X", "name": "X", "kind": "redundancy_group", "need": 3, "depends_on": []string{ids.sw1, ids.sw2}}, "need"},
			{map[string]any{"code": "X", "name": "X", "kind": "switch", "building_id": e.building.ID, "depends_on": []string{newUUID(t)}}, "depends_on"},
			{map[string]any{"code": "X", "name": "X", "kind": "switch", "building_id": e.building.ID, "contract_ends": "31/12/2027"}, "contract_ends"},
		} {
			e.call(t, "it", "POST", "/api/v1/infra/assets", c.body).wantError(t, http.StatusBadRequest, "invalid", c.field)
		}
		e.call(t, "it", "POST", "/api/v1/infra/assets", map[string]any{"code": "B1-SW-1", "name": "X", "kind": "switch", "building_id": e.building.ID}).
			wantError(t, http.StatusConflict, "conflict", "code")
		// A loop: the panel made to depend on the line.
		panel := e.call(t, "it", "GET", "/api/v1/infra/assets/"+ids.panel, nil).object(t)
		panel["depends_on"], panel["reason"] = []string{ids.line}, "Boucle"
		r := e.call(t, "it", "PUT", "/api/v1/infra/assets/"+ids.panel, panel, "Accept-Language", "fr")
		r.wantError(t, http.StatusBadRequest, "invalid", "depends_on")
		if !strings.Contains(string(r.body), "boucle") {
			t.Errorf("the loop in words: %s", r.body)
		}
		e.unchanged(t, before)

		// The analysis: the pair is redundant; the panel feeds both
		// switches: a single point for the line and the monitoring.
		var an infra.Analysis
		e.call(t, "it", "GET", "/api/v1/infra/analysis", nil).decode(t, &an)
		if len(an.Points) == 0 || an.Points[0].Asset.Code != "B1-PWR" || len(an.Points[0].Stops) != 2 {
			t.Errorf("analysis: %+v", an.Points)
		}
		for _, p := range an.Points {
			if p.Asset.Code == "B1-SW-2" {
				t.Errorf("switch 2 is redundant: %+v", p)
			}
		}
		// What is down now: switch 1 (its check failed), which stops the
		// monitoring through its gateway, not the line (the pair holds).
		var live infra.Impacted
		e.call(t, "it", "GET", "/api/v1/infra/live", nil).decode(t, &live)
		if len(live.Failed) != 1 || len(live.Stopped) != 1 || live.Stopped[0].Code != "R-MON" || len(live.Rooms) != 1 || len(live.Weakened) != 1 {
			t.Errorf("live: %+v", live)
		}
		// A what-if of room R-D: everything of it stops.
		var wi infra.Impacted
		e.call(t, "it", "GET", "/api/v1/infra/whatif?"+url.Values{"room_id": {e.roomD.ID}}.Encode(), nil).decode(t, &wi)
		if wi.Lines != 1 || len(wi.Stopped) != 2 {
			t.Errorf("what-if R-D: %+v", wi)
		}
		e.call(t, "it", "GET", "/api/v1/infra/whatif", nil).wantError(t, http.StatusBadRequest, "invalid", "scope")
		e.call(t, "it", "GET", "/api/v1/infra/whatif?room_id=nope", nil).wantError(t, http.StatusBadRequest, "invalid", "room_id")

		// The CSV: it reads with a CSV reader, and imports back unchanged.
		exp := e.call(t, "it", "GET", "/api/v1/infra/inventory.csv", nil)
		if exp.status != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", exp.status, exp.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(bytes.NewReader(exp.body)).ReadAll()
		if err != nil || len(recs) != 9 || strings.Join(recs[0], ",") != strings.Join(infra.Columns, ",") {
			t.Errorf("export: %v %d lines: %s", err, len(recs), exp.body)
		}
		var imp infra.Imported
		e.call(t, "it", "POST", "/api/v1/infra/inventory", exp.body, "Content-Type", "text/csv").decode(t, &imp)
		if imp.Created != 0 || imp.Updated != 0 {
			t.Errorf("re-import of the export: %+v", imp)
		}
		before = e.snapshot(t)
		b1 := e.building.Code
		bad := "code,name,kind,building,depends_on\nN-1,Neuf,switch," + b1 + ",\nN-2,Neuf,switch,B9,\nN-3,Neuf,switch," + b1 + ",ZZZ\n"
		r = e.call(t, "it", "POST", "/api/v1/infra/inventory", bad, "Content-Type", "text/csv", "Accept-Language", "en")
		r.wantError(t, http.StatusBadRequest, "invalid", "file")
		if s := string(r.body); !strings.Contains(s, "Line 3") || !strings.Contains(s, "Line 4") || strings.Contains(s, "Line 2") {
			t.Errorf("an import with two bad lines: %s", s)
		}
		e.call(t, "it", "POST", "/api/v1/infra/inventory", `{"not":"csv"}`).wantError(t, http.StatusBadRequest, "invalid", "file")
		e.unchanged(t, before)

		// Checks and events in the reader's language.
		var checks struct{ Items []map[string]any }
		e.call(t, "it", "GET", "/api/v1/infra/checks?asset_id="+ids.sw1, nil, "Accept-Language", "fr").decode(t, &checks)
		if len(checks.Items) != 1 || checks.Items[0]["state"] != "down" || !strings.Contains(checks.Items[0]["detail"].(string), "refusée") {
			t.Errorf("checks: %+v", checks.Items)
		}
		e.call(t, "it", "POST", "/api/v1/infra/checks", map[string]any{"asset_id": ids.sw1, "kind": "tcp", "target": "no port"}).
			wantError(t, http.StatusBadRequest, "invalid", "target")
		e.call(t, "it", "POST", "/api/v1/infra/checks", map[string]any{"asset_id": ids.sw1, "kind": "tcp", "target": "10.0.0.1:22", "every_seconds": 1}).
			wantError(t, http.StatusBadRequest, "invalid", "every_seconds")
		evs := e.call(t, "it", "GET", "/api/v1/infra/events?asset_id="+ids.sw1, nil, "Accept-Language", "en").items(t)
		if len(evs) != 1 || evs[0]["to"] != "down" || !strings.Contains(evs[0]["detail"].(string), "refused") {
			t.Errorf("events: %+v", evs)
		}
		e.call(t, "it", "GET", "/api/v1/infra/events?limit=0", nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
		// The conduit rules: the gateway's MQTT to the PLC crosses the
		// conduit it names; nothing is found.
		if fs := e.call(t, "it", "GET", "/api/v1/infra/findings", nil).items(t); len(fs) != 0 {
			t.Errorf("findings: %+v", fs)
		}
		created(t, e, "it", "/api/v1/infra/flows", map[string]any{"from_id": ids.plc, "to_id": ids.gw, "service": "tcp/4840"})
		fs := e.call(t, "it", "GET", "/api/v1/infra/findings", nil, "Accept-Language", "fr").items(t)
		if len(fs) != 1 || fs[0]["key"] != "infra.finding.no_conduit" || !strings.Contains(fs[0]["message"].(string), "sans conduit") {
			t.Errorf("findings: %+v", fs)
		}

		// The planned shutdown read back, with what it stops; a bad one
		// refused.
		plan := e.call(t, "admin", "GET", "/api/v1/infra/plans/"+ids.plan, nil).object(t)
		if !strings.HasPrefix(plan["code"].(string), "PS-") || plan["impact"].(map[string]any)["score"].(float64) <= 0 {
			t.Errorf("plan: %+v", plan)
		}
		e.call(t, "it", "POST", "/api/v1/infra/plans", map[string]any{"title": "Arrêt", "scope": map[string]any{}, "from": time.Now().Add(time.Hour).Format(time.RFC3339),
			"to": time.Now().Add(2 * time.Hour).Format(time.RFC3339)}).wantError(t, http.StatusBadRequest, "invalid", "scope")
		e.call(t, "operator", "GET", "/api/v1/infra/plans/"+ids.plan, nil).wantError(t, http.StatusNotFound, "not_found", "")
	})
}
