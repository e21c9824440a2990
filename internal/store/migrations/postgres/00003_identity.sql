-- +goose Up
-- Identity, roles and client confidentiality.

-- Client users' role was named "client"; it is now "client_user".
UPDATE accounts SET roles = 'client_user' WHERE roles = 'client';

-- Where an account signs in: "local" (password here) or "ldap" (directory).
ALTER TABLE accounts ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE accounts ADD COLUMN password_changed_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT false;

-- The last passwords of each account, so that none is used again.
CREATE TABLE password_history (
    account_id    UUID NOT NULL REFERENCES accounts(id),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_history_account ON password_history(account_id, created_at);

-- "browser", "shopfloor" (shorter idle timeout) or "api".
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser';

-- The clients a member of staff is assigned to: need to know.
CREATE TABLE client_assignments (
    account_id UUID NOT NULL REFERENCES accounts(id),
    client_id  UUID NOT NULL REFERENCES clients(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
CREATE INDEX client_assignments_client ON client_assignments(client_id);

-- Machine tokens (sensor gateways, badge readers): narrow scopes, hashed.
CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

-- Security events raised to the security role: failed sign-ins, locks ...
CREATE TABLE security_events (
    id              UUID PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL,
    kind            TEXT NOT NULL,
    username        TEXT NOT NULL,
    account_id      UUID,
    address         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMPTZ
);
CREATE INDEX security_events_at ON security_events(at);

-- Site policy: settings an administrator may change.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Row-level security: a second wall behind the query filters. Each
-- transaction sets, from its actor, galenix.all ('on' for galenix itself),
-- galenix.staff ('on' for site staff), galenix.clients (the ids of the
-- clients in its scope, comma-separated) and galenix.directory ('on' when it
-- may see every client's name). FORCE makes the policies bind the table
-- owner too, which is the role galenix connects as.
-- +goose StatementBegin
CREATE FUNCTION galenix_in_scope(client TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('galenix.all', true), '') = 'on'
        OR (client IS NOT NULL AND client = ANY (string_to_array(coalesce(current_setting('galenix.clients', true), ''), ',')))
$$;
-- +goose StatementEnd

ALTER TABLE clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE clients FORCE ROW LEVEL SECURITY;
CREATE POLICY clients_read ON clients FOR SELECT
    USING (galenix_in_scope(id::text) OR coalesce(current_setting('galenix.directory', true), '') = 'on');
CREATE POLICY clients_write ON clients FOR INSERT WITH CHECK (true);
CREATE POLICY clients_change ON clients FOR UPDATE USING (galenix_in_scope(id::text));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_read ON audit_log FOR SELECT
    USING (galenix_in_scope(client_id)
        OR (client_id IS NULL AND coalesce(current_setting('galenix.staff', true), '') = 'on')
        OR (entity IN ('account', 'api_token') AND coalesce(current_setting('galenix.accounts', true), '') = 'on'));
CREATE POLICY audit_append ON audit_log FOR INSERT WITH CHECK (true);
-- Updates and deletes reach the rows, so that the append-only triggers see
-- them and refuse them loudly instead of matching nothing in silence.
CREATE POLICY audit_refuse_update ON audit_log FOR UPDATE USING (true);
CREATE POLICY audit_refuse_delete ON audit_log FOR DELETE USING (true);

ALTER TABLE client_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY assignments_read ON client_assignments FOR SELECT
    USING (galenix_in_scope(client_id::text) OR coalesce(current_setting('galenix.accounts', true), '') = 'on');
CREATE POLICY assignments_write ON client_assignments FOR ALL
    USING (coalesce(current_setting('galenix.accounts', true), '') = 'on' OR coalesce(current_setting('galenix.all', true), '') = 'on')
    WITH CHECK (coalesce(current_setting('galenix.accounts', true), '') = 'on' OR coalesce(current_setting('galenix.all', true), '') = 'on');

-- +goose Down
SELECT 'released migrations are never rolled back';
