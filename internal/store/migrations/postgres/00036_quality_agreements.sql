-- +goose Up
-- The quality agreement signed with each client laboratory, as the rules
-- galenix enforces (quality.Agreement): one per client.
CREATE TABLE quality_agreements (
    id                            UUID PRIMARY KEY,
    client_id                     UUID NOT NULL UNIQUE REFERENCES clients(id),
    reference                     TEXT NOT NULL,
    notify_major_hours            INTEGER NOT NULL,
    notify_critical_hours         INTEGER NOT NULL,
    summary_working_days          INTEGER NOT NULL,
    client_approves_masters       BOOLEAN NOT NULL,
    client_approves_major_closure BOOLEAN NOT NULL,
    batch_documents               TEXT NOT NULL,
    updated_at                    TIMESTAMPTZ NOT NULL,
    version                       INTEGER NOT NULL DEFAULT 1
);

-- What the site owes a client under its agreement for one deviation (the
-- notification, the investigation's summary): counted down from from_at
-- to due_at on both sides, met at done_at with the words sent, escalated
-- once when late.
CREATE TABLE quality_obligations (
    id           UUID PRIMARY KEY,
    client_id    UUID NOT NULL REFERENCES clients(id),
    deviation_id UUID NOT NULL REFERENCES deviations(id),
    kind         TEXT NOT NULL,
    from_at      TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ,
    message      TEXT NOT NULL DEFAULT '',
    escalated_at TIMESTAMPTZ,
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (deviation_id, kind)
);
CREATE INDEX quality_obligations_client ON quality_obligations(client_id, due_at);

-- Row-level security (see 00008, 00009, 00018): a client's agreement and
-- obligations are seen and written only within its scope.
-- +goose StatementBegin
DO $$
DECLARE
    t TEXT;
    cond CONSTANT TEXT := '(SELECT galenix_on(''galenix.all'')) OR client_id::text = ANY ((SELECT galenix_clients())::text[])';
BEGIN
    FOREACH t IN ARRAY ARRAY['quality_agreements', 'quality_obligations'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (%s) WITH CHECK (%s)', t || '_scope', t, cond, cond);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 'released migrations are never rolled back';
