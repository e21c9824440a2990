-- +goose Up
-- Versions of products and master batch records, as of the site model
-- (00011): an update names the version it edited and applies only to it.
-- A master's "version" is its edition (v1, v2 of a recipe); its change
-- counter is its revision.
ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE masters ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE batch_steps ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE products DROP COLUMN version;
ALTER TABLE masters DROP COLUMN revision;
ALTER TABLE accounts DROP COLUMN version;
ALTER TABLE batch_steps DROP COLUMN version;
