-- +goose Up
-- The outbox: what a command did that must be acted on after its commit
-- (live streams on every node, later notifications), appended by the
-- command's own transaction, so that a rolled-back command leaves none.
-- seq is given by outbox_head, locked until the commit: events are
-- numbered in commit order, without gaps, and a reader that has seen
-- event n has seen every event before it.
CREATE TABLE outbox (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMP NOT NULL,
    topic     TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    -- client_id: the client whose record it is, NULL for the site's own;
    -- a consumer delivers an event only within its reader's client scope.
    client_id TEXT,
    payload   TEXT NOT NULL,
    command   TEXT NOT NULL
);
CREATE INDEX outbox_at ON outbox(at);

-- The last sequence given to an outbox event: pruning may empty the outbox,
-- the numbering goes on.
CREATE TABLE outbox_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO outbox_head (id, seq) VALUES (1, 0);

-- Where each durable consumer is: every event up to seq was delivered.
CREATE TABLE outbox_cursors (
    consumer   TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
SELECT 'released migrations are never rolled back';
