package web

import (
	"net/http"
	"net/url"
	"time"

	"galenix/internal/client"
	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/project"
)

// The projects' pages: the list of a reader's projects with the workload
// of their open tasks, and a project's dashboard (its phases, milestones,
// objectives, decision log, tasks and message thread, its documents) with
// the forms the reader may use. The service checks every permission and
// the client scope; the pages only hide the forms that would be refused.

// routesProjectPages registers the projects' pages.
func (s *Server) routesProjectPages() {
	write := s.handleForm
	s.handle("GET", "/projects", false, func(w http.ResponseWriter, r *http.Request) { s.renderProjects(w, r, http.StatusOK, nil) })
	write("/projects", s.projectCreateForm)
	s.handle("GET", "/projects/{id}", false, func(w http.ResponseWriter, r *http.Request) { s.renderProject(w, r, http.StatusOK, "", nil) })
	write("/projects/{id}/phase", s.projectPhaseForm)
	write("/projects/{id}/entries", s.projectEntryForm)
	write("/projects/{id}/entries/{entry}/state", s.projectMoveForm)
}

// projBase is what every project page has: the production pages'
// helpers (When), no tabs.
func (s *Server) projBase(r *http.Request) prodBase {
	p := s.prodBase(r, "projects", "")
	p.Tabs = nil
	return p
}

type projectsPage struct {
	prodBase
	Projects []project.Project
	Clients  map[string]client.Client
	Workload []project.Load
	Phases   []project.Phase
	// Form is the new project's, for the site's project leads.
	Form          *form
	ClientOptions []option
	CanCreate     bool
}

func (s *Server) renderProjects(w http.ResponseWriter, r *http.Request, status int, f *form) {
	svc, err := s.projects()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	d := projectsPage{prodBase: s.projBase(r), Phases: project.Phases, Form: f}
	if d.Form == nil {
		d.Form = &form{Values: url.Values{}, lang: langOf(r)}
	}
	if d.Projects, err = svc.Projects(ctx, project.Filter{}); err != nil {
		s.pageError(w, r, err)
		return
	}
	tasks, err := svc.OpenTasks(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Workload = project.Workload(tasks, time.Now(), s.zone())
	if d.ClientOptions, d.Clients, err = s.clientOptions(r, d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.CanCreate = project.MayEdit(d.Actor) == nil
	s.render(w, r, status, "projects", d)
}

// projectCreateForm opens a project from the list's form.
func (s *Server) projectCreateForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.projects()
	p := project.Project{ClientID: vals.Get("client_id"), Code: vals.Get("code"), Title: vals.Get("title"), Summary: vals.Get("summary")}
	if err == nil {
		p.TargetOn, err = formDay(vals.Get("target_on"), "target_on")
	}
	if err == nil {
		err = svc.CreateProject(r.Context(), &p)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderProjects(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r),
			shown: []string{"client_id", "code", "title", "summary", "target_on"}})
		return
	}
	http.Redirect(w, r, "/projects/"+url.PathEscape(p.ID)+"?saved=1", http.StatusSeeOther)
}

// formDay reads a form's day (YYYY-MM-DD), nil when left empty.
func formDay(v, field string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, errs.Field(field, "web.give_date_yyyy_mm")
	}
	return &d, nil
}

// projectPage is a project's dashboard.
type projectPage struct {
	prodBase
	P      *project.View
	Client client.Client
	Phases []project.Phase
	// The entries by kind, in the order recorded (messages and decisions
	// newest last, as a thread reads).
	Milestones, Objectives, Decisions, Tasks, Messages []project.Entry
	Documents                                          []document.Document
	Forms                                              map[string]*form
	// What the reader may do.
	CanEdit, CanWork, CanUpload bool
	// Next is the phase after the current one, "" at the last.
	Next project.Phase
	now  time.Time
}

// Overdue says whether an entry is late today, in the site's zone.
func (p projectPage) Overdue(e project.Entry) bool {
	z := p.zone
	if z == nil {
		z = time.UTC
	}
	return e.Overdue(p.now, z)
}

// planSection is a card of the plan: the milestones or the objectives,
// with the form that adds one.
type planSection struct {
	Kind  project.Kind
	Items []project.Entry
	Form  *form
}

// Plan is the plan's cards, milestones then objectives.
func (p projectPage) Plan() []planSection {
	return []planSection{{project.KindMilestone, p.Milestones, p.Forms["milestone"]}, {project.KindObjective, p.Objectives, p.Forms["objective"]}}
}

// Sides are the two sides a task may belong to.
func (p projectPage) Sides() []project.Side {
	return []project.Side{project.SiteSide, project.ClientSide}
}

// moveView is what an entry's state form needs.
type moveView struct {
	ProjectID string
	E         project.Entry
	States    []project.State
}

// Move is the state form of an entry.
func (p projectPage) Move(e project.Entry) moveView {
	return moveView{ProjectID: p.P.ID, E: e, States: project.StatesOf(e.Kind)}
}

// PhaseDone says whether a phase is behind the project's.
func (p projectPage) PhaseDone(ph project.Phase) bool { return ph.Index() < p.P.Phase.Index() }

// CanMove says whether the reader may change the entry's state.
func (p projectPage) CanMove(e project.Entry) bool { return project.MayMove(p.Actor, &e) == nil }

// Day writes a day without its time, in the page's language.
func (p projectPage) Day(t *time.Time) string { return projectDay(p.Lang, t) }

// Day writes a day without its time, in the page's language.
func (p projectsPage) Day(t *time.Time) string { return projectDay(p.Lang, t) }

// projectDay writes a day (kept at midnight UTC) in lang, "—" for none.
func projectDay(lang string, t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatDate(lang, *t, time.UTC)
}

func (s *Server) renderProject(w http.ResponseWriter, r *http.Request, status int, failed string, f *form) {
	svc, err := s.projects()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	v, err := svc.Project(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := projectPage{prodBase: s.projBase(r), P: v, Phases: project.Phases, now: time.Now(), Forms: map[string]*form{}}
	for _, k := range []string{"phase", "entry", "message", "decision", "task", "milestone", "objective", "move"} {
		d.Forms[k] = &form{Values: url.Values{}, lang: langOf(r)}
	}
	if f != nil {
		d.Forms[failed] = f
	}
	if r.Method == http.MethodPost {
		d.Path = "/projects/" + url.PathEscape(v.ID)
	}
	if c, err := s.Clients.Client(ctx, v.ClientID); err == nil {
		d.Client = *c
	}
	for _, e := range v.Entries {
		switch e.Kind {
		case project.KindMilestone:
			d.Milestones = append(d.Milestones, e)
		case project.KindObjective:
			d.Objectives = append(d.Objectives, e)
		case project.KindDecision:
			d.Decisions = append(d.Decisions, e)
		case project.KindTask:
			d.Tasks = append(d.Tasks, e)
		case project.KindMessage:
			d.Messages = append(d.Messages, e)
		}
	}
	if docs, err := s.documents(); err == nil {
		if d.Documents, err = docs.Documents(ctx, document.Filter{ProjectID: v.ID}); err != nil {
			s.pageError(w, r, err)
			return
		}
		d.CanUpload = document.MayWrite(d.Actor) == nil
	}
	d.CanEdit = project.MayEdit(d.Actor) == nil
	d.CanWork = project.MayRecord(d.Actor, project.KindMessage) == nil
	if i := v.Phase.Index(); i >= 0 && i+1 < len(project.Phases) {
		d.Next = project.Phases[i+1]
	}
	s.render(w, r, status, "project", d)
}

// projectPhaseForm moves the project to its next phase, with a reason.
func (s *Server) projectPhaseForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.projects()
	id := r.PathValue("id")
	if err == nil {
		var v *project.View
		if v, err = svc.Project(r.Context(), id); err == nil {
			p := v.Project
			p.Phase = project.Phase(vals.Get("phase"))
			if p.Version, err = formVersion(vals); err == nil {
				err = svc.UpdateProject(r.Context(), &p, vals.Get("reason"))
			}
		}
	}
	s.afterProject(w, r, "phase", vals, []string{"phase", "reason", "version"}, err)
}

// projectEntryForm records a milestone, objective, decision, task or
// message from the dashboard's forms (the form named after the kind).
func (s *Server) projectEntryForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.projects()
	e := project.Entry{ProjectID: r.PathValue("id"), Kind: project.Kind(vals.Get("kind")), Title: vals.Get("title"), Body: vals.Get("body"),
		Side: project.Side(vals.Get("side")), Owner: vals.Get("owner")}
	if err == nil {
		e.DueOn, err = formDay(vals.Get("due_on"), "due_on")
	}
	if err == nil {
		err = svc.AddEntry(r.Context(), &e)
	}
	name := string(e.Kind)
	if e.Kind.Index() < 0 {
		name = "entry"
	}
	s.afterProject(w, r, name, vals, []string{"kind", "title", "body", "side", "owner", "due_on"}, err)
}

// projectMoveForm changes an entry's state, at the version read.
func (s *Server) projectMoveForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.projects()
	if err == nil {
		var version int
		if version, err = formVersion(vals); err == nil {
			_, err = svc.MoveEntry(r.Context(), r.PathValue("id"), r.PathValue("entry"), project.State(vals.Get("state")), version, vals.Get("reason"))
		}
	}
	s.afterProject(w, r, "move", vals, []string{"state", "reason", "version"}, err)
}

// afterProject answers a dashboard's form: back to the dashboard once
// recorded; the dashboard again with the refusal, in the form that made
// it, otherwise; a project not found is the not-found page.
func (s *Server) afterProject(w http.ResponseWriter, r *http.Request, name string, vals url.Values, shown []string, err error) {
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderProject(w, r, refusalStatus(err), name, &form{Values: vals, Err: err, lang: langOf(r), shown: shown})
		return
	}
	http.Redirect(w, r, "/projects/"+url.PathEscape(r.PathValue("id"))+"?saved=1", http.StatusSeeOther)
}
