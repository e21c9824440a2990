-- +goose Up
-- A signing challenge binds the content the signer saw: the record's
-- content hash when the challenge was issued (21 CFR 11.50, 11.70).
ALTER TABLE signature_challenges ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'released migrations are never rolled back';
