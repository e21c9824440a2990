-- +goose Up
-- A material's version, as of products (00014): an update names the
-- version it edited and applies only to it.
ALTER TABLE materials ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
SELECT 'released migrations are never rolled back';
