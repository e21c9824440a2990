-- +goose Up
-- A product's code is unique within its client, not across the site: two
-- client laboratories may each have their "PARA-500", and a supervisor
-- creating one never learns from a refusal that another client's exists.
ALTER TABLE products DROP CONSTRAINT products_code_key;
CREATE UNIQUE INDEX products_client_code ON products(client_id, code);

-- +goose Down
DROP INDEX products_client_code;
ALTER TABLE products ADD CONSTRAINT products_code_key UNIQUE (code);
