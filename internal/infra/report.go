package infra

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Ref names an asset in a report: enough to show it and link to it.
type Ref struct {
	ID       string `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Impact   Impact `json:"gmp_impact"`
	Building string `json:"building,omitempty"`
	Room     string `json:"room,omitempty"`
	RoomID   string `json:"room_id,omitempty"`
	State    State  `json:"state"`
}

// Ref is the report's name of the asset at position i.
func (g *Graph) Ref(i int32) Ref {
	a := &g.Assets[i]
	return Ref{ID: a.ID, Code: a.Code, Name: a.Name, Kind: a.Kind, Impact: a.Impact, Building: a.Building, Room: a.Room, RoomID: a.RoomID, State: a.State}
}

// Refs names the assets at the positions.
func (g *Graph) Refs(is []int32) []Ref {
	out := make([]Ref, len(is))
	for k, i := range is {
		out[k] = g.Ref(i)
	}
	return out
}

// SinglePoint is a single point of failure as reports show it.
type SinglePoint struct {
	Asset Ref   `json:"asset"`
	Stops []Ref `json:"stops"`
	Score int   `json:"score"`
	// Own: a line's own equipment stopping that line only.
	Own bool `json:"own"`
}

// LossReport is what a place's loss stops beyond itself.
type LossReport struct {
	BuildingID string `json:"building_id"`
	RoomID     string `json:"room_id,omitempty"`
	// Place names it: the building's or the room's code and name.
	Place  string `json:"place"`
	Assets int    `json:"assets"`
	Stops  []Ref  `json:"stops"`
	Score  int    `json:"score"`
	Within int    `json:"within"`
}

// Analysis is the single points of failure of the whole site, of its
// rooms and of its buildings.
type Analysis struct {
	Points []SinglePoint `json:"points"`
	Places []LossReport  `json:"places"`
	// Assets and Targets count the graph's assets and targets.
	Assets  int `json:"assets"`
	Targets int `json:"targets"`
}

// Analyse finds the single points of failure, and what each place's loss
// stops beyond itself; names gives each place's words.
func (g *Graph) Analyse(places []Place, names map[Place]string) Analysis {
	an := Analysis{Points: []SinglePoint{}, Places: []LossReport{}, Assets: len(g.Assets)}
	for i := range g.Assets {
		if g.Assets[i].Kind.Target() {
			an.Targets++
		}
	}
	for _, p := range g.SinglePoints() {
		an.Points = append(an.Points, SinglePoint{Asset: g.Ref(p.Asset), Stops: g.Refs(p.Stops), Score: p.Score, Own: p.Own})
	}
	for _, l := range g.PlaceLosses(places) {
		an.Places = append(an.Places, LossReport{BuildingID: l.Place.BuildingID, RoomID: l.Place.RoomID, Place: names[l.Place], Assets: l.Assets,
			Stops: g.Refs(l.Beyond), Score: l.Score, Within: l.Within})
	}
	return an
}

// Stop is a target stopped, with the failed assets that stop it.
type Stop struct {
	Ref
	Because []Ref `json:"because"`
}

// Impacted is what a set of failures stops: the targets, the rooms that
// lose their GMP monitoring (where manual readings must be planned), the
// assets down with them, the redundancy groups left with no margin.
type Impacted struct {
	Failed   []Ref  `json:"failed"`
	Down     []Ref  `json:"down"`
	Stopped  []Stop `json:"stopped"`
	Lines    int    `json:"lines"`
	Rooms    []Ref  `json:"manual_readings"`
	Weakened []Ref  `json:"weakened"`
	Score    int    `json:"score"`
}

// Impact is the report of the failure of the assets at the positions.
func (g *Graph) Impact(failed []int32) Impacted {
	o := g.Fail(failed)
	im := Impacted{Failed: g.Refs(o.Failed), Down: g.Refs(o.Down), Stopped: []Stop{}, Rooms: []Ref{}, Weakened: g.Refs(o.Weakened), Score: o.Score}
	for _, t := range o.Stopped {
		r := g.Ref(t)
		im.Stopped = append(im.Stopped, Stop{Ref: r, Because: g.Refs(o.Causes[t])})
		switch r.Kind {
		case Line:
			im.Lines++
		case RoomMonitoring:
			im.Rooms = append(im.Rooms, r)
		}
	}
	return im
}

// Live is the impact of what the supervision finds down now (a
// redundancy group's state is its members': not a cause of its own).
func (g *Graph) Live() Impacted {
	var down []int32
	for i := range g.Assets {
		if g.Assets[i].State == StateDown && g.Assets[i].Kind != Group {
			down = append(down, int32(i))
		}
	}
	return g.Impact(down)
}

// Scope is what a what-if shuts down: a building, or one of its rooms,
// and assets named one by one.
type Scope struct {
	BuildingID string   `json:"building_id,omitempty"`
	RoomID     string   `json:"room_id,omitempty"`
	AssetIDs   []string `json:"asset_ids,omitempty"`
}

// Failed is the positions of the assets the scope shuts down; an asset
// named that is not in the graph is refused.
func (g *Graph) Failed(s Scope) ([]int32, error) {
	var out []int32
	if s.BuildingID != "" || s.RoomID != "" {
		out = g.InPlace(Place{BuildingID: s.BuildingID, RoomID: s.RoomID})
	}
	for _, id := range s.AssetIDs {
		i, ok := g.index[id]
		if !ok {
			return nil, errs.Field("asset_ids", "infra.no_such_asset")
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, errs.Field("scope", "infra.scope_empty")
	}
	return out, nil
}

// EntityPlan is the audit trail's name of a planned shutdown.
const EntityPlan = "infra_plan"

// Plan is a planned shutdown drafted from a what-if: the scope and window
// IT proposes, and what it stops, for quality assurance to take into a
// change or a planned deviation, and production to plan around.
type Plan struct {
	ID    string    `json:"id"`
	Code  string    `json:"code"`
	Title string    `json:"title"`
	Scope Scope     `json:"scope"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Measures are what IT plans against the impact (manual readings,
	// batches moved), in its words.
	Measures string `json:"measures"`
	// Impact is what the what-if found when the plan was drafted.
	Impact      Impacted  `json:"impact"`
	DraftedBy   string    `json:"drafted_by"`
	DraftedName string    `json:"drafted_name"`
	DraftedAt   time.Time `json:"drafted_at"`
}

// Validate checks a plan's fields as drafted.
func (p *Plan) Validate(now time.Time) error {
	p.Title, p.Measures = strings.TrimSpace(p.Title), strings.TrimSpace(p.Measures)
	if n := utf8.RuneCountInString(p.Title); n < 5 || n > 200 || !bounds.Text(p.Title) {
		return errs.Field("title", "infra.plan_title")
	}
	if utf8.RuneCountInString(p.Measures) > 4000 || !bounds.Text(p.Measures) {
		return errs.Field("measures", "infra.plan_measures")
	}
	if err := bounds.Time("from", p.From); err != nil {
		return err
	}
	if err := bounds.Time("to", p.To); err != nil {
		return err
	}
	if !p.To.After(p.From) || p.To.Sub(p.From) > 30*24*time.Hour {
		return errs.Field("to", "infra.plan_window")
	}
	if p.From.Before(now.Add(-time.Hour)) {
		return errs.Field("from", "infra.plan_past")
	}
	return nil
}

// AuditFields lists the plan's fields for the audit trail (its impact is
// what the what-if computed from the inventory the trail holds).
func (p *Plan) AuditFields() []audit.Field {
	scope, _ := json.Marshal(p.Scope)
	return []audit.Field{audit.F("code", p.Code), audit.F("title", p.Title), audit.F("scope", string(scope)),
		audit.F("from", p.From.UTC().Format(time.RFC3339)), audit.F("to", p.To.UTC().Format(time.RFC3339)), audit.F("measures", p.Measures)}
}
