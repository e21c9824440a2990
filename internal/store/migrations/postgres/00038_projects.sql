-- +goose Up
-- A client laboratory's partnership projects with the site (project.Project):
-- from feasibility to commercial supply.
CREATE TABLE projects (
    id         UUID PRIMARY KEY,
    client_id  UUID NOT NULL REFERENCES clients(id),
    code       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    phase      TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    target_on  DATE,
    created_at TIMESTAMPTZ NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX projects_client ON projects(client_id, code);

-- A project's milestones, objectives, decisions, tasks and messages
-- (project.Entry): decisions and messages are never changed; the others
-- move through their states, at the version read.
CREATE TABLE project_entries (
    id          UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects(id),
    client_id   UUID NOT NULL REFERENCES clients(id),
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    side        TEXT NOT NULL,
    owner       TEXT NOT NULL DEFAULT '',
    due_on      DATE,
    state       TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    author_name TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX project_entries_project ON project_entries(project_id, created_at);
CREATE INDEX project_entries_open_tasks ON project_entries(client_id, kind, state);

-- Row-level security (see 00008, 00009, 00018, 00036): a client's projects
-- are seen and written only within its scope.
-- +goose StatementBegin
DO $$
DECLARE
    t TEXT;
    cond CONSTANT TEXT := '(SELECT galenix_on(''galenix.all'')) OR client_id::text = ANY ((SELECT galenix_clients())::text[])';
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'project_entries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (%s) WITH CHECK (%s)', t || '_scope', t, cond, cond);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
