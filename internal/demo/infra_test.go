package demo

import (
	"context"
	"slices"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/site"
)

// TestInfraDemo: the demo's infrastructure holds a site's worth of assets;
// the first single point of failure that is not a line's own equipment is
// the deliberate access switch, which stops line L30-07 and its grade A
// zone's monitoring and nothing else, and no other such point stops a
// critical target; galenix itself has no single point of failure; the
// loss of server room S01 stops the LIMS, neither galenix nor any line,
// and leaves redundancy groups weakened; the loss of Bâtiment 90 stops
// galenix and every line; the conduit rules find the one flow no conduit
// allows; nothing is supervised, so nothing is down.
func TestInfraDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	st := db.Infra()

	an, err := st.Analysis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if an.Assets < 500 || an.Assets > 800 {
		t.Errorf("%d assets, want 500 to 800", an.Assets)
	}
	var shared []infra.SinglePoint
	for _, p := range an.Points {
		if !p.Own {
			shared = append(shared, p)
		}
		for _, s := range p.Stops {
			if s.Code == galenixService {
				t.Errorf("%s alone stops galenix", p.Asset.Code)
			}
		}
	}
	if len(shared) < 2 {
		t.Fatalf("%d single points other than a line's own, want the switch and lesser ones", len(shared))
	}
	first := shared[0]
	if first.Asset.Code != spofSwitch || first.Score != 200 || len(first.Stops) != 2 {
		t.Fatalf("first single point %s (score %d) stops %v; want %s stopping %s and %s's monitoring", first.Asset.Code, first.Score,
			refCodes(first.Stops), spofSwitch, spofLine, spofRoom)
	}
	if s := first.Stops[0]; s.Kind != infra.Line || s.Code != spofLine || s.Impact != infra.ImpactCritical {
		t.Errorf("the switch stops first %+v, want line %s, critical", s, spofLine)
	}
	if s := first.Stops[1]; s.Kind != infra.RoomMonitoring || s.Room != spofRoom || s.Impact != infra.ImpactCritical {
		t.Errorf("the switch stops second %+v, want the monitoring of %s, critical", s, spofRoom)
	}
	for _, p := range shared[1:] {
		if p.Score >= first.Score {
			t.Errorf("%s scores %d, as much as the deliberate switch", p.Asset.Code, p.Score)
		}
		for _, s := range p.Stops {
			if s.Impact == infra.ImpactCritical {
				t.Errorf("%s alone stops %s, critical: only %s should", p.Asset.Code, s.Code, spofSwitch)
			}
		}
	}

	place := map[string]string{} // building and room codes → ids
	buildings, err := db.Site().Buildings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buildings {
		place[b.Code] = b.ID
	}
	rooms, err := db.Site().Rooms(ctx, site.RoomFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		place[r.Code] = r.ID
	}
	stopped := func(im *infra.Impacted) []string {
		var out []string
		for _, s := range im.Stopped {
			out = append(out, s.Code)
		}
		return out
	}
	s01, err := st.WhatIf(ctx, infra.Scope{RoomID: place["B90-S01"]})
	if err != nil {
		t.Fatal(err)
	}
	codes := stopped(s01)
	if !slices.Contains(codes, "LIMS") || slices.Contains(codes, galenixService) || s01.Lines != 0 {
		t.Errorf("the loss of B90-S01 stops %v (%d lines); want the LIMS, not galenix nor any line", codes, s01.Lines)
	}
	weakened := refCodes(s01.Weakened)
	for _, want := range []string{"B90-SW-CORE", "B90-FW", "B90-GNX", "B90-PG", "B90-ETCD", "B90-MQTT"} {
		if !slices.Contains(weakened, want) {
			t.Errorf("the loss of B90-S01 weakens %v, want %s among them", weakened, want)
		}
	}
	b90, err := st.WhatIf(ctx, infra.Scope{BuildingID: place["B90"]})
	if err != nil {
		t.Fatal(err)
	}
	if codes := stopped(b90); !slices.Contains(codes, galenixService) || b90.Lines != len(infraLines()) {
		t.Errorf("the loss of B90 stops %d lines (galenix: %v), want galenix and all %d", b90.Lines, slices.Contains(codes, galenixService),
			len(infraLines()))
	}

	fs, err := st.Findings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Key != "infra.finding.no_conduit" || len(fs[0].Args) < 2 || fs[0].Args[0] != "B90-PC-ING-01" ||
		fs[0].Args[1] != "L40-12-PLC" {
		t.Errorf("findings %+v, want the engineering workstation's flow to L40-12-PLC only", fs)
	}
	if flows, err := st.Flows(ctx); err != nil || len(flows) != len(infraFlows) {
		t.Errorf("%d flows (%v), want %d", len(flows), err, len(infraFlows))
	}
	if cs, err := st.Conduits(ctx); err != nil || len(cs) != len(infraConduits) {
		t.Errorf("%d conduits (%v), want %d", len(cs), err, len(infraConduits))
	}

	g, err := st.Graph(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Assets) != an.Assets {
		t.Errorf("the graph holds %d assets, the analysis %d", len(g.Assets), an.Assets)
	}
	if live := g.Live(); len(live.Failed) != 0 || len(live.Stopped) != 0 {
		t.Errorf("with nothing supervised, %d assets down and %d targets stopped", len(live.Failed), len(live.Stopped))
	}
}

// refCodes are the codes of the assets named.
func refCodes(rs []infra.Ref) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	return out
}
