-- +goose Up
-- Visitors (access.Visit): pre-registered by their host, welcomed at the
-- gate with a badge, expected to leave by a time after which the PC
-- Sécurité is alerted (once: overdue_raised_at).
CREATE TABLE visits (
    id                UUID PRIMARY KEY,
    visitor           TEXT NOT NULL,
    company           TEXT NOT NULL,
    purpose           TEXT NOT NULL DEFAULT '',
    host_id           UUID NOT NULL REFERENCES people(id),
    expected_at       TIMESTAMPTZ NOT NULL,
    expected_until    TIMESTAMPTZ NOT NULL,
    status            TEXT NOT NULL,
    badge             TEXT NOT NULL DEFAULT '',
    arrived_at        TIMESTAMPTZ,
    departed_at       TIMESTAMPTZ,
    overdue_raised_at TIMESTAMPTZ,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX visits_when ON visits(expected_at);
-- A visitor badge is held by one visitor on site at a time.
CREATE UNIQUE INDEX visits_badge_on_site ON visits(badge) WHERE status = 'on_site';

-- A reader's event names the visit whose badge it read, and says why it
-- decided as it did (a coded text: text.Coded).
ALTER TABLE access_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE access_events ADD COLUMN visit_id UUID REFERENCES visits(id);

-- A muster's line is a person of the staff or a visitor (person_id is
-- then the visit's), with the host the guards ask first.
ALTER TABLE muster_people DROP CONSTRAINT muster_people_person_id_fkey;
ALTER TABLE muster_people ADD COLUMN visitor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE muster_people ADD COLUMN host TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'released migrations are never rolled back';
