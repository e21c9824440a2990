-- +goose Up
-- The lists people search filter batches by their scheduled start,
-- orders by their due date and material lots by their expiry, and page
-- orders newest first: without these, each page would read and sort
-- every row.
CREATE INDEX batches_start ON batches(start_at);
CREATE INDEX material_lots_expires ON material_lots(expires_on);
CREATE INDEX orders_due ON orders(due_on);
CREATE INDEX orders_created ON orders(created_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
