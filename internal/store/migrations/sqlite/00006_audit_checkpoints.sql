-- +goose Up
-- Signed checkpoints of the audit chain: the site's Ed25519 signature over
-- the sequence and hash of an entry, at regular intervals.
CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    hash      TEXT NOT NULL,
    at        TIMESTAMP NOT NULL,
    signature TEXT NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
