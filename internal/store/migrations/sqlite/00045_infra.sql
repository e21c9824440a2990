-- +goose Up
-- The site's IT and OT infrastructure (package infra): its IEC 62443
-- zones and conduits, its assets (EU GMP Annex 11 §4.3's inventory of the
-- systems and what they carry), what each depends on, the flows declared
-- between them, their supervision checks and the changes of state those
-- find, and the planned shutdowns drafted from a what-if.
CREATE TABLE infra_zones (
    id        TEXT PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    target_sl INTEGER NOT NULL CHECK (target_sl BETWEEN 1 AND 4),
    version   INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE infra_assets (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    building_id   TEXT REFERENCES buildings(id),
    room_id       TEXT REFERENCES rooms(id),
    line_id       TEXT REFERENCES lines(id),
    model         TEXT NOT NULL DEFAULT '',
    serial        TEXT NOT NULL DEFAULT '',
    addresses     TEXT NOT NULL DEFAULT '',
    owner         TEXT NOT NULL DEFAULT '',
    contract      TEXT NOT NULL DEFAULT '',
    contract_ends TEXT NOT NULL DEFAULT '',
    isa95_level   INTEGER NOT NULL CHECK (isa95_level BETWEEN 0 AND 4),
    zone_id       TEXT REFERENCES infra_zones(id),
    gmp_impact    TEXT NOT NULL,
    need          INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX infra_assets_building ON infra_assets(building_id, room_id);

-- What each asset depends on, in the order given (a redundancy group:
-- its members).
CREATE TABLE infra_dependencies (
    asset_id TEXT NOT NULL REFERENCES infra_assets(id),
    on_id    TEXT NOT NULL REFERENCES infra_assets(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (asset_id, on_id)
);
CREATE INDEX infra_dependencies_on ON infra_dependencies(on_id);

CREATE TABLE infra_conduits (
    id        TEXT PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    zone_a    TEXT NOT NULL REFERENCES infra_zones(id),
    zone_b    TEXT NOT NULL REFERENCES infra_zones(id),
    target_sl INTEGER NOT NULL CHECK (target_sl BETWEEN 1 AND 4),
    services  TEXT NOT NULL,
    version   INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE infra_flows (
    id      TEXT PRIMARY KEY,
    from_id TEXT NOT NULL REFERENCES infra_assets(id),
    to_id   TEXT NOT NULL REFERENCES infra_assets(id),
    service TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (from_id, to_id, service)
);

CREATE TABLE infra_checks (
    id        TEXT PRIMARY KEY,
    asset_id  TEXT NOT NULL REFERENCES infra_assets(id),
    kind      TEXT NOT NULL,
    target    TEXT NOT NULL,
    every_s   INTEGER NOT NULL,
    warn_days INTEGER NOT NULL DEFAULT 0,
    state     TEXT NOT NULL DEFAULT 'unknown',
    since     TIMESTAMP,
    last_at   TIMESTAMP,
    detail    TEXT NOT NULL DEFAULT '',
    version   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX infra_checks_asset ON infra_checks(asset_id);

-- A check's changes of state, never changed: the asset's code is kept
-- with it, so that an event outlives the asset's removal.
CREATE TABLE infra_events (
    id         TEXT PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    check_id   TEXT NOT NULL,
    asset_id   TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX infra_events_at ON infra_events(at);
CREATE INDEX infra_events_asset ON infra_events(asset_id, at);

CREATE TABLE infra_plans (
    id           TEXT PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    scope        TEXT NOT NULL,
    from_at      TIMESTAMP NOT NULL,
    to_at        TIMESTAMP NOT NULL,
    measures     TEXT NOT NULL DEFAULT '',
    impact       TEXT NOT NULL,
    drafted_by   TEXT NOT NULL REFERENCES accounts(id),
    drafted_name TEXT NOT NULL,
    drafted_at   TIMESTAMP NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER infra_events_no_update BEFORE UPDATE ON infra_events
BEGIN
    SELECT RAISE(ABORT, 'the supervision''s events are never changed');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infra_events_no_delete BEFORE DELETE ON infra_events
BEGIN
    SELECT RAISE(ABORT, 'the supervision''s events are never changed');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
