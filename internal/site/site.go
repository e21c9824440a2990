// Package site models the production site: buildings, rooms with their
// clean-room grade and pressure cascade, production lines, equipment, and the
// people, teams and shifts who work there. It holds types and rules only.
package site

import (
	"reflect"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone names resolve on any machine
	"unicode/utf8"

	"galenix/internal/errs"
)

// Site is the production site, the root of the model.
type Site struct {
	ID       string `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	// Address is the site's postal address, as documents print it (a
	// certificate of analysis names the laboratory's).
	Address string `json:"address"`
}

// DefaultTimezone is the zone of a site whose settings name none.
const DefaultTimezone = "Europe/Paris"

// DefaultLocation is the zone of a site whose settings name none.
func DefaultLocation() *time.Location { return defaultLocation() }

var defaultLocation = sync.OnceValue(func() *time.Location {
	loc, err := LoadZone(DefaultTimezone)
	if err != nil { // cannot happen: time/tzdata is linked in
		return time.UTC
	}
	return loc
})

// zones holds the zones LoadZone resolved, by name: time.LoadLocation
// reads and parses the zone's file on each call, and a screen or an export
// asks for the site's zone once per row.
var zones sync.Map

// LoadZone is time.LoadLocation, each name resolved once.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// Location is the site's time zone, which screens, documents and the days
// of queries are in: the zone its settings name, or DefaultTimezone for a
// site without one (or one this machine cannot resolve).
func (s *Site) Location() *time.Location {
	if s == nil || s.Timezone == "" {
		return DefaultLocation()
	}
	loc, err := LoadZone(s.Timezone)
	if err != nil {
		return DefaultLocation()
	}
	return loc
}

// Validate checks the site's fields; the timezone must be a known IANA zone
// name, the one the screens show times in.
func (s *Site) Validate() error {
	var err error
	if s.Code, err = code("code", s.Code); err != nil {
		return err
	}
	if s.Name, err = name("name", s.Name); err != nil {
		return err
	}
	if _, err := LoadZone(s.Timezone); err != nil || s.Timezone == "" {
		return errs.Field("timezone", "site.time_zone_must_zone")
	}
	s.Address = strings.TrimSpace(s.Address)
	if utf8.RuneCountInString(s.Address) > 300 {
		return errs.Field("address", "site.address_long")
	}
	return nil
}

// BuildingRole says what a building is for.
type BuildingRole string

// The building roles of a production site.
const (
	RoleSecurity          BuildingRole = "security"
	RoleUtilities         BuildingRole = "utilities"
	RoleLaboratory        BuildingRole = "laboratory"
	RoleSterileProduction BuildingRole = "production_sterile"
	RoleProduction        BuildingRole = "production_nonsterile"
	RoleWarehouse         BuildingRole = "warehouse"
	RoleOffices           BuildingRole = "offices"
)

// BuildingRoles lists the roles in display order.
var BuildingRoles = []BuildingRole{RoleSecurity, RoleUtilities, RoleLaboratory, RoleSterileProduction, RoleProduction, RoleWarehouse, RoleOffices}

// Building is one building of the site.
type Building struct {
	ID string `json:"id"`
	// Version counts the record's changes: 1 when created. An update
	// that names a version (If-Match, or this field) applies only to it.
	Version int          `json:"version,omitempty"`
	SiteID  string       `json:"site_id"`
	Code    string       `json:"code"`
	Name    string       `json:"name"`
	Role    BuildingRole `json:"role"`
}

// Validate checks a building's own fields.
func (b *Building) Validate() error {
	var err error
	if b.Code, err = code("code", b.Code); err != nil {
		return err
	}
	if b.Name, err = name("name", b.Name); err != nil {
		return err
	}
	if !oneOf(b.Role, BuildingRoles) {
		return errs.Field("role", "site.building_role_must", joined(BuildingRoles))
	}
	return nil
}

// code trims and checks a human code: 1 to 32 characters, no spaces.
func code(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 32 || strings.ContainsAny(v, " \t\r\n") {
		return v, errs.Field(field, "client.code_1_32_characters")
	}
	return v, nil
}

// name trims and checks a display name: 1 to 120 characters.
func name(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 120 {
		return v, errs.Field(field, "client.name_1_120_characters")
	}
	return v, nil
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func joined[T ~string](set []T) string {
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Versioned is a record that counts its changes: an update names the
// version it edited and applies only to it.
type Versioned interface{ VersionRef() *int }

// VersionRef returns the address of the record's version.
func (b *Building) VersionRef() *int { return &b.Version }

// VersionRef returns the address of the record's version.
func (r *Room) VersionRef() *int { return &r.Version }

// VersionRef returns the address of the record's version.
func (l *Line) VersionRef() *int { return &l.Version }

// VersionRef returns the address of the record's version.
func (e *Equipment) VersionRef() *int { return &e.Version }

// VersionRef returns the address of the record's version.
func (s *Shift) VersionRef() *int { return &s.Version }

// VersionRef returns the address of the record's version.
func (t *Team) VersionRef() *int { return &t.Version }

// VersionRef returns the address of the record's version.
func (p *Person) VersionRef() *int { return &p.Version }

// VersionField returns the address of a versioned record's version, or nil
// for any other value (a nil record included).
func VersionField(rec any) *int {
	v, ok := rec.(Versioned)
	if !ok || reflect.ValueOf(v).IsNil() {
		return nil
	}
	return v.VersionRef()
}
