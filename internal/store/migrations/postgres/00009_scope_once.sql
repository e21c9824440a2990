-- +goose Up
-- Row-level security reads the actor's scope once per statement, not once
-- per row. The policies of 00003, 00007 and 00008 called galenix_in_scope,
-- which PostgreSQL inlines: every row of every scoped table read the
-- settings again, and the planner, unable to tell how many rows would pass,
-- guessed one and joined the production tables in nested loops. A list of
-- a hundred batches cost 12 ms where 2 suffice.
--
-- Here each setting is read in a scalar subquery, "(SELECT galenix_on(...))",
-- which PostgreSQL runs once per statement (an InitPlan) and then compares
-- as a parameter. What each policy lets through is unchanged.

-- +goose StatementBegin
CREATE FUNCTION galenix_on(setting TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting(setting, true), '') = 'on'
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION galenix_clients() RETURNS TEXT[] LANGUAGE sql STABLE AS $$
    SELECT string_to_array(coalesce(current_setting('galenix.clients', true), ''), ',')
$$;
-- +goose StatementEnd

ALTER POLICY clients_read ON clients
    USING ((SELECT galenix_on('galenix.all')) OR id::text = ANY ((SELECT galenix_clients())::text[])
        OR (SELECT galenix_on('galenix.directory')));
ALTER POLICY clients_change ON clients
    USING ((SELECT galenix_on('galenix.all')) OR id::text = ANY ((SELECT galenix_clients())::text[]));

ALTER POLICY audit_read ON audit_log
    USING ((SELECT galenix_on('galenix.all')) OR client_id = ANY ((SELECT galenix_clients())::text[])
        OR (client_id IS NULL AND (SELECT galenix_on('galenix.staff')))
        OR (entity IN ('account', 'api_token') AND (SELECT galenix_on('galenix.accounts'))));

ALTER POLICY assignments_read ON client_assignments
    USING ((SELECT galenix_on('galenix.all')) OR client_id::text = ANY ((SELECT galenix_clients())::text[])
        OR (SELECT galenix_on('galenix.accounts')));
ALTER POLICY assignments_write ON client_assignments
    USING ((SELECT galenix_on('galenix.accounts')) OR (SELECT galenix_on('galenix.all')))
    WITH CHECK ((SELECT galenix_on('galenix.accounts')) OR (SELECT galenix_on('galenix.all')));

ALTER POLICY signatures_read ON signatures
    USING ((SELECT galenix_on('galenix.all')) OR client_id = ANY ((SELECT galenix_clients())::text[])
        OR (client_id IS NULL AND (SELECT galenix_on('galenix.staff'))));
ALTER POLICY signatures_append ON signatures
    WITH CHECK (client_id IS NULL OR (SELECT galenix_on('galenix.all')) OR client_id = ANY ((SELECT galenix_clients())::text[]));

-- The production tables of 00008, each with one policy "<table>_scope".
-- +goose StatementBegin
DO $$
DECLARE
    t TEXT;
    cond CONSTANT TEXT := '(SELECT galenix_on(''galenix.all'')) OR client_id::text = ANY ((SELECT galenix_clients())::text[])';
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'masters', 'orders', 'batches', 'batch_steps', 'consumptions', 'deviations'] LOOP
        EXECUTE format('ALTER POLICY %I ON %I USING (%s) WITH CHECK (%s)', t || '_scope', t, cond, cond);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- No policy calls it any more; dropping it proves so.
DROP FUNCTION galenix_in_scope(TEXT);

-- +goose Down
SELECT 'released migrations are never rolled back';
