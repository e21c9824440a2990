-- +goose Up
-- A product's shelf life in months (0: not given), from which its batches'
-- expiry follows: the retention of their records counts from it.
ALTER TABLE products ADD COLUMN IF NOT EXISTS shelf_life_months INTEGER NOT NULL DEFAULT 0;

-- +goose Down
SELECT 'released migrations are never rolled back';
