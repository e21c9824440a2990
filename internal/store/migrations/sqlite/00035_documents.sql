-- +goose Up
-- A client laboratory's confidential documents (package document), kept
-- encrypted at rest under a key per client (envelope encryption). The
-- database holds keys only wrapped: a client's key wrapped by the site's
-- master key (a file outside the database), each version's data key
-- wrapped by the client's key. Deleting a client's row in client_keys
-- (crypto-shredding, at the end of its contract) leaves its documents'
-- ciphertexts unreadable for ever, in every backup too.
CREATE TABLE client_keys (
    client_id   TEXT PRIMARY KEY REFERENCES clients(id),
    wrapped_key BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- The record of a client's key destroyed (crypto-shredding): one per
-- client; its documents stay, unreadable. While it exists, no new key is
-- made for the client. The signed certificate is in the audit trail.
CREATE TABLE client_key_shreddings (
    client_id    TEXT PRIMARY KEY REFERENCES clients(id),
    fingerprint  TEXT NOT NULL,
    documents    INTEGER NOT NULL,
    versions     INTEGER NOT NULL,
    shredded_at  TIMESTAMP NOT NULL,
    signer_name  TEXT NOT NULL,
    signature_id TEXT NOT NULL
);

-- A client's legal hold: while held, its key may not be destroyed.
CREATE TABLE client_legal_holds (
    client_id TEXT PRIMARY KEY REFERENCES clients(id),
    held      BOOLEAN NOT NULL,
    reason    TEXT NOT NULL,
    set_by    TEXT NOT NULL,
    set_name  TEXT NOT NULL,
    set_at    TIMESTAMP NOT NULL,
    version   INTEGER NOT NULL DEFAULT 1
);

-- project_id names a partnership project, when the document belongs to
-- one; no foreign key, the projects being their own context.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id),
    project_id   TEXT,
    category     TEXT NOT NULL,
    title        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX documents_client ON documents(client_id, created_at);

-- A document's versions: the plaintext's SHA-256 (which an approval
-- signs), the content sealed by a fresh data key, that key wrapped by
-- the client's key.
CREATE TABLE document_versions (
    id                   TEXT PRIMARY KEY,
    document_id          TEXT NOT NULL REFERENCES documents(id),
    client_id            TEXT NOT NULL REFERENCES clients(id),
    number               INTEGER NOT NULL,
    file_name            TEXT NOT NULL,
    content_type         TEXT NOT NULL,
    size                 BIGINT NOT NULL,
    sha256               TEXT NOT NULL,
    state                TEXT NOT NULL,
    uploaded_by          TEXT NOT NULL,
    uploaded_name        TEXT NOT NULL,
    uploaded_at          TIMESTAMP NOT NULL,
    site_approved_name   TEXT NOT NULL DEFAULT '',
    site_approved_at     TIMESTAMP,
    client_approved_name TEXT NOT NULL DEFAULT '',
    client_approved_at   TIMESTAMP,
    data_key             BLOB NOT NULL,
    ciphertext           BLOB NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1,
    UNIQUE (document_id, number)
);
CREATE INDEX document_versions_client ON document_versions(client_id);

-- +goose Down
SELECT 'released migrations are never rolled back';
