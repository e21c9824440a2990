-- +goose Up
CREATE TABLE sites (
    id       UUID PRIMARY KEY,
    code     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    timezone TEXT NOT NULL
);

CREATE TABLE buildings (
    id      UUID PRIMARY KEY,
    site_id UUID NOT NULL REFERENCES sites(id),
    code    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL
);

CREATE TABLE rooms (
    id               UUID PRIMARY KEY,
    building_id      UUID NOT NULL REFERENCES buildings(id),
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    grade            TEXT NOT NULL,
    temp_min         DOUBLE PRECISION NOT NULL,
    temp_max         DOUBLE PRECISION NOT NULL,
    humidity_min     DOUBLE PRECISION NOT NULL,
    humidity_max     DOUBLE PRECISION NOT NULL,
    cascades_to      UUID REFERENCES rooms(id),
    pressure_diff_pa DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX rooms_building ON rooms(building_id);

CREATE TABLE lines (
    id                UUID PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    building_id       UUID NOT NULL REFERENCES buildings(id),
    room_id           UUID NOT NULL REFERENCES rooms(id),
    sterile           BOOLEAN NOT NULL,
    forms             TEXT NOT NULL,
    status            TEXT NOT NULL,
    capacity_per_hour INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lines_room ON lines(room_id);

CREATE TABLE equipment (
    id                UUID PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    line_id           UUID NOT NULL REFERENCES lines(id),
    status            TEXT NOT NULL,
    qualification_due DATE NOT NULL
);
CREATE INDEX equipment_line ON equipment(line_id);

CREATE TABLE shifts (
    id         UUID PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time   TEXT NOT NULL
);

CREATE TABLE teams (
    id          UUID PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    building_id UUID REFERENCES buildings(id),
    shift_id    UUID NOT NULL REFERENCES shifts(id)
);

CREATE TABLE people (
    id      UUID PRIMARY KEY,
    badge   TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    job     TEXT NOT NULL,
    team_id UUID REFERENCES teams(id)
);
CREATE INDEX people_team ON people(team_id);

CREATE TABLE clients (
    id   UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE accounts (
    id            UUID PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    client_id     UUID REFERENCES clients(id),
    active        BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    account_id UUID NOT NULL REFERENCES accounts(id),
    address    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY, -- given by the chain (audit_head), not by a sequence
    at         TIMESTAMPTZ NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    session_id TEXT NOT NULL,
    address    TEXT NOT NULL,
    command    TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT NOT NULL,
    new_value  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    client_id  TEXT,
    -- The hash chain: hash = SHA-256(prev_hash || SHA-256(canonical entry)).
    prev_hash  TEXT NOT NULL DEFAULT '',
    hash       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_actor ON audit_log(actor_id);
CREATE INDEX audit_at ON audit_log(at);

-- The head of the chain: the last entry's sequence and hash. Appending
-- locks this one row, so that entries join the chain one transaction at a
-- time, in sequence order.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
SELECT 'released migrations are never rolled back';
