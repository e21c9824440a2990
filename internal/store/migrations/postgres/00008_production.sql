-- +goose Up
-- Production (issue 5): client-owned products, the site's materials and
-- their lots, versioned master batch records, orders and their batches,
-- the electronic batch record's steps, the genealogy of consumed lots,
-- deviations opened by exceptions, and the lines' maintenance windows.
CREATE TABLE products (
    id            UUID PRIMARY KEY,
    client_id     UUID NOT NULL REFERENCES clients(id),
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
    id   UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL
);

CREATE TABLE material_lots (
    id          UUID PRIMARY KEY,
    material_id UUID NOT NULL REFERENCES materials(id),
    code        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    quantity    DOUBLE PRECISION NOT NULL,
    expires_on  DATE NOT NULL
);
CREATE INDEX material_lots_material ON material_lots(material_id);

-- A master batch record's version: its operations and steps are one JSON
-- document (body), fixed once the version leaves draft.
CREATE TABLE masters (
    id         UUID PRIMARY KEY,
    client_id  UUID NOT NULL REFERENCES clients(id),
    product_id UUID NOT NULL REFERENCES products(id),
    code       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    batch_size DOUBLE PRECISION NOT NULL,
    unit       TEXT NOT NULL,
    hours      DOUBLE PRECISION NOT NULL,
    body       TEXT NOT NULL,
    steps      INTEGER NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX masters_product ON masters(product_id);
-- One effective version per product at a time.
CREATE UNIQUE INDEX masters_one_effective ON masters(product_id) WHERE status = 'effective';

CREATE TABLE orders (
    id         UUID PRIMARY KEY,
    client_id  UUID NOT NULL REFERENCES clients(id),
    product_id UUID NOT NULL REFERENCES products(id),
    master_id  UUID NOT NULL REFERENCES masters(id),
    code       TEXT NOT NULL UNIQUE,
    quantity   DOUBLE PRECISION NOT NULL,
    unit       TEXT NOT NULL,
    due_on     DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_client ON orders(client_id);

CREATE TABLE batches (
    id          UUID PRIMARY KEY,
    client_id   UUID NOT NULL REFERENCES clients(id),
    order_id    UUID NOT NULL REFERENCES orders(id),
    product_id  UUID NOT NULL REFERENCES products(id),
    master_id   UUID NOT NULL REFERENCES masters(id),
    lot         TEXT NOT NULL UNIQUE,
    quantity    DOUBLE PRECISION NOT NULL,
    unit        TEXT NOT NULL,
    state       TEXT NOT NULL,
    line_id     UUID REFERENCES lines(id),
    start_at    TIMESTAMPTZ,
    end_at      TIMESTAMPTZ,
    steps_total INTEGER NOT NULL,
    steps_done  INTEGER NOT NULL DEFAULT 0,
    exceptions  INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX batches_client ON batches(client_id);
CREATE INDEX batches_line ON batches(line_id, start_at);
CREATE INDEX batches_order ON batches(order_id);
CREATE INDEX batches_state ON batches(state);

-- The steps of a batch's record, copied from its master when the batch is
-- released to the floor. Completing a step moves it from pending once:
-- of two tablets completing the same step, one changes the row.
CREATE TABLE batch_steps (
    id             UUID PRIMARY KEY,
    batch_id       UUID NOT NULL REFERENCES batches(id),
    client_id      UUID NOT NULL REFERENCES clients(id),
    seq            INTEGER NOT NULL,
    op             INTEGER NOT NULL,
    op_title       TEXT NOT NULL,
    step           TEXT NOT NULL,
    state          TEXT NOT NULL,
    value          TEXT NOT NULL DEFAULT '',
    number         DOUBLE PRECISION,
    lot_id         UUID REFERENCES material_lots(id),
    equipment_id   UUID REFERENCES equipment(id),
    comment        TEXT NOT NULL DEFAULT '',
    exception      BOOLEAN NOT NULL DEFAULT FALSE,
    why            TEXT NOT NULL DEFAULT '',
    deviation_id   UUID,
    performed_by   TEXT NOT NULL DEFAULT '',
    performed_name TEXT NOT NULL DEFAULT '',
    performed_at   TIMESTAMPTZ,
    corrections    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (batch_id, seq)
);

CREATE TABLE consumptions (
    id        UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients(id),
    batch_id  UUID NOT NULL REFERENCES batches(id),
    step_id   UUID NOT NULL REFERENCES batch_steps(id),
    lot_id    UUID NOT NULL REFERENCES material_lots(id),
    quantity  DOUBLE PRECISION NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX consumptions_lot ON consumptions(lot_id);
CREATE INDEX consumptions_batch ON consumptions(batch_id);

CREATE TABLE deviations (
    id        UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients(id),
    code      TEXT NOT NULL UNIQUE,
    batch_id  UUID NOT NULL REFERENCES batches(id),
    step_id   UUID NOT NULL REFERENCES batch_steps(id),
    title     TEXT NOT NULL,
    status    TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX deviations_batch ON deviations(batch_id);

CREATE TABLE line_windows (
    id       UUID PRIMARY KEY,
    line_id  UUID NOT NULL REFERENCES lines(id),
    start_at TIMESTAMPTZ NOT NULL,
    end_at   TIMESTAMPTZ NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX line_windows_line ON line_windows(line_id, start_at);

-- Readable numbers (lots, orders, deviations) come from these counters.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Row-level security (see 00003): a client's production data is seen and
-- written only within its scope.
ALTER TABLE products ENABLE ROW LEVEL SECURITY;
ALTER TABLE products FORCE ROW LEVEL SECURITY;
CREATE POLICY products_scope ON products FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE masters ENABLE ROW LEVEL SECURITY;
ALTER TABLE masters FORCE ROW LEVEL SECURITY;
CREATE POLICY masters_scope ON masters FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_scope ON orders FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE batches FORCE ROW LEVEL SECURITY;
CREATE POLICY batches_scope ON batches FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE batch_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE batch_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY batch_steps_scope ON batch_steps FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE consumptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE consumptions FORCE ROW LEVEL SECURITY;
CREATE POLICY consumptions_scope ON consumptions FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));
ALTER TABLE deviations ENABLE ROW LEVEL SECURITY;
ALTER TABLE deviations FORCE ROW LEVEL SECURITY;
CREATE POLICY deviations_scope ON deviations FOR ALL USING (galenix_in_scope(client_id::text)) WITH CHECK (galenix_in_scope(client_id::text));

-- +goose Down
SELECT 'released migrations are never rolled back';
