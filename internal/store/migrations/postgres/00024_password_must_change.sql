-- +goose Up
-- A password an administrator set or reset is known to someone other than
-- its owner: the owner must change it at their first sign-in, before any
-- other request and any signature (21 CFR 11.300, Annex 11 §12, §14).
ALTER TABLE accounts ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
SELECT 'released migrations are never rolled back';
