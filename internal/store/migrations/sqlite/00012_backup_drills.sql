-- +goose Up
-- Restore drills (issue 10): each test of a backup, restored into a fresh
-- place, its audit trail verified and its counts compared with the point it
-- was restored to, recorded as a GMP event so that an inspector sees that
-- backups are tested (EU GMP Annex 11 §7.2). A drill is written when it
-- starts (result 'running') and completed once when it ends; a failure is a
-- code and its parameters (JSON), never a sentence in one language.
CREATE TABLE backup_drills (
    id                TEXT PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    performed_by      TEXT NOT NULL,
    performed_by_name TEXT NOT NULL,
    database_kind     TEXT NOT NULL CHECK (database_kind IN ('sqlite', 'postgres')),
    backup_id         TEXT NOT NULL,
    target_kind       TEXT NOT NULL CHECK (target_kind IN ('backup', 'time')),
    target_time       TIMESTAMP NOT NULL,
    target_seq        INTEGER NOT NULL,
    target_hash       TEXT NOT NULL,
    result            TEXT NOT NULL CHECK (result IN ('running', 'ok', 'failed')),
    expected          TEXT NOT NULL,
    restored          TEXT NOT NULL,
    restore_ms        INTEGER NOT NULL,
    failure_code      TEXT NOT NULL,
    failure_params    TEXT NOT NULL
);
CREATE INDEX backup_drills_started ON backup_drills(started_at);

-- A drill's record is evidence: never deleted, and never changed once it
-- has ended.
-- +goose StatementBegin
CREATE TRIGGER backup_drills_no_delete BEFORE DELETE ON backup_drills
BEGIN
    SELECT RAISE(ABORT, 'a restore drill is never deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER backup_drills_ended BEFORE UPDATE ON backup_drills
WHEN OLD.result <> 'running'
BEGIN
    SELECT RAISE(ABORT, 'a restore drill that has ended is never changed');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
