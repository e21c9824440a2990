-- +goose Up
-- A key handover: the checkpoint at which the site's audit key was rotated
-- names the key that signed it (key) and the key that signs every later
-- checkpoint (next_key), which co-signs it (next_signature); base64, empty
-- on every other checkpoint. Existing checkpoints are left as they are.
ALTER TABLE audit_checkpoints ADD COLUMN key TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_checkpoints ADD COLUMN next_key TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_checkpoints ADD COLUMN next_signature TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'released migrations are never rolled back';
