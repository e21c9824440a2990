// Package project holds a client laboratory's partnership projects with
// the site: from feasibility to commercial supply, their milestones and
// objectives, the decisions taken on either side, the tasks each side
// owns and the thread of messages between them. It holds types and pure
// rules; the store persists them and scopes them to the client.
package project

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Phase is where a project stands, in the order a product goes from the
// client's idea to its supply.
type Phase string

// The phases, in order.
const (
	Feasibility       Phase = "feasibility"
	Formulation       Phase = "formulation"
	TechTransfer      Phase = "tech_transfer"
	ProcessValidation Phase = "process_validation"
	Commercial        Phase = "commercial"
)

// Phases lists them in order.
var Phases = []Phase{Feasibility, Formulation, TechTransfer, ProcessValidation, Commercial}

// Index is the phase's rank, -1 when unknown.
func (p Phase) Index() int { return slices.Index(Phases, p) }

// Project is one of a client's projects with the site.
type Project struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	// Code names it (PRJ-ALPHA-01); unique on the site.
	Code    string `json:"code"`
	Title   string `json:"title"`
	Phase   Phase  `json:"phase"`
	Summary string `json:"summary"`
	// TargetOn is the day the client expects the project's end.
	TargetOn  *time.Time `json:"target_on,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	Version   int        `json:"version"`
}

// VersionRef is the project's version, for the store's versioned writes.
func (p *Project) VersionRef() *int { return &p.Version }

var codeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,31}$`)

// Validate checks a project's fields.
func (p *Project) Validate() error {
	p.Code, p.Title, p.Summary = strings.ToUpper(strings.TrimSpace(p.Code)), strings.TrimSpace(p.Title), strings.TrimSpace(p.Summary)
	if p.ClientID == "" {
		return errs.Field("client_id", "project.client_required")
	}
	if !codeRE.MatchString(p.Code) {
		return errs.Field("code", "project.code")
	}
	if err := text("title", p.Title, 3, 200); err != nil {
		return err
	}
	if err := text("summary", p.Summary, 0, 4000); err != nil {
		return err
	}
	if p.Phase == "" {
		p.Phase = Feasibility
	}
	if p.Phase.Index() < 0 {
		return errs.Field("phase", "project.phase", string(p.Phase))
	}
	if p.TargetOn != nil {
		d := day(*p.TargetOn)
		p.TargetOn = &d
	}
	return nil
}

// CheckChange checks a project's new fields against the old: the phase
// moves forward one step at a time (a step back, or two at once, is a
// decision the client takes part in: it is refused here and recorded as a
// decision first, then made one step at a time).
func (p *Project) CheckChange(old *Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Code != old.Code {
		return errs.Field("code", "project.code_fixed")
	}
	if d := p.Phase.Index() - old.Phase.Index(); d > 1 || d < 0 {
		return errs.Field("phase", "project.phase_step", string(old.Phase))
	}
	return nil
}

// AuditFields lists the project's fields for the audit trail.
func (p *Project) AuditFields() []audit.Field {
	target := ""
	if p.TargetOn != nil {
		target = p.TargetOn.Format(time.DateOnly)
	}
	return []audit.Field{audit.F("code", p.Code), audit.F("title", p.Title), audit.F("phase", string(p.Phase)),
		audit.F("summary", p.Summary), audit.F("target_on", target)}
}

// Kind is what an entry of a project is.
type Kind string

// The entries of a project.
const (
	// KindMilestone: a step of the plan, due on a day, reached or not.
	KindMilestone Kind = "milestone"
	// KindObjective: what the project aims at, with its target day and
	// status.
	KindObjective Kind = "objective"
	// KindDecision: who decided what, when, why, on which side. Never
	// changed once recorded.
	KindDecision Kind = "decision"
	// KindTask: a piece of work owned by one side, due on a day.
	KindTask Kind = "task"
	// KindMessage: a message of the project's thread. Never changed.
	KindMessage Kind = "message"
)

// Kinds lists them.
var Kinds = []Kind{KindMilestone, KindObjective, KindDecision, KindTask, KindMessage}

// Index is the kind's rank in Kinds, -1 when unknown.
func (k Kind) Index() int { return slices.Index(Kinds, k) }

// Side is the party an entry speaks for or belongs to.
type Side string

// The two sides.
const (
	SiteSide   Side = "site"
	ClientSide Side = "client"
)

// SideOf is the side an actor speaks for.
func SideOf(a identity.Actor) Side {
	if a.IsClient() {
		return ClientSide
	}
	return SiteSide
}

// State is an entry's state; each kind has its own.
type State string

// The states: a milestone is open then reached; an objective open, met,
// missed or dropped; a task to do, doing, done or cancelled. Decisions and
// messages are recorded, no state.
const (
	Open      State = "open"
	Reached   State = "reached"
	Met       State = "met"
	Missed    State = "missed"
	Dropped   State = "dropped"
	Todo      State = "todo"
	Doing     State = "doing"
	Done      State = "done"
	Cancelled State = "cancelled"
	Recorded  State = "recorded"
)

// states are each kind's states, the first its start.
var states = map[Kind][]State{
	KindMilestone: {Open, Reached},
	KindObjective: {Open, Met, Missed, Dropped},
	KindTask:      {Todo, Doing, Done, Cancelled},
	KindDecision:  {Recorded},
	KindMessage:   {Recorded},
}

// StatesOf lists the states of a kind, the first its start.
func StatesOf(k Kind) []State { return states[k] }

// closed says whether a state ends its entry's work.
func closed(s State) bool {
	return s == Reached || s == Met || s == Missed || s == Dropped || s == Done || s == Cancelled || s == Recorded
}

// Entry is one milestone, objective, decision, task or message of a
// project.
type Entry struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	ClientID  string `json:"client_id"`
	Kind      Kind   `json:"kind"`
	// Title is what it is (a decision's what, a task's work); Body the
	// rest (a decision's why, a message's text).
	Title string `json:"title"`
	Body  string `json:"body"`
	// Side is the side that owns it (a task, a milestone) or spoke (a
	// decision, a message).
	Side Side `json:"side"`
	// Owner names who owns a task or a milestone on its side (a person, a
	// team); a client never reads the site's.
	Owner string `json:"owner,omitempty"`
	// DueOn is the day due (a milestone, a task) or targeted (an
	// objective).
	DueOn *time.Time `json:"due_on,omitempty"`
	State State      `json:"state"`
	// AuthorID and Author name who recorded it; a client reads the
	// author of its own side only (Seen).
	AuthorID  string     `json:"author_id,omitempty"`
	Author    string     `json:"author,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Version   int        `json:"version"`
}

// VersionRef is the entry's version, for the store's versioned writes.
func (e *Entry) VersionRef() *int { return &e.Version }

// Validate checks a new entry recorded by a: its kind's fields, its side
// (a decision and a message speak for the author's side; a task and a
// milestone may be the other side's), its start state.
func (e *Entry) Validate(a identity.Actor) error {
	e.Title, e.Body, e.Owner = strings.TrimSpace(e.Title), strings.TrimSpace(e.Body), strings.TrimSpace(e.Owner)
	if err := text("owner", e.Owner, 0, 100); err != nil {
		return err
	}
	if e.Kind.Index() < 0 {
		return errs.Field("kind", "project.kind", string(e.Kind))
	}
	if err := MayRecord(a, e.Kind); err != nil {
		return err
	}
	switch e.Kind {
	case KindMessage:
		if err := text("body", e.Body, 1, 4000); err != nil {
			return err
		}
		if err := text("title", e.Title, 0, 200); err != nil {
			return err
		}
	default:
		if err := text("title", e.Title, 3, 200); err != nil {
			return err
		}
		if err := text("body", e.Body, 0, 4000); err != nil {
			return err
		}
	}
	if e.Kind == KindDecision && utf8.RuneCountInString(e.Body) < 3 {
		return errs.Field("body", "project.decision_why")
	}
	switch e.Kind {
	case KindDecision, KindMessage:
		e.Side = SideOf(a)
		e.DueOn, e.Owner = nil, ""
	default:
		if e.Side == "" {
			e.Side = SideOf(a)
		}
		if e.Side != SiteSide && e.Side != ClientSide {
			return errs.Field("side", "project.side", string(e.Side))
		}
		if e.DueOn == nil && e.Kind != KindObjective {
			return errs.Field("due_on", "project.due_required")
		}
		if e.DueOn != nil {
			d := day(*e.DueOn)
			e.DueOn = &d
		}
	}
	e.State = states[e.Kind][0]
	return nil
}

// Move checks a change of an entry's state by a, at now, and returns the
// entry changed: decisions and messages never change; a task moves
// between its states (one done or cancelled opens again only with a
// reason, which the store asks); a client moves only its side's tasks.
func (e Entry) Move(a identity.Actor, to State, now time.Time) (*Entry, error) {
	if e.Kind == KindDecision || e.Kind == KindMessage {
		return nil, errs.E(errs.Conflict, "project.entry_fixed")
	}
	if !slices.Contains(states[e.Kind], to) {
		return nil, errs.Field("state", "project.state", string(to))
	}
	if err := MayMove(a, &e); err != nil {
		return nil, err
	}
	if to == e.State {
		return &e, nil
	}
	e.State = to
	if closed(to) {
		t := now
		e.ClosedAt = &t
	} else {
		e.ClosedAt = nil
	}
	return &e, nil
}

// Reopens says whether moving e to to opens again work that was closed:
// a change that needs its reason.
func (e *Entry) Reopens(to State) bool { return closed(e.State) && !closed(to) }

// Overdue says whether the entry is late at now: due before today (in
// zone) and not closed.
func (e *Entry) Overdue(now time.Time, zone *time.Location) bool {
	if e.DueOn == nil || closed(e.State) || e.Kind == KindObjective && e.State != Open {
		return false
	}
	y, m, d := now.In(zone).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return e.DueOn.Before(today)
}

// AuditFields lists the entry's fields for the audit trail.
func (e *Entry) AuditFields() []audit.Field {
	due := ""
	if e.DueOn != nil {
		due = e.DueOn.Format(time.DateOnly)
	}
	return []audit.Field{audit.F("kind", string(e.Kind)), audit.F("title", e.Title), audit.F("body", e.Body),
		audit.F("side", string(e.Side)), audit.F("owner", e.Owner), audit.F("due_on", due), audit.F("state", string(e.State))}
}

// Seen is the entry as a reads it: a client reads the names of its own
// side, never a person of the site's.
func (e Entry) Seen(a identity.Actor) Entry {
	if !a.IsClient() {
		return e
	}
	// The author of a decision or a message speaks for the entry's side;
	// of another entry, for either.
	if e.Side == SiteSide || (e.Kind != KindDecision && e.Kind != KindMessage) {
		e.AuthorID, e.Author = "", ""
	}
	if e.Side == SiteSide {
		e.Owner = ""
	}
	return e
}

// MayRead says whether a may read projects (within its scope, which the
// store applies): the client's own users, and staff who see production
// or take part in projects.
func MayRead(a identity.Actor) error {
	if a.IsClient() || a.Can(identity.PermProductionView) || a.Can(identity.PermProjectWork) || a.Can(identity.PermProjectEdit) {
		return nil
	}
	return errs.E(errs.Forbidden, "project.refused.read")
}

// MayEdit says whether a may open a client's project and change it (its
// phase, its milestones and objectives): the site's project leads.
func MayEdit(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "project.refused.edit")
	}
	if err := a.Require(identity.PermProjectEdit); err != nil {
		return errs.E(errs.Forbidden, "project.refused.edit")
	}
	return nil
}

// MayRecord says whether a may record an entry of the kind: milestones
// and objectives by the site's project leads; decisions, tasks and
// messages by anyone who takes part, on either side.
func MayRecord(a identity.Actor, k Kind) error {
	if k == KindMilestone || k == KindObjective {
		return MayEdit(a)
	}
	if !a.Can(identity.PermProjectWork) {
		return errs.E(errs.Forbidden, "project.refused.work")
	}
	return nil
}

// MayMove says whether a may change e's state: a milestone or an
// objective, the site's project leads; a task, anyone who takes part on
// the site's side, and the client on its own side's tasks.
func MayMove(a identity.Actor, e *Entry) error {
	if e.Kind == KindMilestone || e.Kind == KindObjective {
		return MayEdit(a)
	}
	if !a.Can(identity.PermProjectWork) {
		return errs.E(errs.Forbidden, "project.refused.work")
	}
	if a.IsClient() && e.Side != ClientSide {
		return errs.E(errs.Forbidden, "project.refused.site_task")
	}
	return nil
}

// Load counts one owner's open and overdue tasks.
type Load struct {
	Side Side `json:"side"`
	// Owner is the task's owner on the site's side (a person, a team;
	// "" when none is named); empty on the client's side.
	Owner   string `json:"owner,omitempty"`
	Open    int    `json:"open"`
	Overdue int    `json:"overdue"`
}

// Workload counts the open tasks of entries by side and, on the site's
// side, by author; the client's side is one line. Sorted by side, then the
// most loaded first.
func Workload(entries []Entry, now time.Time, zone *time.Location) []Load {
	by := map[[2]string]*Load{}
	for _, e := range entries {
		if e.Kind != KindTask || closed(e.State) {
			continue
		}
		owner := e.Owner
		if e.Side == ClientSide {
			owner = ""
		}
		k := [2]string{string(e.Side), owner}
		l := by[k]
		if l == nil {
			l = &Load{Side: e.Side, Owner: owner}
			by[k] = l
		}
		l.Open++
		if e.Overdue(now, zone) {
			l.Overdue++
		}
	}
	out := make([]Load, 0, len(by))
	for _, l := range by {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Load) int {
		if a.Side != b.Side {
			return strings.Compare(string(a.Side), string(b.Side)) * -1
		}
		if a.Open != b.Open {
			return b.Open - a.Open
		}
		return strings.Compare(a.Owner, b.Owner)
	})
	return out
}

// View is a project with its entries, as a reader sees it.
type View struct {
	Project
	Entries []Entry `json:"entries"`
}

// Filter selects projects; empty fields select all in scope.
type Filter struct {
	ClientID string
	Phase    Phase
}

// Service is what the pages and the API ask of projects.
type Service interface {
	Projects(ctx context.Context, f Filter) ([]Project, error)
	Project(ctx context.Context, id string) (*View, error)
	CreateProject(ctx context.Context, p *Project) error
	UpdateProject(ctx context.Context, p *Project, reason string) error
	AddEntry(ctx context.Context, e *Entry) error
	MoveEntry(ctx context.Context, projectID, entryID string, to State, version int, reason string) (*Entry, error)
	// OpenTasks lists the open tasks of the projects in scope, for the
	// workload.
	OpenTasks(ctx context.Context) ([]Entry, error)
}

// text checks a free text's length, in characters.
func text(field, s string, lo, hi int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < lo || n > hi {
		return errs.Field(field, "project.text_length", lo, hi)
	}
	return nil
}

// day is t's calendar day, at midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
