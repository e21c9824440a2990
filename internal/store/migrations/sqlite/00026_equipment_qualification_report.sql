-- +goose Up
-- The reference of the report that qualified a piece of equipment, given
-- when maintenance renews its qualification. Equipment recorded before has
-- none.
ALTER TABLE equipment ADD COLUMN qualification_report TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'released migrations are never rolled back';
