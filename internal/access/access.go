// Package access holds the rules of site access (the PC Sécurité's): the
// zones of the site and what entering each takes (a role, a team, being on
// shift, a gowning covering a clean area's grade, the narcotics
// qualification and a second person for the vault, IT for the server
// rooms), the badge readers at their doors, and the policy galenix compiles
// from them and signs, that each reader verifies and then decides from on
// its own, online or not (the way access controllers work): every decision
// local, reported with the rule that made it, numbered per reader so that
// the central intake stores each event once and sees what is missing.
// Rules only: no SQL, no HTTP.
package access

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// ZoneKind is what a zone is.
type ZoneKind string

// The kinds of zone.
const (
	Perimeter  ZoneKind = "perimeter"
	Building   ZoneKind = "building"
	CleanArea  ZoneKind = "clean_area"
	Laboratory ZoneKind = "laboratory"
	Vault      ZoneKind = "vault"
	ServerRoom ZoneKind = "server_room"
)

// ZoneKinds lists the kinds in the order pages show them.
var ZoneKinds = []ZoneKind{Perimeter, Building, CleanArea, Laboratory, Vault, ServerRoom}

// ITRoles are the roles that enter a server room.
var ITRoles = []identity.Role{identity.RoleAdmin}

// Zone is an area behind doors with readers, and what entering it takes.
type Zone struct {
	ID      string   `json:"id"`
	Version int      `json:"version,omitempty"`
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Kind    ZoneKind `json:"kind"`
	// BuildingID is the building it is in or is; none for the perimeter.
	BuildingID string `json:"building_id,omitempty"`
	// Grade is a clean area's: entering takes a gowning covering it.
	Grade site.Grade `json:"grade,omitempty"`
	// Roles, when set, are the roles that may enter (a person's account's
	// roles); Teams the teams. OnShift admits a person only during their
	// team's shift, with half an hour's margin either side.
	Roles   []identity.Role `json:"roles,omitempty"`
	Teams   []string        `json:"teams,omitempty"`
	OnShift bool            `json:"on_shift,omitempty"`
	// AssemblyPoint is where the people inside gather when the alarm
	// sounds (the muster's).
	AssemblyPoint string `json:"assembly_point,omitempty"`
}

// VersionRef returns the address of the zone's version.
func (z *Zone) VersionRef() *int { return &z.Version }

// TwoPerson reports whether entering takes two authorised people within
// the policy's window: the narcotics vault.
func (z *Zone) TwoPerson() bool { return z.Kind == Vault }

// Validate checks a zone's fields: a clean area names its grade, a server
// room admits IT alone.
func (z *Zone) Validate() error {
	z.Code, z.Name, z.AssemblyPoint = strings.TrimSpace(z.Code), strings.TrimSpace(z.Name), strings.TrimSpace(z.AssemblyPoint)
	if z.Code == "" || utf8.RuneCountInString(z.Code) > 32 {
		return errs.Field("code", "access.zone_code")
	}
	if z.Name == "" || utf8.RuneCountInString(z.Name) > 120 {
		return errs.Field("name", "access.zone_name")
	}
	if !slices.Contains(ZoneKinds, z.Kind) {
		return errs.Field("kind", "access.zone_kind", string(z.Kind))
	}
	if z.Kind == CleanArea && !z.Grade.Graded() {
		return errs.Field("grade", "access.clean_grade")
	}
	if z.Kind != CleanArea {
		z.Grade = ""
	}
	for _, r := range z.Roles {
		if !slices.Contains(identity.Roles, r) {
			return errs.Field("roles", "access.zone_role", string(r))
		}
	}
	if z.Kind == ServerRoom {
		if len(z.Roles) == 0 {
			z.Roles = slices.Clone(ITRoles)
		}
		for _, r := range z.Roles {
			if !slices.Contains(ITRoles, r) {
				return errs.Field("roles", "access.server_it_only")
			}
		}
	}
	if utf8.RuneCountInString(z.AssemblyPoint) > 120 {
		return errs.Field("assembly_point", "access.assembly_point")
	}
	return nil
}

// Direction is a reader's: it lets people in or out of its zone.
type Direction string

// The directions.
const (
	In  Direction = "in"
	Out Direction = "out"
)

// Reader is a badge reader at a door of a zone.
type Reader struct {
	ID        string    `json:"id"`
	Version   int       `json:"version,omitempty"`
	Code      string    `json:"code"`
	ZoneID    string    `json:"zone_id"`
	Direction Direction `json:"direction"`
	Door      string    `json:"door"`
}

// VersionRef returns the address of the reader's version.
func (r *Reader) VersionRef() *int { return &r.Version }

// Validate checks a reader's fields.
func (r *Reader) Validate() error {
	r.Code, r.Door = strings.TrimSpace(r.Code), strings.TrimSpace(r.Door)
	if r.Code == "" || utf8.RuneCountInString(r.Code) > 32 {
		return errs.Field("code", "access.reader_code")
	}
	if r.ZoneID == "" {
		return errs.Field("zone_id", "access.reader_zone")
	}
	if r.Direction != In && r.Direction != Out {
		return errs.Field("direction", "access.reader_direction", string(r.Direction))
	}
	if r.Door == "" || utf8.RuneCountInString(r.Door) > 120 {
		return errs.Field("door", "access.reader_door")
	}
	return nil
}

// Shift is when a holder's team works: its kind (weekend shifts work
// Saturday and Sunday, the others Monday to Friday) and its hours, "HH:MM"
// in the site's zone, the end before the start for a night.
type Shift struct {
	Kind  site.ShiftKind `json:"kind"`
	Start string         `json:"start"`
	End   string         `json:"end"`
}

// ShiftMargin is how early before and late after their shift a person
// is admitted to a zone that asks for being on shift.
const ShiftMargin = 30 * time.Minute

// On reports whether t, in the site's zone, falls within the shift or its
// margins.
func (s Shift) On(t time.Time, zone *time.Location) bool {
	start, err1 := time.Parse("15:04", s.Start)
	end, err2 := time.Parse("15:04", s.End)
	if err1 != nil || err2 != nil {
		return false
	}
	local := t.In(zone)
	// The shift that began on the day of t or the day before (a night).
	for _, back := range []int{0, -1} {
		d := local.AddDate(0, 0, back)
		from := time.Date(d.Year(), d.Month(), d.Day(), start.Hour(), start.Minute(), 0, 0, zone)
		to := time.Date(d.Year(), d.Month(), d.Day(), end.Hour(), end.Minute(), 0, 0, zone)
		if !to.After(from) {
			to = to.AddDate(0, 0, 1)
		}
		weekend := from.Weekday() == time.Saturday || from.Weekday() == time.Sunday
		if weekend != (s.Kind == site.ShiftWeekend) {
			continue
		}
		if !local.Before(from.Add(-ShiftMargin)) && local.Before(to.Add(ShiftMargin)) {
			return true
		}
	}
	return false
}

// AuditFields lists the zone's fields for the audit trail.
func (z *Zone) AuditFields() []audit.Field {
	roles := make([]string, len(z.Roles))
	for i, r := range z.Roles {
		roles[i] = string(r)
	}
	return []audit.Field{audit.F("code", z.Code), audit.F("name", z.Name), audit.F("kind", string(z.Kind)), audit.F("building_id", z.BuildingID),
		audit.F("grade", string(z.Grade)), audit.F("roles", strings.Join(roles, ",")), audit.F("teams", strings.Join(z.Teams, ",")),
		audit.F("on_shift", strconv.FormatBool(z.OnShift)), audit.F("assembly_point", z.AssemblyPoint)}
}

// AuditFields lists the reader's fields for the audit trail.
func (r *Reader) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", r.Code), audit.F("zone_id", r.ZoneID), audit.F("direction", string(r.Direction)), audit.F("door", r.Door)}
}
