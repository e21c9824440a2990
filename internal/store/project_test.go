package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/project"
	"galenix/internal/store"
)

// TestProjects: a project lead opens a client's project, which the
// client reads and another client and unassigned staff do not; both sides
// record decisions, tasks and messages, each in its author's name and
// audited; the client reads no person of the site; the phase moves one
// step at a time with a reason; a task done opens again only with a reason;
// a stale version and bad input change nothing.
func TestProjects(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		ps := db.Projects()
		qa, op, carla := e.actor("quinn"), e.actor("olga"), e.actor("carla")
		bert := as(identity.Actor{UserID: "ub", Username: "ub", SessionID: "session-ub", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID})
		unassigned := as(identity.Actor{UserID: "uq", Username: "uq", SessionID: "session-uq", Roles: []identity.Role{identity.RoleQA}})

		target := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
		p := project.Project{ClientID: e.alpha.ID, Code: "PRJ-ALPHA-01", Title: "Paediatric oral suspension", TargetOn: &target}
		wantErr(t, ps.CreateProject(op, &p), errs.Forbidden, "")
		wantErr(t, ps.CreateProject(carla, &p), errs.Forbidden, "")
		bad := p
		bad.Code = "x"
		before := counts(t, db)
		wantErr(t, ps.CreateProject(qa, &bad), errs.Invalid, "code")
		other := p
		other.ClientID = e.beta.ID
		wantErr(t, ps.CreateProject(qa, &other), errs.Invalid, "client_id")
		sameCounts(t, db, before)
		must(t, ps.CreateProject(qa, &p))
		twin := project.Project{ClientID: e.alpha.ID, Code: "PRJ-ALPHA-01", Title: "Another"}
		wantErr(t, ps.CreateProject(qa, &twin), errs.Conflict, "code")

		for who, c := range map[string]struct {
			ctx  context.Context
			want int
		}{"carla": {carla, 1}, "bert": {bert, 0}, "unassigned": {unassigned, 0}, "quinn": {qa, 1}} {
			got, err := ps.Projects(c.ctx, project.Filter{})
			must(t, err)
			if len(got) != c.want {
				t.Errorf("%s lists %d projects, want %d", who, len(got), c.want)
			}
		}
		_, err := ps.Project(bert, p.ID)
		wantErr(t, err, errs.NotFound, "")

		// Both sides take part.
		due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		siteTask := project.Entry{ProjectID: p.ID, Kind: project.KindTask, Title: "Write the stability protocol", Side: project.SiteSide, Owner: "Quinn Qualité", DueOn: &due}
		must(t, ps.AddEntry(qa, &siteTask))
		decision := project.Entry{ProjectID: p.ID, Kind: project.KindDecision, Title: "Keep the sugar-free base", Body: "Paediatric use"}
		must(t, ps.AddEntry(carla, &decision))
		if decision.Side != project.ClientSide || decision.Author != "Carla Client" {
			t.Errorf("the client's decision: %+v", decision)
		}
		clientTask := project.Entry{ProjectID: p.ID, Kind: project.KindTask, Title: "Send the reference standard", Side: project.ClientSide, DueOn: &due}
		must(t, ps.AddEntry(qa, &clientTask))
		msg := project.Entry{ProjectID: p.ID, Kind: project.KindMessage, Body: "The standard leaves on Monday."}
		must(t, ps.AddEntry(carla, &msg))
		wantErr(t, ps.AddEntry(bert, &project.Entry{ProjectID: p.ID, Kind: project.KindMessage, Body: "Hello"}), errs.NotFound, "")
		wantErr(t, ps.AddEntry(carla, &project.Entry{ProjectID: p.ID, Kind: project.KindMilestone, Title: "Pilot", DueOn: &due}), errs.Forbidden, "")

		v, err := ps.Project(carla, p.ID)
		must(t, err)
		if len(v.Entries) != 4 {
			t.Fatalf("the client reads %d entries, want 4", len(v.Entries))
		}
		for _, en := range v.Entries {
			if strings.Contains(en.Author+en.Owner+en.AuthorID, "Quinn") || (en.Side == project.SiteSide && en.Author != "") {
				t.Errorf("the client reads a person of the site: %+v", en)
			}
		}
		if v, err := ps.Project(qa, p.ID); err != nil || v.Entries[0].Owner != "Quinn Qualité" || v.Entries[0].Author != "Quinn Qualité" {
			t.Errorf("staff reads the site's names: %+v %v", v, err)
		}

		// Tasks: the client moves its own, not the site's; a done task
		// opens again with a reason.
		_, err = ps.MoveEntry(carla, p.ID, siteTask.ID, project.Done, 0, "")
		wantErr(t, err, errs.Forbidden, "")
		doneTask, err := ps.MoveEntry(carla, p.ID, clientTask.ID, project.Done, 1, "")
		must(t, err)
		if doneTask.State != project.Done || doneTask.Version != 2 || doneTask.ClosedAt == nil {
			t.Fatalf("task done: %+v", doneTask)
		}
		_, err = ps.MoveEntry(carla, p.ID, clientTask.ID, project.Todo, 1, "Wrong lot sent")
		wantErr(t, err, errs.Stale, "")
		_, err = ps.MoveEntry(carla, p.ID, clientTask.ID, project.Todo, 2, "")
		wantErr(t, err, errs.Invalid, "reason")
		_, err = ps.MoveEntry(carla, p.ID, decision.ID, project.Done, 0, "")
		wantErr(t, err, errs.Conflict, "")
		_, err = ps.MoveEntry(carla, p.ID, clientTask.ID+"0", project.Done, 0, "")
		wantErr(t, err, errs.NotFound, "")
		if _, err := ps.MoveEntry(carla, p.ID, clientTask.ID, project.Todo, 2, "Wrong lot sent"); err != nil {
			t.Errorf("reopened with a reason: %v", err)
		}
		tasks, err := ps.OpenTasks(qa)
		must(t, err)
		if w := project.Workload(tasks, due.AddDate(0, 0, 3), time.UTC); len(w) != 2 || w[0].Open != 1 || w[0].Overdue != 1 {
			t.Errorf("workload: %+v", w)
		}

		// The phase: one step forward, with a reason.
		next := v.Project
		next.Phase = project.TechTransfer
		wantErr(t, ps.UpdateProject(qa, &next, "Skip"), errs.Invalid, "phase")
		next.Phase = project.Formulation
		wantErr(t, ps.UpdateProject(qa, &next, ""), errs.Invalid, "reason")
		wantErr(t, ps.UpdateProject(carla, &next, "Feasibility done"), errs.Forbidden, "")
		must(t, ps.UpdateProject(qa, &next, "Feasibility report approved by both sides"))
		stale := v.Project
		stale.Title = "Another title"
		wantErr(t, ps.UpdateProject(qa, &stale, "Rename"), errs.Stale, "")

		for entity, id := range map[string]string{"project": p.ID, "project_entry": decision.ID} {
			if es := trail(t, db, entity, id, 0); len(es) == 0 {
				t.Errorf("no audit trail for the %s", entity)
			}
		}
		if es := trail(t, db, "project_entry", clientTask.ID, 0); len(es) < 3 || es[len(es)-1].Reason != "Wrong lot sent" {
			t.Errorf("the task's trail: %+v", es)
		}
	})
}
