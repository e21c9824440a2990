-- +goose Up
-- Site access (access.Zone, access.Reader): the zones behind doors and
-- what entering each takes, the badge readers at their doors.
CREATE TABLE access_zones (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    building_id    TEXT REFERENCES buildings(id),
    grade          TEXT NOT NULL DEFAULT '',
    roles          TEXT NOT NULL DEFAULT '',
    teams          TEXT NOT NULL DEFAULT '',
    on_shift       BOOLEAN NOT NULL DEFAULT FALSE,
    assembly_point TEXT NOT NULL DEFAULT '',
    version        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE access_readers (
    id        TEXT PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    zone_id   TEXT NOT NULL REFERENCES access_zones(id),
    direction TEXT NOT NULL,
    door      TEXT NOT NULL,
    version   INTEGER NOT NULL DEFAULT 1
);

-- Each badge a reader decided, as it numbered it: stored once by
-- (reader, sequence), whenever the reader delivers it (offline, later);
-- append-only, each intake sealed in the audit trail by the count and
-- digest of what it stored.
CREATE TABLE access_events (
    reader_code TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    zone_id     TEXT NOT NULL REFERENCES access_zones(id),
    direction   TEXT NOT NULL,
    badge       TEXT NOT NULL,
    person_id   TEXT REFERENCES people(id),
    at          TIMESTAMP NOT NULL,
    allow       BOOLEAN NOT NULL,
    rule        TEXT NOT NULL,
    flagged     BOOLEAN NOT NULL,
    offline     BOOLEAN NOT NULL,
    policy      BIGINT NOT NULL,
    kind        TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (reader_code, seq)
);
CREATE INDEX access_events_person ON access_events(person_id, at);
CREATE INDEX access_events_at ON access_events(at);

-- +goose Down
SELECT 'released migrations are never rolled back';
