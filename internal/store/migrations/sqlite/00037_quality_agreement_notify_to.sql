-- +goose Up
-- The addresses of the client's quality contacts that galenix writes to
-- when the client is notified, comma-separated (each checked a bare
-- address, without a comma).
ALTER TABLE quality_agreements ADD COLUMN notify_to TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE quality_agreements DROP COLUMN notify_to;
