-- +goose Up
CREATE TABLE sites (
    id       TEXT PRIMARY KEY,
    code     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    timezone TEXT NOT NULL
);

CREATE TABLE buildings (
    id      TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    code    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL
);

CREATE TABLE rooms (
    id               TEXT PRIMARY KEY,
    building_id      TEXT NOT NULL REFERENCES buildings(id),
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    grade            TEXT NOT NULL,
    temp_min         REAL NOT NULL,
    temp_max         REAL NOT NULL,
    humidity_min     REAL NOT NULL,
    humidity_max     REAL NOT NULL,
    cascades_to      TEXT REFERENCES rooms(id),
    pressure_diff_pa REAL NOT NULL DEFAULT 0
);
CREATE INDEX rooms_building ON rooms(building_id);

CREATE TABLE lines (
    id                TEXT PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    building_id       TEXT NOT NULL REFERENCES buildings(id),
    room_id           TEXT NOT NULL REFERENCES rooms(id),
    sterile           INTEGER NOT NULL,
    forms             TEXT NOT NULL,
    status            TEXT NOT NULL,
    capacity_per_hour INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lines_room ON lines(room_id);

CREATE TABLE equipment (
    id                TEXT PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    line_id           TEXT NOT NULL REFERENCES lines(id),
    status            TEXT NOT NULL,
    qualification_due DATE NOT NULL
);
CREATE INDEX equipment_line ON equipment(line_id);

CREATE TABLE shifts (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time   TEXT NOT NULL
);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    building_id TEXT REFERENCES buildings(id),
    shift_id    TEXT NOT NULL REFERENCES shifts(id)
);

CREATE TABLE people (
    id      TEXT PRIMARY KEY,
    badge   TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    job     TEXT NOT NULL,
    team_id TEXT REFERENCES teams(id)
);
CREATE INDEX people_team ON people(team_id);

CREATE TABLE clients (
    id   TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    client_id     TEXT REFERENCES clients(id),
    active        INTEGER NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    address    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TIMESTAMP NOT NULL,
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
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
