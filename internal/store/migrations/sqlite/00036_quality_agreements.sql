-- +goose Up
-- The quality agreement signed with each client laboratory, as the rules
-- galenix enforces (quality.Agreement): one per client.
CREATE TABLE quality_agreements (
    id                            TEXT PRIMARY KEY,
    client_id                     TEXT NOT NULL UNIQUE REFERENCES clients(id),
    reference                     TEXT NOT NULL,
    notify_major_hours            INTEGER NOT NULL,
    notify_critical_hours         INTEGER NOT NULL,
    summary_working_days          INTEGER NOT NULL,
    client_approves_masters       BOOLEAN NOT NULL,
    client_approves_major_closure BOOLEAN NOT NULL,
    batch_documents               TEXT NOT NULL,
    updated_at                    TIMESTAMP NOT NULL,
    version                       INTEGER NOT NULL DEFAULT 1
);

-- What the site owes a client under its agreement for one deviation (the
-- notification, the investigation's summary): counted down from from_at
-- to due_at on both sides, met at done_at with the words sent, escalated
-- once when late.
CREATE TABLE quality_obligations (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id),
    deviation_id TEXT NOT NULL REFERENCES deviations(id),
    kind         TEXT NOT NULL,
    from_at      TIMESTAMP NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    done_at      TIMESTAMP,
    message      TEXT NOT NULL DEFAULT '',
    escalated_at TIMESTAMP,
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (deviation_id, kind)
);
CREATE INDEX quality_obligations_client ON quality_obligations(client_id, due_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
