package access

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/text"
)

// Holder is a badge holder as the policy knows them: what the rules ask
// of a person, and nothing more (no name but the one a guard reads).
type Holder struct {
	Badge    string          `json:"badge"`
	PersonID string          `json:"person_id"`
	Name     string          `json:"name"`
	TeamID   string          `json:"team_id,omitempty"`
	Roles    []identity.Role `json:"roles,omitempty"`
	Shift    *Shift          `json:"shift,omitempty"`
	// Qualifications are those the doors check (gowning, narcotics), as
	// granted: their validity decides at the door's time.
	Qualifications []qualification.Qualification `json:"qualifications,omitempty"`
	// Visitor: a visitor's badge, handed at the gate (PersonID is the
	// visit's), valid until Until and let into the zones that need one
	// only behind an escort; Host is who receives them.
	Visitor bool      `json:"visitor,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	Host    string    `json:"host,omitempty"`
}

// Mode is how anti-passback acts: a badge entering a zone it is already
// in is refused (hard), let in and flagged (soft), or not checked (off).
type Mode string

// The modes of anti-passback.
const (
	PassbackOff  Mode = "off"
	PassbackSoft Mode = "soft"
	PassbackHard Mode = "hard"
)

// Policy is what the readers decide from: galenix compiles it from the
// zones, readers, people, shifts and qualifications, numbers it (a new
// policy, a greater Version) and signs it; a change of rule or
// qualification makes a new one at once.
type Policy struct {
	Version  int64     `json:"version"`
	IssuedAt time.Time `json:"issued_at"`
	// Timezone is the site's, for the shifts.
	Timezone string   `json:"timezone"`
	Zones    []Zone   `json:"zones"`
	Readers  []Reader `json:"readers"`
	Holders  []Holder `json:"holders"`
	// TwoPersonWindow is how close the second badge of the vault must
	// follow the first.
	TwoPersonWindow time.Duration `json:"two_person_window"`
	// Online and Offline are the anti-passback modes a reader applies
	// when it reaches galenix and when it does not.
	Online  Mode `json:"passback_online"`
	Offline Mode `json:"passback_offline"`

	zone    *time.Location
	zones   map[string]*Zone
	readers map[string]*Reader
	holders map[string]*Holder
}

// DefaultTwoPersonWindow is the vault's window unless the policy says.
const DefaultTwoPersonWindow = 30 * time.Second

// index prepares the policy's lookups.
func (p *Policy) index() error {
	z, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return errs.Field("timezone", "access.policy_timezone", p.Timezone)
	}
	p.zone = z
	p.zones, p.readers, p.holders = map[string]*Zone{}, map[string]*Reader{}, map[string]*Holder{}
	for i := range p.Zones {
		p.zones[p.Zones[i].ID] = &p.Zones[i]
	}
	for i := range p.Readers {
		p.readers[p.Readers[i].Code] = &p.Readers[i]
	}
	for i := range p.Holders {
		p.holders[p.Holders[i].Badge] = &p.Holders[i]
	}
	if p.TwoPersonWindow <= 0 {
		p.TwoPersonWindow = DefaultTwoPersonWindow
	}
	return nil
}

// Bundle is a signed policy, as galenix pushes it to the readers: the
// policy's exact bytes and the site key's Ed25519 signature of them.
type Bundle struct {
	Policy    json.RawMessage `json:"policy"`
	Signature []byte          `json:"signature"`
}

// Sign makes the bundle of a policy with the site's key.
func Sign(p *Policy, key ed25519.PrivateKey) (*Bundle, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return &Bundle{Policy: raw, Signature: ed25519.Sign(key, raw)}, nil
}

// Open verifies a bundle as a reader does before deciding from it: signed
// by the site's key, and newer than the policy it holds (current, 0 for
// none). A forged or altered bundle, or one replayed, is refused and the
// reader keeps its policy.
func Open(b *Bundle, pub ed25519.PublicKey, current int64) (*Policy, error) {
	if b == nil || len(b.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, b.Policy, b.Signature) {
		return nil, errs.E(errs.Forbidden, "access.bundle_forged")
	}
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(b.Policy))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, errs.E(errs.Forbidden, "access.bundle_forged")
	}
	if p.Version <= current {
		return nil, errs.E(errs.Conflict, "access.bundle_replayed", p.Version, current)
	}
	if err := p.index(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Compile indexes a policy galenix built, for deciding centrally.
func Compile(p *Policy) (*Policy, error) { return p, p.index() }

// The rules a decision names.
const (
	RuleReader        = "reader"
	RuleBadge         = "badge"
	RuleExit          = "exit"
	RuleRole          = "role"
	RuleTeam          = "team"
	RuleShift         = "shift"
	RuleQualification = "qualification"
	RulePassback      = "antipassback"
	RuleTwoPersonWait = "two_person_wait"
	RuleTwoPerson     = "two_person"
	RuleVisit         = "visit"
	RuleEscort        = "escort"
	RuleAllowed       = "allowed"
)

// Decision is a reader's answer to a badge: whether the door opens, the
// rule that decided, and why in the reader's words (a catalogue key and
// its arguments).
type Decision struct {
	Allow bool   `json:"allow"`
	Rule  string `json:"rule"`
	// Flagged: let in, but anti-passback says the badge was already in
	// (soft mode).
	Flagged bool   `json:"flagged,omitempty"`
	Key     string `json:"key"`
	Args    []any  `json:"args,omitempty"`
	// With is the vault's other badge, for a two-person entry.
	With string `json:"with,omitempty"`
}

// Message renders the decision's reason in a language.
func (d Decision) Message(lang string) string { return text.Render(lang, d.Key, d.Args...) }

// State is what a reader remembers between badges: who is inside which
// zone (anti-passback) and the vault's first badge waiting for its second.
type State struct {
	Inside  map[string]map[string]bool `json:"inside"`
	Waiting map[string]Waiting         `json:"waiting"`
	// Escort is, for each zone that needs one, the last person of the
	// staff let in: a visitor following within EscortWindow is escorted.
	Escort map[string]Waiting `json:"escort,omitempty"`
}

// Waiting is a vault's first badge and when it was shown.
type Waiting struct {
	Badge string    `json:"badge"`
	At    time.Time `json:"at"`
}

func refuse(rule, key string, args ...any) Decision {
	return Decision{Rule: rule, Key: key, Args: args}
}

// Decide answers a badge shown at a reader at a time, online or not, and
// updates the state: the rules in order, the first that refuses deciding.
// Leaving is never refused.
func (p *Policy) Decide(st *State, readerCode, badge string, at time.Time, online bool) Decision {
	if st.Inside == nil {
		st.Inside = map[string]map[string]bool{}
	}
	if st.Waiting == nil {
		st.Waiting = map[string]Waiting{}
	}
	if st.Escort == nil {
		st.Escort = map[string]Waiting{}
	}
	r, ok := p.readers[readerCode]
	if !ok {
		return refuse(RuleReader, "access.rule.reader", readerCode)
	}
	z, ok := p.zones[r.ZoneID]
	if !ok {
		return refuse(RuleReader, "access.rule.reader", readerCode)
	}
	h, ok := p.holders[badge]
	if !ok {
		return refuse(RuleBadge, "access.rule.badge", badge)
	}
	if r.Direction == Out {
		delete(st.Inside[badge], z.ID)
		return Decision{Allow: true, Rule: RuleExit, Key: "access.rule.exit", Args: []any{z.Name}}
	}
	var escort string
	if h.Visitor {
		d := p.visitor(st, h, z, at)
		if !d.Allow {
			return d
		}
		escort = d.With
	} else if d := p.staff(h, z, at); d.Rule != "" {
		return d
	}
	flagged := false
	if st.Inside[badge][z.ID] {
		mode := p.Online
		if !online {
			mode = p.Offline
		}
		switch mode {
		case PassbackHard:
			return refuse(RulePassback, "access.rule.antipassback", z.Name)
		case PassbackSoft:
			flagged = true
		}
	}
	d := Decision{Allow: true, Rule: RuleAllowed, Flagged: flagged, Key: "access.rule.allowed", Args: []any{z.Name}}
	if z.TwoPerson() {
		w, waiting := st.Waiting[z.ID]
		if !waiting || w.Badge == badge || at.Sub(w.At) > p.TwoPersonWindow || at.Before(w.At) {
			st.Waiting[z.ID] = Waiting{Badge: badge, At: at}
			return refuse(RuleTwoPersonWait, "access.rule.two_person_wait", z.Name, strconv.Itoa(int(p.TwoPersonWindow/time.Second)))
		}
		delete(st.Waiting, z.ID)
		if st.Inside[w.Badge] == nil {
			st.Inside[w.Badge] = map[string]bool{}
		}
		st.Inside[w.Badge][z.ID] = true
		d.Rule, d.Key, d.With = RuleTwoPerson, "access.rule.two_person", w.Badge
	}
	if st.Inside[badge] == nil {
		st.Inside[badge] = map[string]bool{}
	}
	st.Inside[badge][z.ID] = true
	if escort != "" {
		d.With = escort
	} else if z.NeedsEscort() {
		st.Escort[z.ID] = Waiting{Badge: badge, At: at}
	}
	return d
}

// staff applies the rules of a zone to a person of the staff: role, team,
// shift, the qualifications its doors check. A zero Decision lets them on.
func (p *Policy) staff(h *Holder, z *Zone, at time.Time) Decision {
	if len(z.Roles) > 0 && !slices.ContainsFunc(h.Roles, func(r identity.Role) bool { return slices.Contains(z.Roles, r) }) {
		return refuse(RuleRole, "access.rule.role", z.Name)
	}
	if len(z.Teams) > 0 && !slices.Contains(z.Teams, h.TeamID) {
		return refuse(RuleTeam, "access.rule.team", z.Name)
	}
	if z.OnShift && (h.Shift == nil || !h.Shift.On(at, p.zone)) {
		return refuse(RuleShift, "access.rule.shift", z.Name)
	}
	var need []qualification.Requirement
	if req, ok := qualification.ForGrade(z.Grade); ok {
		need = append(need, req)
	}
	if z.Kind == Vault {
		need = append(need, qualification.Requirement{Kind: qualification.Narcotics})
	}
	for _, req := range need {
		if err := qualification.Check(h.Qualifications, req, at, p.zone); err != nil {
			var e *errs.Error
			if errors.As(err, &e) {
				return refuse(RuleQualification, e.Key, e.Args...)
			}
			return refuse(RuleQualification, "access.rule.qualification")
		}
	}
	return Decision{}
}

// visitor applies the rules of a zone to a visitor: within their stay,
// never into the vault, a server room or a grade A or B area, into the
// production zones and laboratories behind a person of the staff let in
// at most EscortWindow before (the Decision's With).
func (p *Policy) visitor(st *State, h *Holder, z *Zone, at time.Time) Decision {
	if !h.Until.IsZero() && at.After(h.Until) {
		return refuse(RuleVisit, "access.rule.visit_over", z.Name)
	}
	if z.ClosedToVisitors() {
		return refuse(RuleVisit, "access.rule.visitor_zone", z.Name)
	}
	if z.NeedsEscort() {
		e, ok := st.Escort[z.ID]
		if !ok || at.Before(e.At) || at.Sub(e.At) > EscortWindow {
			return refuse(RuleEscort, "access.rule.escort", z.Name, strconv.Itoa(int(EscortWindow/time.Second)))
		}
		return Decision{Allow: true, With: e.Badge}
	}
	return Decision{Allow: true}
}

// Holder returns a badge's holder, nil when the policy has none.
func (p *Policy) Holder(badge string) *Holder { return p.holders[badge] }
