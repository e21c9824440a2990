-- +goose Up
-- INSERT OR REPLACE deletes the entry it replaces without firing the delete
-- trigger (SQLite fires it only with recursive triggers on), so an insert
-- naming an existing entry is refused before it can replace it. PostgreSQL
-- needs no such trigger: its ON CONFLICT DO UPDATE fires the update trigger.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
