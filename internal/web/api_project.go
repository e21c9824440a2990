package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"galenix/internal/errs"
	"galenix/internal/project"
)

// The projects' JSON API: a client's partnership projects with the site,
// read by the client's own users and the staff of its scope; opened and
// moved through their phases by the site's project leads; their entries
// (milestones, objectives, decisions, tasks, messages) recorded by either
// side in its author's name. A client never reads a person of the site.

// errNoProjects: galenix was wired without the projects' service.
var errNoProjects = errors.New("web: no project service wired")

// projects returns the projects' service, or the error a request gets
// when galenix was wired without one.
func (s *Server) projects() (project.Service, error) {
	if s.Projects == nil {
		return nil, errs.Wrap(errNoProjects, "projects")
	}
	return s.Projects, nil
}

// apiEntry is a project's entry as the API answers it: whether it is late
// today, in the site's zone.
type apiEntry struct {
	project.Entry
	Overdue bool `json:"overdue"`
}

// apiProjectView is a project with its entries.
type apiProjectView struct {
	project.Project
	Entries []apiEntry `json:"entries"`
}

// projectPut is a project's PUT: the project as GET answers it, whose
// entries are left as they are (they change by their own routes).
type projectPut struct {
	project.Project
	Entries json.RawMessage `json:"entries,omitempty"`
}

func (s *Server) entryAnswer(e project.Entry, now time.Time) apiEntry {
	return apiEntry{Entry: e, Overdue: e.Overdue(now, s.zone())}
}

// routesProjects registers the projects' API.
func (s *Server) routesProjects() {
	s.handle("GET", "/api/v1/projects", false, list(s, func(r *http.Request) ([]project.Project, error) {
		svc, err := s.projects()
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		f := project.Filter{ClientID: q.Get("client_id"), Phase: project.Phase(q.Get("phase"))}
		if f.Phase != "" && !slices.Contains(project.Phases, f.Phase) {
			return nil, errs.Field("phase", "project.phase", string(f.Phase))
		}
		return svc.Projects(r.Context(), f)
	}))
	s.handle("POST", "/api/v1/projects", false, create(s, func(ctx context.Context, p *project.Project) error {
		svc, err := s.projects()
		if err != nil {
			return err
		}
		return svc.CreateProject(ctx, p)
	}))
	s.handle("GET", "/api/v1/projects/workload", false, list(s, func(r *http.Request) ([]project.Load, error) {
		svc, err := s.projects()
		if err != nil {
			return nil, err
		}
		tasks, err := svc.OpenTasks(r.Context())
		return project.Workload(tasks, time.Now(), s.zone()), err
	}))
	s.handle("GET", "/api/v1/projects/{id}", false, get(s, func(ctx context.Context, id string) (*apiProjectView, error) {
		svc, err := s.projects()
		if err != nil {
			return nil, err
		}
		v, err := svc.Project(ctx, id)
		if err != nil {
			return nil, err
		}
		out := &apiProjectView{Project: v.Project, Entries: make([]apiEntry, len(v.Entries))}
		now := time.Now()
		for i, e := range v.Entries {
			out.Entries[i] = s.entryAnswer(e, now)
		}
		return out, nil
	}))
	s.handle("PUT", "/api/v1/projects/{id}", false, update(s, func(p *projectPut, id string) { p.ID = id },
		func(ctx context.Context, p *projectPut, reason string) error {
			p.Entries = nil // as GET answered them: not changed here
			svc, err := s.projects()
			if err != nil {
				return err
			}
			return svc.UpdateProject(ctx, &p.Project, reason)
		}))
	s.handle("POST", "/api/v1/projects/{id}/entries", false, func(w http.ResponseWriter, r *http.Request) {
		var e project.Entry
		if err := decode(w, r, &e); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.projects()
		if err == nil {
			e.ProjectID = r.PathValue("id")
			err = svc.AddEntry(r.Context(), &e)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, s.entryAnswer(e, time.Now()))
	})
	s.handle("POST", "/api/v1/projects/{id}/entries/{entry}/state", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			State   project.State `json:"state"`
			Version int           `json:"version"`
		}
		reason, err := decodeWithReason(w, r, &in)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.projects()
		var e *project.Entry
		if err == nil {
			e, err = svc.MoveEntry(r.Context(), r.PathValue("id"), r.PathValue("entry"), in.State, in.Version, reason)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.entryAnswer(*e, time.Now()))
	})
}
