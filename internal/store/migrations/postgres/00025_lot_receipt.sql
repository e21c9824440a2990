-- +goose Up
-- A lot's receipt: who delivered it, its number at the supplier (the one
-- its certificate of analysis names) and the day it was received. Lots
-- recorded before have none.
ALTER TABLE material_lots ADD COLUMN supplier TEXT NOT NULL DEFAULT '';
ALTER TABLE material_lots ADD COLUMN supplier_lot TEXT NOT NULL DEFAULT '';
ALTER TABLE material_lots ADD COLUMN received_on DATE;

-- +goose Down
SELECT 'released migrations are never rolled back';
