package infra

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"galenix/internal/errs"
)

// site builds assets from lines "CODE kind [need] <- DEP DEP ...": the code
// doubles as the id; a target's GMP impact is critical when its code
// starts with "A", relevant otherwise.
func site(t *testing.T, spec ...string) *Graph {
	t.Helper()
	var as []Asset
	for _, l := range spec {
		head, deps, _ := strings.Cut(l, "<-")
		f := strings.Fields(head)
		a := Asset{ID: f[0], Code: f[0], Name: f[0], Kind: Kind(f[1]), DependsOn: strings.Fields(deps), Impact: ImpactRelevant}
		if len(f) > 2 {
			for _, c := range f[2] {
				a.Need = a.Need*10 + int(c-'0')
			}
		}
		if strings.HasPrefix(a.Code, "A") {
			a.Impact = ImpactCritical
		}
		if strings.HasPrefix(a.Code, "PLC") {
			a.LineID = "L-" + strings.TrimPrefix(a.Code, "PLC")
		}
		if a.Kind == Line {
			a.LineID = "L-" + strings.TrimPrefix(strings.TrimPrefix(a.Code, "A"), "LINE")
		}
		as = append(as, a)
	}
	g, err := NewGraph(as)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// points renders the single points of failure as "ASSET:T1,T2".
func points(g *Graph) []string {
	var out []string
	for _, p := range g.SinglePoints() {
		var ts []string
		for _, t := range p.Stops {
			ts = append(ts, g.Assets[t].Code)
		}
		out = append(out, g.Assets[p.Asset].Code+":"+strings.Join(ts, ","))
	}
	return out
}

func TestSinglePointsChain(t *testing.T) {
	// A line behind one chain: every link is a single point of failure.
	g := site(t,
		"PANEL power_panel",
		"UPS ups <- PANEL",
		"PDU pdu <- UPS",
		"SW switch <- PDU",
		"PLC1 plc <- SW PDU",
		"ALINE1 line <- PLC1",
	)
	want := []string{"PANEL:ALINE1", "PDU:ALINE1", "SW:ALINE1", "UPS:ALINE1", "PLC1:ALINE1"}
	if got := points(g); !slices.Equal(got, want) {
		t.Errorf("single points:\n got %v\nwant %v", got, want)
	}
}

func TestSinglePointsRedundancy(t *testing.T) {
	// Two uplinks, one of two needed, each on its own power: no single
	// point among them; the core switch both reach is one.
	g := site(t,
		"PA power_panel",
		"PB power_panel",
		"CORE switch",
		"UP1 switch <- PA CORE",
		"UP2 switch <- PB CORE",
		"UPLINKS redundancy_group 1 <- UP1 UP2",
		"SVC service <- UPLINKS",
	)
	if got, want := points(g), []string{"CORE:SVC"}; !slices.Equal(got, want) {
		t.Errorf("single points: got %v, want %v", got, want)
	}
	// Losing one uplink stops nothing and weakens the group; losing both
	// stops the service, caused by both.
	up1, _ := g.Index("UP1")
	up2, _ := g.Index("UP2")
	o := g.Fail([]int32{int32(up1)})
	if len(o.Stopped) != 0 || len(o.Weakened) != 1 || g.Assets[o.Weakened[0]].Code != "UPLINKS" {
		t.Errorf("one uplink lost: %+v", o)
	}
	o = g.Fail([]int32{int32(up1), int32(up2)})
	if len(o.Stopped) != 1 || g.Assets[o.Stopped[0]].Code != "SVC" || len(o.Causes[o.Stopped[0]]) != 2 {
		t.Errorf("both uplinks lost: %+v", o)
	}
}

func TestSinglePointsSharedHiddenDependency(t *testing.T) {
	// Two redundant switches, 1 of 2 needed, both plugged into the same
	// PDU: the PDU is a single point of failure though neither switch is.
	// The grade A line's PLC and its room's two sensor gateways hang on
	// the pair; the gateways are redundant too (1 of 2).
	g := site(t,
		"PDU1 pdu",
		"PDU2 pdu",
		"SWA switch <- PDU1",
		"SWB switch <- PDU1",
		"PAIR redundancy_group 1 <- SWA SWB",
		"PLC7 plc <- PAIR PDU2",
		"GW1 sensor_gateway <- PAIR",
		"GW2 sensor_gateway <- PAIR",
		"GWS redundancy_group 1 <- GW1 GW2",
		"AMON room_monitoring <- GWS",
		"ALINE7 line <- PLC7",
	)
	want := []string{"PDU1:ALINE7,AMON", "PDU2:ALINE7", "PLC7:ALINE7"}
	if got := points(g); !slices.Equal(got, want) {
		t.Errorf("single points:\n got %v\nwant %v", got, want)
	}
	// The PLC is the line's own: listed last, marked so.
	sp := g.SinglePoints()
	if last := sp[len(sp)-1]; !last.Own || sp[0].Own || sp[0].Score != 200 {
		t.Errorf("ranking: %+v", sp)
	}
}

func TestSinglePointsKofN(t *testing.T) {
	// Three etcd members, two of three needed, on three hosts; two of the
	// hosts share a PDU, whose loss takes two members: a single point.
	g := site(t,
		"PDU1 pdu",
		"PDU2 pdu",
		"H1 server <- PDU1",
		"H2 server <- PDU1",
		"H3 server <- PDU2",
		"E1 db_member <- H1",
		"E2 db_member <- H2",
		"E3 db_member <- H3",
		"ETCD redundancy_group 2 <- E1 E2 E3",
		"AGALENIX service <- ETCD",
	)
	if got, want := points(g), []string{"PDU1:AGALENIX"}; !slices.Equal(got, want) {
		t.Errorf("single points: got %v, want %v", got, want)
	}
	// Two of three on distinct power: no single point at all.
	g = site(t,
		"PDU1 pdu", "PDU2 pdu", "PDU3 pdu",
		"E1 db_member <- PDU1", "E2 db_member <- PDU2", "E3 db_member <- PDU3",
		"ETCD redundancy_group 2 <- E1 E2 E3",
		"AGALENIX service <- ETCD",
	)
	if got := points(g); len(got) != 0 {
		t.Errorf("single points of a sound 2-of-3: %v", got)
	}
	// Needing all three: every member and its PDU is one.
	g = site(t,
		"PDU1 pdu", "PDU2 pdu",
		"E1 db_member <- PDU1", "E2 db_member <- PDU2", "E3 db_member <- PDU2",
		"ETCD redundancy_group 3 <- E1 E2 E3",
		"AGALENIX service <- ETCD",
	)
	if got := points(g); len(got) != 5 {
		t.Errorf("single points of a 3-of-3: %v", got)
	}
}

func TestPlaceLosses(t *testing.T) {
	as := []Asset{
		{ID: "SR1-SW", Code: "SR1-SW", Kind: Switch, BuildingID: "B90", RoomID: "SR1"},
		{ID: "SR2-SW", Code: "SR2-SW", Kind: Switch, BuildingID: "B90", RoomID: "SR2"},
		{ID: "CORE", Code: "CORE", Kind: Group, Need: 1, DependsOn: []string{"SR1-SW", "SR2-SW"}},
		{ID: "DB", Code: "DB", Kind: Server, BuildingID: "B90", RoomID: "SR1"},
		{ID: "GALENIX", Code: "GALENIX", Kind: ServiceKind, Impact: ImpactCritical, DependsOn: []string{"CORE", "DB"}},
		{ID: "LINE", Code: "LINE", Kind: Line, LineID: "L", Impact: ImpactCritical, BuildingID: "B30", RoomID: "R30", DependsOn: []string{"GALENIX"}},
		{ID: "MON", Code: "MON", Kind: RoomMonitoring, Impact: ImpactRelevant, BuildingID: "B90", RoomID: "SR2", DependsOn: []string{"SR2-SW"}},
	}
	g, err := NewGraph(as)
	if err != nil {
		t.Fatal(err)
	}
	ls := g.PlaceLosses([]Place{{BuildingID: "B90", RoomID: "SR1"}, {BuildingID: "B90", RoomID: "SR2"}, {BuildingID: "B30", RoomID: "R30"}, {BuildingID: "B90"}})
	var got []string
	for _, l := range ls {
		var ts []string
		for _, t := range l.Beyond {
			ts = append(ts, g.Assets[t].Code)
		}
		got = append(got, cmp.Or(l.Place.RoomID, l.Place.BuildingID)+":"+strings.Join(ts, ","))
	}
	// SR1 holds the only database: its loss stops galenix and the line.
	// SR2's loss stops only its own monitoring (within); B30's room holds
	// targets only; Bâtiment 90 whole stops galenix and the line.
	want := []string{"SR1:LINE,GALENIX", "B90:LINE,GALENIX"}
	if !slices.Equal(got, want) {
		t.Errorf("place losses: got %v, want %v", got, want)
	}
}

func TestGraphRefusals(t *testing.T) {
	_, err := NewGraph([]Asset{{ID: "a", Code: "A", DependsOn: []string{"b"}}, {ID: "b", Code: "B", DependsOn: []string{"c"}}, {ID: "c", Code: "C", DependsOn: []string{"a"}}})
	var e *errs.Error
	if !errors.As(err, &e) || e.Key != "infra.cycle" || !strings.Contains(e.Args[0].(string), "A → B → C → A") {
		t.Errorf("cycle: %v", err)
	}
	_, err = NewGraph([]Asset{{ID: "a", Code: "A", DependsOn: []string{"zz"}}})
	if !errors.As(err, &e) || e.Key != "infra.depends_unknown" {
		t.Errorf("unknown dependency: %v", err)
	}
}

func TestDownPropagation(t *testing.T) {
	g := site(t,
		"P1 pdu", "P2 pdu", "P3 pdu",
		"G redundancy_group 2 <- P1 P2 P3",
		"S server <- G",
		"ASVC service <- S",
	)
	fail := func(codes ...string) []string {
		var f []int32
		for _, c := range codes {
			i, _ := g.Index(c)
			f = append(f, int32(i))
		}
		o := g.Fail(f)
		var out []string
		for _, s := range o.Stopped {
			out = append(out, g.Assets[s].Code)
		}
		return out
	}
	if got := fail("P1"); len(got) != 0 {
		t.Errorf("one of three lost, 2 needed: %v stopped", got)
	}
	if got := fail("P1", "P3"); !slices.Equal(got, []string{"ASVC"}) {
		t.Errorf("two of three lost: %v", got)
	}
}

func TestGroupStates(t *testing.T) {
	as := []Asset{
		{ID: "a", Code: "A", Kind: Switch, State: StateUp}, {ID: "b", Code: "B", Kind: Switch, State: StateDown},
		{ID: "c", Code: "C", Kind: Switch, State: StateUnknown}, {ID: "d", Code: "D", Kind: Switch, State: StateUp},
		{ID: "ab", Code: "AB", Kind: Group, Need: 1, DependsOn: []string{"a", "b"}},
		{ID: "ad", Code: "AD", Kind: Group, Need: 2, DependsOn: []string{"a", "d"}},
		{ID: "bc", Code: "BC", Kind: Group, Need: 2, DependsOn: []string{"b", "c"}},
		{ID: "ac", Code: "AC", Kind: Group, Need: 1, DependsOn: []string{"a", "c"}},
		{ID: "g", Code: "G", Kind: Group, Need: 2, DependsOn: []string{"ab", "ad"}},
	}
	g, err := NewGraph(as)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]State{"AB": StateDegraded, "AD": StateUp, "BC": StateDown, "AC": StateUnknown, "G": StateDegraded}
	for _, a := range g.Assets {
		if w, ok := want[a.Code]; ok && a.State != w {
			t.Errorf("group %s: %s, want %s", a.Code, a.State, w)
		}
	}
	// The live impact counts the switch that failed, not the group.
	if live := g.Live(); len(live.Failed) != 1 || live.Failed[0].Code != "B" {
		t.Errorf("live: %+v", live.Failed)
	}
}
