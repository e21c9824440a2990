-- +goose Up
-- The controlled-substance register (package controlled; Code de la santé
-- publique R.5132-74 and following): the substances, their containers
-- with their running balances, and the movements, entered then validated
-- by their two signatures, numbered then in their substance's register
-- (counters: controlled_register:<substance>). A validated movement is never changed and no
-- movement is ever deleted: the register is kept at least ten years after
-- its last operation (R.5132-82), and galenix deletes none of it.
-- The establishment's authorisation, as the register's first page prints
-- it (R.5132-74): one row, changed with a reason.
CREATE TABLE controlled_establishment (
    id            TEXT PRIMARY KEY,
    authorisation TEXT NOT NULL,
    authorised_on TEXT NOT NULL,
    pharmacist    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE controlled_substances (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    class       TEXT NOT NULL,
    unit        TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    material_id TEXT UNIQUE REFERENCES materials(id),
    version     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE controlled_containers (
    id           TEXT PRIMARY KEY,
    substance_id TEXT NOT NULL REFERENCES controlled_substances(id),
    code         TEXT NOT NULL UNIQUE,
    lot_id       TEXT REFERENCES material_lots(id),
    lot_code     TEXT NOT NULL,
    place        TEXT NOT NULL,
    place_kind   TEXT NOT NULL,
    balance      BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX controlled_containers_lot ON controlled_containers(lot_id);

CREATE TABLE controlled_movements (
    id              TEXT PRIMARY KEY,
    serial          BIGINT,
    entry           BIGINT UNIQUE,
    state           TEXT NOT NULL,
    at              TIMESTAMP NOT NULL,
    kind            TEXT NOT NULL,
    substance_id    TEXT NOT NULL REFERENCES controlled_substances(id),
    container_id    TEXT NOT NULL REFERENCES controlled_containers(id),
    to_container_id TEXT REFERENCES controlled_containers(id),
    quantity        BIGINT NOT NULL CHECK (quantity > 0),
    party           TEXT NOT NULL DEFAULT '',
    document        TEXT NOT NULL DEFAULT '',
    cause           TEXT NOT NULL DEFAULT '',
    batch_id        TEXT REFERENCES batches(id),
    step_id         TEXT REFERENCES batch_steps(id),
    scale           TEXT NOT NULL DEFAULT '',
    corrects        BIGINT,
    increase        BOOLEAN NOT NULL DEFAULT FALSE,
    performer_id    TEXT NOT NULL REFERENCES accounts(id),
    performer_name  TEXT NOT NULL,
    witness_id      TEXT REFERENCES accounts(id),
    witness_name    TEXT NOT NULL DEFAULT '',
    entered_at      TIMESTAMP NOT NULL,
    validated_at    TIMESTAMP,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX controlled_movements_at ON controlled_movements(substance_id, at);
-- Each substance's register is numbered from 1 (serial); entry numbers
-- the site's validations in one series, the order of the register's copy.
CREATE UNIQUE INDEX controlled_movements_serial ON controlled_movements(substance_id, serial);
CREATE INDEX controlled_movements_state ON controlled_movements(state, container_id);
CREATE UNIQUE INDEX controlled_movements_step ON controlled_movements(step_id);

-- A loss's discharge by the inspector (the pharmacy inspectorate's
-- report), recorded once.
CREATE TABLE controlled_discharges (
    movement_id   TEXT PRIMARY KEY REFERENCES controlled_movements(id),
    at            TIMESTAMP NOT NULL,
    document      TEXT NOT NULL,
    recorded_by   TEXT NOT NULL REFERENCES accounts(id),
    recorded_name TEXT NOT NULL
);

-- The monthly balances recorded at each month's end (R.5132-81), once.
CREATE TABLE controlled_months (
    substance_id TEXT NOT NULL REFERENCES controlled_substances(id),
    month        TEXT NOT NULL,
    opening      BIGINT NOT NULL,
    received     BIGINT NOT NULL,
    issued       BIGINT NOT NULL,
    closing      BIGINT NOT NULL,
    first_serial BIGINT NOT NULL,
    last_serial  BIGINT NOT NULL,
    movements    INTEGER NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (substance_id, month)
);

-- A physical inventory's counts, by weighing and counting (R.5132-36):
-- what the register held and what was found; a discrepancy opens a
-- deviation.
CREATE TABLE controlled_counts (
    id           TEXT PRIMARY KEY,
    at           TIMESTAMP NOT NULL,
    container_id TEXT NOT NULL REFERENCES controlled_containers(id),
    expected     BIGINT NOT NULL,
    counted      BIGINT NOT NULL,
    counted_by   TEXT NOT NULL REFERENCES accounts(id),
    counted_name TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    deviation_id TEXT REFERENCES deviations(id)
);
CREATE INDEX controlled_counts_at ON controlled_counts(at);

-- What the register raises to the responsible pharmacist: a movement
-- refused for a negative balance, a theft, an inventory's discrepancy,
-- a vault movement or entry not matched by the other (detail: a coded
-- text), until someone takes charge of it with a comment.
CREATE TABLE controlled_alerts (
    id              TEXT PRIMARY KEY,
    at              TIMESTAMP NOT NULL,
    kind            TEXT NOT NULL,
    substance_id    TEXT REFERENCES controlled_substances(id),
    detail          TEXT NOT NULL,
    ref             TEXT NOT NULL DEFAULT '',
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT REFERENCES accounts(id),
    comment         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX controlled_alerts_open ON controlled_alerts(acknowledged_at, at);
CREATE UNIQUE INDEX controlled_alerts_ref ON controlled_alerts(kind, ref) WHERE ref <> '';

-- +goose StatementBegin
CREATE TRIGGER controlled_movements_no_delete BEFORE DELETE ON controlled_movements
BEGIN
    SELECT RAISE(ABORT, 'the controlled-substance register is never deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER controlled_movements_validated BEFORE UPDATE ON controlled_movements
WHEN OLD.state = 'validated'
BEGIN
    SELECT RAISE(ABORT, 'a validated movement of the register is never changed');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER controlled_movements_no_replace BEFORE INSERT ON controlled_movements
WHEN EXISTS (SELECT 1 FROM controlled_movements WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'the controlled-substance register is never deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER controlled_months_no_update BEFORE UPDATE ON controlled_months
BEGIN
    SELECT RAISE(ABORT, 'a monthly balance of the register is never changed');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER controlled_months_no_delete BEFORE DELETE ON controlled_months
BEGIN
    SELECT RAISE(ABORT, 'a monthly balance of the register is never changed');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
