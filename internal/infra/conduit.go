package infra

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Zone is an IEC 62443 security zone: assets that share security
// requirements, with the security level they must reach (SL-T, 1 to 4).
type Zone struct {
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Target  int    `json:"target_sl"`
}

// Conduit is an IEC 62443 conduit: the one way two zones may talk, for
// the services it lists ("tcp/443", "udp/123", "any"), at its target
// security level.
type Conduit struct {
	ID       string   `json:"id"`
	Version  int      `json:"version,omitempty"`
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	ZoneA    string   `json:"zone_a_id"`
	ZoneB    string   `json:"zone_b_id"`
	Target   int      `json:"target_sl"`
	Services []string `json:"services"`
}

// Flow is a declared flow between two assets: who talks to whom, on which
// service, why.
type Flow struct {
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	From    string `json:"from_id"`
	To      string `json:"to_id"`
	Service string `json:"service"`
	Purpose string `json:"purpose"`
}

// The audit trail's names of zones, conduits and flows.
const (
	EntityZone    = "infra_zone"
	EntityConduit = "infra_conduit"
	EntityFlow    = "infra_flow"
)

// VersionRef gives the zone's version (site.Versioned).
func (z *Zone) VersionRef() *int { return &z.Version }

// VersionRef gives the conduit's version (site.Versioned).
func (c *Conduit) VersionRef() *int { return &c.Version }

// VersionRef gives the flow's version (site.Versioned).
func (f *Flow) VersionRef() *int { return &f.Version }

// codeName checks a record's code and name.
func codeName(code, name *string) error {
	*code, *name = strings.TrimSpace(*code), strings.TrimSpace(*name)
	if *code == "" || utf8.RuneCountInString(*code) > 40 || strings.ContainsAny(*code, " \t\r\n,;") || !bounds.Text(*code) {
		return errs.Field("code", "infra.code")
	}
	if *name == "" || utf8.RuneCountInString(*name) > 120 || !bounds.Text(*name) {
		return errs.Field("name", "client.name_1_120_characters")
	}
	return nil
}

// Validate checks a zone's fields.
func (z *Zone) Validate() error {
	if err := codeName(&z.Code, &z.Name); err != nil {
		return err
	}
	if z.Target < 1 || z.Target > 4 {
		return errs.Field("target_sl", "infra.sl")
	}
	return nil
}

// Validate checks a conduit's fields; that its zones exist is the
// store's to check.
func (c *Conduit) Validate() error {
	if err := codeName(&c.Code, &c.Name); err != nil {
		return err
	}
	if c.ZoneA == "" || c.ZoneB == "" || c.ZoneA == c.ZoneB {
		return errs.Field("zone_b_id", "infra.conduit_zones")
	}
	if c.Target < 1 || c.Target > 4 {
		return errs.Field("target_sl", "infra.sl")
	}
	var svcs []string
	for _, s := range c.Services {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if !ServiceName(s) {
			return errs.Field("services", "infra.service", s)
		}
		if !slices.Contains(svcs, s) {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) == 0 || len(svcs) > 32 {
		return errs.Field("services", "infra.services")
	}
	c.Services = svcs
	return nil
}

// Validate checks a flow's fields.
func (f *Flow) Validate() error {
	f.Service, f.Purpose = strings.ToLower(strings.TrimSpace(f.Service)), strings.TrimSpace(f.Purpose)
	if f.From == "" {
		return errs.Field("from_id", "infra.flow_from")
	}
	if f.To == "" || f.To == f.From {
		return errs.Field("to_id", "infra.flow_to")
	}
	if !ServiceName(f.Service) || f.Service == "any" {
		return errs.Field("service", "infra.service", f.Service)
	}
	if utf8.RuneCountInString(f.Purpose) > 200 || !bounds.Text(f.Purpose) {
		return errs.Field("purpose", "infra.text_200")
	}
	return nil
}

// ServiceName reports whether s names a service: "tcp/PORT", "udp/PORT",
// or "any" (a conduit's only).
func ServiceName(s string) bool {
	if s == "any" {
		return true
	}
	proto, port, ok := strings.Cut(s, "/")
	if !ok || (proto != "tcp" && proto != "udp") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == port
}

// AuditFields lists the zone's fields for the audit trail.
func (z *Zone) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", z.Code), audit.F("name", z.Name), audit.F("target_sl", strconv.Itoa(z.Target))}
}

// AuditFields lists the conduit's fields for the audit trail.
func (c *Conduit) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", c.Code), audit.F("name", c.Name), audit.F("zone_a_id", c.ZoneA), audit.F("zone_b_id", c.ZoneB),
		audit.F("target_sl", strconv.Itoa(c.Target)), audit.F("services", strings.Join(c.Services, " "))}
}

// AuditFields lists the flow's fields for the audit trail.
func (f *Flow) AuditFields() []audit.Field {
	return []audit.Field{audit.F("from_id", f.From), audit.F("to_id", f.To), audit.F("service", f.Service), audit.F("purpose", f.Purpose)}
}

// Finding is what the conduit rules find wrong: a flow no conduit allows,
// a flow of an asset outside any zone, a conduit weaker than a zone it
// joins. Key names it in words, Args its parameters.
type Finding struct {
	Key       string `json:"key"`
	FlowID    string `json:"flow_id,omitempty"`
	ConduitID string `json:"conduit_id,omitempty"`
	Args      []any  `json:"-"`
}

// CheckConduits confronts the declared flows with the conduits: a flow
// within one zone is free; between two zones it needs a conduit joining
// them that lists its service (or "any"). A conduit must reach the target
// level of both zones it joins.
func CheckConduits(assets map[string]*Asset, zones map[string]*Zone, conduits []Conduit, flows []Flow) []Finding {
	var out []Finding
	for _, c := range conduits {
		for _, z := range []string{c.ZoneA, c.ZoneB} {
			if zn := zones[z]; zn != nil && c.Target < zn.Target {
				out = append(out, Finding{Key: "infra.finding.conduit_weak", ConduitID: c.ID, Args: []any{c.Code, c.Target, zn.Code, zn.Target}})
			}
		}
	}
	for _, f := range flows {
		from, to := assets[f.From], assets[f.To]
		if from == nil || to == nil {
			continue
		}
		switch {
		case from.ZoneID == "" || to.ZoneID == "":
			unzoned := from
			if from.ZoneID != "" {
				unzoned = to
			}
			out = append(out, Finding{Key: "infra.finding.unzoned", FlowID: f.ID, Args: []any{from.Code, to.Code, f.Service, unzoned.Code}})
		case from.ZoneID == to.ZoneID:
		case !slices.ContainsFunc(conduits, func(c Conduit) bool { return c.joins(from.ZoneID, to.ZoneID) && c.allows(f.Service) }):
			out = append(out, Finding{Key: "infra.finding.no_conduit", FlowID: f.ID, Args: []any{from.Code, to.Code, f.Service,
				zoneCode(zones, from.ZoneID), zoneCode(zones, to.ZoneID)}})
		}
	}
	return out
}

func zoneCode(zones map[string]*Zone, id string) string {
	if z := zones[id]; z != nil {
		return z.Code
	}
	return id
}

func (c *Conduit) joins(a, b string) bool {
	return (c.ZoneA == a && c.ZoneB == b) || (c.ZoneA == b && c.ZoneB == a)
}

func (c *Conduit) allows(service string) bool {
	return slices.Contains(c.Services, service) || slices.Contains(c.Services, "any")
}
