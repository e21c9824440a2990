-- +goose Up
-- Electronic signatures (21 CFR Part 11 §11.50, 11.70; EU GMP Annex 11 §14):
-- each bound to the SHA-256 of the exact content signed. Like the audit
-- trail, append-only: a signature is never changed nor removed.
CREATE TABLE signatures (
    id           UUID PRIMARY KEY,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL, -- a record's id, or a period of the audit trail
    meaning      TEXT NOT NULL,
    signer_id    TEXT NOT NULL,
    signer_name  TEXT NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL,
    content_hash TEXT NOT NULL,
    reason       TEXT NOT NULL,
    client_id    TEXT,
    session_id   TEXT NOT NULL
);
CREATE INDEX signatures_entity ON signatures(entity, entity_id);

-- +goose StatementBegin
CREATE FUNCTION signatures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'electronic signatures are append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER signatures_no_change BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION signatures_append_only();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION signatures_append_only();

-- Row-level security, as on the audit trail (00003): a client's signatures
-- are seen within its scope only; site records' by site staff. A signature
-- is written only on a record in the signer's scope.
ALTER TABLE signatures ENABLE ROW LEVEL SECURITY;
ALTER TABLE signatures FORCE ROW LEVEL SECURITY;
CREATE POLICY signatures_read ON signatures FOR SELECT
    USING (galenix_in_scope(client_id)
        OR (client_id IS NULL AND coalesce(current_setting('galenix.staff', true), '') = 'on'));
CREATE POLICY signatures_append ON signatures FOR INSERT
    WITH CHECK (client_id IS NULL OR galenix_in_scope(client_id));
-- Updates and deletes reach the rows, so that the append-only triggers see
-- them and refuse them loudly instead of matching nothing in silence.
CREATE POLICY signatures_refuse_update ON signatures FOR UPDATE USING (true);
CREATE POLICY signatures_refuse_delete ON signatures FOR DELETE USING (true);

-- One-time challenges that a signature must carry: bound to the session that
-- asked for one, to one record and one meaning, good for one attempt within
-- five minutes. Only the SHA-256 of the challenge is kept.
CREATE TABLE signature_challenges (
    id         UUID PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    meaning    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX signature_challenges_expires ON signature_challenges(expires_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
