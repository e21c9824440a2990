-- +goose Up
-- Versions of the site model's records: an update that names the version it
-- edited (If-Match, or the body's version) applies only if the record is
-- still at it, so that of two concurrent edits the second is refused
-- instead of silently overwriting the first.
ALTER TABLE buildings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE lines ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE equipment ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE shifts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE teams ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE people ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE buildings DROP COLUMN version;
ALTER TABLE rooms DROP COLUMN version;
ALTER TABLE lines DROP COLUMN version;
ALTER TABLE equipment DROP COLUMN version;
ALTER TABLE shifts DROP COLUMN version;
ALTER TABLE teams DROP COLUMN version;
ALTER TABLE people DROP COLUMN version;
