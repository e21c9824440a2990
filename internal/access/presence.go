package access

import (
	"slices"
	"strings"
	"time"

	"galenix/internal/text"
)

// Passage is an event as stored: a badge let through a door of a zone,
// in or out, and who holds it.
type Passage struct {
	PersonID  string    `json:"person_id"`
	Badge     string    `json:"badge"`
	Name      string    `json:"name"`
	ZoneID    string    `json:"zone_id"`
	Direction Direction `json:"direction"`
	Reader    string    `json:"reader"`
	At        time.Time `json:"at"`
	// Visitor: a visitor's badge (PersonID is their visit's), received
	// by Host.
	Visitor bool   `json:"visitor,omitempty"`
	Host    string `json:"host,omitempty"`
}

// Presence is a person on site, as the readers saw them: where (the zone
// of their last passage, or the site when they last left a zone), since
// when on site, and the last reader that saw them, which says how sure
// galenix is; the assembly point they go to when the alarm sounds.
type Presence struct {
	PersonID      string    `json:"person_id"`
	Badge         string    `json:"badge"`
	Name          string    `json:"name"`
	ZoneID        string    `json:"zone_id"`
	Zone          string    `json:"zone"`
	BuildingID    string    `json:"building_id,omitempty"`
	Since         time.Time `json:"since"`
	LastSeen      time.Time `json:"last_seen"`
	LastReader    string    `json:"last_reader"`
	AssemblyPoint string    `json:"assembly_point"`
	// Visitor: a visitor (PersonID is their visit's), received by Host.
	Visitor bool   `json:"visitor,omitempty"`
	Host    string `json:"host,omitempty"`
}

// Present folds the passages let through (oldest first) into who is on
// site now: a person entered the perimeter and did not leave it. Their
// zone is the last they entered and did not leave; their assembly point
// that zone's, else the nearest enclosing one's that names one (its
// building's, the perimeter's). Sorted by assembly point, then name.
func Present(passages []Passage, zones []Zone) []Presence {
	byID := map[string]*Zone{}
	var perimeter *Zone
	buildings := map[string]*Zone{}
	for i := range zones {
		z := &zones[i]
		byID[z.ID] = z
		switch z.Kind {
		case Perimeter:
			perimeter = z
		case Building:
			buildings[z.BuildingID] = z
		}
	}
	type state struct {
		p      Presence
		onSite bool
		inside []string // zones entered and not left, in order
	}
	people := map[string]*state{}
	for _, ps := range passages {
		z, ok := byID[ps.ZoneID]
		if !ok || ps.PersonID == "" {
			continue
		}
		st := people[ps.PersonID]
		if st == nil {
			st = &state{}
			people[ps.PersonID] = st
		}
		st.p.PersonID, st.p.Badge, st.p.Name, st.p.LastSeen, st.p.LastReader = ps.PersonID, ps.Badge, ps.Name, ps.At, ps.Reader
		st.p.Visitor, st.p.Host = ps.Visitor, ps.Host
		st.inside = slices.DeleteFunc(st.inside, func(id string) bool { return id == z.ID })
		if z.Kind == Perimeter {
			if ps.Direction == In {
				if !st.onSite {
					st.p.Since = ps.At
				}
				st.onSite = true
			} else {
				st.onSite, st.inside = false, nil
			}
			continue
		}
		if ps.Direction == In {
			if !st.onSite {
				// Seen inside without passing the gate (a reader's event
				// missing): on site since then.
				st.onSite, st.p.Since = true, ps.At
			}
			st.inside = append(st.inside, z.ID)
		}
	}
	out := []Presence{}
	for _, st := range people {
		if !st.onSite {
			continue
		}
		p := st.p
		var z *Zone
		if n := len(st.inside); n > 0 {
			z = byID[st.inside[n-1]]
		} else {
			z = perimeter
		}
		if z != nil {
			p.ZoneID, p.Zone, p.BuildingID, p.AssemblyPoint = z.ID, z.Name, z.BuildingID, z.AssemblyPoint
			if p.AssemblyPoint == "" && z.BuildingID != "" {
				if b := buildings[z.BuildingID]; b != nil {
					p.AssemblyPoint = b.AssemblyPoint
				}
			}
		}
		if p.AssemblyPoint == "" && perimeter != nil {
			p.AssemblyPoint = perimeter.AssemblyPoint
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Presence) int {
		if c := strings.Compare(a.AssemblyPoint, b.AssemblyPoint); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Badge, b.Badge)
	})
	return out
}

// Inside lists the badges the controller holds inside each of its zones:
// what a guard prints at the controller when galenix cannot be reached,
// with the names the policy gives them.
func (d *Device) Inside() []Presence {
	out := []Presence{}
	if d.policy == nil {
		return out
	}
	for badge, zones := range d.state.Inside {
		h := d.policy.holders[badge]
		for id, in := range zones {
			z := d.policy.zones[id]
			if !in || z == nil {
				continue
			}
			p := Presence{Badge: badge, ZoneID: id, Zone: z.Name, AssemblyPoint: z.AssemblyPoint}
			if h != nil {
				p.PersonID, p.Name, p.Visitor, p.Host = h.PersonID, h.Name, h.Visitor, h.Host
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Presence) int {
		if c := strings.Compare(a.Zone, b.Zone); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Record is an event as the PC Sécurité's journal shows it: where, who
// (the person, or the visitor, the badge names), and what the reader
// decided and why.
type Record struct {
	Reader    string      `json:"reader"`
	Seq       int64       `json:"seq"`
	Door      string      `json:"door"`
	Zone      string      `json:"zone"`
	Direction Direction   `json:"direction"`
	Badge     string      `json:"badge,omitempty"`
	Name      string      `json:"name,omitempty"`
	Visitor   bool        `json:"visitor,omitempty"`
	At        time.Time   `json:"at"`
	Allow     bool        `json:"allow"`
	Rule      string      `json:"rule"`
	Flagged   bool        `json:"flagged,omitempty"`
	Offline   bool        `json:"offline,omitempty"`
	Kind      string      `json:"kind,omitempty"`
	Reason    *text.Coded `json:"reason,omitempty"`
	// Message is the reason written in the request's language.
	Message string `json:"message,omitempty"`
}

// JournalFilter selects the journal's events: a badge's, the refusals
// only, the latest Limit.
type JournalFilter struct {
	Badge   string
	Refused bool
	Limit   int
}

// MaxJournal bounds the events one reading of the journal answers.
const MaxJournal = 500
