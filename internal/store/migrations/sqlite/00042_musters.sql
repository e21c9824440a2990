-- +goose Up
-- A muster at the alarm (access.Muster): the people on site when it
-- began, as the readers saw them, each checked off at their assembly
-- point as they arrive.
CREATE TABLE musters (
    id         TEXT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    started_by TEXT NOT NULL REFERENCES accounts(id),
    reason     TEXT NOT NULL,
    ended_at   TIMESTAMP,
    version    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE muster_people (
    muster_id      TEXT NOT NULL REFERENCES musters(id),
    person_id      TEXT NOT NULL REFERENCES people(id),
    badge          TEXT NOT NULL,
    name           TEXT NOT NULL,
    zone           TEXT NOT NULL,
    assembly_point TEXT NOT NULL,
    last_seen      TIMESTAMP NOT NULL,
    last_reader    TEXT NOT NULL,
    checked_at     TIMESTAMP,
    checked_by     TEXT REFERENCES accounts(id),
    PRIMARY KEY (muster_id, person_id)
);

-- +goose Down
SELECT 'released migrations are never rolled back';
