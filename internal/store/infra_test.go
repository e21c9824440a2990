package store_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/store"
	"galenix/internal/text"
)

// infraActor creates an account of the site's IT team and returns its
// context.
func infraActor(t *testing.T, db *store.DB) context.Context {
	t.Helper()
	hash, err := seedHash()
	must(t, err)
	a := identity.Account{Username: "ivan", Name: "Ivan Informatique", Roles: []identity.Role{identity.RoleIT}}
	must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&a, hash) }))
	return as(a.Actor())
}

// TestInfrastructure: the inventory of a small site kept by IT, through
// the store on both databases: assets with places and dependencies, the
// refusals (a cycle, an unknown dependency, a room of another building,
// a taken code, a reader without the right), the CSV round trip and an
// import refused whole, the single points of failure with a redundancy
// group, a what-if on a room, the checks' results and their events, the
// conduit rules and a planned shutdown.
func TestInfrastructure(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		it := infraActor(t, db)
		svc := db.Infra()
		op := as(bruno)

		// The zones first: the assets name theirs.
		ot := &infra.Zone{Code: "Z-OT", Name: "OT stérile", Target: 3}
		dc := &infra.Zone{Code: "Z-DC", Name: "Centre de données", Target: 3}
		must(t, svc.CreateZone(it, ot))
		must(t, svc.CreateZone(it, dc))
		wantErr(t, svc.CreateZone(op, &infra.Zone{Code: "Z-X", Name: "X", Target: 2}), errs.Forbidden, "")
		wantErr(t, svc.CreateZone(it, &infra.Zone{Code: "Z-OT", Name: "Again", Target: 2}), errs.Conflict, "code")

		mk := func(a infra.Asset) *infra.Asset {
			t.Helper()
			must(t, svc.CreateAsset(it, &a))
			return &a
		}
		panel := mk(infra.Asset{Code: "B1-PWR", Name: "TGBT B1", Kind: infra.PowerPanel, BuildingID: f.building.ID, Level: 0})
		pduA := mk(infra.Asset{Code: "B1-PDU-A", Name: "PDU A", Kind: infra.PDU, BuildingID: f.building.ID, RoomID: f.roomD.ID, DependsOn: []string{panel.ID}})
		pduB := mk(infra.Asset{Code: "B1-PDU-B", Name: "PDU B", Kind: infra.PDU, BuildingID: f.building.ID, RoomID: f.roomD.ID, DependsOn: []string{panel.ID}})
		sw1 := mk(infra.Asset{Code: "B1-SW-1", Name: "Switch 1", Kind: infra.Switch, RoomID: f.roomD.ID, ZoneID: ot.ID, Level: 2,
			Addresses: []string{"10.30.0.11", "10.30.0.0/24"}, DependsOn: []string{pduA.ID}})
		sw2 := mk(infra.Asset{Code: "B1-SW-2", Name: "Switch 2", Kind: infra.Switch, RoomID: f.roomD.ID, ZoneID: ot.ID, Level: 2, DependsOn: []string{pduB.ID}})
		pair := mk(infra.Asset{Code: "B1-SW-PAIR", Name: "Paire", Kind: infra.Group, Need: 1, DependsOn: []string{sw1.ID, sw2.ID}})
		plc := mk(infra.Asset{Code: "L1-PLC", Name: "Automate L1", Kind: infra.PLC, LineID: f.line.ID, ZoneID: ot.ID, Level: 1, DependsOn: []string{pair.ID, pduA.ID}})
		line := mk(infra.Asset{Code: "L1", Name: "Ligne L1", Kind: infra.Line, LineID: f.line.ID, Impact: infra.ImpactCritical, DependsOn: []string{plc.ID}})
		gw := mk(infra.Asset{Code: "R-B-GW", Name: "Passerelle R-B", Kind: infra.SensorGateway, RoomID: f.roomB.ID, ZoneID: dc.ID, DependsOn: []string{sw1.ID}})
		mon := mk(infra.Asset{Code: "R-B-MON", Name: "Surveillance R-B", Kind: infra.RoomMonitoring, RoomID: f.roomB.ID, Impact: infra.ImpactCritical,
			DependsOn: []string{gw.ID}})

		// A line's places follow from it: its room and building.
		if plc.RoomID != f.roomB.ID || plc.BuildingID != f.building.ID {
			t.Errorf("the PLC's places: %+v", plc)
		}
		// Refusals, each writing nothing.
		wantErr(t, svc.CreateAsset(op, &infra.Asset{Code: "X", Name: "X", Kind: infra.Switch, BuildingID: f.building.ID}), errs.Forbidden, "")
		wantErr(t, svc.CreateAsset(it, &infra.Asset{Code: "B1-SW-1", Name: "X", Kind: infra.Switch, BuildingID: f.building.ID}), errs.Conflict, "code")
		wantErr(t, svc.CreateAsset(it, &infra.Asset{Code: "X", Name: "X", Kind: infra.Switch, BuildingID: f.annex.ID, RoomID: f.roomB.ID}), errs.Invalid, "room_id")
		wantErr(t, svc.CreateAsset(it, &infra.Asset{Code: "X", Name: "X", Kind: infra.Switch, BuildingID: f.building.ID,
			DependsOn: []string{"0195f1a2-0000-7000-8000-000000000000"}}), errs.Invalid, "depends_on")
		wantErr(t, svc.CreateAsset(it, &infra.Asset{Code: "X", Name: "X", Kind: infra.Switch, BuildingID: f.building.ID, Addresses: []string{"10.0.0.300"}}),
			errs.Invalid, "addresses")
		wantErr(t, svc.CreateAsset(it, &infra.Asset{Code: "G", Name: "G", Kind: infra.Group, Need: 3, DependsOn: []string{sw1.ID, sw2.ID}}), errs.Invalid, "need")
		// A cycle: the panel depending on the line that depends on it.
		cyc := *panel
		cyc.DependsOn = []string{line.ID}
		err := svc.UpdateAsset(it, &cyc, "loop")
		wantErr(t, err, errs.Invalid, "depends_on")
		if !strings.Contains(errs.MessageOf(err, "en"), "B1-PWR →") {
			t.Errorf("the cycle in words: %v", errs.MessageOf(err, "en"))
		}
		// A change needs a reason, and is audited.
		ch := *sw2
		ch.Serial = "FOC1234X"
		wantErr(t, svc.UpdateAsset(it, &ch, ""), errs.Invalid, "reason")
		must(t, svc.UpdateAsset(it, &ch, "Numéro de série relevé sur l'étiquette"))
		trail, err := db.Audit().Entries(as(identity.System), audit.Filter{Entity: infra.EntityAsset, EntityID: sw2.ID})
		must(t, err)
		if !slices.ContainsFunc(trail, func(e audit.Entry) bool {
			return e.Field == "serial" && e.New == "FOC1234X" && e.Reason == "Numéro de série relevé sur l'étiquette" && e.Command == "infra.asset.update"
		}) {
			t.Errorf("the serial's change is not in the trail: %+v", trail)
		}

		// The analysis: the redundant pair is no single point; the PLC's
		// PDU A is (the PLC needs it as well as the pair), and so is the
		// panel; switch 1 is one for the room's monitoring through its
		// single gateway.
		an, err := svc.Analysis(it)
		must(t, err)
		got := map[string][]string{}
		for _, p := range an.Points {
			for _, s := range p.Stops {
				got[p.Asset.Code] = append(got[p.Asset.Code], s.Code)
			}
		}
		for code, want := range map[string]string{"B1-PWR": "L1 R-B-MON", "B1-PDU-A": "L1 R-B-MON", "B1-SW-1": "R-B-MON", "R-B-GW": "R-B-MON", "L1-PLC": "L1"} {
			if strings.Join(got[code], " ") != want {
				t.Errorf("single point %s stops %v, want %s (all: %v)", code, got[code], want, got)
			}
		}
		if _, ok := got["B1-SW-2"]; ok {
			t.Errorf("switch 2 is redundant, not a single point: %v", got)
		}
		if _, err := svc.Analysis(op); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an operator reads the analysis: %v", err)
		}
		// The what-if of room R-D (the PDUs and switches): the line and the
		// monitoring stop, and the causes are named.
		im, err := svc.WhatIf(it, infra.Scope{RoomID: f.roomD.ID})
		must(t, err)
		if im.Lines != 1 || len(im.Rooms) != 1 || im.Rooms[0].RoomID != f.roomB.ID || len(im.Stopped) != 2 || len(im.Stopped[0].Because) == 0 {
			t.Errorf("what-if R-D: %+v", im)
		}
		_, err = svc.WhatIf(it, infra.Scope{RoomID: "nope"})
		wantErr(t, err, errs.Invalid, "room_id")
		_, err = svc.WhatIf(it, infra.Scope{})
		wantErr(t, err, errs.Invalid, "scope")

		// The CSV: exported, it imports back unchanged (nothing created
		// nor changed), and names places and dependencies by code.
		all, err := svc.Assets(it, infra.Filter{})
		must(t, err)
		var buf bytes.Buffer
		must(t, infra.WriteCSV(&buf, all))
		if !strings.Contains(buf.String(), "L1-PLC,Automate L1,plc,B1,R-B,L1,") {
			t.Errorf("the export names places by code:\n%s", buf.String())
		}
		n, err := svc.Import(it, buf.Bytes(), "")
		must(t, err)
		if n.Created != 0 || n.Updated != 0 {
			t.Errorf("re-import of the export: %+v", n)
		}
		// An import adds a gateway and changes the monitoring to need one of
		// two; two bad lines refuse the whole file, naming both lines.
		bad := "code,name,kind,room,depends_on,need\n" +
			"R-B-GW2,Passerelle 2,sensor_gateway,R-B,B1-SW-2,\n" +
			"R-B-GWS,Passerelles,redundancy_group,,R-B-GW R-B-GW2,1\n" +
			"X-1,Chose,toaster,R-B,,\n" +
			"X-2,Chose,switch,R-ZZ,,\n"
		_, err = svc.Import(it, []byte(bad), "")
		msg := errs.MessageOf(err, "fr")
		if !errs.Is(err, errs.Invalid) || !strings.Contains(msg, "Ligne 4") || !strings.Contains(msg, "Ligne 5") || !strings.Contains(msg, "R-ZZ") {
			t.Errorf("an import with two bad lines: %v", msg)
		}
		if as2, _ := svc.Assets(it, infra.Filter{Q: "R-B-GW2"}); len(as2) != 0 {
			t.Errorf("a refused import wrote %v", as2)
		}
		good := "code,name,kind,room,depends_on,need,gmp_impact\n" +
			"R-B-GW2,Passerelle 2,sensor_gateway,R-B,B1-SW-2,,\n" +
			"R-B-GWS,Passerelles,redundancy_group,,R-B-GW R-B-GW2,1,\n" +
			"R-B-MON,Surveillance R-B,room_monitoring,R-B,R-B-GWS,,critical\n"
		_, err = svc.Import(it, []byte(good), "")
		wantErr(t, err, errs.Invalid, "reason")
		n, err = svc.Import(it, []byte(good), "Seconde passerelle posée en R-B")
		must(t, err)
		if n.Created != 2 || n.Updated != 1 {
			t.Errorf("import: %+v", n)
		}
		an, err = svc.Analysis(it)
		must(t, err)
		for _, p := range an.Points {
			if p.Asset.Code == "B1-SW-1" || p.Asset.Code == "R-B-GW" {
				t.Errorf("%s is redundant now: %+v", p.Asset.Code, p)
			}
		}
		// A file of a few columns changes those alone: the others keep the
		// known asset's values.
		n, err = svc.Import(it, []byte("code;name;kind;serial\nB1-SW-1;Switch 1;switch;SN-0001\nB1-SW-PAIR;Paire;redundancy_group;\n"), "Numéros de série relevés")
		must(t, err)
		kept, err := svc.Asset(it, sw1.ID)
		must(t, err)
		if n.Updated != 1 || kept.Serial != "SN-0001" || kept.RoomID != f.roomD.ID || kept.ZoneID != ot.ID || len(kept.Addresses) != 2 ||
			len(kept.DependsOn) != 1 || kept.Level != 2 {
			t.Errorf("a partial import: %+v, the switch %+v", n, kept)
		}
		// A cycle by import is refused whole.
		_, err = svc.Import(it, []byte("code,name,kind,building,depends_on\nB1-PWR,TGBT B1,power_panel,B1,L1\n"), "boucle")
		wantErr(t, err, errs.Invalid, "file")

		// Supervision: a check's result changes the asset's state, once an
		// event; the same result again is no new event.
		c := &infra.Check{AssetID: sw1.ID, Kind: infra.CheckTCP, Target: "10.30.0.11:22", Every: 10}
		must(t, svc.CreateCheck(it, c))
		wantErr(t, svc.CreateCheck(it, &infra.Check{AssetID: sw1.ID, Kind: infra.CheckHTTP, Target: "ftp://x"}), errs.Invalid, "target")
		due, err := svc.Due(it, time.Now())
		must(t, err)
		if len(due) != 1 {
			t.Fatalf("due checks: %+v", due)
		}
		sys := as(identity.System)
		at := time.Now().UTC().Truncate(time.Second)
		down := infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.refused")}
		k, err := svc.Record(sys, map[string]infra.Result{c.ID: down}, at)
		must(t, err)
		k2, err := svc.Record(sys, map[string]infra.Result{c.ID: down}, at.Add(10*time.Second))
		must(t, err)
		if k != 1 || k2 != 0 {
			t.Errorf("changes recorded: %d then %d", k, k2)
		}
		if _, err := svc.Record(op, map[string]infra.Result{c.ID: down}, at); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an operator records results: %v", err)
		}
		evs, err := svc.Events(it, sw1.ID, 10)
		must(t, err)
		if len(evs) != 1 || evs[0].From != infra.StateUnknown || evs[0].To != infra.StateDown || evs[0].Detail.Key != "stored.infra.refused" {
			t.Errorf("events: %+v", evs)
		}
		live, err := svc.Live(it)
		must(t, err)
		// Switch 1 down: the gateway behind it too, but the monitoring
		// holds on the second gateway; the PLC on the pair: nothing stops,
		// the two groups are weakened.
		if len(live.Failed) != 1 || len(live.Stopped) != 0 || len(live.Weakened) != 2 {
			t.Errorf("live: %+v", live)
		}
		if due, _ = svc.Due(it, at.Add(5*time.Second)); len(due) != 0 {
			t.Errorf("a check due before its interval: %+v", due)
		}

		// Conduit rules: a flow from the OT zone to the data centre with
		// no conduit is a finding; the conduit allowing it ends it.
		must(t, svc.CreateFlow(it, &infra.Flow{From: plc.ID, To: gw.ID, Service: "tcp/4840", Purpose: "OPC UA"}))
		wantErr(t, svc.CreateFlow(it, &infra.Flow{From: plc.ID, To: gw.ID, Service: "tcp/4840"}), errs.Conflict, "service")
		wantErr(t, svc.CreateFlow(it, &infra.Flow{From: plc.ID, To: gw.ID, Service: "icmp"}), errs.Invalid, "service")
		fs, err := svc.Findings(it)
		must(t, err)
		if len(fs) != 1 || fs[0].Key != "infra.finding.no_conduit" {
			t.Errorf("findings: %+v", fs)
		}
		must(t, svc.CreateConduit(it, &infra.Conduit{Code: "C-OT-DC", Name: "OT vers DC", ZoneA: dc.ID, ZoneB: ot.ID, Target: 2, Services: []string{"tcp/4840"}}))
		fs, err = svc.Findings(it)
		must(t, err)
		if len(fs) != 2 || fs[0].Key != "infra.finding.conduit_weak" {
			t.Errorf("findings after the conduit (weaker than its zones): %+v", fs)
		}

		// A planned shutdown of room R-D, drafted with what it stops.
		p := &infra.Plan{Title: "Remplacement des PDU de R-D", Scope: infra.Scope{RoomID: f.roomD.ID}, From: at.Add(48 * time.Hour),
			To: at.Add(52 * time.Hour), Measures: "Relevés manuels en R-B toutes les heures."}
		must(t, svc.DraftPlan(it, p))
		if !strings.HasPrefix(p.Code, "PS-") || p.Impact.Lines != 1 {
			t.Errorf("plan: %+v", p)
		}
		wantErr(t, svc.DraftPlan(it, &infra.Plan{Title: "x", Scope: infra.Scope{RoomID: f.roomD.ID}, From: p.From, To: p.To}), errs.Invalid, "title")
		wantErr(t, svc.DraftPlan(it, &infra.Plan{Title: "À l'envers", Scope: infra.Scope{RoomID: f.roomD.ID}, From: p.To, To: p.From}), errs.Invalid, "to")
		back, err := svc.Plan(it, p.ID)
		must(t, err)
		if back.Code != p.Code || back.Impact.Lines != 1 || back.Scope.RoomID != f.roomD.ID {
			t.Errorf("plan read back: %+v", back)
		}
		if _, err := svc.Plan(op, p.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("an operator reads a plan: %v", err)
		}

		// Removal: refused while something depends on the asset; with a
		// reason once nothing does, its checks and flows going with it.
		wantErr(t, svc.DeleteAsset(it, sw1.ID, "retiré"), errs.Conflict, "")
		wantErr(t, svc.DeleteAsset(it, mon.ID, ""), errs.Invalid, "reason")
		must(t, svc.DeleteAsset(it, mon.ID, "Salle déclassée"))
		if _, err := svc.Asset(it, mon.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("a removed asset: %v", err)
		}
	})
}
