-- +goose Up
-- Idempotency keys: a write sent with an Idempotency-Key header (or a form's
-- hidden key) claims its key in the same transaction as the write, so a
-- retry after a lost answer finds the write applied and gets its first
-- answer instead of applying it twice. The answer is stored right after
-- the commit; a row without one (status 0) is a write that committed but
-- whose answer was lost. Keys are scoped by the account that sent them and
-- purged after a day.
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- +goose Down
DROP TABLE idempotency_keys;
