-- +goose Up
-- Restore drills (issue 10): each test of a backup, restored into a fresh
-- place, its audit trail verified and its counts compared with the point it
-- was restored to, recorded as a GMP event so that an inspector sees that
-- backups are tested (EU GMP Annex 11 §7.2). A drill is written when it
-- starts (result 'running') and completed once when it ends; a failure is a
-- code and its parameters (JSON), never a sentence in one language.
--
-- Site data, owned by no client laboratory: like the site model and the
-- audit checkpoints it has no row-level security; the store lets only the
-- roles with backup.view read it.
CREATE TABLE backup_drills (
    id                UUID PRIMARY KEY,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    performed_by      TEXT NOT NULL,
    performed_by_name TEXT NOT NULL,
    database_kind     TEXT NOT NULL CHECK (database_kind IN ('sqlite', 'postgres')),
    backup_id         TEXT NOT NULL,
    target_kind       TEXT NOT NULL CHECK (target_kind IN ('backup', 'time')),
    target_time       TIMESTAMPTZ NOT NULL,
    target_seq        BIGINT NOT NULL,
    target_hash       TEXT NOT NULL,
    result            TEXT NOT NULL CHECK (result IN ('running', 'ok', 'failed')),
    expected          TEXT NOT NULL,
    restored          TEXT NOT NULL,
    restore_ms        BIGINT NOT NULL,
    failure_code      TEXT NOT NULL,
    failure_params    TEXT NOT NULL
);
CREATE INDEX backup_drills_started ON backup_drills(started_at);

-- A drill's record is evidence: never deleted, and never changed once it
-- has ended.
-- +goose StatementBegin
CREATE FUNCTION backup_drills_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.result = 'running' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a restore drill is never deleted, nor changed once it has ended';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER backup_drills_evidence BEFORE UPDATE OR DELETE ON backup_drills
    FOR EACH ROW EXECUTE FUNCTION backup_drills_evidence();
CREATE TRIGGER backup_drills_no_truncate BEFORE TRUNCATE ON backup_drills
    FOR EACH STATEMENT EXECUTE FUNCTION backup_drills_evidence();

-- +goose Down
SELECT 'released migrations are never rolled back';
