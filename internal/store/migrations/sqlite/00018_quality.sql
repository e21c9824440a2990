-- +goose Up
-- Quality (issue 12): specifications, samples, results, OOS
-- investigations, the deviations' workflow and CAPA, QA's batch review and
-- the qualified person's certification register.

-- Specifications (issue 12): one row per version of a product's
-- specification, for one market or for every market (market ''); its tests
-- are one JSON document (body), fixed once the version leaves draft. An
-- approved version is in force from effective_from until a later one is.
CREATE TABLE specs (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients(id),
    product_id     TEXT NOT NULL REFERENCES products(id),
    code           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 1,
    title          TEXT NOT NULL,
    market         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    effective_from TIMESTAMP NOT NULL,
    body           TEXT NOT NULL,
    tests          INTEGER NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX specs_product ON specs(product_id, market);

-- Samples: taken by a sampling step of the batch record (step_id, one
-- sample per step) or by hand; read against the specification version in
-- force when taken (spec_id), whatever comes later.
CREATE TABLE samples (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    code          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    batch_id      TEXT REFERENCES batches(id),
    lot_id        TEXT REFERENCES material_lots(id),
    product_id    TEXT REFERENCES products(id),
    step_id       TEXT REFERENCES batch_steps(id),
    spec_id       TEXT NOT NULL REFERENCES specs(id),
    spec_version  INTEGER NOT NULL,
    state         TEXT NOT NULL,
    taken_at      TIMESTAMP NOT NULL,
    taken_by      TEXT NOT NULL,
    taken_name    TEXT NOT NULL,
    due_at        TIMESTAMP NOT NULL,
    tests         TEXT NOT NULL,
    received_by   TEXT NOT NULL DEFAULT '',
    received_name TEXT NOT NULL DEFAULT '',
    received_at   TIMESTAMP,
    quantity      REAL,
    unit          TEXT NOT NULL DEFAULT '',
    condition     TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX samples_batch ON samples(batch_id);
CREATE INDEX samples_state ON samples(state, due_at);
CREATE UNIQUE INDEX samples_step ON samples(step_id) WHERE step_id IS NOT NULL;

-- Results: every measurement kept, numbered per sample and test (seq); an
-- invalidated one stays beside the retests that report instead.
CREATE TABLE results (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES clients(id),
    sample_id        TEXT NOT NULL REFERENCES samples(id),
    batch_id         TEXT REFERENCES batches(id),
    test             TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    value            TEXT NOT NULL,
    number           REAL,
    unit             TEXT NOT NULL DEFAULT '',
    verdict          TEXT NOT NULL,
    instrument       TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    entered_by       TEXT NOT NULL,
    entered_name     TEXT NOT NULL,
    entered_at       TIMESTAMP NOT NULL,
    reviewed_by      TEXT NOT NULL DEFAULT '',
    reviewed_name    TEXT NOT NULL DEFAULT '',
    reviewed_at      TIMESTAMP,
    retest           BOOLEAN NOT NULL DEFAULT FALSE,
    investigation_id TEXT,
    comment          TEXT NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    UNIQUE (sample_id, test, seq)
);
CREATE INDEX results_batch ON results(batch_id);
CREATE INDEX results_state ON results(state);

-- Out-of-specification investigations (FDA guidance, 2022).
CREATE TABLE oos_investigations (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients(id),
    code            TEXT NOT NULL UNIQUE,
    result_id       TEXT NOT NULL REFERENCES results(id),
    sample_id       TEXT NOT NULL REFERENCES samples(id),
    batch_id        TEXT REFERENCES batches(id),
    test            TEXT NOT NULL,
    analyst         TEXT NOT NULL,
    state           TEXT NOT NULL,
    opened_at       TIMESTAMP NOT NULL,
    hypothesis      TEXT NOT NULL DEFAULT '',
    hypothesis_by   TEXT NOT NULL DEFAULT '',
    hypothesis_at   TIMESTAMP,
    retests_planned INTEGER NOT NULL DEFAULT 0,
    lab_error       BOOLEAN,
    lab_error_cause TEXT NOT NULL DEFAULT '',
    findings        TEXT NOT NULL DEFAULT '',
    deviation_id    TEXT,
    outcome         TEXT NOT NULL DEFAULT '',
    closed_by       TEXT NOT NULL DEFAULT '',
    closed_name     TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMP,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX oos_batch ON oos_investigations(batch_id);
CREATE INDEX oos_state ON oos_investigations(state);
-- One investigation open per sample's test.
CREATE UNIQUE INDEX oos_one_open ON oos_investigations(sample_id, test) WHERE state <> 'closed';

-- CAPA actions of a deviation.
CREATE TABLE deviation_actions (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id),
    deviation_id TEXT NOT NULL REFERENCES deviations(id),
    seq          INTEGER NOT NULL,
    preventive   BOOLEAN NOT NULL,
    description  TEXT NOT NULL,
    owner_id     TEXT NOT NULL,
    owner_name   TEXT NOT NULL,
    due_on       TIMESTAMP NOT NULL,
    done_at      TIMESTAMP,
    done_by      TEXT NOT NULL DEFAULT '',
    done_name    TEXT NOT NULL DEFAULT '',
    evidence     TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (deviation_id, seq)
);
CREATE INDEX deviation_actions_due ON deviation_actions(done_at, due_on);

-- QA's review of a batch by exception: the justification of each exception
-- (JSON, by step id), written before QA signs the review (meaning
-- reviewed); reviewed_at and signature_id once signed. One per batch.
CREATE TABLE batch_reviews (
    id             TEXT PRIMARY KEY,
    batch_id       TEXT NOT NULL UNIQUE REFERENCES batches(id),
    client_id      TEXT NOT NULL REFERENCES clients(id),
    justifications TEXT NOT NULL DEFAULT '{}',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_name  TEXT NOT NULL DEFAULT '',
    reviewed_at    TIMESTAMP,
    signature_id   TEXT,
    version        INTEGER NOT NULL DEFAULT 1
);

-- The certification register (EU GMP Annex 16): one line per batch
-- decided by a qualified person, in order, append-only; certificate is the
-- certificate of analysis' number, for a certified batch.
CREATE TABLE certifications (
    id           TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL UNIQUE,
    batch_id     TEXT NOT NULL UNIQUE REFERENCES batches(id),
    client_id    TEXT NOT NULL REFERENCES clients(id),
    lot          TEXT NOT NULL,
    product_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    decision     TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    certificate  TEXT NOT NULL DEFAULT '',
    qp_id        TEXT NOT NULL,
    qp_name      TEXT NOT NULL,
    signed_at    TIMESTAMP NOT NULL,
    signature_id TEXT NOT NULL
);

-- The site's postal address, which documents print.
ALTER TABLE sites ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- A deviation opened by hand may name no batch nor step: SQLite cannot drop
-- a NOT NULL, so the table is rebuilt (no table references it), with the
-- workflow's columns.
CREATE TABLE deviations_new (
    id                 TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients(id),
    code               TEXT NOT NULL UNIQUE,
    batch_id           TEXT REFERENCES batches(id),
    step_id            TEXT REFERENCES batch_steps(id),
    title              TEXT NOT NULL,
    status             TEXT NOT NULL,
    opened_at          TIMESTAMP NOT NULL,
    source             TEXT NOT NULL DEFAULT 'batch_record',
    opened_by          TEXT NOT NULL DEFAULT '',
    opened_name        TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    class              TEXT NOT NULL DEFAULT '',
    class_reason       TEXT NOT NULL DEFAULT '',
    recurrence_of      TEXT NOT NULL DEFAULT '',
    impacts            TEXT NOT NULL DEFAULT '[]',
    assessed_by        TEXT NOT NULL DEFAULT '',
    assessed_name      TEXT NOT NULL DEFAULT '',
    assessed_at        TIMESTAMP,
    approved_by        TEXT NOT NULL DEFAULT '',
    approved_name      TEXT NOT NULL DEFAULT '',
    approved_at        TIMESTAMP,
    root_cause         TEXT NOT NULL DEFAULT '',
    investigator       TEXT NOT NULL DEFAULT '',
    investigator_name  TEXT NOT NULL DEFAULT '',
    investigated_at    TIMESTAMP,
    closed_by          TEXT NOT NULL DEFAULT '',
    closed_name        TEXT NOT NULL DEFAULT '',
    closed_at          TIMESTAMP,
    effectiveness_due  TIMESTAMP,
    effective          BOOLEAN,
    effectiveness_note TEXT NOT NULL DEFAULT '',
    checked_by         TEXT NOT NULL DEFAULT '',
    checked_name       TEXT NOT NULL DEFAULT '',
    checked_at         TIMESTAMP,
    version            INTEGER NOT NULL DEFAULT 1
);
INSERT INTO deviations_new (id, client_id, code, batch_id, step_id, title, status, opened_at)
    SELECT id, client_id, code, batch_id, step_id, title, status, opened_at FROM deviations;
DROP TABLE deviations;
ALTER TABLE deviations_new RENAME TO deviations;
CREATE INDEX deviations_batch ON deviations(batch_id);
CREATE INDEX deviations_status ON deviations(status, opened_at);

-- The register is append-only, like the audit trail.
CREATE TRIGGER certifications_no_update BEFORE UPDATE ON certifications
BEGIN SELECT RAISE(ABORT, 'the certification register is append-only'); END;
CREATE TRIGGER certifications_no_delete BEFORE DELETE ON certifications
BEGIN SELECT RAISE(ABORT, 'the certification register is append-only'); END;

-- +goose Down
SELECT 'released migrations are never rolled back';
