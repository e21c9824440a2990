-- +goose Up
-- The outbox: what a command did that must be acted on after its commit
-- (live streams on every node, later notifications), appended by the
-- command's own transaction, so that a rolled-back command leaves none.
-- seq is given by outbox_head, locked until the commit: events are
-- numbered in commit order, without gaps, and a reader that has seen
-- event n has seen every event before it (a sequence would not: of two
-- transactions, the later number may commit first).
CREATE TABLE outbox (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
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
    updated_at TIMESTAMPTZ NOT NULL
);

-- The outbox holds client-owned events: the same second wall as the audit
-- trail. A command appends whatever its actor's scope; an actor reads the
-- events of its clients (the site's own: staff only); the dispatcher reads
-- and prunes as the system, whose scope is every client (galenix.all).
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY outbox_read ON outbox FOR SELECT
    USING ((SELECT galenix_on('galenix.all')) OR client_id = ANY ((SELECT galenix_clients())::text[])
        OR (client_id IS NULL AND (SELECT galenix_on('galenix.staff'))));
CREATE POLICY outbox_append ON outbox FOR INSERT WITH CHECK (true);
CREATE POLICY outbox_prune ON outbox FOR DELETE
    USING ((SELECT galenix_on('galenix.all')));

-- +goose Down
SELECT 'released migrations are never rolled back';
