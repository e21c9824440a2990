package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"galenix/internal/store"
)

// projectBody is a new project of client alpha.
func projectBody(clientID, code string) map[string]any {
	return map[string]any{"client_id": clientID, "code": code, "title": "Paediatric oral suspension",
		"summary": "A sugar-free suspension for children.", "target_on": "2027-06-30T00:00:00Z"}
}

// exerciseProjects runs every command of the projects: a project opened,
// an entry of each side, a task moved, the project moved to its next
// phase. It returns the project's id.
func exerciseProjects(t *testing.T, p *prodEnv) string {
	t.Helper()
	id := p.created(t, "qa", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-CMD-01"))
	p.ok(t, p.call(t, "client-alpha", "POST", "/api/v1/projects/"+id+"/entries", map[string]any{"kind": "decision",
		"title": "Keep the sugar-free base", "body": "Paediatric use"}), http.StatusCreated, "the client's decision")
	task := p.ok(t, p.call(t, "qa", "POST", "/api/v1/projects/"+id+"/entries", map[string]any{"kind": "task",
		"title": "Send the reference standard", "side": "client", "due_on": "2027-01-15T00:00:00Z"}), http.StatusCreated, "a task").object(t)
	p.ok(t, p.call(t, "client-alpha", "POST", "/api/v1/projects/"+id+"/entries/"+task["id"].(string)+"/state",
		map[string]any{"state": "done", "version": 1}), http.StatusOK, "the client's task done")
	body := projectBody(p.alpha.ID, "PRJ-CMD-01")
	body["phase"], body["reason"], body["version"] = "formulation", "Feasibility report approved by both sides.", 1
	p.ok(t, p.call(t, "qa", "PUT", "/api/v1/projects/"+id, body), http.StatusOK, "next phase")
	return id
}

// projectIdemCases are the idempotency cases of the projects' routes.
func projectIdemCases(t *testing.T, p *prodEnv) map[string]func(t *testing.T) idemRequest {
	n := 0
	project := func(t *testing.T) string {
		n++
		return p.created(t, "qa", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-IDEM-"+string(rune('A'+n))))
	}
	return map[string]func(t *testing.T) idemRequest{
		"createProject": func(t *testing.T) idemRequest {
			n++
			return idemRequest{who: "qa", path: "/api/v1/projects", body: projectBody(p.alpha.ID, "PRJ-IDEM-"+string(rune('A'+n)))}
		},
		"updateProject": func(t *testing.T) idemRequest {
			id := project(t)
			body := p.ok(t, p.call(t, "qa", "GET", "/api/v1/projects/"+id, nil), http.StatusOK, "read").object(t)
			delete(body, "entries")
			body["title"], body["reason"] = "Renamed", "Idempotency test"
			return idemRequest{who: "qa", path: "/api/v1/projects/" + id, body: body}
		},
		"addProjectEntry": func(t *testing.T) idemRequest {
			return idemRequest{who: "client-alpha", path: "/api/v1/projects/" + project(t) + "/entries", body: map[string]any{"kind": "message", "body": "Hello"}}
		},
		"moveProjectEntry": func(t *testing.T) idemRequest {
			id := project(t)
			task := p.ok(t, p.call(t, "qa", "POST", "/api/v1/projects/"+id+"/entries", map[string]any{"kind": "task", "title": "Write the protocol",
				"due_on": "2027-01-15T00:00:00Z"}), http.StatusCreated, "a task").object(t)
			return idemRequest{who: "qa", path: "/api/v1/projects/" + id + "/entries/" + task["id"].(string) + "/state", body: map[string]any{"state": "doing", "version": 1}}
		},
	}
}

// TestProjectsAPI: a project lead opens a client's project (bad input
// answers 400 and changes nothing; a client or an operator gets 403); the
// client reads it, another client gets 404; both sides record entries in
// their names; the client reads no person of the site; the workload counts
// the open tasks; the phase moves one step with a reason at the version read.
func TestProjectsAPI(t *testing.T) {
	p := newProdEnv(t, newEnv(t, store.SQLite), "operator")
	for field, value := range map[string]any{"code": "a b", "title": "x", "phase": "launch", "client_id": p.beta.ID} {
		body := projectBody(p.alpha.ID, "PRJ-ALPHA-01")
		body[field] = value
		before := p.snapshot(t)
		p.call(t, "qa", "POST", "/api/v1/projects", body).wantError(t, http.StatusBadRequest, "invalid", field)
		p.unchanged(t, before)
	}
	p.call(t, "client-alpha", "POST", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-ALPHA-01")).wantError(t, http.StatusForbidden, "forbidden", "")
	p.call(t, "operator", "POST", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-ALPHA-01")).wantError(t, http.StatusForbidden, "forbidden", "")
	id := p.created(t, "qa", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-ALPHA-01"))
	p.call(t, "qa", "POST", "/api/v1/projects", projectBody(p.alpha.ID, "PRJ-ALPHA-01")).wantError(t, http.StatusConflict, "conflict", "code")
	path := "/api/v1/projects/" + id
	p.call(t, "client-beta", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
	if n := len(p.call(t, "client-beta", "GET", "/api/v1/projects", nil).items(t)); n != 0 {
		t.Errorf("client-beta lists %d projects", n)
	}
	p.call(t, "client-alpha", "GET", "/api/v1/projects?phase=launch", nil).wantError(t, http.StatusBadRequest, "invalid", "phase")
	// A document is filed under a project of its own client alone.
	before := p.snapshot(t)
	p.call(t, "client-beta", "POST", "/api/v1/documents?"+url.Values{"project_id": {id}, "category": {"report"}, "title": {"Report"},
		"file_name": {"r.txt"}}.Encode(), []byte("a report"), "Content-Type", "text/plain").wantError(t, http.StatusBadRequest, "invalid", "project_id")
	p.unchanged(t, before)

	entry := func(who string, body map[string]any) map[string]any {
		t.Helper()
		return p.ok(t, p.call(t, who, "POST", path+"/entries", body), http.StatusCreated, "entry").object(t)
	}
	entry("qa", map[string]any{"kind": "milestone", "title": "Pilot batch", "due_on": "2027-02-01T00:00:00Z"})
	p.call(t, "client-alpha", "POST", path+"/entries", map[string]any{"kind": "milestone", "title": "Pilot", "due_on": "2027-02-01T00:00:00Z"}).
		wantError(t, http.StatusForbidden, "forbidden", "")
	siteTask := entry("qa", map[string]any{"kind": "task", "title": "Write the stability protocol", "owner": "Quentin Qualité", "due_on": "2026-01-15T00:00:00Z"})
	clientTask := entry("qa", map[string]any{"kind": "task", "title": "Send the reference standard", "side": "client", "owner": "Dr Weber", "due_on": "2027-01-15T00:00:00Z"})
	dec := entry("client-alpha", map[string]any{"kind": "decision", "title": "Keep the sugar-free base", "body": "Paediatric use"})
	if dec["side"] != "client" || dec["author"] != "Carla Client" {
		t.Errorf("the client's decision: %v", dec)
	}
	before = p.snapshot(t)
	p.call(t, "client-alpha", "POST", path+"/entries", map[string]any{"kind": "decision", "title": "Switch supplier"}).wantError(t, http.StatusBadRequest, "invalid", "body")
	p.call(t, "client-alpha", "POST", path+"/entries", map[string]any{"kind": "memo", "title": "Memo"}).wantError(t, http.StatusBadRequest, "invalid", "kind")
	p.call(t, "client-beta", "POST", path+"/entries", map[string]any{"kind": "message", "body": "Hello"}).wantError(t, http.StatusNotFound, "not_found", "")
	p.unchanged(t, before)

	got := p.ok(t, p.call(t, "client-alpha", "GET", path, nil), http.StatusOK, "the client reads it").object(t)
	raw := p.call(t, "client-alpha", "GET", path, nil).body
	if strings.Contains(string(raw), "Quentin") || len(got["entries"].([]any)) != 4 {
		t.Errorf("the client's project names a person of the site, or lacks entries: %s", raw)
	}
	for _, e := range got["entries"].([]any) {
		e := e.(map[string]any)
		if e["id"] == siteTask["id"] && e["overdue"] != true {
			t.Errorf("the site's task due in 2026 is not overdue: %v", e)
		}
	}
	load := p.ok(t, p.call(t, "qa", "GET", "/api/v1/projects/workload", nil), http.StatusOK, "workload").items(t)
	if len(load) != 2 || load[0]["owner"] != "Quentin Qualité" || load[0]["overdue"] != float64(1) || load[1]["side"] != "client" {
		t.Errorf("workload: %v", load)
	}
	if raw := p.call(t, "client-alpha", "GET", "/api/v1/projects/workload", nil).body; strings.Contains(string(raw), "Quentin") {
		t.Errorf("the client's workload names a person of the site: %s", raw)
	}

	// Tasks: the client moves its own side's only; reopening needs a reason.
	move := func(who, entryID string, body map[string]any) reply {
		return p.call(t, who, "POST", path+"/entries/"+entryID+"/state", body)
	}
	move("client-alpha", siteTask["id"].(string), map[string]any{"state": "done"}).wantError(t, http.StatusForbidden, "forbidden", "")
	p.ok(t, move("client-alpha", clientTask["id"].(string), map[string]any{"state": "done", "version": 1}), http.StatusOK, "done")
	move("client-alpha", clientTask["id"].(string), map[string]any{"state": "todo", "version": 1, "reason": "Wrong lot"}).wantError(t, http.StatusPreconditionFailed, "stale", "")
	move("client-alpha", clientTask["id"].(string), map[string]any{"state": "todo", "version": 2}).wantError(t, http.StatusBadRequest, "invalid", "reason")
	move("client-alpha", dec["id"].(string), map[string]any{"state": "done"}).wantError(t, http.StatusConflict, "conflict", "")

	// The phase.
	body := projectBody(p.alpha.ID, "PRJ-ALPHA-01")
	body["phase"], body["reason"] = "tech_transfer", "Skip"
	p.call(t, "qa", "PUT", path, body, "If-Match", `"1"`).wantError(t, http.StatusBadRequest, "invalid", "phase")
	body["phase"] = "formulation"
	p.call(t, "qa", "PUT", path, body, "If-Match", `"7"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
	p.call(t, "client-alpha", "PUT", path, body, "If-Match", `"1"`).wantError(t, http.StatusForbidden, "forbidden", "")
	if r := p.ok(t, p.call(t, "qa", "PUT", path, body, "If-Match", `"1"`), http.StatusOK, "next phase"); r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag after the change: %q", r.header.Get("ETag"))
	}
}

// TestProjectPages: the list with its workload and the dashboard, in
// French for quality assurance (who opens a project there, a bad code
// refused and shown again) and in English for the client (who records a
// decision and finishes its task there, never reading a person of the
// site, and gets no project lead's forms); another client gets 404.
func TestProjectPages(t *testing.T) {
	p := newProdEnv(t, newEnv(t, store.SQLite), "operator")
	qa := p.browserWith(t, "qa", testPassword, "fr")
	qa.get("/projects").has(t, http.StatusOK, "Projets", "Aucun projet pour l'instant.", "Ouvrir un projet")
	form := url.Values{"client_id": {p.alpha.ID}, "code": {"a b"}, "title": {"Suspension buvable"}, "target_on": {"2027-06-30"}}
	qa.post("/projects", form).has(t, http.StatusBadRequest, "Le code du projet s'écrit", "Suspension buvable")
	form.Set("code", "PRJ-ALPHA-01")
	r := qa.post("/projects", form)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/projects/") {
		t.Fatalf("open a project: %d %s", r.status, r.text)
	}
	page := strings.TrimSuffix(r.location, "?saved=1")
	if r := qa.post(page+"/entries", url.Values{"kind": {"task"}, "title": {"Write the stability protocol"}, "side": {"site"},
		"owner": {"Quentin Qualité"}, "due_on": {"2026-01-15"}}); r.status != http.StatusSeeOther {
		t.Fatalf("a task: %d %s", r.status, r.text)
	}
	if r := qa.post(page+"/entries", url.Values{"kind": {"task"}, "title": {"Send the reference standard"}, "side": {"client"},
		"due_on": {"2027-01-15"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the client's task: %d %s", r.status, r.text)
	}
	qa.get(page).has(t, http.StatusOK, "PRJ-ALPHA-01", "Faisabilité", "Journal des décisions", "Quentin Qualité", "en retard", "Passer à la phase")
	qa.get("/projects").has(t, http.StatusOK, "Charge de travail", "Quentin Qualité")

	en := p.browserWith(t, "client-alpha", testPassword, "en")
	dash := en.get(page)
	dash.has(t, http.StatusOK, "Feasibility", "Decision log", "Record the decision", "Send the reference standard", "Site (CDMO)")
	if strings.Contains(dash.text, "Quentin") || strings.Contains(dash.body, "/phase\"") {
		t.Error("the client's dashboard names a person of the site, or offers the phase's form")
	}
	en.post(page+"/entries", url.Values{"kind": {"decision"}, "title": {"Keep the sugar-free base"}}).has(t, http.StatusBadRequest, "Say why this decision is taken.")
	if r := en.post(page+"/entries", url.Values{"kind": {"decision"}, "title": {"Keep the sugar-free base"}, "body": {"Paediatric use"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the client's decision: %d %s", r.status, r.text)
	}
	dash = en.get(page)
	dash.has(t, http.StatusOK, "Keep the sugar-free base", "Paediatric use", "Carla Client")
	m := regexp.MustCompile(`action="(/projects/[^"]+/entries/[^"]+/state)"`).FindAllStringSubmatch(dash.body, -1)
	if len(m) != 1 {
		t.Fatalf("the client's state forms: %v, want its own task's alone", m)
	}
	if r := en.post(m[0][1], url.Values{"state": {"done"}, "version": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the client's task done: %d %s", r.status, r.text)
	}
	en.post(m[0][1], url.Values{"state": {"todo"}, "version": {"2"}}).has(t, http.StatusBadRequest, "reason")
	en.get(page).has(t, http.StatusOK, "Done")
	// The project's documents: the upload form offers the project, and
	// the document filed under it names it.
	id := strings.TrimPrefix(page, "/projects/")
	qa.get("/documents/new?client_id="+p.alpha.ID+"&project_id="+id).has(t, http.StatusOK, `<option value="`+id+`" selected>PRJ-ALPHA-01 — Suspension buvable</option>`)
	if r := p.browserWith(t, "client-beta", testPassword, "en").get(page); r.status != http.StatusNotFound {
		t.Errorf("client-beta reads alpha's project: %d", r.status)
	}
}
