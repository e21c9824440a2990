-- +goose Up
-- Quality (issue 12): specifications, samples, results, OOS
-- investigations, the deviations' workflow and CAPA, QA's batch review and
-- the qualified person's certification register.

-- Specifications (issue 12): one row per version of a product's
-- specification, for one market or for every market (market ''); its tests
-- are one JSON document (body), fixed once the version leaves draft. An
-- approved version is in force from effective_from until a later one is.
CREATE TABLE specs (
    id             UUID PRIMARY KEY,
    client_id      UUID NOT NULL REFERENCES clients(id),
    product_id     UUID NOT NULL REFERENCES products(id),
    code           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 1,
    title          TEXT NOT NULL,
    market         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    effective_from TIMESTAMPTZ NOT NULL,
    body           TEXT NOT NULL,
    tests          INTEGER NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX specs_product ON specs(product_id, market);

-- Samples: taken by a sampling step of the batch record (step_id, one
-- sample per step) or by hand; read against the specification version in
-- force when taken (spec_id), whatever comes later.
CREATE TABLE samples (
    id            UUID PRIMARY KEY,
    client_id     UUID NOT NULL REFERENCES clients(id),
    code          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    batch_id      UUID REFERENCES batches(id),
    lot_id        UUID REFERENCES material_lots(id),
    product_id    UUID REFERENCES products(id),
    step_id       UUID REFERENCES batch_steps(id),
    spec_id       UUID NOT NULL REFERENCES specs(id),
    spec_version  INTEGER NOT NULL,
    state         TEXT NOT NULL,
    taken_at      TIMESTAMPTZ NOT NULL,
    taken_by      TEXT NOT NULL,
    taken_name    TEXT NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    tests         TEXT NOT NULL,
    received_by   TEXT NOT NULL DEFAULT '',
    received_name TEXT NOT NULL DEFAULT '',
    received_at   TIMESTAMPTZ,
    quantity      DOUBLE PRECISION,
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
    id               UUID PRIMARY KEY,
    client_id        UUID NOT NULL REFERENCES clients(id),
    sample_id        UUID NOT NULL REFERENCES samples(id),
    batch_id         UUID REFERENCES batches(id),
    test             TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    value            TEXT NOT NULL,
    number           DOUBLE PRECISION,
    unit             TEXT NOT NULL DEFAULT '',
    verdict          TEXT NOT NULL,
    instrument       TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    entered_by       TEXT NOT NULL,
    entered_name     TEXT NOT NULL,
    entered_at       TIMESTAMPTZ NOT NULL,
    reviewed_by      TEXT NOT NULL DEFAULT '',
    reviewed_name    TEXT NOT NULL DEFAULT '',
    reviewed_at      TIMESTAMPTZ,
    retest           BOOLEAN NOT NULL DEFAULT FALSE,
    investigation_id UUID,
    comment          TEXT NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    UNIQUE (sample_id, test, seq)
);
CREATE INDEX results_batch ON results(batch_id);
CREATE INDEX results_state ON results(state);

-- Out-of-specification investigations (FDA guidance, 2022).
CREATE TABLE oos_investigations (
    id              UUID PRIMARY KEY,
    client_id       UUID NOT NULL REFERENCES clients(id),
    code            TEXT NOT NULL UNIQUE,
    result_id       UUID NOT NULL REFERENCES results(id),
    sample_id       UUID NOT NULL REFERENCES samples(id),
    batch_id        UUID REFERENCES batches(id),
    test            TEXT NOT NULL,
    analyst         TEXT NOT NULL,
    state           TEXT NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    hypothesis      TEXT NOT NULL DEFAULT '',
    hypothesis_by   TEXT NOT NULL DEFAULT '',
    hypothesis_at   TIMESTAMPTZ,
    retests_planned INTEGER NOT NULL DEFAULT 0,
    lab_error       BOOLEAN,
    lab_error_cause TEXT NOT NULL DEFAULT '',
    findings        TEXT NOT NULL DEFAULT '',
    deviation_id    UUID,
    outcome         TEXT NOT NULL DEFAULT '',
    closed_by       TEXT NOT NULL DEFAULT '',
    closed_name     TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMPTZ,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX oos_batch ON oos_investigations(batch_id);
CREATE INDEX oos_state ON oos_investigations(state);
-- One investigation open per sample's test.
CREATE UNIQUE INDEX oos_one_open ON oos_investigations(sample_id, test) WHERE state <> 'closed';

-- CAPA actions of a deviation.
CREATE TABLE deviation_actions (
    id           UUID PRIMARY KEY,
    client_id    UUID NOT NULL REFERENCES clients(id),
    deviation_id UUID NOT NULL REFERENCES deviations(id),
    seq          INTEGER NOT NULL,
    preventive   BOOLEAN NOT NULL,
    description  TEXT NOT NULL,
    owner_id     TEXT NOT NULL,
    owner_name   TEXT NOT NULL,
    due_on       TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ,
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
    id             UUID PRIMARY KEY,
    batch_id       UUID NOT NULL UNIQUE REFERENCES batches(id),
    client_id      UUID NOT NULL REFERENCES clients(id),
    justifications TEXT NOT NULL DEFAULT '{}',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_name  TEXT NOT NULL DEFAULT '',
    reviewed_at    TIMESTAMPTZ,
    signature_id   UUID,
    version        INTEGER NOT NULL DEFAULT 1
);

-- The certification register (EU GMP Annex 16): one line per batch
-- decided by a qualified person, in order, append-only; certificate is the
-- certificate of analysis' number, for a certified batch.
CREATE TABLE certifications (
    id           UUID PRIMARY KEY,
    seq          INTEGER NOT NULL UNIQUE,
    batch_id     UUID NOT NULL UNIQUE REFERENCES batches(id),
    client_id    UUID NOT NULL REFERENCES clients(id),
    lot          TEXT NOT NULL,
    product_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    decision     TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    certificate  TEXT NOT NULL DEFAULT '',
    qp_id        TEXT NOT NULL,
    qp_name      TEXT NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL,
    signature_id UUID NOT NULL
);

-- The site's postal address, which documents print.
ALTER TABLE sites ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- A deviation opened by hand may name no batch nor step; the workflow's
-- columns.
ALTER TABLE deviations ALTER COLUMN batch_id DROP NOT NULL;
ALTER TABLE deviations ALTER COLUMN step_id DROP NOT NULL;
ALTER TABLE deviations ADD COLUMN source TEXT NOT NULL DEFAULT 'batch_record';
ALTER TABLE deviations ADD COLUMN opened_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN opened_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN class TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN class_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN recurrence_of TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN impacts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE deviations ADD COLUMN assessed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN assessed_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN assessed_at TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN approved_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN approved_at TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN investigator TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN investigator_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN investigated_at TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN closed_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN effectiveness_due TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN effective BOOLEAN;
ALTER TABLE deviations ADD COLUMN effectiveness_note TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN checked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN checked_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN checked_at TIMESTAMPTZ;
ALTER TABLE deviations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX deviations_status ON deviations(status, opened_at);

-- The register is append-only, like the audit trail.
-- +goose StatementBegin
CREATE FUNCTION certifications_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the certification register is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER certifications_no_update BEFORE UPDATE OR DELETE ON certifications
    FOR EACH ROW EXECUTE FUNCTION certifications_append_only();

-- Row-level security (see 00008, 00009): a client's quality data is seen
-- and written only within its scope.
-- +goose StatementBegin
DO $$
DECLARE
    t TEXT;
    cond CONSTANT TEXT := '(SELECT galenix_on(''galenix.all'')) OR client_id::text = ANY ((SELECT galenix_clients())::text[])';
BEGIN
    FOREACH t IN ARRAY ARRAY['specs', 'samples', 'results', 'oos_investigations', 'deviation_actions', 'batch_reviews', 'certifications'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (%s) WITH CHECK (%s)', t || '_scope', t, cond, cond);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
