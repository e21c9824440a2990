-- +goose Up
-- The addresses of the client's quality contacts that galenix writes to
-- when the client is notified, comma-separated (each checked a bare
-- address, without a comma).
ALTER TABLE quality_agreements ADD COLUMN notify_to TEXT NOT NULL DEFAULT '';
-- Whether the client reads the CAPA actions of its deviations.
ALTER TABLE quality_agreements ADD COLUMN share_capa BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
SELECT 'released migrations are never rolled back';
