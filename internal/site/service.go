package site

import (
	"context"

	"galenix/internal/identity"
)

// Service reads and changes the site model. Changes take a reason, required
// once a record exists; creations take none.
type Service interface {
	Plant
	Staff
}

// Plant is the site's physical model: its buildings, rooms, lines and
// equipment.
type Plant interface {
	Site(ctx context.Context) (*Site, error)

	Buildings(ctx context.Context) ([]Building, error)
	Building(ctx context.Context, id string) (*Building, error)
	CreateBuilding(ctx context.Context, b *Building) error
	UpdateBuilding(ctx context.Context, b *Building, reason string) error

	Rooms(ctx context.Context, f RoomFilter) ([]Room, error)
	Room(ctx context.Context, id string) (*Room, error)
	CreateRoom(ctx context.Context, r *Room) error
	UpdateRoom(ctx context.Context, r *Room, reason string) error

	Lines(ctx context.Context, f LineFilter) ([]Line, error)
	Line(ctx context.Context, id string) (*Line, error)
	CreateLine(ctx context.Context, l *Line) error
	UpdateLine(ctx context.Context, l *Line, reason string) error

	Equipment(ctx context.Context, f EquipmentFilter) ([]Equipment, error)
	EquipmentItem(ctx context.Context, id string) (*Equipment, error)
	CreateEquipment(ctx context.Context, e *Equipment) error
	UpdateEquipment(ctx context.Context, e *Equipment, reason string) error
	// MaintainEquipment applies maintenance's action to a piece of
	// equipment, with its comment (see Equipment.Apply). The renewal of
	// its qualification is maintenance's signature on it, meaning
	// approved, given with the renewal (WithRenewal).
	MaintainEquipment(ctx context.Context, id string, act EquipmentAction, comment string) (*Equipment, error)
}

// Staff is who works on the site: shifts, teams and people.
type Staff interface {
	Shifts(ctx context.Context) ([]Shift, error)
	Shift(ctx context.Context, id string) (*Shift, error)
	CreateShift(ctx context.Context, s *Shift) error
	UpdateShift(ctx context.Context, s *Shift, reason string) error

	Teams(ctx context.Context) ([]Team, error)
	Team(ctx context.Context, id string) (*Team, error)
	CreateTeam(ctx context.Context, t *Team) error
	UpdateTeam(ctx context.Context, t *Team, reason string) error

	People(ctx context.Context, f PersonFilter) ([]Person, error)
	// SearchPeople answers the page of people f asks for and how many
	// match f in all, read together.
	SearchPeople(ctx context.Context, f PersonFilter) ([]Person, int, error)
	// StaffAccounts lists the staff's active accounts, for those who edit
	// the staff to link a person to the account they sign in with.
	StaffAccounts(ctx context.Context) ([]StaffAccount, error)
	Person(ctx context.Context, id string) (*Person, error)
	CreatePerson(ctx context.Context, p *Person) error
	UpdatePerson(ctx context.Context, p *Person, reason string) error
}

// RoomFilter selects rooms; empty fields select all.
type RoomFilter struct{ BuildingID string }

// LineFilter selects lines; empty fields select all.
type LineFilter struct{ BuildingID, RoomID string }

// EquipmentFilter selects equipment; empty fields select all.
type EquipmentFilter struct{ LineID string }

// PersonFilter selects people; empty fields select all.
type PersonFilter struct {
	TeamID string
	// Query keeps the people whose badge, name or job holds these words
	// (case aside).
	Query  string
	Limit  int
	Offset int
}

// MayCreateSite says whether the actor may record the site: galenix
// itself, once, when the site is set up (an installation, the demo).
func MayCreateSite(a identity.Actor) error { return a.RequireSystem() }

// CanEdit says whether the actor may change the site model (buildings,
// rooms, lines, equipment).
func CanEdit(a identity.Actor) error { return a.Require(identity.PermSiteEdit) }

// CanEditStaff says whether the actor may change people, teams and shifts.
func CanEditStaff(a identity.Actor) error { return a.Require(identity.PermStaffEdit) }

// CanViewStaff says whether the actor may see people, teams and shifts:
// site staff only, never a client laboratory's users.
func CanViewStaff(a identity.Actor) error { return a.Require(identity.PermStaffView) }
