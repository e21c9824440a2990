-- +goose Up
-- Production (issue 5): client-owned products, the site's materials and
-- their lots, versioned master batch records, orders and their batches,
-- the electronic batch record's steps, the genealogy of consumed lots,
-- deviations opened by exceptions, and the lines' maintenance windows.
CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    form          TEXT NOT NULL,
    sterile       BOOLEAN NOT NULL,
    strength      TEXT NOT NULL,
    presentation  TEXT NOT NULL,
    special_class TEXT NOT NULL,
    storage       TEXT NOT NULL
);
CREATE INDEX products_client ON products(client_id);

CREATE TABLE materials (
    id   TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL
);

CREATE TABLE material_lots (
    id          TEXT PRIMARY KEY,
    material_id TEXT NOT NULL REFERENCES materials(id),
    code        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    quantity    REAL NOT NULL,
    expires_on  DATE NOT NULL
);
CREATE INDEX material_lots_material ON material_lots(material_id);

-- A master batch record's version: its operations and steps are one JSON
-- document (body), fixed once the version leaves draft.
CREATE TABLE masters (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    code       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    batch_size REAL NOT NULL,
    unit       TEXT NOT NULL,
    hours      REAL NOT NULL,
    body       TEXT NOT NULL,
    steps      INTEGER NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX masters_product ON masters(product_id);
-- One effective version per product at a time.
CREATE UNIQUE INDEX masters_one_effective ON masters(product_id) WHERE status = 'effective';

CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    master_id  TEXT NOT NULL REFERENCES masters(id),
    code       TEXT NOT NULL UNIQUE,
    quantity   REAL NOT NULL,
    unit       TEXT NOT NULL,
    due_on     DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_client ON orders(client_id);

CREATE TABLE batches (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    order_id    TEXT NOT NULL REFERENCES orders(id),
    product_id  TEXT NOT NULL REFERENCES products(id),
    master_id   TEXT NOT NULL REFERENCES masters(id),
    lot         TEXT NOT NULL UNIQUE,
    quantity    REAL NOT NULL,
    unit        TEXT NOT NULL,
    state       TEXT NOT NULL,
    line_id     TEXT REFERENCES lines(id),
    start_at    TIMESTAMP,
    end_at      TIMESTAMP,
    steps_total INTEGER NOT NULL,
    steps_done  INTEGER NOT NULL DEFAULT 0,
    exceptions  INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX batches_client ON batches(client_id);
CREATE INDEX batches_line ON batches(line_id, start_at);
CREATE INDEX batches_order ON batches(order_id);
CREATE INDEX batches_state ON batches(state);

-- The steps of a batch's record, copied from its master when the batch is
-- released to the floor. Completing a step moves it from pending once:
-- of two tablets completing the same step, one changes the row.
CREATE TABLE batch_steps (
    id             TEXT PRIMARY KEY,
    batch_id       TEXT NOT NULL REFERENCES batches(id),
    client_id      TEXT NOT NULL REFERENCES clients(id),
    seq            INTEGER NOT NULL,
    op             INTEGER NOT NULL,
    op_title       TEXT NOT NULL,
    step           TEXT NOT NULL,
    state          TEXT NOT NULL,
    value          TEXT NOT NULL DEFAULT '',
    number         REAL,
    lot_id         TEXT REFERENCES material_lots(id),
    equipment_id   TEXT REFERENCES equipment(id),
    comment        TEXT NOT NULL DEFAULT '',
    exception      BOOLEAN NOT NULL DEFAULT 0,
    why            TEXT NOT NULL DEFAULT '',
    deviation_id   TEXT,
    performed_by   TEXT NOT NULL DEFAULT '',
    performed_name TEXT NOT NULL DEFAULT '',
    performed_at   TIMESTAMP,
    corrections    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (batch_id, seq)
);

CREATE TABLE consumptions (
    id        TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(id),
    batch_id  TEXT NOT NULL REFERENCES batches(id),
    step_id   TEXT NOT NULL REFERENCES batch_steps(id),
    lot_id    TEXT NOT NULL REFERENCES material_lots(id),
    quantity  REAL NOT NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX consumptions_lot ON consumptions(lot_id);
CREATE INDEX consumptions_batch ON consumptions(batch_id);

CREATE TABLE deviations (
    id        TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(id),
    code      TEXT NOT NULL UNIQUE,
    batch_id  TEXT NOT NULL REFERENCES batches(id),
    step_id   TEXT NOT NULL REFERENCES batch_steps(id),
    title     TEXT NOT NULL,
    status    TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL
);
CREATE INDEX deviations_batch ON deviations(batch_id);

CREATE TABLE line_windows (
    id       TEXT PRIMARY KEY,
    line_id  TEXT NOT NULL REFERENCES lines(id),
    start_at TIMESTAMP NOT NULL,
    end_at   TIMESTAMP NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX line_windows_line ON line_windows(line_id, start_at);

-- Readable numbers (lots, orders, deviations) come from these counters.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- +goose Down
SELECT 'released migrations are never rolled back';
