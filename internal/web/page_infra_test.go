package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

// infraSite is a small infrastructure of building B30: the electrical
// room R-D holds the panel, the UPS, the core switch and two servers; the
// sterile line L1 in R-B has its PLC behind the switch, the room's
// monitoring its gateway; the MES service needs one of the two servers
// and the switch. Zones OT and IT, a conduit too weak for OT, a flow of
// the PLC no conduit allows.
type infraSite struct {
	panel, ups, core, plc, line, gw, mon, srv1, srv2, group, mes infra.Asset
	coreCheck, srvCheck                                          infra.Check
	ot, it                                                       infra.Zone
}

// seedInfra builds the infrastructure as the IT account "it" (which must
// exist).
func seedInfra(t *testing.T, e *env) *infraSite {
	t.Helper()
	it := e.accounts["it"]
	ctx := identity.WithActor(context.Background(), it.Actor())
	svc := e.db.Infra()
	s := &infraSite{ot: infra.Zone{Code: "Z-OT", Name: "Sterile OT", Target: 3}, it: infra.Zone{Code: "Z-IT", Name: "Data centre", Target: 2}}
	for _, z := range []*infra.Zone{&s.ot, &s.it} {
		if err := svc.CreateZone(ctx, z); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(a *infra.Asset, v infra.Asset, deps ...*infra.Asset) {
		t.Helper()
		for _, d := range deps {
			v.DependsOn = append(v.DependsOn, d.ID)
		}
		if err := svc.CreateAsset(ctx, &v); err != nil {
			t.Fatalf("%s: %v", v.Code, err)
		}
		*a = v
	}
	b, rd, rb := e.building.ID, e.roomD.ID, e.roomB.ID
	mk(&s.panel, infra.Asset{Code: "PANEL-B30", Name: "Main panel", Kind: infra.PowerPanel, BuildingID: b, RoomID: rd})
	mk(&s.ups, infra.Asset{Code: "UPS-B30", Name: "Main UPS", Kind: infra.UPS, RoomID: rd, Model: "Galaxy 5500", Serial: "UPS-77-1234",
		Owner: "IT team", Contract: "Full care", ContractEnds: "2027-06-30"}, &s.panel)
	mk(&s.core, infra.Asset{Code: "SW-CORE", Name: "Core switch", Kind: infra.Switch, RoomID: rd, ZoneID: s.ot.ID, Level: 2,
		Addresses: []string{"10.30.0.1", "10.30.0.0/24"}}, &s.ups)
	mk(&s.plc, infra.Asset{Code: "PLC-L1", Name: "Filler PLC", Kind: infra.PLC, LineID: e.line.ID, ZoneID: s.ot.ID, Level: 1}, &s.core)
	mk(&s.line, infra.Asset{Code: "LINE-L1", Name: "Vial filling", Kind: infra.Line, LineID: e.line.ID, Impact: infra.ImpactCritical}, &s.plc)
	mk(&s.gw, infra.Asset{Code: "GW-RB", Name: "Sensor gateway", Kind: infra.SensorGateway, RoomID: rb, ZoneID: s.ot.ID}, &s.core)
	mk(&s.mon, infra.Asset{Code: "MON-RB", Name: "Aseptic filling monitoring", Kind: infra.RoomMonitoring, RoomID: rb, Impact: infra.ImpactCritical}, &s.gw)
	mk(&s.srv1, infra.Asset{Code: "SRV-1", Name: "Server one", Kind: infra.Server, RoomID: rd, ZoneID: s.it.ID}, &s.ups)
	mk(&s.srv2, infra.Asset{Code: "SRV-2", Name: "Server two", Kind: infra.Server, RoomID: rd, ZoneID: s.it.ID}, &s.panel)
	mk(&s.group, infra.Asset{Code: "GRP-SRV", Name: "Server pair", Kind: infra.Group, Need: 1}, &s.srv1, &s.srv2)
	mk(&s.mes, infra.Asset{Code: "SVC-MES", Name: "Execution system", Kind: infra.ServiceKind, Impact: infra.ImpactRelevant}, &s.group, &s.core)
	s.coreCheck = infra.Check{AssetID: s.core.ID, Kind: infra.CheckTCP, Target: "10.30.0.1:22", Every: 30}
	s.srvCheck = infra.Check{AssetID: s.srv1.ID, Kind: infra.CheckHTTP, Target: "http://10.30.0.21/health", Every: 60}
	for _, c := range []*infra.Check{&s.coreCheck, &s.srvCheck} {
		if err := svc.CreateCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	conduit := infra.Conduit{Code: "C-OT-IT", Name: "OT to IT", ZoneA: s.ot.ID, ZoneB: s.it.ID, Target: 2, Services: []string{"tcp/443"}}
	if err := svc.CreateConduit(ctx, &conduit); err != nil {
		t.Fatal(err)
	}
	flow := infra.Flow{From: s.plc.ID, To: s.srv1.ID, Service: "tcp/502", Purpose: "Batch data"}
	if err := svc.CreateFlow(ctx, &flow); err != nil {
		t.Fatal(err)
	}
	s.record(t, e, s.srvCheck.ID, infra.StateUp, text.Code("stored.infra.http_status", text.Str("200")))
	return s
}

// record writes a check's result as the supervision does.
func (s *infraSite) record(t *testing.T, e *env, check string, st infra.State, detail text.Coded) {
	t.Helper()
	_, err := e.db.Infra().Record(identity.WithActor(context.Background(), identity.System), map[string]infra.Result{check: {State: st, Detail: detail}},
		time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// infraTables are the infrastructure's tables a refused form must leave
// as they are.
var infraTables = []string{"infra_assets", "infra_dependencies", "infra_checks", "infra_plans", "infra_zones", "infra_conduits", "infra_flows", "audit_log"}

func infraCounts(t *testing.T, e *env) map[string]int {
	t.Helper()
	n, err := e.db.Counts(identity.WithActor(context.Background(), identity.System), infraTables...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func infraUnchanged(t *testing.T, e *env, before map[string]int) {
	t.Helper()
	for k, n := range infraCounts(t, e) {
		if n != before[k] {
			t.Errorf("%s: %d rows, want %d: a refused form wrote", k, n, before[k])
		}
	}
}

// postFile posts a multipart form: its fields and a file.
func (b *webBrowser) postFile(path string, fields url.Values, name string, data []byte) webPage {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// download gets a file: its status, headers and bytes.
func (b *webBrowser) download(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestInfraPages: the infrastructure's pages as IT keeps them, in French
// and in English. IT lands on its home; a check finding the core switch
// down shows there what it stops (the line, the room's monitoring, which
// goes to manual readings, the MES) with its cause; the single points of
// failure rank the shared panel first; the what-if of the electrical room
// lists what it stops; a planned shutdown is drafted from it, a bad one
// refused with its reason and nothing written; the CSV export reads back
// and imports unchanged, an import with two bad lines names both and
// writes nothing; an asset is changed at its version (a stale change
// refused), a check added and removed with its reason. Quality assurance
// reads without a form and is refused a write; an operator and a client's
// user are refused the pages.
func TestInfraPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	e.seedAccounts(t, identity.Account{Username: "it", Name: "Iris Network", Roles: []identity.Role{identity.RoleIT}},
		identity.Account{Username: "qa", Name: "Quentin Quality", Roles: []identity.Role{identity.RoleQA}})
	s := seedInfra(t, e)
	fr := e.browserWith(t, "it", testPassword, "fr")
	en := e.browserWith(t, "it", testPassword, "en")

	if p := fr.get("/"); p.status != http.StatusSeeOther || p.location != "/infra" {
		t.Fatalf("IT's home: %d %q", p.status, p.location)
	}
	fr.get("/infra").has(t, http.StatusOK, "Infrastructure du site", "Rien n'est en panne", `href="/infra"`, "Nouvel élément",
		"Points uniques de défaillance", "PANEL-B30", "Flux hors des conduits", "Le flux PLC-L1 → SRV-1 (tcp/502)", "Le conduit C-OT-IT vise SL 2")

	t.Run("down now", func(t *testing.T) {
		s.record(t, e, s.coreCheck.ID, infra.StateDown, text.Code("stored.infra.timeout"))
		p := fr.get("/infra")
		p.has(t, http.StatusOK, "En panne maintenant", "SW-CORE", "LINE-L1", "MON-RB", "SVC-MES", "Cause :", "Relevés manuels à prévoir",
			"Pas de réponse dans le délai", "2 autres éléments tombent avec eux.")
		p.lacks(t, "Rien n'est en panne")
		en.get("/infra").has(t, http.StatusOK, "Down now", "Manual readings to plan", "No answer in time", "Production line", "GMP critical")
		fr.get("/infra/map").has(t, http.StatusOK, "Plan du site", "Bâtiment 30", "Aseptic filling", "Relevés manuels", "Arrêté", `hx-trigger="every 15s"`,
			"Sans emplacement physique", "GRP-SRV")
		en.get("/infra/map").has(t, http.StatusOK, "Site map", "Manual readings", "Stopped", "Without a physical place")
		fr.get("/infra/assets/"+s.core.ID).has(t, http.StatusOK, "Core switch", "Hors service", "10.30.0.0/24", "Connexion TCP", "10.30.0.1:22",
			"Pas de réponse dans le délai", "Alimentation", "UPS-B30", "En dépendent", "PLC-L1", "Ce que sa perte seule arrête", "LINE-L1", "Z-OT")
		en.get("/infra/assets/"+s.ups.ID).has(t, http.StatusOK, "Main UPS", "Galaxy 5500", "until 30 Jun 2027", "Depends on", "PANEL-B30", "What its loss alone stops")
		s.record(t, e, s.coreCheck.ID, infra.StateUp, text.Code("stored.infra.tcp_up"))
		fr.get("/infra").has(t, http.StatusOK, "Rien n'est en panne", "Connexion TCP établie")
	})

	t.Run("single points", func(t *testing.T) {
		p := fr.get("/infra/spof")
		p.has(t, http.StatusOK, "Points uniques de défaillance", "Points partagés", "1 équipement propre à une ligne", "PLC-L1", "Bâtiments et salles",
			"R-D — Packaging")
		first := regexp.MustCompile(`id="spof-([0-9a-f-]{36})"`).FindStringSubmatch(p.body)
		if first == nil || first[1] != s.panel.ID {
			t.Errorf("the first single point is %v, want the panel %s", first, s.panel.ID)
		}
		en.get("/infra/spof").has(t, http.StatusOK, "Single points of failure", "Shared points", "1 item of a line's own", "Buildings and rooms")
	})

	t.Run("what if", func(t *testing.T) {
		q := "/infra/whatif?room_id=" + e.roomD.ID
		fr.get(q).has(t, http.StatusOK, "Ce qui s'arrêterait", "Lignes de production arrêtées", "LINE-L1", "Surveillance GMP des salles perdue", "MON-RB",
			"Services arrêtés", "SVC-MES", "Relevés manuels à prévoir", "Préparer l'arrêt planifié")
		en.get(q).has(t, http.StatusOK, "What would stop", "Production lines stopped", "Rooms' GMP monitoring lost", "Manual readings to plan")
		fr.get("/infra/whatif?codes=SRV-1").has(t, http.StatusOK, "Rien ne s'arrêterait", "Redondance réduite", "GRP-SRV")
		fr.get("/infra/whatif?codes=NOPE").has(t, http.StatusBadRequest, "Aucun élément de l'inventaire n'a le code « NOPE ».")
	})

	t.Run("planned shutdown", func(t *testing.T) {
		day := time.Now().In(site.DefaultLocation()).AddDate(0, 0, 2).Format(time.DateOnly)
		form := url.Values{"room_id": {e.roomD.ID}, "title": {"UPS"}, "from": {day + "T08:00"}, "to": {day + "T12:00"},
			"measures": {"Manual readings in R-B every hour."}}
		before := infraCounts(t, e)
		fr.post("/infra/plans", form).has(t, http.StatusBadRequest, "Un intitulé de 5 à 200 caractères est requis.", "Manual readings in R-B every hour.")
		en.post("/infra/plans", form).has(t, http.StatusBadRequest, "A title")
		infraUnchanged(t, e, before)
		form.Set("title", "UPS battery replacement")
		p := fr.post("/infra/plans", form)
		page := fr.follow(t, p)
		page.has(t, http.StatusOK, "Arrêt planifié enregistré.", "PS-", "UPS battery replacement", "R-D — Packaging", "LINE-L1", "Relevés manuels à prévoir",
			"Manual readings in R-B every hour.", "Iris Network")
		en.get(strings.Split(p.location, "?")[0]).has(t, http.StatusOK, "What stops", "Production lines stopped", "drafted by Iris Network")
		fr.get("/infra/plans").has(t, http.StatusOK, "Arrêts planifiés", "UPS battery replacement", "1 salle en relevés manuels")
		fr.get("/infra").has(t, http.StatusOK, "Prochains arrêts planifiés", "UPS battery replacement")
	})

	t.Run("csv", func(t *testing.T) {
		resp, first := fr.download(t, "/infra/assets.csv")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
		}
		rows, err := csv.NewReader(bytes.NewReader(first)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], infra.Columns) || len(rows) != 12 {
			t.Fatalf("export: header %v, %d rows", rows[0], len(rows))
		}
		var mes []string
		for _, r := range rows {
			if r[0] == "SVC-MES" {
				mes = r
			}
		}
		if mes == nil || mes[16] != "GRP-SRV SW-CORE" || mes[14] != "relevant" {
			t.Errorf("the MES's line: %v", mes)
		}
		before := infraCounts(t, e)
		p := fr.postFile("/infra/assets/import", url.Values{"reason": {"Round trip"}}, "assets.csv", first)
		if p.status != http.StatusSeeOther || !strings.Contains(p.location, "created=0") || !strings.Contains(p.location, "updated=0") {
			t.Fatalf("re-import: %d %q\n%s", p.status, p.location, p.text)
		}
		fr.get(p.location).has(t, http.StatusOK, "Import enregistré : 0 créé, 0 modifié.")
		en.get(p.location).has(t, http.StatusOK, "Import recorded: 0 created, 0 changed.")
		if _, again := fr.download(t, "/infra/assets.csv"); !bytes.Equal(again, first) {
			t.Errorf("the export changed after its own import:\n%s\n%s", first, again)
		}
		infraUnchanged(t, e, before)
		if _, sw := fr.download(t, "/infra/assets.csv?kind=switch"); strings.Count(string(sw), "\n") != 2 {
			t.Errorf("the switches' export:\n%s", sw)
		}

		bad := "code,name,kind,building\nX-1,Toaster,toaster,B30\nX-2,Spare switch,switch,B30\n,Nameless,switch,B30\n"
		p = fr.postFile("/infra/assets/import", url.Values{"reason": {"New switches"}}, "bad.csv", []byte(bad))
		p.has(t, http.StatusBadRequest, "Import refusé, rien n'a été enregistré", "Ligne 2 :", "« toaster »", "Ligne 4 :", "New switches")
		en.postFile("/infra/assets/import", url.Values{"reason": {"New switches"}}, "bad.csv", []byte(bad)).has(t, http.StatusBadRequest,
			"Line 2", "Line 4")
		infraUnchanged(t, e, before)
		fr.postFile("/infra/assets/import", nil, "empty.csv", nil).has(t, http.StatusBadRequest)
		infraUnchanged(t, e, before)
	})

	t.Run("asset forms", func(t *testing.T) {
		fr.get("/infra/assets/new").has(t, http.StatusOK, "Nouvel élément", "Groupe de redondance", "R-B — Aseptic filling", "Z-OT — Sterile OT")
		before := infraCounts(t, e)
		form := url.Values{"code": {"SW-EDGE"}, "name": {"Edge switch"}, "kind": {"switch"}, "building_id": {e.building.ID}, "depends_on": {"SW-CORE NOPE"},
			"gmp_impact": {"none"}}
		fr.post("/infra/assets", form).has(t, http.StatusBadRequest, "Aucun élément de l'inventaire n'a le code « NOPE ».", "Edge switch")
		infraUnchanged(t, e, before)
		form.Set("depends_on", "sw-core")
		p := fr.post("/infra/assets", form)
		fr.follow(t, p).has(t, http.StatusOK, "Élément créé.", "Edge switch", "SW-CORE", "Aucun contrôle")
		id := strings.TrimPrefix(strings.Split(p.location, "?")[0], "/infra/assets/")

		edit := fr.get("/infra/assets/" + id + "/edit")
		edit.has(t, http.StatusOK, "Modifier l'élément", `name="version" value="1"`, `value="SW-CORE"`, "Raison de la modification")
		change := url.Values{"version": {"1"}, "code": {"SW-EDGE"}, "name": {"Edge switch 1"}, "kind": {"switch"}, "building_id": {e.building.ID},
			"depends_on": {"SW-CORE"}, "gmp_impact": {"none"}, "serial": {"FOC-1"}}
		fr.post("/infra/assets/"+id, change).has(t, http.StatusBadRequest, "une raison est exigée")
		change.Set("reason", "Serial read on the label")
		fr.follow(t, fr.post("/infra/assets/"+id, change)).has(t, http.StatusOK, "Élément modifié.", "Edge switch 1", "FOC-1")
		change.Set("name", "Stale name")
		fr.post("/infra/assets/"+id, change).has(t, http.StatusPreconditionFailed, "Edge switch 1", "Serial read on the label")

		before = infraCounts(t, e)
		fr.post("/infra/assets/"+id+"/checks", url.Values{"kind": {"tcp"}, "target": {"edge"}, "every_seconds": {"30"}}).has(t, http.StatusBadRequest,
			"hôte:port")
		infraUnchanged(t, e, before)
		fr.follow(t, fr.post("/infra/assets/"+id+"/checks", url.Values{"kind": {"tls"}, "target": {"10.30.0.9:443"}, "every_seconds": {"60"}})).has(t,
			http.StatusOK, "Contrôle ajouté", "Certificat TLS", "10.30.0.9:443", "toutes les 60 s", "Pas encore exécuté")
		it := e.accounts["it"]
		checks, err := e.db.Infra().Checks(identity.WithActor(context.Background(), it.Actor()), id)
		if err != nil || len(checks) != 1 {
			t.Fatalf("checks: %v %v", checks, err)
		}
		remove := "/infra/assets/" + id + "/checks/" + checks[0].ID + "/delete"
		fr.post(remove, url.Values{"reason": {""}}).has(t, http.StatusBadRequest, "raison")
		fr.follow(t, fr.post(remove, url.Values{"reason": {"Certificate moved to the balancer"}})).has(t, http.StatusOK, "Contrôle retiré.", "Aucun contrôle")
	})

	t.Run("zones", func(t *testing.T) {
		fr.get("/infra/zones").has(t, http.StatusOK, "Zones et conduits", "Z-OT", "SL-T 3", "C-OT-IT", "tcp/443", "Batch data", "Déclarer un flux")
		before := infraCounts(t, e)
		fr.post("/infra/flows", url.Values{"from": {"PLC-L1"}, "to": {"PLC-L1"}, "service": {"tcp/502"}}).has(t, http.StatusBadRequest)
		fr.post("/infra/conduits", url.Values{"code": {"C-2"}, "name": {"Same"}, "zone_a_id": {s.ot.ID}, "zone_b_id": {s.ot.ID}, "target_sl": {"3"},
			"services": {"tcp/502"}}).has(t, http.StatusBadRequest, "Un conduit relie deux zones différentes.")
		infraUnchanged(t, e, before)
		fr.follow(t, fr.post("/infra/conduits", url.Values{"code": {"C-MODBUS"}, "name": {"Modbus to IT"}, "zone_a_id": {s.ot.ID}, "zone_b_id": {s.it.ID},
			"target_sl": {"3"}, "services": {"tcp/502"}})).has(t, http.StatusOK, "Conduit ajouté.", "C-MODBUS")
		fr.follow(t, fr.post("/infra/zones", url.Values{"code": {"Z-DMZ"}, "name": {"DMZ"}, "target_sl": {"2"}})).has(t, http.StatusOK, "Zone ajoutée.", "Z-DMZ")
		fr.follow(t, fr.post("/infra/flows", url.Values{"from": {"GW-RB"}, "to": {"SRV-2"}, "service": {"tcp/443"}, "purpose": {"Readings"}})).has(t,
			http.StatusOK, "Flux déclaré.", "Readings")
		p := fr.get("/infra/zones")
		p.lacks(t, "Le flux PLC-L1 → SRV-1 (tcp/502)")
		en.get("/infra/zones").has(t, http.StatusOK, "Zones and conduits", "Declared flows", "Conduit C-OT-IT targets SL 2")
	})

	t.Run("readers", func(t *testing.T) {
		qa := e.browserWith(t, "qa", testPassword, "fr")
		p := qa.get("/infra")
		p.has(t, http.StatusOK, "Infrastructure du site", `href="/infra"`)
		p.lacks(t, "Nouvel élément")
		qa.get("/infra/assets").lacks(t, `action="/infra/assets/import"`)
		a := qa.get("/infra/assets/" + s.core.ID)
		a.has(t, http.StatusOK, "Core switch")
		a.lacks(t, "Ajouter un contrôle", "/edit")
		qa.get("/infra/whatif?room_id="+e.roomD.ID).lacks(t, "Préparer l'arrêt planifié")
		qa.get("/infra/zones").lacks(t, "Déclarer un flux")
		qa.get("/infra/assets/new").has(t, http.StatusForbidden)
		before := infraCounts(t, e)
		qa.post("/infra/assets", url.Values{"code": {"X"}, "name": {"X"}, "kind": {"switch"}, "building_id": {e.building.ID}}).has(t, http.StatusForbidden)
		qa.post("/infra/zones", url.Values{"code": {"Z-X"}, "name": {"X"}, "target_sl": {"2"}}).has(t, http.StatusForbidden)
		day := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
		qa.post("/infra/plans", url.Values{"room_id": {e.roomD.ID}, "title": {"Quality's shutdown"}, "from": {day + "T08:00"}, "to": {day + "T09:00"}}).has(t,
			http.StatusForbidden)
		qa.postFile("/infra/assets/import", url.Values{"reason": {"x"}}, "a.csv", []byte("code,name,kind,building\nX-9,X,switch,B30\n")).has(t, http.StatusForbidden)
		infraUnchanged(t, e, before)

		for _, who := range []string{"operator", "client-alpha"} {
			b := e.browserWith(t, who, testPassword, "fr")
			for _, path := range []string{"/infra", "/infra/map", "/infra/assets", "/infra/assets/" + s.core.ID, "/infra/spof", "/infra/whatif", "/infra/plans",
				"/infra/zones", "/infra/assets.csv"} {
				if p := b.get(path); p.status != http.StatusForbidden && p.status != http.StatusNotFound {
					t.Errorf("%s reads %s: %d", who, path, p.status)
				}
			}
			b.get("/site").lacks(t, `href="/infra"`)
		}
	})
}
