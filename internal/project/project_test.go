package project

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

var (
	lead   = identity.Actor{UserID: "q", Roles: []identity.Role{identity.RoleQA}}
	lab    = identity.Actor{UserID: "l", Roles: []identity.Role{identity.RoleLab}}
	op     = identity.Actor{UserID: "o", Roles: []identity.Role{identity.RoleOperator}}
	client = identity.Actor{UserID: "c", ClientID: "c1", Roles: []identity.Role{identity.RoleClientUser}}
)

func day0(s string) *time.Time {
	d, _ := time.Parse(time.DateOnly, s)
	return &d
}

// TestProjectValidate: a project's code, title and phase are checked; its
// phase moves forward one step at a time, its code never changes.
func TestProjectValidate(t *testing.T) {
	p := Project{ClientID: "c1", Code: " prj-alpha-01 ", Title: " Oral suspension ", TargetOn: day0("2027-06-30")}
	if err := p.Validate(); err != nil || p.Code != "PRJ-ALPHA-01" || p.Phase != Feasibility || p.Title != "Oral suspension" {
		t.Fatalf("validated: %+v %v", p, err)
	}
	for _, c := range []struct {
		name, field string
		edit        func(*Project)
	}{
		{"no client", "client_id", func(p *Project) { p.ClientID = "" }},
		{"code", "code", func(p *Project) { p.Code = "a b" }},
		{"title", "title", func(p *Project) { p.Title = "x" }},
		{"phase", "phase", func(p *Project) { p.Phase = "launch" }},
	} {
		q := p
		c.edit(&q)
		if err := q.Validate(); errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
	next := p
	next.Phase = Formulation
	if err := next.CheckChange(&p); err != nil {
		t.Errorf("one step forward: %v", err)
	}
	for _, ph := range []Phase{TechTransfer, Commercial} {
		jump := p
		jump.Phase = ph
		if err := jump.CheckChange(&p); errs.FieldOf(err) != "phase" {
			t.Errorf("from feasibility to %s: %v", ph, err)
		}
	}
	back := next
	back.Phase = Feasibility
	if err := back.CheckChange(&next); errs.FieldOf(err) != "phase" {
		t.Errorf("a step back: %v", err)
	}
	renamed := p
	renamed.Code = "PRJ-OTHER"
	if err := renamed.CheckChange(&p); errs.FieldOf(err) != "code" {
		t.Errorf("code changed: %v", err)
	}
}

// TestEntries: who records what, each kind's fields and start state, the
// side a decision speaks for, state changes and what a client reads.
func TestEntries(t *testing.T) {
	// Milestones and objectives: the project leads alone.
	m := Entry{Kind: KindMilestone, Title: "Pilot batch", DueOn: day0("2027-01-15")}
	if err := m.Validate(lab); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a lab analyst sets a milestone: %v", err)
	}
	if err := m.Validate(lead); err != nil || m.State != Open || m.Side != SiteSide {
		t.Fatalf("milestone: %+v %v", m, err)
	}
	// Decisions: the author's side, a reason, never changed.
	d := Entry{Kind: KindDecision, Title: "Keep the sugar-free base", Body: "Paediatric use", Side: SiteSide}
	if err := d.Validate(client); err != nil || d.Side != ClientSide || d.State != Recorded {
		t.Fatalf("client's decision: %+v %v", d, err)
	}
	if _, err := d.Move(client, Done, time.Now()); !errs.Is(err, errs.Conflict) {
		t.Errorf("a decision changed: %v", err)
	}
	noWhy := Entry{Kind: KindDecision, Title: "Switch supplier"}
	if err := noWhy.Validate(lead); errs.FieldOf(err) != "body" {
		t.Errorf("a decision without why: %v", err)
	}
	if err := (&Entry{Kind: KindMessage, Body: "Hello"}).Validate(op); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator writes in a project: %v", err)
	}
	for name, e := range map[string]Entry{
		"kind":     {Kind: "memo", Title: "Memo"},
		"title":    {Kind: KindTask, Title: "x", DueOn: day0("2027-01-01")},
		"due_on":   {Kind: KindTask, Title: "Stability protocol"},
		"side":     {Kind: KindTask, Title: "Stability protocol", Side: "both", DueOn: day0("2027-01-01")},
		"body":     {Kind: KindMessage},
		"owner":    {Kind: KindTask, Title: "Stability protocol", DueOn: day0("2027-01-01"), Owner: string(make([]byte, 101))},
		"too long": {Kind: KindMessage, Body: string(make([]rune, 4001))},
	} {
		if err := e.Validate(lead); err == nil || errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Tasks: the client moves its own side's, not the site's.
	task := Entry{Kind: KindTask, Title: "Send the reference standard", Side: ClientSide, DueOn: day0("2026-11-30"), Owner: "Dr Weber"}
	if err := task.Validate(lead); err != nil || task.State != Todo {
		t.Fatalf("task: %+v %v", task, err)
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if !task.Overdue(now, time.UTC) {
		t.Error("a task due on 30 November not late on 5 December")
	}
	done, err := task.Move(client, Done, now)
	if err != nil || done.State != Done || done.ClosedAt == nil || done.Overdue(now, time.UTC) {
		t.Fatalf("the client's task done: %+v %v", done, err)
	}
	if !done.Reopens(Todo) || done.Reopens(Cancelled) {
		t.Error("Reopens")
	}
	if _, err := done.Move(client, "lost", now); errs.FieldOf(err) != "state" {
		t.Errorf("unknown state: %v", err)
	}
	siteTask := Entry{Kind: KindTask, Title: "Write the protocol", Side: SiteSide, DueOn: day0("2027-01-10"), Owner: "Isabelle Fontaine"}
	if err := siteTask.Validate(lead); err != nil {
		t.Fatal(err)
	}
	if _, err := siteTask.Move(client, Done, now); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the client moves the site's task: %v", err)
	}
	// A client never reads a person of the site.
	siteTask.Author, siteTask.AuthorID = "Isabelle Fontaine", "u-qa"
	if s := siteTask.Seen(client); s.Owner != "" || s.Author != "" || s.AuthorID != "" {
		t.Errorf("the client reads the site's names: %+v", s)
	}
	if s := siteTask.Seen(lead); s.Owner == "" || s.Author == "" {
		t.Errorf("staff reads no names: %+v", s)
	}
	d.Author = "Sophie Marchand"
	if s := d.Seen(client); s.Author != "Sophie Marchand" {
		t.Errorf("the client does not read its own decision's author: %+v", s)
	}
}

// TestWorkload: open tasks counted by side and site owner, the overdue
// ones apart; closed tasks and other entries left out.
func TestWorkload(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	es := []Entry{
		{Kind: KindTask, Side: SiteSide, Owner: "Formulation", State: Todo, DueOn: day0("2026-12-01")},
		{Kind: KindTask, Side: SiteSide, Owner: "Formulation", State: Doing, DueOn: day0("2026-12-20")},
		{Kind: KindTask, Side: SiteSide, Owner: "QC", State: Done, DueOn: day0("2026-11-01")},
		{Kind: KindTask, Side: ClientSide, Owner: "Dr Weber", State: Todo, DueOn: day0("2026-12-02")},
		{Kind: KindMilestone, Side: SiteSide, State: Open, DueOn: day0("2026-12-01")},
	}
	got := Workload(es, now, time.UTC)
	want := []Load{{Side: SiteSide, Owner: "Formulation", Open: 2, Overdue: 1}, {Side: ClientSide, Open: 1, Overdue: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("workload %+v, want %+v", got, want)
	}
}
