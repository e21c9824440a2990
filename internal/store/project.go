package store

import (
	"context"
	"database/sql"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/outbox"
	"galenix/internal/project"
	"galenix/internal/text"
)

// ProjectStore reads and writes the clients' projects with the site and
// their entries (project.go). Every query is the actor's client scope: a
// client's users read their own projects, staff those of the clients they
// are assigned to.
type ProjectStore struct{ db *DB }

// Projects returns the store of the clients' projects.
func (db *DB) Projects() *ProjectStore { return &ProjectStore{db: db} }

var (
	projectTable = table{"projects", "project", []string{"client_id", "code", "title", "phase", "summary", "target_on", "created_at"}}
	entryTable   = table{"project_entries", "project_entry", []string{"project_id", "client_id", "kind", "title", "body", "side", "owner",
		"due_on", "state", "author_id", "author_name", "created_at", "closed_at"}}
)

func projectRow(p *project.Project) row {
	return row{"client_id": p.ClientID, "code": p.Code, "title": p.Title, "phase": string(p.Phase), "summary": p.Summary,
		"target_on": p.TargetOn, "created_at": p.CreatedAt}
}

func entryRow(e *project.Entry) row {
	return row{"project_id": e.ProjectID, "client_id": e.ClientID, "kind": string(e.Kind), "title": e.Title, "body": e.Body,
		"side": string(e.Side), "owner": e.Owner, "due_on": e.DueOn, "state": string(e.State), "author_id": e.AuthorID,
		"author_name": e.Author, "created_at": e.CreatedAt, "closed_at": e.ClosedAt}
}

const projectCols = `id, client_id, code, title, phase, summary, target_on, created_at, version`

func scanProject(sc scanner, p *project.Project) error {
	var phase string
	var target sql.NullTime
	if err := sc.Scan(&p.ID, &p.ClientID, &p.Code, &p.Title, &phase, &p.Summary, &target, &p.CreatedAt, &p.Version); err != nil {
		return err
	}
	p.Phase, p.TargetOn, p.CreatedAt = project.Phase(phase), timeOf(target), p.CreatedAt.UTC()
	return nil
}

const entryCols = `id, project_id, client_id, kind, title, body, side, owner, due_on, state, author_id, author_name, created_at, closed_at, version`

func scanEntry(sc scanner, e *project.Entry) error {
	var kind, side, state string
	var due, closed sql.NullTime
	if err := sc.Scan(&e.ID, &e.ProjectID, &e.ClientID, &kind, &e.Title, &e.Body, &side, &e.Owner, &due, &state, &e.AuthorID, &e.Author,
		&e.CreatedAt, &closed, &e.Version); err != nil {
		return err
	}
	e.Kind, e.Side, e.State, e.DueOn, e.ClosedAt, e.CreatedAt = project.Kind(kind), project.Side(side), project.State(state), timeOf(due),
		timeOf(closed), e.CreatedAt.UTC()
	return nil
}

// project reads a project in the actor's scope, after checking the actor
// may read projects.
func (tx *Tx) project(id string) (*project.Project, error) {
	if err := project.MayRead(tx.actor); err != nil {
		return nil, err
	}
	var p project.Project
	cond, args := inScope("client_id", tx.actor.ClientScope())
	if err := tx.byID(`SELECT `+projectCols+` FROM projects WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanProject(sc, &p) }, "store.no_such_project", args...); err != nil {
		return nil, err
	}
	return &p, nil
}

// Projects lists the projects in the actor's scope, by code.
func (s *ProjectStore) Projects(ctx context.Context, f project.Filter) ([]project.Project, error) {
	var out []project.Project
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := project.MayRead(tx.actor); err != nil {
			return err
		}
		cond, args := inScope("client_id", tx.actor.ClientScope())
		q := `SELECT ` + projectCols + ` FROM projects WHERE ` + cond
		if f.ClientID != "" {
			q += ` AND client_id = ?`
			args = append(args, f.ClientID)
		}
		if f.Phase != "" {
			q += ` AND phase = ?`
			args = append(args, string(f.Phase))
		}
		var err error
		out, err = collect(tx, q+` ORDER BY code`, args, scanProject)
		return err
	})
	return out, err
}

// Project reads a project and its entries, oldest first, as the actor
// sees them (a client reads no person of the site).
func (s *ProjectStore) Project(ctx context.Context, id string) (*project.View, error) {
	var out *project.View
	err := s.db.Read(ctx, func(tx *Tx) error {
		p, err := tx.project(id)
		if err != nil {
			return err
		}
		es, err := collect(tx, `SELECT `+entryCols+` FROM project_entries WHERE project_id = ? ORDER BY created_at, id`, []any{p.ID}, scanEntry)
		if err != nil {
			return err
		}
		for i := range es {
			es[i] = es[i].Seen(tx.actor)
		}
		out = &project.View{Project: *p, Entries: es}
		return nil
	})
	return out, err
}

// OpenTasks lists the open tasks of the projects in the actor's scope, as
// it sees them, for the workload.
func (s *ProjectStore) OpenTasks(ctx context.Context) ([]project.Entry, error) {
	var out []project.Entry
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := project.MayRead(tx.actor); err != nil {
			return err
		}
		cond, args := inScope("client_id", tx.actor.ClientScope())
		var err error
		out, err = collect(tx, `SELECT `+entryCols+` FROM project_entries WHERE kind = 'task' AND state IN ('todo', 'doing') AND `+cond+
			` ORDER BY due_on, id`, args, scanEntry)
		for i := range out {
			out[i] = out[i].Seen(tx.actor)
		}
		return err
	})
	return out, err
}

// CreateProject opens a client's project: a project lead of the site,
// for a client in its scope.
func (s *ProjectStore) CreateProject(ctx context.Context, p *project.Project) error {
	return s.db.Write(ctx, "project.create", "", func(tx *Tx) error {
		if err := project.MayEdit(tx.actor); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return err
		}
		if !tx.actor.ClientScope().Has(p.ClientID) {
			return errs.Field("client_id", "store.no_such_client")
		}
		p.ID, p.CreatedAt = NewID(), tx.now
		return createClientRecord(tx, projectTable, p.ID, p.ClientID, p, projectRow(p))
	})
}

// UpdateProject changes a project's title, summary, target or phase (one
// step forward), at the version read, with a reason.
func (s *ProjectStore) UpdateProject(ctx context.Context, p *project.Project, reason string) error {
	return s.db.Write(ctx, "project.update", reason, func(tx *Tx) error {
		if err := project.MayEdit(tx.actor); err != nil {
			return err
		}
		old, err := tx.project(p.ID)
		if err != nil {
			return err
		}
		if p.Version != 0 && p.Version != old.Version {
			return errs.StaleVersion(p.Version, old.Version)
		}
		p.ClientID, p.CreatedAt = old.ClientID, old.CreatedAt
		if err := p.CheckChange(old); err != nil {
			return err
		}
		if err := updateClientRecord(tx, projectTable, p.ID, p.ClientID, old, p, projectRow(p)); err != nil {
			return err
		}
		if p.Phase != old.Phase {
			tx.enqueue(outbox.ProjectChanged, projectTable.entity, p.ID, p.ClientID, map[string]any{"code": p.Code, "phase": string(p.Phase)})
		}
		return nil
	})
}

// AddEntry records a milestone, objective, decision, task or message of a
// project in the actor's scope, in the actor's name.
func (s *ProjectStore) AddEntry(ctx context.Context, e *project.Entry) error {
	return s.db.Write(ctx, "project.entry.add", "", func(tx *Tx) error {
		p, err := tx.project(e.ProjectID)
		if err != nil {
			return err
		}
		if err := e.Validate(tx.actor); err != nil {
			return err
		}
		e.ID, e.ClientID, e.CreatedAt = NewID(), p.ClientID, tx.now
		e.AuthorID, e.Author = tx.actor.UserID, actorName(tx.actor)
		if err := createClientRecord(tx, entryTable, e.ID, e.ClientID, e, entryRow(e)); err != nil {
			return err
		}
		tx.enqueue(outbox.ProjectEntryAdded, entryTable.entity, e.ID, e.ClientID,
			map[string]any{"project_id": p.ID, "code": p.Code, "kind": string(e.Kind), "side": string(e.Side)})
		*e = e.Seen(tx.actor)
		return nil
	})
}

// MoveEntry changes an entry's state, at the version read; opening again
// a closed one needs a reason.
func (s *ProjectStore) MoveEntry(ctx context.Context, projectID, entryID string, to project.State, version int, reason string) (*project.Entry, error) {
	var out *project.Entry
	err := s.db.Write(ctx, "project.entry.move", reason, func(tx *Tx) error {
		p, err := tx.project(projectID)
		if err != nil {
			return err
		}
		var old project.Entry
		if err := tx.byID(`SELECT `+entryCols+` FROM project_entries WHERE id = ? AND project_id = ?`, entryID,
			func(sc scanner) error { return scanEntry(sc, &old) }, "store.no_such_project_entry", p.ID); err != nil {
			return err
		}
		if version != 0 && version != old.Version {
			return errs.StaleVersion(version, old.Version)
		}
		e, err := old.Move(tx.actor, to, tx.now)
		if err != nil {
			return err
		}
		if old.Reopens(to) && tx.reason == "" {
			return errs.Field("reason", "reason.required", text.Key("reason.what.change"))
		}
		if e.State == old.State {
			out = ptr(e.Seen(tx.actor))
			return nil
		}
		if err := tx.updateAtVersion("project_entries", "state = ?, closed_at = ?", []any{string(e.State), e.ClosedAt}, e.ID, old.Version); err != nil {
			return err
		}
		e.Version = old.Version + 1
		if err := tx.Audit(audit.Diff(entryTable.entity, e.ID, old.AuditFields(), e.AuditFields()), e.ClientID); err != nil {
			return err
		}
		out = ptr(e.Seen(tx.actor))
		return nil
	})
	return out, err
}

func ptr[T any](v T) *T { return &v }

var _ project.Service = (*ProjectStore)(nil)
