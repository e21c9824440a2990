package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// The demo's site access: the perimeter, each building, the grade B
// area of the sterile building, the narcotics vault of the warehouse, the
// server room of the offices and the laboratory, each with a reader in
// and a reader out; and the day so far: the people of the teams on shift
// now came through the gate and into their building, each decision made
// by the readers' own logic from the signed policy (operator3, whose
// gowning lapsed, refused at the grade B airlock), delivered to galenix.

// demoZone is a zone of the demo and the code of its building.
type demoZone struct {
	zone     access.Zone
	building string
}

// zonesOf are the demo's zones.
var zonesOf = []demoZone{
	{access.Zone{Code: "SITE", Name: "Site CENEXIS", Kind: access.Perimeter, AssemblyPoint: "Parking nord"}, ""},
	{access.Zone{Code: "Z-PCS", Name: "PC Sécurité", Kind: access.Building}, "PCS"},
	{access.Zone{Code: "Z-CHA", Name: "Chaufferie", Kind: access.Building, AssemblyPoint: "Parking sud"}, "CHA"},
	{access.Zone{Code: "Z-B25", Name: "Bâtiment 25", Kind: access.Building, AssemblyPoint: "Pelouse ouest"}, "B25"},
	{access.Zone{Code: "Z-B30", Name: "Bâtiment 30", Kind: access.Building, AssemblyPoint: "Pelouse est"}, "B30"},
	{access.Zone{Code: "Z-B30-B", Name: "Bâtiment 30, zone B", Kind: access.CleanArea, Grade: site.GradeB}, "B30"},
	{access.Zone{Code: "Z-B40", Name: "Bâtiment 40", Kind: access.Building, AssemblyPoint: "Pelouse est"}, "B40"},
	{access.Zone{Code: "Z-B70", Name: "Bâtiment 70", Kind: access.Building, AssemblyPoint: "Parking sud"}, "B70"},
	{access.Zone{Code: "Z-B70-COFFRE", Name: "Coffre des stupéfiants", Kind: access.Vault}, "B70"},
	{access.Zone{Code: "Z-B90", Name: "Bâtiment 90", Kind: access.Building}, "B90"},
	{access.Zone{Code: "Z-B90-SRV", Name: "Salle serveurs", Kind: access.ServerRoom}, "B90"},
}

// staffBuilding is the building each team code's people work in: its
// prefix.
func staffBuilding(team string) string {
	for i := range len(team) {
		if team[i] == '-' {
			return team[:i]
		}
	}
	return team
}

// accessDemo writes the zones and readers, then the day's passages.
func (l *loader) accessDemo() error {
	acc := l.db.Access()
	byBuilding := map[string]string{} // building code → its building zone's reader code
	for _, dz := range zonesOf {
		z := dz.zone
		if dz.building != "" {
			id, err := l.id(dz.building)
			if err != nil {
				return err
			}
			z.BuildingID = id
		}
		if err := acc.CreateZone(l.ctx, &z); err != nil {
			return fmt.Errorf("zone %s: %w", z.Code, err)
		}
		for _, dir := range []access.Direction{access.In, access.Out} {
			r := access.Reader{Code: "R-" + z.Code[min(2, len(z.Code)):] + "-" + string(dir), ZoneID: z.ID, Direction: dir, Door: z.Name}
			if z.Kind == access.Perimeter {
				r.Code, r.Door = "R-GATE-"+string(dir), "Portail principal"
			}
			if err := acc.CreateReader(l.ctx, &r); err != nil {
				return fmt.Errorf("reader %s: %w", r.Code, err)
			}
		}
		if z.Kind == access.Building {
			byBuilding[dz.building] = "R-" + z.Code[2:] + "-in"
		}
	}
	return l.passages(byBuilding)
}

// passages has the readers decide the day so far: each person of a team
// on shift now came through the gate at their shift's start, give or take
// a few minutes, and into their building; the floor's people into the
// grade B area of the sterile building.
func (l *loader) passages(byBuilding map[string]string) error {
	acc := l.db.Access()
	policy, err := acc.Policy(l.ctx)
	if err != nil {
		return err
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	b, err := access.Sign(policy, key)
	if err != nil {
		return err
	}
	d := access.NewDevice(pub)
	if err := d.Load(b); err != nil {
		return err
	}
	teams, err := l.plant.Teams(l.ctx)
	if err != nil {
		return err
	}
	shifts, err := l.plant.Shifts(l.ctx)
	if err != nil {
		return err
	}
	shiftOf := map[string]site.Shift{}
	for _, s := range shifts {
		shiftOf[s.ID] = s
	}
	teamOn := map[string]*site.Team{}
	now := l.h.Now()
	zone, _ := time.LoadLocation(policy.Timezone)
	for i := range teams {
		s := shiftOf[teams[i].ShiftID]
		if (access.Shift{Kind: s.Kind, Start: s.Start, End: s.End}).On(now, zone) {
			teamOn[teams[i].ID] = &teams[i]
		}
	}
	people, err := l.plant.People(l.ctx, site.PersonFilter{})
	if err != nil {
		return err
	}
	teamByID := map[string]*site.Team{}
	for i := range teams {
		teamByID[teams[i].ID] = &teams[i]
	}
	for n, p := range people {
		// The floor's demo accounts are at work whatever their shift:
		// their batches are under way.
		floor := false
		if p.AccountID != "" {
			role := l.rolesOf(p.AccountID)
			floor = role == identity.RoleOperator || role == identity.RoleSupervisor
		}
		t := teamOn[p.TeamID]
		if t == nil && floor {
			t = teamByID[p.TeamID]
		}
		if t == nil {
			continue
		}
		// An hour and a quarter ago at most, spread over the people.
		at := now.Add(-75*time.Minute + time.Duration(n%40)*time.Minute)
		d.Swipe("R-GATE-in", p.Badge, at)
		if r, ok := byBuilding[staffBuilding(t.Code)]; ok {
			d.Swipe(r, p.Badge, at.Add(3*time.Minute))
		}
		if floor && staffBuilding(t.Code) == "B30" {
			d.Swipe("R-B30-B-in", p.Badge, at.Add(9*time.Minute))
		}
	}
	_, err = acc.Intake(l.ctx, d.Pending())
	return err
}

// rolesOf is the role of the demo account of an id, "" for none.
func (l *loader) rolesOf(accountID string) identity.Role {
	for _, a := range accounts {
		if id, err := l.id("account:" + a.username); err == nil && id == accountID {
			return a.role
		}
	}
	return ""
}
