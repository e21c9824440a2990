-- +goose Up
-- Kept so that both dialects share their migration numbers. SQLite needs a
-- trigger against INSERT OR REPLACE on the audit trail; PostgreSQL does not:
-- its INSERT ... ON CONFLICT DO UPDATE fires the update trigger, which
-- refuses it.
SELECT 'nothing to do on PostgreSQL';

-- +goose Down
SELECT 'released migrations are never rolled back';
