-- +goose Up
-- Each client assignment gets an id of its own, so that the API and the
-- administration pages can name the one to withdraw. SQLite cannot add a
-- NOT NULL column without a default, so the table is rebuilt; the rows
-- already there get a random (version 4) UUID.
CREATE TABLE client_assignments_new (
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    client_id  TEXT NOT NULL REFERENCES clients(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
INSERT INTO client_assignments_new (id, account_id, client_id, created_at)
    SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
           || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
           || '-' || lower(hex(randomblob(6))),
           account_id, client_id, created_at
    FROM client_assignments;
DROP TABLE client_assignments;
ALTER TABLE client_assignments_new RENAME TO client_assignments;
CREATE INDEX client_assignments_client ON client_assignments(client_id);

-- +goose Down
SELECT 'released migrations are never rolled back';
