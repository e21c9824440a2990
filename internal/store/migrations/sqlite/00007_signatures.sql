-- +goose Up
-- Electronic signatures (21 CFR Part 11 §11.50, 11.70; EU GMP Annex 11 §14):
-- each bound to the SHA-256 of the exact content signed. Like the audit
-- trail, append-only: a signature is never changed nor removed.
CREATE TABLE signatures (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL, -- a record's id, or a period of the audit trail
    meaning      TEXT NOT NULL,
    signer_id    TEXT NOT NULL,
    signer_name  TEXT NOT NULL,
    signed_at    TIMESTAMP NOT NULL,
    content_hash TEXT NOT NULL,
    reason       TEXT NOT NULL,
    client_id    TEXT,
    session_id   TEXT NOT NULL
);
CREATE INDEX signatures_entity ON signatures(entity, entity_id);

-- +goose StatementBegin
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN
    SELECT RAISE(ABORT, 'electronic signatures are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN
    SELECT RAISE(ABORT, 'electronic signatures are append-only');
END;
-- +goose StatementEnd

-- INSERT OR REPLACE would delete the row it replaces without firing the
-- delete trigger (see 00002).
-- +goose StatementBegin
CREATE TRIGGER signatures_no_replace BEFORE INSERT ON signatures
WHEN EXISTS (SELECT 1 FROM signatures WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'electronic signatures are append-only');
END;
-- +goose StatementEnd

-- One-time challenges that a signature must carry: bound to the session that
-- asked for one, to one record and one meaning, good for one attempt within
-- five minutes. Only the SHA-256 of the challenge is kept.
CREATE TABLE signature_challenges (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    meaning    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX signature_challenges_expires ON signature_challenges(expires_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
