-- +goose Up
-- Each client assignment gets an id of its own, so that the API and the
-- administration pages can name the one to withdraw. The rows already there
-- get a random UUID; galenix gives the new ones a UUIDv7.
ALTER TABLE client_assignments ADD COLUMN id UUID NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE client_assignments ALTER COLUMN id DROP DEFAULT;
ALTER TABLE client_assignments ADD CONSTRAINT client_assignments_id_key UNIQUE (id);

-- +goose Down
SELECT 'released migrations are never rolled back';
