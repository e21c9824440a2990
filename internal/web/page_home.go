package web

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// Each role lands on the page of its daily work (its home) after signing
// in and on the site's address "/": the role chosen by
// identity.HomeOrder, its page by homePaths. The site's overview, which
// "/" showed before, has its own address, /site.

// homePaths are the homes of the roles; the operator's is chosen by
// operatorHome.
var homePaths = map[identity.Role]string{
	// The day's lines, each with its batch, live.
	identity.RoleSupervisor: "/floor",
	// The batches whose record waits for QA's review.
	identity.RoleQA: "/batches?state=" + url.QueryEscape(string(production.BatchInReview)),
	// The batches waiting for the qualified person, with the quality
	// figures.
	identity.RoleQP: "/release",
	// The laboratory's worklist.
	identity.RoleLab: "/lab",
	// The equipment to clean, in maintenance or whose qualification lapses.
	identity.RoleMaintenance: "/equipment",
	identity.RoleSecurity:    "/security/events",
	// IT's home: the infrastructure's states, what is down and what it
	// stops, the single points of failure.
	identity.RoleIT: "/infra",
	// The client's portal: its batches live, its volumes, the deadlines
	// of its quality agreement.
	identity.RoleClientUser:    "/portal",
	identity.RoleClientManager: "/portal",
	identity.RoleAdmin:         "/admin/accounts",
}

// home sends the signed-in person to their home.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.homeOf(r), http.StatusSeeOther)
}

// homeOf is the address of the signed-in person's home; the site's
// overview for an actor without a role.
func (s *Server) homeOf(r *http.Request) string {
	a, _ := identity.ActorFrom(r.Context())
	role := a.HomeRole()
	if role == identity.RoleOperator {
		return s.operatorHome(r, a)
	}
	if p, ok := homePaths[role]; ok {
		return p
	}
	return "/site"
}

// operatorHome is the tablet page of the operator's line: the one line
// whose batch on the line holds the last steps they recorded. Working on
// no line, or on several, they choose their line on the shop floor.
func (s *Server) operatorHome(r *http.Request, a identity.Actor) string {
	ctx := r.Context()
	buildings, _, err := s.productionBuildings(ctx, "")
	if err != nil {
		s.log.WarnContext(ctx, "reading the operator's line for their home", "err", err)
		return "/floor"
	}
	var floors []*production.Floor
	for _, b := range buildings {
		fs, err := s.Production.Floors(ctx, b.ID)
		if err != nil {
			s.log.WarnContext(ctx, "reading the operator's line for their home", "err", err)
			return "/floor"
		}
		floors = append(floors, fs...)
	}
	if id, ok := operatorLine(floors, a.UserID); ok {
		return "/floor/lines/" + url.PathEscape(id)
	}
	return "/floor"
}

// operatorLine is the line the account works on: the one line whose batch
// on the line holds the last steps it recorded; false for none or several.
func operatorLine(floors []*production.Floor, accountID string) (string, bool) {
	line := ""
	for _, f := range floors {
		if f.Batch == nil || !recordedBy(f.Recent, accountID) {
			continue
		}
		if line != "" {
			return "", false
		}
		line = f.Line.ID
	}
	return line, line != ""
}

// recordedBy reports whether one of the steps was recorded by the account.
func recordedBy(steps []production.StepRecord, accountID string) bool {
	for _, st := range steps {
		if st.PerformedBy == accountID {
			return true
		}
	}
	return false
}

// equipmentDueDays is how far ahead the maintenance page shows the
// qualifications that lapse.
const equipmentDueDays = 30

// equipmentPage is maintenance's page: the site's equipment that needs
// them, in three lists: waiting for its cleaning, out for maintenance, and
// its qualification lapsed or lapsing within DueDays, the soonest first.
type equipmentPage struct {
	base
	Lists   []equipmentList
	DueDays int
	// CanMaintain shows maintenance's actions beside each piece.
	CanMaintain bool
}

// equipmentList is one list of the maintenance page: the catalogue key of
// its title, an anchor, and its equipment.
type equipmentList struct {
	Title, ID string
	Items     []equipmentItem
}

// equipmentItem is a piece of equipment with its line.
type equipmentItem struct {
	equipmentRow
	Line site.Line
}

func (s *Server) equipmentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lines, err := s.Site.Lines(ctx, site.LineFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	byID := map[string]site.Line{}
	for _, l := range lines {
		byID[l.ID] = l
	}
	eq, err := s.Site.Equipment(ctx, site.EquipmentFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := equipmentPage{base: s.base(r, "equipment"), DueDays: equipmentDueDays}
	d.CanMaintain = site.CanMaintain(d.Actor) == nil
	var dirty, maintenance, due []equipmentItem
	now := time.Now()
	soon := now.AddDate(0, 0, equipmentDueDays)
	for _, e := range eq {
		it := equipmentItem{equipmentRow: equipmentRow{Equipment: e, Overdue: !e.QualifiedOn(now)}, Line: byID[e.LineID]}
		switch e.Status {
		case site.EquipmentDirty:
			dirty = append(dirty, it)
		case site.EquipmentMaintenance:
			maintenance = append(maintenance, it)
		}
		if !e.QualifiedOn(soon) {
			due = append(due, it)
		}
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].QualificationDue.Before(due[j].QualificationDue) })
	d.Lists = []equipmentList{{"equipment.dirty", "dirty", dirty}, {"equipment.maintenance", "maintenance", maintenance}, {"equipment.due", "due", due}}
	s.render(w, r, http.StatusOK, "equipment", d)
}
