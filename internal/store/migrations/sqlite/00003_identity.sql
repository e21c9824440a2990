-- +goose Up
-- Identity, roles and client confidentiality.

-- Client users' role was named "client"; it is now "client_user".
UPDATE accounts SET roles = 'client_user' WHERE roles = 'client';

-- Where an account signs in: "local" (password here) or "ldap" (directory).
ALTER TABLE accounts ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE accounts ADD COLUMN password_changed_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;

-- The last passwords of each account, so that none is used again.
CREATE TABLE password_history (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX password_history_account ON password_history(account_id, created_at);

-- "browser", "shopfloor" (shorter idle timeout) or "api".
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser';

-- The clients a member of staff is assigned to: need to know.
CREATE TABLE client_assignments (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    client_id  TEXT NOT NULL REFERENCES clients(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
CREATE INDEX client_assignments_client ON client_assignments(client_id);

-- Machine tokens (sensor gateways, badge readers): narrow scopes, hashed.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);

-- Security events raised to the security role: failed sign-ins, locks ...
CREATE TABLE security_events (
    id              TEXT PRIMARY KEY,
    at              TIMESTAMP NOT NULL,
    kind            TEXT NOT NULL,
    username        TEXT NOT NULL,
    account_id      TEXT,
    address         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMP
);
CREATE INDEX security_events_at ON security_events(at);

-- Site policy: settings an administrator may change.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
SELECT 'released migrations are never rolled back';
