// Package infra models the site's IT and OT infrastructure: its assets per
// building and room, what each depends on (power, network, compute,
// control, monitoring), redundancy groups needing k of their n members, the
// IEC 62443 zones and conduits the flows must keep to, and the supervision
// checks that say whether each asset is up. Lines, rooms' monitoring, doors
// and services are nodes of the same graph, so that the analysis answers
// "what stops if this fails?" in the site's own words. It holds types and
// rules only: no SQL, no HTTP.
package infra

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// MayView refuses who may not read the infrastructure: a client
// laboratory's people, and staff without infra.view.
func MayView(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.infra_view")
	}
	return a.Require(identity.PermInfraView)
}

// MayEdit refuses who may not keep the infrastructure's records.
func MayEdit(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.infra_edit")
	}
	return a.Require(identity.PermInfraEdit)
}

// EntityAsset is the audit trail's name of an asset.
const EntityAsset = "infra_asset"

// Kind is what an asset is.
type Kind string

// The kinds of asset. The last four are what the site runs rather than
// equipment: the graph's targets, whose loss the analysis reports.
const (
	PowerPanel     Kind = "power_panel"
	UPS            Kind = "ups"
	PDU            Kind = "pdu"
	Rack           Kind = "rack"
	Switch         Kind = "switch"
	Router         Kind = "router"
	Firewall       Kind = "firewall"
	Server         Kind = "server"
	VM             Kind = "vm"
	Storage        Kind = "storage"
	PLC            Kind = "plc"
	SensorGateway  Kind = "sensor_gateway"
	BadgeReader    Kind = "badge_reader"
	DoorController Kind = "door_controller"
	GalenixNode    Kind = "galenix_node"
	DBMember       Kind = "db_member"
	Broker         Kind = "broker"
	Other          Kind = "other"
	// Group is a redundancy group: up while Need of its members (its
	// dependencies) are up.
	Group Kind = "redundancy_group"
	// Line is a production line (site.Line), RoomMonitoring a room's GMP
	// environmental monitoring (its sensors through their gateway), Door
	// a door's access control (readers through their controller), ServiceKind
	// a service people use (galenix itself, the LIMS, the ERP).
	Line           Kind = "line"
	RoomMonitoring Kind = "room_monitoring"
	Door           Kind = "door"
	ServiceKind    Kind = "service"
)

// Kinds lists the kinds in the order pages offer them.
var Kinds = []Kind{PowerPanel, UPS, PDU, Rack, Switch, Router, Firewall, Server, VM, Storage, PLC, SensorGateway, BadgeReader,
	DoorController, GalenixNode, DBMember, Broker, Other, Group, Line, RoomMonitoring, Door, ServiceKind}

// Target reports whether the kind is one the analysis reports the loss of:
// a line, a room's monitoring, a door or a service.
func (k Kind) Target() bool {
	return k == Line || k == RoomMonitoring || k == Door || k == ServiceKind
}

// Physical reports whether the kind is equipment with a place (not a
// group, nor a virtual machine or a service, which run somewhere else).
func (k Kind) Physical() bool { return k != Group && k != VM && k != ServiceKind }

// DependencyKind is the nature of a dependency, read from what is depended
// on.
type DependencyKind string

// The kinds of dependency.
const (
	DependsPower      DependencyKind = "power"
	DependsNetwork    DependencyKind = "network"
	DependsCompute    DependencyKind = "compute"
	DependsControl    DependencyKind = "control"
	DependsMonitoring DependencyKind = "monitoring"
	DependsAccess     DependencyKind = "access"
	DependsService    DependencyKind = "service"
)

// DependencyKinds lists the kinds of dependency in display order.
var DependencyKinds = []DependencyKind{DependsPower, DependsNetwork, DependsCompute, DependsControl, DependsMonitoring, DependsAccess, DependsService}

// Via is the kind of dependency on an asset of kind k (a redundancy group's
// is its members').
func (k Kind) Via() DependencyKind {
	switch k {
	case PowerPanel, UPS, PDU:
		return DependsPower
	case Switch, Router, Firewall:
		return DependsNetwork
	case Server, VM, Storage, Rack, GalenixNode, DBMember, Broker:
		return DependsCompute
	case PLC:
		return DependsControl
	case SensorGateway, RoomMonitoring:
		return DependsMonitoring
	case BadgeReader, DoorController, Door:
		return DependsAccess
	}
	return DependsService
}

// Level is an ISA-95 level: 0 the process, 1 sensing and actuating, 2
// control and supervision, 3 manufacturing operations, 4 business.
type Level int

// DefaultLevel is the ISA-95 level an asset of kind k usually sits at.
func (k Kind) DefaultLevel() Level {
	switch k {
	case Line:
		return 0
	case PLC, SensorGateway, BadgeReader, DoorController, RoomMonitoring, Door:
		return 1
	case GalenixNode, DBMember, Broker, ServiceKind:
		return 3
	case PowerPanel, UPS, PDU:
		return 0
	}
	return 3
}

// Impact is how much a target matters to GMP, which ranks what its loss
// costs: critical (a sterile line, a grade A or B room's monitoring, the
// batch record's system), relevant (another line or GMP room, a controlled
// door), none.
type Impact string

// The GMP impacts.
const (
	ImpactCritical Impact = "critical"
	ImpactRelevant Impact = "relevant"
	ImpactNone     Impact = "none"
)

// Impacts lists the GMP impacts, the highest first.
var Impacts = []Impact{ImpactCritical, ImpactRelevant, ImpactNone}

// Asset is one part of the infrastructure, or a line, a room's monitoring,
// a door or a service the infrastructure carries.
type Asset struct {
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	// BuildingID and RoomID are where it stands (a room's monitoring: the
	// room monitored); LineID the line it is, or whose PLC it is.
	BuildingID string `json:"building_id,omitempty"`
	RoomID     string `json:"room_id,omitempty"`
	LineID     string `json:"line_id,omitempty"`
	// Building, Room, Line are their codes, Grade the room's clean-room
	// grade (read only).
	Building string `json:"building,omitempty"`
	Room     string `json:"room,omitempty"`
	Line     string `json:"line,omitempty"`
	Grade    string `json:"grade,omitempty"`
	Model    string `json:"model"`
	Serial   string `json:"serial"`
	// Addresses are its IP addresses, networks, host names or MAC
	// addresses.
	Addresses []string `json:"addresses"`
	// Owner is who answers for it (a team, a person); Contract its
	// maintenance contract, ending on ContractEnds (YYYY-MM-DD).
	Owner        string `json:"owner"`
	Contract     string `json:"contract"`
	ContractEnds string `json:"contract_ends,omitempty"`
	Level        Level  `json:"isa95_level"`
	// ZoneID is its IEC 62443 zone (Zone: the zone's code, read only).
	ZoneID string `json:"zone_id,omitempty"`
	Zone   string `json:"zone,omitempty"`
	Impact Impact `json:"gmp_impact"`
	// Need is a redundancy group's: how many of its members must be up.
	Need int `json:"need,omitempty"`
	// DependsOn are the assets it needs (a group: its members), by id;
	// Depends their codes (read only, in the same order).
	DependsOn []string `json:"depends_on"`
	Depends   []string `json:"depends_codes,omitempty"`
	// State is what its supervision says (read only).
	State State `json:"state"`
}

// VersionRef gives the asset's version (site.Versioned).
func (a *Asset) VersionRef() *int { return &a.Version }

// MaxDepends bounds an asset's dependencies (a group's members).
const MaxDepends = 64

// Validate checks an asset's own fields; that its building, room, line,
// zone and dependencies exist is the store's to check.
func (a *Asset) Validate() error {
	a.Code, a.Name = strings.TrimSpace(a.Code), strings.TrimSpace(a.Name)
	a.Model, a.Serial, a.Owner = strings.TrimSpace(a.Model), strings.TrimSpace(a.Serial), strings.TrimSpace(a.Owner)
	a.Contract, a.ContractEnds = strings.TrimSpace(a.Contract), strings.TrimSpace(a.ContractEnds)
	if a.Code == "" || utf8.RuneCountInString(a.Code) > 40 || strings.ContainsAny(a.Code, " \t\r\n,;") || !bounds.Text(a.Code) {
		return errs.Field("code", "infra.code")
	}
	if a.Name == "" || utf8.RuneCountInString(a.Name) > 120 || !bounds.Text(a.Name) {
		return errs.Field("name", "client.name_1_120_characters")
	}
	if !slices.Contains(Kinds, a.Kind) {
		return errs.Field("kind", "infra.kind", string(a.Kind))
	}
	for _, f := range []struct{ field, v string }{{"model", a.Model}, {"serial", a.Serial}, {"owner", a.Owner}, {"contract", a.Contract}} {
		if utf8.RuneCountInString(f.v) > 120 || !bounds.Text(f.v) {
			return errs.Field(f.field, "infra.text_120")
		}
	}
	if a.ContractEnds != "" {
		if _, err := time.Parse(time.DateOnly, a.ContractEnds); err != nil {
			return errs.Field("contract_ends", "input.date")
		}
	}
	if a.BuildingID == "" && a.RoomID == "" && a.LineID == "" && a.Kind.Physical() {
		return errs.Field("building_id", "infra.building")
	}
	if a.Kind == Line && a.LineID == "" {
		return errs.Field("line_id", "infra.line")
	}
	if a.Kind == RoomMonitoring && a.RoomID == "" {
		return errs.Field("room_id", "infra.room")
	}
	if a.Level < 0 || a.Level > 4 {
		return errs.Field("isa95_level", "infra.level")
	}
	if a.Impact == "" {
		a.Impact = ImpactNone
	}
	if !slices.Contains(Impacts, a.Impact) {
		return errs.Field("gmp_impact", "infra.impact", string(a.Impact))
	}
	addrs := make([]string, 0, len(a.Addresses))
	for _, ad := range a.Addresses {
		ad = strings.TrimSpace(ad)
		if ad == "" {
			continue
		}
		if !Address(ad) {
			return errs.Field("addresses", "infra.address", ad)
		}
		if !slices.Contains(addrs, ad) {
			addrs = append(addrs, ad)
		}
	}
	if len(addrs) > 16 {
		return errs.Field("addresses", "infra.addresses_many")
	}
	a.Addresses = addrs
	deps := make([]string, 0, len(a.DependsOn))
	for _, d := range a.DependsOn {
		if d = strings.TrimSpace(d); d != "" && !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	if len(deps) > MaxDepends {
		return errs.Field("depends_on", "infra.depends_many", MaxDepends)
	}
	if a.ID != "" && slices.Contains(deps, a.ID) {
		return errs.Field("depends_on", "infra.depends_self", a.Code)
	}
	a.DependsOn = deps
	if a.Kind == Group {
		if a.Need < 1 || a.Need > len(deps) {
			return errs.Field("need", "infra.need", len(deps))
		}
	} else {
		a.Need = 0
	}
	return nil
}

// Address reports whether s is an IP address, a network (CIDR), a MAC
// address or a host name.
func Address(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	if _, err := net.ParseMAC(s); err == nil {
		return true
	}
	return hostname(s)
}

// hostname reports whether s is a DNS host name (RFC 1123 labels, the
// last not all digits: "10.0.0.300" is a mistyped address, not a name).
func hostname(s string) bool {
	if len(s) > 253 || s == "" {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// AuditFields lists the asset's fields for the audit trail: its
// dependencies by id, in order.
func (a *Asset) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", a.Code), audit.F("name", a.Name), audit.F("kind", string(a.Kind)),
		audit.F("building_id", a.BuildingID), audit.F("room_id", a.RoomID), audit.F("line_id", a.LineID), audit.F("model", a.Model),
		audit.F("serial", a.Serial), audit.F("addresses", strings.Join(a.Addresses, " ")), audit.F("owner", a.Owner),
		audit.F("contract", a.Contract), audit.F("contract_ends", a.ContractEnds), audit.F("isa95_level", strconv.Itoa(int(a.Level))),
		audit.F("zone_id", a.ZoneID), audit.F("gmp_impact", string(a.Impact)), audit.F("need", strconv.Itoa(a.Need)),
		audit.F("depends_on", strings.Join(a.DependsOn, " "))}
}
