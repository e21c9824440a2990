-- +goose Up
-- A muster at the alarm (access.Muster): the people on site when it
-- began, as the readers saw them, each checked off at their assembly
-- point as they arrive.
CREATE TABLE musters (
    id         UUID PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    started_by UUID NOT NULL REFERENCES accounts(id),
    reason     TEXT NOT NULL,
    ended_at   TIMESTAMPTZ,
    version    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE muster_people (
    muster_id      UUID NOT NULL REFERENCES musters(id),
    person_id      UUID NOT NULL REFERENCES people(id),
    badge          TEXT NOT NULL,
    name           TEXT NOT NULL,
    zone           TEXT NOT NULL,
    assembly_point TEXT NOT NULL,
    last_seen      TIMESTAMPTZ NOT NULL,
    last_reader    TEXT NOT NULL,
    checked_at     TIMESTAMPTZ,
    checked_by     UUID REFERENCES accounts(id),
    PRIMARY KEY (muster_id, person_id)
);

-- +goose Down
SELECT 'released migrations are never rolled back';
