-- +goose Up
-- Visitors (access.Visit): pre-registered by their host, welcomed at the
-- gate with a badge, expected to leave by a time after which the PC
-- Sécurité is alerted (once: overdue_raised_at).
CREATE TABLE visits (
    id                TEXT PRIMARY KEY,
    visitor           TEXT NOT NULL,
    company           TEXT NOT NULL,
    purpose           TEXT NOT NULL DEFAULT '',
    host_id           TEXT NOT NULL REFERENCES people(id),
    expected_at       TIMESTAMP NOT NULL,
    expected_until    TIMESTAMP NOT NULL,
    status            TEXT NOT NULL,
    badge             TEXT NOT NULL DEFAULT '',
    arrived_at        TIMESTAMP,
    departed_at       TIMESTAMP,
    overdue_raised_at TIMESTAMP,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX visits_when ON visits(expected_at);
-- A visitor badge is held by one visitor on site at a time.
CREATE UNIQUE INDEX visits_badge_on_site ON visits(badge) WHERE status = 'on_site';

-- A reader's event names the visit whose badge it read, and says why it
-- decided as it did (a coded text: text.Coded).
ALTER TABLE access_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE access_events ADD COLUMN visit_id TEXT REFERENCES visits(id);

-- A muster's line is a person of the staff or a visitor (person_id is
-- then the visit's), with the host the guards ask first.
CREATE TABLE muster_people_new (
    muster_id      TEXT NOT NULL REFERENCES musters(id),
    person_id      TEXT NOT NULL,
    badge          TEXT NOT NULL,
    name           TEXT NOT NULL,
    zone           TEXT NOT NULL,
    assembly_point TEXT NOT NULL,
    last_seen      TIMESTAMP NOT NULL,
    last_reader    TEXT NOT NULL,
    checked_at     TIMESTAMP,
    checked_by     TEXT REFERENCES accounts(id),
    visitor        BOOLEAN NOT NULL DEFAULT FALSE,
    host           TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (muster_id, person_id)
);
INSERT INTO muster_people_new (muster_id, person_id, badge, name, zone, assembly_point, last_seen, last_reader, checked_at, checked_by)
    SELECT muster_id, person_id, badge, name, zone, assembly_point, last_seen, last_reader, checked_at, checked_by FROM muster_people;
DROP TABLE muster_people;
ALTER TABLE muster_people_new RENAME TO muster_people;

-- +goose Down
SELECT 'released migrations are never rolled back';
