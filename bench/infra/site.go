package main

import (
	"fmt"

	"galenix/internal/infra"

	"github.com/google/uuid"
)

// A synthetic site of a CDMO, copied scale times: what the analysis meets
// on a site ten times the demo's size. Each copy is one site's worth of
// infrastructure (about 650 assets, 7 buildings, 110 rooms, 50 lines),
// each with its own buildings and rooms; every copy's power panels hang
// on the same two utility feeds, so that the copies make one graph.

// buildingSpec is a building of a copy: one letter per room, T a
// technical (electrical and network) room, K a control room, S a server
// room, A to D a clean room of that grade, L a laboratory, U a controlled
// room not classified, O an office. Rooms 0 and 1 are the two technical
// rooms each building's redundant halves stand in.
type buildingSpec struct {
	code, name, rooms string
	// lines is how many production lines it holds; ot that its network
	// hangs behind the OT firewalls rather than on the core.
	lines int
	ot    bool
}

var buildings = []buildingSpec{
	{"UTL", "Utilités", "TTTUUUUUUO", 0, true},
	{"STE", "Production stérile", "TTKABBABBABBABBCCCCDDDDU", 15, true},
	{"FSO", "Formes sèches", "TTKDDDDDDDDDDDDDDDUO", 20, true},
	{"BIO", "Biologie", "TTBBBBCCCCCCDDDDDDUO", 15, true},
	{"CQ", "Contrôle qualité", "TTLLLLLLLLLLCCOO", 0, false},
	{"MAG", "Magasin", "TTUUUUUUCO", 0, false},
	{"ADM", "Administration et informatique", "TTSSOOOOOO", 0, false},
}

// site is the generated inventory, with the places the store would list
// (every building and room, each room after its building) and their words.
type site struct {
	assets []infra.Asset
	places []infra.Place
	names  map[infra.Place]string
	// buildings are the building ids per copy, in the order of buildings.
	buildings [][]string
}

// id is a stable UUID for a name, as the store's ids look.
func id(name string) string { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String() }

// loc is where an asset stands.
type loc struct{ bid, bcode, rid, rcode, grade string }

func (s *site) add(at loc, code, name string, kind infra.Kind, impact infra.Impact, deps ...string) string {
	a := infra.Asset{ID: id("asset/" + code), Code: code, Name: name, Kind: kind, BuildingID: at.bid, Building: at.bcode,
		RoomID: at.rid, Room: at.rcode, Grade: at.grade, Model: "-", Serial: code, Addresses: []string{}, Owner: "IT",
		Level: kind.DefaultLevel(), Impact: impact, DependsOn: deps, State: infra.StateUp}
	if impact == "" {
		a.Impact = infra.ImpactNone
	}
	s.assets = append(s.assets, a)
	return a.ID
}

// group adds a redundancy group up while need of its members are.
func (s *site) group(code string, need int, members ...string) string {
	i := s.add(loc{}, code, "Redondance "+code, infra.Group, "", members...)
	s.assets[len(s.assets)-1].Need = need
	return i
}

// generate builds scale copies of the site on the two utility feeds.
func generate(scale int) *site {
	s := &site{names: map[infra.Place]string{}}
	// The feeds arrive in the first copy's utility building, one in each
	// of its electrical rooms: that building's loss is the whole site's.
	utl := func(r int) loc {
		code := fmt.Sprintf("S01-UTL-%02d", r+1)
		return loc{id("building/S01-UTL"), "S01-UTL", id("room/" + code), code, "U"}
	}
	fa := s.add(utl(0), "SITE-FEED-A", "Arrivée HTA A", infra.PowerPanel, "")
	fb := s.add(utl(1), "SITE-FEED-B", "Arrivée HTA B", infra.PowerPanel, "")
	feeds := s.group("SITE-FEEDS", 1, fa, fb)
	for c := range scale {
		s.copySite(c, feeds)
	}
	return s
}

// bld is a building of a copy as it is wired.
type bld struct {
	spec  buildingSpec
	code  string
	id    string
	rooms []loc
	// pwr are its two power groups (a PDU on each UPS), net its access
	// switches' group.
	pwr [2]string
	net string
}

func (b *bld) at(r int) loc { return b.rooms[r] }

// copySite adds one copy: power, network, compute, the cluster and the
// services, lines, rooms' monitoring, doors. Each copy holds the same few
// single points of failure, marked "SPOF" below.
func (s *site) copySite(c int, feeds string) {
	p := fmt.Sprintf("S%02d-", c+1)
	var ids []string
	bs := make([]*bld, len(buildings))
	for i, spec := range buildings {
		b := &bld{spec: spec, code: p + spec.code, id: id("building/" + p + spec.code)}
		pl := infra.Place{BuildingID: b.id}
		s.places, s.names[pl] = append(s.places, pl), b.code+" — "+spec.name
		for r := range len(spec.rooms) {
			code := fmt.Sprintf("%s-%02d", b.code, r+1)
			at := loc{b.id, b.code, id("room/" + code), code, grade(spec.rooms[r])}
			b.rooms = append(b.rooms, at)
			pl := infra.Place{BuildingID: b.id, RoomID: at.rid}
			s.places, s.names[pl] = append(s.places, pl), code+" — "+roomName(spec.rooms[r])
		}
		bs[i], ids = b, append(ids, b.id)
	}
	s.buildings = append(s.buildings, ids)

	// Power: two panels on the site's feeds, a UPS on each, two PDUs on
	// each UPS; each power group one PDU of either side.
	for _, b := range bs {
		ppa := s.add(b.at(0), b.code+"-PP-A", "TGBT A", infra.PowerPanel, "", feeds)
		ppb := s.add(b.at(1), b.code+"-PP-B", "TGBT B", infra.PowerPanel, "", feeds)
		upsA := s.add(b.at(0), b.code+"-UPS-A", "Onduleur A", infra.UPS, "", ppa)
		// SPOF: the warehouse's second UPS was wired to the first panel.
		onB := ppb
		if b.spec.code == "MAG" {
			onB = ppa
		}
		upsB := s.add(b.at(1), b.code+"-UPS-B", "Onduleur B", infra.UPS, "", onB)
		for k := range 2 {
			a := s.add(b.at(0), fmt.Sprintf("%s-PDU-A%d", b.code, k+1), "Distribution A", infra.PDU, "", upsA)
			bb := s.add(b.at(1), fmt.Sprintf("%s-PDU-B%d", b.code, k+1), "Distribution B", infra.PDU, "", upsB)
			b.pwr[k] = s.group(fmt.Sprintf("%s-PWR-%d", b.code, k+1), 1, a, bb)
		}
	}

	// The core and the OT firewalls, one of each pair in each server room.
	adm := bs[6]
	core1 := s.add(adm.at(2), p+"CORE-1", "Cœur de réseau 1", infra.Switch, "", adm.pwr[0])
	core2 := s.add(adm.at(3), p+"CORE-2", "Cœur de réseau 2", infra.Switch, "", adm.pwr[1])
	core := s.group(p+"CORE", 1, core1, core2)
	fw1 := s.add(adm.at(2), p+"FW-OT-1", "Pare-feu OT 1", infra.Firewall, "", core, adm.pwr[0])
	fw2 := s.add(adm.at(3), p+"FW-OT-2", "Pare-feu OT 2", infra.Firewall, "", core, adm.pwr[1])
	fw := s.group(p+"FW-OT", 1, fw1, fw2)
	for _, b := range bs {
		up := core
		if b.spec.ot {
			up = fw
		}
		// SPOF (of a place): quality control's two switches share one room.
		r2 := 1
		if b.spec.code == "CQ" {
			r2 = 0
		}
		sw1 := s.add(b.at(0), b.code+"-SW-1", "Commutateur d'accès 1", infra.Switch, "", up, b.pwr[0])
		sw2 := s.add(b.at(r2), b.code+"-SW-2", "Commutateur d'accès 2", infra.Switch, "", up, b.pwr[1])
		b.net = s.group(b.code+"-NET", 1, sw1, sw2)
	}

	// Compute: four racks, eight hosts (a cluster needing six), two
	// storage arrays (one needed).
	var racks, hosts []string
	for k := range 4 {
		racks = append(racks, s.add(adm.at(2+k/2), fmt.Sprintf("%sRACK-%d", p, k+1), "Baie", infra.Rack, "", adm.pwr[k%2]))
	}
	for k := range 8 {
		hosts = append(hosts, s.add(adm.at(2+k%4/2), fmt.Sprintf("%sHOST-%d", p, k+1), "Hyperviseur", infra.Server, "", racks[k%4], core))
	}
	hv := s.group(p+"HV", 6, hosts...)
	// SPOF: both arrays reach the hosts through one SAN switch.
	san := s.add(adm.at(2), p+"SAN-1", "Commutateur SAN", infra.Switch, "", racks[0])
	st1 := s.add(adm.at(2), p+"ST-1", "Baie de stockage 1", infra.Storage, "", racks[0], san)
	st2 := s.add(adm.at(3), p+"ST-2", "Baie de stockage 2", infra.Storage, "", racks[2], san)
	storage := s.group(p+"STORAGE", 1, st1, st2)
	vm := func(code, name string, kind infra.Kind, on string) string {
		return s.add(loc{}, p+code, name, kind, "", on, storage)
	}

	// The cluster: etcd two of three, PostgreSQL one of three behind it,
	// galenix one of three, the broker one of two; each member on its own
	// host (anti-affinity).
	var etcd, db, gx, mq []string
	for k := range 3 {
		etcd = append(etcd, vm(fmt.Sprintf("ETCD-%d", k+1), "Membre etcd", infra.Other, hosts[k]))
	}
	etcdQ := s.group(p+"ETCD", 2, etcd...)
	for k := range 3 {
		db = append(db, s.add(loc{}, fmt.Sprintf("%sPG-%d", p, k+1), "Membre PostgreSQL", infra.DBMember, "", hosts[k], storage, etcdQ))
	}
	dbQ := s.group(p+"PG", 1, db...)
	for k := range 3 {
		gx = append(gx, vm(fmt.Sprintf("GX-%d", k+1), "Nœud galenix", infra.GalenixNode, hosts[k]))
	}
	gxQ := s.group(p+"GX", 1, gx...)
	for k := range 2 {
		mq = append(mq, vm(fmt.Sprintf("MQ-%d", k+1), "Broker MQTT", infra.Broker, hosts[3+k]))
	}
	mqQ := s.group(p+"MQ", 1, mq...)
	dns := s.group(p+"DNS", 1, vm("DC-1", "Contrôleur de domaine 1", infra.VM, hosts[4]), vm("DC-2", "Contrôleur de domaine 2", infra.VM, hosts[5]))
	scada := s.group(p+"SCADA", 1, vm("SCADA-1", "Supervision 1", infra.VM, hosts[6]), vm("SCADA-2", "Supervision 2", infra.VM, hosts[7]))
	// SPOF: the LIMS's application and database are one VM each, pinned.
	s.add(loc{}, p+"SVC-LIMS", "LIMS", infra.ServiceKind, infra.ImpactRelevant,
		vm("LIMS-APP", "LIMS application", infra.VM, hosts[5]), vm("LIMS-DB", "LIMS base", infra.VM, hosts[5]), dns)
	s.add(loc{}, p+"SVC-ERP", "ERP", infra.ServiceKind, infra.ImpactRelevant,
		s.group(p+"ERP", 1, vm("ERP-1", "ERP 1", infra.VM, hosts[6]), vm("ERP-2", "ERP 2", infra.VM, hosts[7])), dns)
	s.add(loc{}, p+"SVC-HIST", "Historien", infra.ServiceKind, "", vm("HIST", "Historien", infra.VM, hosts[4]), scada)
	for _, k := range []string{"BACKUP", "PRINT", "FILES", "WSUS", "PKI", "MONITOR"} {
		vm(k, k, infra.VM, hv) // free to move: on the cluster
	}
	mes := s.add(loc{}, p+"SVC-MES", "galenix (MES, dossier de lot)", infra.ServiceKind, infra.ImpactCritical, gxQ, dbQ, mqQ, dns)

	for _, b := range bs {
		s.floor(b, mes, mqQ)
	}
}

// floor adds a building's lines, rooms' monitoring and doors.
func (s *site) floor(b *bld, mes, mq string) {
	rooms := b.spec.rooms
	// Lines: a PLC in a production room (the dry forms': all in their
	// control room, a place whose loss stops every line beyond it).
	var prod []int
	for r := range len(rooms) {
		if rooms[r] >= 'A' && rooms[r] <= 'D' {
			prod = append(prod, r)
		}
	}
	for k := range b.spec.lines {
		r := prod[k%len(prod)]
		if b.spec.code == "FSO" {
			r = 2
		}
		code := fmt.Sprintf("%s-L%02d", b.code, k+1)
		plc := s.add(b.at(r), code+"-PLC", "Automate "+code, infra.PLC, "", b.net, b.pwr[k%2])
		s.assets[len(s.assets)-1].LineID = id("line/" + code)
		impact := infra.ImpactCritical
		if b.spec.code == "FSO" {
			impact = infra.ImpactRelevant
		}
		s.add(b.at(r), code, "Ligne "+code, infra.Line, impact, plc, mes)
		s.assets[len(s.assets)-1].LineID = id("line/" + code)
	}

	// Rooms' monitoring (every room but offices): a gateway for each four
	// rooms; a grade A or B room on two, one needed.
	var monitored []int
	for r := range len(rooms) {
		if rooms[r] != 'O' {
			monitored = append(monitored, r)
		}
	}
	var gws []string
	for k := 0; k < len(monitored); k += 4 {
		pwr := b.pwr[k/4%2]
		// SPOF: the biologics building's first two gateways on one PDU.
		if b.spec.code == "BIO" && k < 8 {
			pwr = s.idOf(b.code + "-PDU-A1")
		}
		gws = append(gws, s.add(b.at(monitored[k]), fmt.Sprintf("%s-GW-%d", b.code, k/4+1), "Passerelle capteurs", infra.SensorGateway, "", b.net, pwr))
	}
	for k, r := range monitored {
		at := b.at(r)
		g := gws[k/4]
		impact := infra.ImpactNone
		switch rooms[r] {
		case 'A', 'B':
			impact = infra.ImpactCritical
			g = s.group(at.rcode+"-GW", 1, g, gws[(k/4+1)%len(gws)])
		case 'C', 'D', 'L', 'U':
			impact = infra.ImpactRelevant
		}
		s.add(at, at.rcode+"-EM", "Surveillance "+at.rcode, infra.RoomMonitoring, impact, g, mq)
	}

	// Doors: the entrance and one per room, a reader each (two at a clean
	// room's airlock), a controller for each six doors.
	var ctrl string
	for r := -1; r < len(rooms); r++ {
		at, code, impact := b.at(0), b.code+"-D-ENT", infra.ImpactNone
		if r >= 0 {
			at, code = b.at(r), b.at(r).rcode+"-D"
			if g := rooms[r]; g >= 'A' && g <= 'C' {
				impact = infra.ImpactRelevant
			}
		}
		if (r+1)%6 == 0 {
			ctrl = s.add(b.at(1), fmt.Sprintf("%s-DC-%d", b.code, (r+1)/6+1), "Contrôleur de portes", infra.DoorController, "", b.net, b.pwr[1])
		}
		deps := []string{ctrl, s.add(at, code+"-R1", "Lecteur", infra.BadgeReader, "", ctrl)}
		if impact == infra.ImpactRelevant {
			deps = append(deps, s.add(at, code+"-R2", "Lecteur sortie", infra.BadgeReader, "", ctrl))
		}
		s.add(at, code, "Porte "+code, infra.Door, impact, deps...)
	}
}

// idOf is the id of the asset with the code (added before).
func (s *site) idOf(code string) string { return id("asset/" + code) }

func grade(r byte) string {
	switch r {
	case 'A', 'B', 'C', 'D':
		return string(r)
	case 'L', 'U':
		return "CNC"
	}
	return "U"
}

func roomName(r byte) string {
	switch r {
	case 'T':
		return "Local technique"
	case 'K':
		return "Salle de contrôle"
	case 'S':
		return "Salle serveurs"
	case 'L':
		return "Laboratoire"
	case 'O':
		return "Bureau"
	case 'U':
		return "Local maîtrisé"
	}
	return "Salle classe " + string(r)
}
