package demo

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"galenix/internal/infra"
	"galenix/internal/site"
)

// The demo's IT and OT infrastructure, as the integrator who built it
// handed its inventory over. Bâtiment 90 holds two server rooms, S01 and
// S02, each with its core switch, its firewall, three hypervisors and a
// storage array in racks fed by two PDUs, one on each of the building's
// UPSs A and B, each UPS on its own panel; the telecom room S03 holds the
// operators' routers and a witness hypervisor. galenix's cluster spreads
// over the three rooms: three nodes, PostgreSQL under Patroni in S01 and
// S02, three etcd members, two HAProxy, two mosquitto brokers in the
// industrial DMZ, two domain controllers. Every other building has a pair
// of distribution switches uplinked to both cores; the buildings with GMP
// rooms have two panels, each with its UPS (the security post and the
// boiler house one). The two production buildings have their OT network
// behind a pair of firewalls and a pair of OT core switches: in Bâtiment
// 30, a pair of access switches per aseptic room, every PLC and operator
// panel on both; in Bâtiment 40, one access switch per workshop. Each GMP
// room's monitoring goes through its sensor gateways, two on two switches
// for the grade A and B rooms and the cold rooms, one shared by a few
// rooms elsewhere; the doors through their readers to their building's
// controller.
//
// Everything critical is redundant but one thing, left for the analysis to
// find: the PLC and the operator panel of line L30-07 and both gateways
// of its grade A zone hang on the one access switch B30-OT-SW-B14-B,
// patched so at the line's last retrofit. One declared flow, from an engineering
// workstation in the offices to a PLC of Bâtiment 40, crosses zones with
// no conduit allowing it. No supervision check is declared: nothing of
// this answers on the demo's network.

// The deliberate single point of failure: the switch, and the line and
// the grade A zone it alone carries.
const (
	spofSwitch = "B30-OT-SW-B14-B"
	spofLine   = "L30-07"
	spofRoom   = "B30-A07"
)

// galenixService is the code of galenix's own service, which every line's
// batch record and every room's monitoring needs.
const galenixService = "GALENIX"

// infraZones are the site's IEC 62443 zones.
var infraZones = []infra.Zone{
	{Code: "Z-ENT", Name: "Réseau bureautique", Target: 2},
	{Code: "Z-DC", Name: "Centre de données", Target: 3},
	{Code: "Z-DMZ", Name: "DMZ industrielle", Target: 3},
	{Code: "Z-OT30", Name: "Réseau de production stérile, Bâtiment 30", Target: 3},
	{Code: "Z-OT40", Name: "Réseau de production non stérile, Bâtiment 40", Target: 2},
	{Code: "Z-BMS", Name: "GTC et surveillance environnementale", Target: 2},
	{Code: "Z-ACS", Name: "Contrôle d'accès", Target: 2},
}

// infraConduits are the conduits between the zones, each at the level of
// the stricter zone it joins: by code, zones by code, services space
// separated.
var infraConduits = []struct{ code, name, a, b, services string }{
	{"C-ENT-DC", "Postes de travail vers centre de données", "Z-ENT", "Z-DC", "tcp/443 tcp/636 tcp/88 udp/53 udp/123"},
	{"C-DC-DMZ", "galenix vers brokers MQTT", "Z-DC", "Z-DMZ", "tcp/8883"},
	{"C-BMS-DMZ", "Passerelles de capteurs vers brokers MQTT", "Z-BMS", "Z-DMZ", "tcp/8883 udp/123"},
	{"C-DC-OT30", "galenix vers automates du Bâtiment 30", "Z-DC", "Z-OT30", "tcp/4840"},
	{"C-DC-OT40", "galenix vers automates du Bâtiment 40", "Z-DC", "Z-OT40", "tcp/4840"},
	{"C-ACS-DC", "Contrôle d'accès vers galenix", "Z-ACS", "Z-DC", "tcp/443"},
	{"C-DC-BMS", "Supervision des onduleurs et de la GTC", "Z-DC", "Z-BMS", "udp/161 tcp/443"},
}

// infraFlows are the flows declared between assets, by code; the last
// has no conduit.
var infraFlows = []struct{ from, to, service, purpose string }{
	{"B90-GNX-1", "L30-02-PLC", "tcp/4840", "Paramètres et compteurs de la remplisseuse (OPC UA)"},
	{"B90-GNX-2", "L40-01-PLC", "tcp/4840", "Compteurs de la presse à comprimer (OPC UA)"},
	{"B30-A07-GW1", "B90-MQTT-1", "tcp/8883", "Relevés de la zone A07 (MQTT sur TLS)"},
	{"B70-F01-GW1", "B90-MQTT-2", "tcp/8883", "Relevés de la chambre froide 1 (MQTT sur TLS)"},
	{"B90-GNX-1", "B90-MQTT-1", "tcp/8883", "Abonnement aux relevés des capteurs"},
	{"B30-ACS-CTL", "B90-HAP-1", "tcp/443", "Événements de badge vers galenix"},
	{"B90-HAP-1", "B90-GNX-1", "tcp/443", "Répartition des requêtes entre les nœuds"},
	{"B90-GNX-1", "B90-PG-1", "tcp/5432", "Base de données galenix"},
	{"B90-PG-1", "B90-ETCD-1", "tcp/2379", "Élection du primaire (Patroni sur etcd)"},
	{"B90-VM-LIMS", "B90-HAP-1", "tcp/443", "Résultats d'analyse vers galenix"},
	{"B90-S02-BKP-1", "B90-PG-2", "tcp/5432", "Sauvegarde de la base"},
	{"B90-PC-ING-01", "L40-12-PLC", "tcp/102", "Programmation de l'automate depuis le bureau (S7)"},
}

// infraDemo writes the zones, imports the inventory in one file, then
// the conduits and the flows, which name the zones and assets.
func (l *loader) infraDemo() error {
	st := l.db.Infra()
	zoneID := map[string]string{}
	for _, z := range infraZones {
		if err := st.CreateZone(l.ctx, &z); err != nil {
			return fmt.Errorf("zone %s: %w", z.Code, err)
		}
		zoneID[z.Code] = z.ID
	}
	data, err := inventoryCSV()
	if err != nil {
		return err
	}
	if _, err := st.Import(l.ctx, data, ""); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	for _, c := range infraConduits {
		rec := &infra.Conduit{Code: c.code, Name: c.name, ZoneA: zoneID[c.a], ZoneB: zoneID[c.b], Target: 3, Services: strings.Fields(c.services)}
		if err := st.CreateConduit(l.ctx, rec); err != nil {
			return fmt.Errorf("conduit %s: %w", c.code, err)
		}
	}
	assets, err := st.Assets(l.ctx, infra.Filter{})
	if err != nil {
		return err
	}
	assetID := make(map[string]string, len(assets))
	for _, a := range assets {
		assetID[a.Code] = a.ID
	}
	for _, f := range infraFlows {
		rec := &infra.Flow{From: assetID[f.from], To: assetID[f.to], Service: f.service, Purpose: f.purpose}
		if err := st.CreateFlow(l.ctx, rec); err != nil {
			return fmt.Errorf("flow %s → %s: %w", f.from, f.to, err)
		}
	}
	return nil
}

// kit is a model of equipment: its maker's name, its serial numbers'
// prefix, who answers for it, its maintenance contract and how many
// months after the reference day that ends (none: 0).
type kit struct {
	model, serial, owner, contract string
	months                         int
}

// The teams that answer for the equipment.
const (
	ownerIT     = "IT infrastructure"
	ownerOT     = "OT automation"
	ownerSafety = "Sûreté"
	ownerPower  = "Services techniques"
)

var kits = map[string]kit{
	"panel":       {"Schneider Electric Prisma P", "", ownerPower, "Contrat Schneider EcoCare EC-2291", 30},
	"ups":         {"Eaton 93PM 50 kW", "GH", ownerPower, "Contrat Eaton Service Plan 2024-0871", 5},
	"pdu":         {"Raritan PX3-5190R", "RAR", ownerIT, "", 0},
	"rack":        {"APC NetShelter SX 42U", "", ownerIT, "", 0},
	"core":        {"Cisco Catalyst 9500-48Y4C", "FDO", ownerIT, "Contrat Cisco SmartNet 2027-123", 14},
	"dist":        {"Cisco Catalyst 9300-48UXM", "FOC", ownerIT, "Contrat Cisco SmartNet 2027-123", 14},
	"access":      {"Cisco Catalyst 9200-48P", "JAE", ownerIT, "Contrat Cisco SmartNet 2027-123", 14},
	"router":      {"Cisco ISR 4451-X", "FGL", ownerIT, "Contrat Cisco SmartNet 2027-123", 14},
	"fw":          {"Fortinet FortiGate 600F", "FG6H0F", ownerIT, "Contrat Fortinet FortiCare FC-88412", 8},
	"host":        {"Dell PowerEdge R750", "DL", ownerIT, "Contrat Dell ProSupport Plus PSP-5521073", 26},
	"witness":     {"Dell PowerEdge R350", "DL", ownerIT, "Contrat Dell ProSupport Plus PSP-5521073", 26},
	"backup":      {"Dell PowerEdge R760xd2 (Veeam)", "DL", ownerIT, "Contrat Dell ProSupport Plus PSP-5521073", 26},
	"san":         {"NetApp AFF A250", "NA", ownerIT, "Contrat NetApp SupportEdge SE-1187734", 20},
	"vm":          {"Machine virtuelle VMware vSphere 8", "", ownerIT, "", 0},
	"workstation": {"Dell Precision 3660", "DL", ownerOT, "", 0},
	"ot-fw":       {"Siemens SCALANCE SC646-2C", "VPL", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"ot-core":     {"Siemens SCALANCE XR528-6M", "VPL", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"ot-access":   {"Siemens SCALANCE XC216-4C", "VPL", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"plc30":       {"Siemens SIMATIC S7-1500 CPU 1516-3 PN/DP", "SVP", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"plc40":       {"Siemens SIMATIC S7-1500 CPU 1513-1 PN", "SVP", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"hmi":         {"Siemens SIMATIC HMI TP1500 Comfort", "SVP", ownerOT, "Contrat Siemens Industry Services SIS-4471", 2},
	"bms-plc":     {"Schneider Electric Modicon M580", "MOD", ownerPower, "Contrat Dalkia GTC DK-2025-07", 9},
	"bms":         {"Schneider Electric EcoStruxure Building Operation", "SXW", ownerPower, "Contrat Dalkia GTC DK-2025-07", 9},
	"gateway":     {"Vaisala viewLinc vNet", "VN", ownerOT, "Contrat Vaisala Care VC-20931", 11},
	"acs":         {"HID VertX EVO V2000", "HID", ownerSafety, "Contrat Securitas Technology ST-7734", 17},
	"reader":      {"HID Signo 40", "HID", ownerSafety, "Contrat Securitas Technology ST-7734", 17},
	"vms":         {"Genetec Streamvault SV-1000E", "GEN", ownerSafety, "Contrat Securitas Technology ST-7734", 17},
	"line":        {"", "", "Production", "", 0},
	"monitoring":  {"", "", "Assurance qualité", "", 0},
	"door":        {"", "", ownerSafety, "", 0},
	"service":     {"", "", ownerIT, "", 0},
}

// subnet is the second byte of each building's IPv4 network 10.x.0.0/16.
var subnet = map[string]int{"PCS": 10, "CHA": 15, "B25": 25, "B30": 30, "B40": 40, "B70": 70, "B90": 90}

// asset is a line of the inventory: its places, zone and dependencies by
// code; octet the third byte of its address in its building's network
// (none: 0), host its DNS name.
type asset struct {
	code, name           string
	kind                 infra.Kind
	building, room, line string
	kit, model, zone     string
	impact               infra.Impact
	octet                int
	host                 string
	need                 int
	deps                 []string
}

// roomNet is the network a room's devices hang on: its switches A and B
// (one switch twice where there is one), and what a device on both needs.
type roomNet struct{ a, b, both string }

// inventory is the inventory being written, line after line.
type inventory struct {
	rows    [][]string
	serials int
	next    map[string]int      // last host number, per /24
	power   map[string]string   // each building's power: its UPS, or the group of its two
	dist    map[string]string   // each building's distribution: its pair of switches
	net     map[string]roomNet  // each room's, where it has its own
	bnet    map[string]roomNet  // each building's, for its other rooms
	compute map[string][]string // each server room's: what its virtual machines need
	shared  map[string]sharedGW // the gateways shared by a few rooms, per switch pair
	gws     map[string]int      // gateways shared so far, per building
}

// sharedGW is the gateway a switch pair's rooms share: its code, how many
// rooms it serves, and how many gateways the pair has.
type sharedGW struct {
	code         string
	rooms, count int
}

// inventoryCSV writes the demo's inventory in the import's format.
func inventoryCSV() ([]byte, error) {
	v := &inventory{next: map[string]int{}, power: map[string]string{}, dist: map[string]string{}, net: map[string]roomNet{},
		bnet: map[string]roomNet{}, compute: map[string][]string{}, shared: map[string]sharedGW{}, gws: map[string]int{}}
	v.powerSupply()
	v.datacentre()
	v.cluster()
	v.distribution()
	v.ot("B30", "Z-OT30", b30Areas())
	v.ot("B40", "Z-OT40", b40Areas)
	v.lines()
	v.monitoring()
	v.doors()
	v.utilities()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(infra.Columns); err != nil {
		return nil, err
	}
	if err := w.WriteAll(v.rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// add writes an asset's line and returns its code.
func (v *inventory) add(a asset) string {
	k := kits[a.kit]
	cols := map[string]string{"code": a.code, "name": a.name, "kind": string(a.kind), "building": a.building, "room": a.room, "line": a.line,
		"model": cmp.Or(a.model, k.model), "owner": k.owner, "contract": k.contract, "zone": a.zone,
		"gmp_impact": string(cmp.Or(a.impact, infra.ImpactNone)), "depends_on": strings.Join(a.deps, " ")}
	if k.serial != "" {
		v.serials++
		cols["serial"] = fmt.Sprintf("%s%07d", k.serial, v.serials*7919%10000000)
	}
	var addrs []string
	if a.octet > 0 {
		net := fmt.Sprintf("10.%d.%d", subnet[a.building], a.octet)
		v.next[net]++
		addrs = append(addrs, fmt.Sprintf("%s.%d", net, v.next[net]))
	}
	if a.host != "" {
		addrs = append(addrs, a.host+".fsb.cenexis.lan")
	}
	cols["addresses"] = strings.Join(addrs, " ")
	if k.months > 0 {
		cols["contract_ends"] = reference.AddDate(0, k.months, -1).Format(time.DateOnly)
	}
	level := a.kind.DefaultLevel()
	switch {
	case a.zone == "Z-ENT":
		level = 4
	case (a.zone == "Z-OT30" || a.zone == "Z-OT40") && (a.kind == infra.Switch || a.kind == infra.Firewall || a.kind == infra.Other):
		level = 2
	}
	cols["isa95_level"] = strconv.Itoa(int(level))
	if a.kind == infra.Group {
		cols["need"] = strconv.Itoa(a.need)
	}
	row := make([]string, len(infra.Columns))
	for i, c := range infra.Columns {
		row[i] = cols[c]
	}
	v.rows = append(v.rows, row)
	return a.code
}

// group writes a redundancy group up while need of its members are.
func (v *inventory) group(code, name, building string, need int, members ...string) string {
	return v.add(asset{code: code, name: fmt.Sprintf("%s (%d sur %d)", name, need, len(members)), kind: infra.Group, building: building,
		need: need, deps: members})
}

// pair writes two like assets, code-1 and code-2, and the group of the
// two; it returns the group's code.
func (v *inventory) pair(a asset) string {
	var members []string
	for n := 1; n <= 2; n++ {
		m := a
		m.code, m.name = fmt.Sprintf("%s-%d", a.code, n), fmt.Sprintf("%s %d", a.name, n)
		members = append(members, v.add(m))
	}
	return v.group(a.code, a.name, a.building, 1, members...)
}

// buildingName and roomName are the words of a building's or a room's code.
func buildingName(code string) string {
	for _, b := range buildings {
		if b.Code == code {
			return b.Name
		}
	}
	return code
}

func roomName(code string) string {
	for _, r := range rooms {
		if r.code == code {
			return r.name
		}
	}
	return code
}

// powerSupply writes each building's panels and UPSs: two of each where
// GMP rooms or servers are, one in the security post and the boiler house.
func (v *inventory) powerSupply() {
	for _, b := range buildings {
		halves := []string{"A", "B"}
		if b.Code == "PCS" || b.Code == "CHA" {
			halves = halves[:1]
		}
		zone := "Z-BMS"
		if b.Code == "B90" {
			zone = "Z-DC"
		}
		var ups []string
		for _, h := range halves {
			panel := v.add(asset{code: b.Code + "-PWR-" + h, name: fmt.Sprintf("TGBT %s, %s", h, b.Name), kind: infra.PowerPanel, building: b.Code,
				kit: "panel"})
			ups = append(ups, v.add(asset{code: b.Code + "-UPS-" + h, name: fmt.Sprintf("Onduleur %s, %s", h, b.Name), kind: infra.UPS,
				building: b.Code, kit: "ups", zone: zone, octet: 250, deps: []string{panel}}))
		}
		v.power[b.Code] = ups[0]
		if len(ups) == 2 {
			v.power[b.Code] = v.group(b.Code+"-PWR", "Alimentation ondulée A et B, "+b.Name, b.Code, 1, ups...)
		}
	}
}

// datacentre writes the server rooms: racks with their PDUs, the cores,
// the firewalls, the hypervisors and storage, the operators' routers and
// the backup server.
func (v *inventory) datacentre() {
	rack := map[string]string{} // rack code → the group of its PDUs
	for _, r := range []struct {
		room string
		n    int
	}{{"B90-S01", 1}, {"B90-S01", 2}, {"B90-S02", 1}, {"B90-S02", 2}, {"B90-S03", 1}} {
		code := fmt.Sprintf("%s-R%d", r.room, r.n)
		where := fmt.Sprintf("baie %d, %s", r.n, roomName(r.room))
		v.add(asset{code: code, name: fmt.Sprintf("Baie %d, %s", r.n, roomName(r.room)), kind: infra.Rack, building: "B90", room: r.room, kit: "rack"})
		var pdus []string
		for _, h := range []string{"A", "B"} {
			pdus = append(pdus, v.add(asset{code: fmt.Sprintf("%s-PDU-%d%s", r.room, r.n, h), name: fmt.Sprintf("PDU %s, %s", h, where),
				kind: infra.PDU, building: "B90", room: r.room, kit: "pdu", zone: "Z-DC", octet: 250, deps: []string{"B90-UPS-" + h}}))
		}
		rack[code] = v.group(code+"-PWR", "PDU A et B, "+where, "B90", 1, pdus...)
	}
	var cores, fws []string
	for i, room := range []string{"B90-S01", "B90-S02"} {
		cores = append(cores, v.add(asset{code: fmt.Sprintf("B90-SW-CORE-%d", i+1), name: fmt.Sprintf("Commutateur de cœur %d", i+1),
			kind: infra.Switch, building: "B90", room: room, kit: "core", zone: "Z-DC", octet: 1, deps: []string{rack[room+"-R1"]}}))
	}
	core := v.group("B90-SW-CORE", "Commutateurs de cœur", "B90", 1, cores...)
	for i, room := range []string{"B90-S01", "B90-S02"} {
		fws = append(fws, v.add(asset{code: fmt.Sprintf("B90-FW-%d", i+1), name: fmt.Sprintf("Pare-feu du centre de données %d", i+1),
			kind: infra.Firewall, building: "B90", room: room, kit: "fw", zone: "Z-DC", octet: 1, deps: []string{rack[room+"-R1"], core}}))
	}
	v.group("B90-FW", "Pare-feu du centre de données", "B90", 1, fws...)
	for _, room := range []string{"B90-S01", "B90-S02"} {
		var hosts []string
		for n := 1; n <= 3; n++ {
			hosts = append(hosts, v.add(asset{code: fmt.Sprintf("%s-ESX-%d", room, n), name: fmt.Sprintf("Hyperviseur %d, %s", n, roomName(room)),
				kind: infra.Server, building: "B90", room: room, kit: "host", zone: "Z-DC", octet: 2, deps: []string{rack[room+"-R2"], core}}))
		}
		grp := v.group(room+"-ESX", "Grappe d'hyperviseurs, "+roomName(room), "B90", 1, hosts...)
		san := v.add(asset{code: room + "-SAN", name: "Baie de stockage, " + roomName(room), kind: infra.Storage, building: "B90", room: room,
			kit: "san", zone: "Z-DC", octet: 3, deps: []string{rack[room+"-R1"], core}})
		v.compute[room] = []string{grp, san}
	}
	v.compute["B90-S03"] = []string{v.add(asset{code: "B90-S03-ESX-1", name: "Hyperviseur témoin, Local télécom", kind: infra.Server,
		building: "B90", room: "B90-S03", kit: "witness", zone: "Z-DC", octet: 2, deps: []string{rack["B90-S03-R1"], core}})}
	for n := 1; n <= 2; n++ {
		v.add(asset{code: fmt.Sprintf("B90-S03-RTR-%d", n), name: fmt.Sprintf("Routeur opérateur %d (Internet et WAN)", n), kind: infra.Router,
			building: "B90", room: "B90-S03", kit: "router", zone: "Z-ENT", octet: 1, deps: []string{rack["B90-S03-R1"], core}})
	}
	v.add(asset{code: "B90-S02-BKP-1", name: "Serveur de sauvegarde", kind: infra.Server, building: "B90", room: "B90-S02", kit: "backup",
		zone: "Z-DC", octet: 2, host: "bkp-1", deps: []string{rack["B90-S02-R2"], core}})
	// The offices' floor switches.
	for n := 1; n <= 4; n++ {
		v.add(asset{code: fmt.Sprintf("B90-SW-ACC-%d", n), name: fmt.Sprintf("Commutateur d'étage %d", n), kind: infra.Switch, building: "B90",
			room: fmt.Sprintf("B90-%02d", n), kit: "access", zone: "Z-ENT", octet: 100, deps: []string{core, v.power["B90"]}})
	}
	v.bnet["B90"] = roomNet{"B90-SW-ACC-4", "B90-SW-ACC-3", ""}
	v.add(asset{code: "B90-PC-ING-01", name: "Poste d'ingénierie automatisme", kind: infra.Other, building: "B90", room: "B90-02",
		kit: "workstation", zone: "Z-ENT", octet: 110, deps: []string{"B90-SW-ACC-2", v.power["B90"]}})
}

// cluster writes galenix's cluster on the server rooms' virtual machines,
// the LIMS on one machine of S01, and the services people use.
func (v *inventory) cluster() {
	groups := map[string]string{}
	for _, c := range []struct {
		code, name, group, model, zone string
		kind                           infra.Kind
		rooms                          []string
		need                           int
	}{
		{"B90-GNX", "Nœud galenix", "Nœuds galenix", "galenix sur Debian 13", "Z-DC", infra.GalenixNode, []string{"B90-S01", "B90-S02", "B90-S03"}, 1},
		{"B90-PG", "PostgreSQL sous Patroni", "Base PostgreSQL", "PostgreSQL 17, Patroni 4 (Debian 13)", "Z-DC", infra.DBMember,
			[]string{"B90-S01", "B90-S02"}, 1},
		{"B90-ETCD", "Membre etcd", "Quorum etcd", "etcd 3.5 (Debian 13)", "Z-DC", infra.DBMember, []string{"B90-S01", "B90-S02", "B90-S03"}, 2},
		{"B90-HAP", "Répartiteur HAProxy", "Répartiteurs HAProxy", "HAProxy 3.0, keepalived (Debian 13)", "Z-DC", infra.Other,
			[]string{"B90-S01", "B90-S02"}, 1},
		{"B90-MQTT", "Broker MQTT", "Brokers MQTT", "mosquitto 2.0 (Debian 13)", "Z-DMZ", infra.Broker, []string{"B90-S01", "B90-S02"}, 1},
		{"B90-AD", "Contrôleur de domaine", "Annuaire Active Directory", "Windows Server 2022, Active Directory", "Z-DC", infra.VM,
			[]string{"B90-S01", "B90-S02"}, 1},
	} {
		var members []string
		for i, room := range c.rooms {
			members = append(members, v.add(asset{code: fmt.Sprintf("%s-%d", c.code, i+1), name: fmt.Sprintf("%s %d", c.name, i+1), kind: c.kind,
				building: "B90", room: room, kit: "vm", model: c.model, zone: c.zone, octet: 10,
				host: strings.ToLower(fmt.Sprintf("%s-%d", c.code[4:], i+1)), deps: v.compute[room]}))
		}
		groups[c.code] = v.group(c.code, c.group, "B90", c.need, members...)
	}
	v.add(asset{code: galenixService, name: "galenix — MES / EBR", kind: infra.ServiceKind, kit: "service", model: "galenix", zone: "Z-DC",
		impact: infra.ImpactCritical, host: "galenix", deps: []string{groups["B90-GNX"], groups["B90-PG"], groups["B90-ETCD"],
			groups["B90-MQTT"], groups["B90-HAP"], groups["B90-AD"], "B90-FW"}})
	// The LIMS runs on one machine: its editor supports no cluster.
	lims := v.add(asset{code: "B90-VM-LIMS", name: "Serveur du LIMS", kind: infra.VM, building: "B90", room: "B90-S01", kit: "vm",
		model: "Windows Server 2022, LabWare LIMS 8", zone: "Z-DC", octet: 10, host: "lims", deps: v.compute["B90-S01"]})
	v.add(asset{code: "LIMS", name: "LIMS — laboratoire de contrôle qualité", kind: infra.ServiceKind, kit: "service", model: "LabWare LIMS 8",
		zone: "Z-DC", impact: infra.ImpactRelevant, deps: []string{lims, groups["B90-AD"], "B90-FW"}})
	v.add(asset{code: "BACKUP", name: "Sauvegardes", kind: infra.ServiceKind, kit: "service", model: "Veeam Backup & Replication 12",
		zone: "Z-DC", deps: []string{"B90-S02-BKP-1"}})
}

// distRooms are the rooms the distribution switches stand in, where the
// building has a room for them.
var distRooms = map[string]string{"PCS": "PCS-03", "CHA": "CHA-05"}

// distribution writes each building's pair of distribution switches,
// each uplinked to both cores.
func (v *inventory) distribution() {
	for _, b := range []string{"PCS", "CHA", "B25", "B30", "B40", "B70"} {
		v.dist[b] = v.pair(asset{code: b + "-SW-DIST", name: "Commutateur de distribution, " + buildingName(b), kind: infra.Switch, building: b,
			room: distRooms[b], kit: "dist", zone: "Z-ENT", octet: 1, deps: []string{"B90-SW-CORE", v.power[b]}})
		v.bnet[b] = roomNet{b + "-SW-DIST-1", b + "-SW-DIST-2", v.dist[b]}
	}
}

// otArea is an area of a production building's OT network: its rooms,
// served by a pair of access switches or by one.
type otArea struct {
	code  string
	rooms []string
	pair  bool
}

// b30Areas are Bâtiment 30's areas: each aseptic room with its two grade
// A zones, the grade C rooms with the grade B airlocks, the grade D rooms.
func b30Areas() []otArea {
	var out []otArea
	for k := 1; k <= sterileLines/2; k++ {
		b := fmt.Sprintf("B%02d", 10+k)
		out = append(out, otArea{b, []string{"B30-" + b, zone(2*k - 1), zone(2 * k)}, true})
	}
	return append(out,
		otArea{"C", []string{"B30-B01", "B30-B02", "B30-C01", "B30-C02", "B30-C03", "B30-C04", "B30-C05", "B30-C06", "B30-C07", "B30-C08"}, true},
		otArea{"D", []string{"B30-U01", "B30-D01", "B30-D02", "B30-D03", "B30-D04", "B30-D05"}, true})
}

// b40Areas are Bâtiment 40's workshops, one access switch each.
var b40Areas = []otArea{
	{"01", []string{"B40-U01", "B40-D01", "B40-D02", "B40-D03", "B40-D04"}, false},
	{"02", []string{"B40-D11", "B40-D12", "B40-D13"}, false},
	{"03", []string{"B40-D14", "B40-D15"}, false},
	{"04", []string{"B40-D21", "B40-D22", "B40-D23"}, false},
	{"05", []string{"B40-D31", "B40-D41", "B40-D42"}, false},
	{"06", []string{"B40-N51", "B40-N61"}, false},
	{"07", []string{"B40-N71", "B40-N72", "B40-N81"}, false},
}

// ot writes a production building's OT network: its firewalls and core
// switches, in pairs, and its areas' access switches.
func (v *inventory) ot(b, zone string, areas []otArea) {
	pw := v.power[b]
	fw := v.pair(asset{code: b + "-OT-FW", name: "Pare-feu OT, " + buildingName(b), kind: infra.Firewall, building: b, kit: "ot-fw", zone: zone,
		octet: 10, deps: []string{v.dist[b], pw}})
	core := v.pair(asset{code: b + "-OT-CORE", name: "Commutateur de cœur OT, " + buildingName(b), kind: infra.Switch, building: b,
		kit: "ot-core", zone: zone, octet: 10, deps: []string{fw, pw}})
	for _, ar := range areas {
		sw := asset{code: b + "-OT-SW-" + ar.code, name: fmt.Sprintf("Commutateur d'accès OT %s, %s", ar.code, buildingName(b)), kind: infra.Switch,
			building: b, kit: "ot-access", zone: zone, octet: 10, deps: []string{core, pw}}
		net := roomNet{sw.code, sw.code, sw.code}
		if ar.pair {
			net.both = v.group(sw.code, sw.name, b, 1, v.add(with(sw, "-A", " A")), v.add(with(sw, "-B", " B")))
			net.a, net.b = sw.code+"-A", sw.code+"-B"
		} else {
			v.add(sw)
		}
		for _, r := range ar.rooms {
			v.net[r] = net
		}
	}
}

// with is the asset with suffixes to its code and name.
func with(a asset, code, name string) asset {
	a.code, a.name = a.code+code, a.name+name
	return a
}

// infraLine is a line of the demo, as lines.go writes it.
type infraLine struct {
	code, name, room string
	sterile          bool
}

// infraLines lists the lines as lines.go numbers and places them.
func infraLines() []infraLine {
	var out []infraLine
	numbers := map[string]int{}
	for _, g := range lineGroups {
		for i := range g.count {
			numbers[g.prefix]++
			name := g.name
			if g.count > 1 {
				name = fmt.Sprintf(g.name, i+1)
			}
			out = append(out, infraLine{fmt.Sprintf("%s-%02d", g.prefix, numbers[g.prefix]), name, g.rooms[i*len(g.rooms)/g.count], g.forms[0].Sterile()})
		}
	}
	return out
}

// lines writes each line's PLC and operator panel, on both of its area's
// switches (L30-07's on one), and the line itself, which needs them and
// galenix's batch record.
func (v *inventory) lines() {
	for _, ln := range infraLines() {
		b, zone, plc, impact := "B40", "Z-OT40", "plc40", infra.ImpactRelevant
		if ln.sterile {
			b, zone, plc, impact = "B30", "Z-OT30", "plc30", infra.ImpactCritical
		}
		up := v.net[ln.room].both
		if ln.code == spofLine {
			up = spofSwitch
		}
		own := asset{building: b, room: ln.room, line: ln.code, zone: zone, deps: []string{up, v.power[b]}}
		p, h := own, own
		p.code, p.name, p.kind, p.kit, p.octet = ln.code+"-PLC", "Automate de la ligne "+ln.code, infra.PLC, plc, 20
		h.code, h.name, h.kind, h.kit, h.octet = ln.code+"-HMI", "Pupitre opérateur de la ligne "+ln.code, infra.Other, "hmi", 21
		v.add(asset{code: ln.code, name: ln.name, kind: infra.Line, building: b, room: ln.room, line: ln.code, kit: "line", zone: zone,
			impact: impact, deps: []string{v.add(p), v.add(h), galenixService}})
	}
}

// monitored is the GMP impact of the loss of a room's monitoring: none
// monitored where false.
func monitored(r room) (infra.Impact, bool) {
	switch {
	case r.grade == site.GradeA || r.grade == site.GradeB || r.env == cold:
		return infra.ImpactCritical, true
	case r.grade != site.GradeUnclassified || r.code == "B90-04":
		return infra.ImpactRelevant, true
	case r.building == "B90" && r.env == servers:
		return infra.ImpactNone, true
	}
	return "", false
}

// monitoring writes each GMP room's monitoring: two gateways of its own
// on two switches where its loss is critical, else a gateway it shares
// with up to three rooms of its area.
func (v *inventory) monitoring() {
	for _, r := range rooms {
		impact, ok := monitored(r)
		if !ok {
			continue
		}
		net, ok := v.net[r.code]
		if !ok {
			net = v.bnet[r.building]
		}
		pw := v.power[r.building]
		var feed string
		if impact == infra.ImpactCritical {
			a, b := net.a, net.b
			if r.code == spofRoom {
				a = spofSwitch
			}
			gw := asset{code: r.code + "-GW", name: "Passerelle de capteurs, " + r.name, kind: infra.SensorGateway, building: r.building,
				room: r.code, kit: "gateway", zone: "Z-BMS", octet: 50}
			g1, g2 := with(gw, "1", " 1"), with(gw, "2", " 2")
			g1.deps, g2.deps = []string{a, pw}, []string{b, pw}
			feed = v.group(gw.code, "Passerelles de capteurs, "+r.name, r.building, 1, v.add(g1), v.add(g2))
		} else {
			feed = v.sharedGateway(r, net)
		}
		v.add(asset{code: r.code + "-MON", name: "Surveillance environnementale, " + r.name, kind: infra.RoomMonitoring, building: r.building,
			room: r.code, kit: "monitoring", zone: "Z-BMS", impact: impact, deps: []string{feed, galenixService}})
	}
}

// sharedGateway is the gateway the room shares with up to three others on
// its switches, written with its first room; a pair's gateways alternate
// between its two switches.
func (v *inventory) sharedGateway(r room, net roomNet) string {
	key := net.a + " " + net.b
	s := v.shared[key]
	if s.code == "" || s.rooms == 4 {
		v.gws[r.building]++
		sw := net.a
		if s.count%2 == 1 {
			sw = net.b
		}
		s = sharedGW{code: v.add(asset{code: fmt.Sprintf("%s-GW-%d", r.building, v.gws[r.building]),
			name: fmt.Sprintf("Passerelle de capteurs %d, %s", v.gws[r.building], buildingName(r.building)), kind: infra.SensorGateway,
			building: r.building, room: r.code, kit: "gateway", zone: "Z-BMS", octet: 50, deps: []string{sw, v.power[r.building]}}),
			count: s.count + 1}
	}
	s.rooms++
	v.shared[key] = s
	return s.code
}

// demoDoors are the doors under access control: a reader in, and out where
// leaving is controlled too.
var demoDoors = []struct {
	room, name string
	impact     infra.Impact
	out        bool
}{
	{"PCS-02", "Tourniquet d'entrée du site", infra.ImpactNone, true},
	{"CHA-01", "Porte de la chaufferie", infra.ImpactNone, false},
	{"B25-U01", "Entrée du laboratoire", infra.ImpactNone, false},
	{"B25-C01", "Porte du sas de microbiologie", infra.ImpactRelevant, true},
	{"B30-U01", "Entrée du Bâtiment 30", infra.ImpactNone, false},
	{"B30-C01", "Porte du sas d'habillage classe C", infra.ImpactRelevant, true},
	{"B30-B01", "Porte du sas d'habillage classe B", infra.ImpactRelevant, true},
	{"B40-U01", "Entrée du Bâtiment 40", infra.ImpactNone, false},
	{"B40-D02", "Porte du sas personnel classe D", infra.ImpactRelevant, true},
	{"B70-U01", "Porte des quais", infra.ImpactNone, false},
	{"B70-S01", "Porte du coffre des stupéfiants", infra.ImpactRelevant, true},
	{"B90-01", "Entrée du Bâtiment 90", infra.ImpactNone, false},
	{"B90-S01", "Porte de la salle serveurs 1", infra.ImpactNone, true},
	{"B90-S02", "Porte de la salle serveurs 2", infra.ImpactNone, true},
}

// doors writes each building's door controller, where its first door is,
// and each door with its readers.
func (v *inventory) doors() {
	written := map[string]bool{}
	for _, d := range demoDoors {
		b, _, _ := strings.Cut(d.room, "-")
		ctl := b + "-ACS-CTL"
		if !written[ctl] {
			written[ctl] = true
			up := v.dist[b]
			if b == "B90" {
				up = "B90-SW-ACC-1"
			}
			v.add(asset{code: ctl, name: "Contrôleur d'accès, " + buildingName(b), kind: infra.DoorController, building: b, room: d.room,
				kit: "acs", zone: "Z-ACS", octet: 60, deps: []string{up, v.power[b]}})
		}
		rd := asset{code: d.room + "-RD", name: "Lecteur de badge, " + d.name, kind: infra.BadgeReader, building: b, room: d.room, kit: "reader",
			zone: "Z-ACS", octet: 60, deps: []string{ctl}}
		readers := []string{v.add(with(rd, "-IN", " (entrée)"))}
		if d.out {
			readers = append(readers, v.add(with(rd, "-OUT", " (sortie)")))
		}
		v.add(asset{code: d.room + "-DOOR", name: d.name, kind: infra.Door, building: b, room: d.room, kit: "door", zone: "Z-ACS",
			impact: d.impact, deps: readers})
	}
}

// utilities writes the boiler house's building management (its server and
// its PLCs) and the security post's video server.
func (v *inventory) utilities() {
	up := []string{v.dist["CHA"], v.power["CHA"]}
	v.add(asset{code: "CHA-GTC-SRV", name: "Serveur de GTC", kind: infra.Server, building: "CHA", room: "CHA-05", kit: "bms", zone: "Z-BMS",
		octet: 40, deps: up})
	for _, p := range []struct{ code, name, room string }{
		{"CHA-PLC-CTA-30", "Automate des CTA du Bâtiment 30", "CHA-02"},
		{"CHA-PLC-CTA-40", "Automate des CTA du Bâtiment 40", "CHA-02"},
		{"CHA-PLC-CTA-25", "Automate des CTA du laboratoire et du magasin", "CHA-02"},
		{"CHA-PLC-EAU", "Automate de production d'eau purifiée et PPI", "CHA-03"},
		{"CHA-PLC-FROID", "Automate des groupes froids", "CHA-04"},
		{"CHA-PLC-CHAUD", "Automate des chaudières", "CHA-01"},
	} {
		v.add(asset{code: p.code, name: p.name, kind: infra.PLC, building: "CHA", room: p.room, kit: "bms-plc", zone: "Z-BMS", octet: 40, deps: up})
	}
	v.add(asset{code: "PCS-VMS-1", name: "Serveur de vidéosurveillance", kind: infra.Server, building: "PCS", room: "PCS-03", kit: "vms",
		zone: "Z-ACS", octet: 60, deps: []string{v.dist["PCS"], v.power["PCS"]}})
}
