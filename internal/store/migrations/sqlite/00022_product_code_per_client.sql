-- +goose NO TRANSACTION
-- +goose Up
-- A product's code is unique within its client, not across the site: two
-- client laboratories may each have their "PARA-500", and a supervisor
-- creating one never learns from a refusal that another client's exists.
-- SQLite cannot drop a column's UNIQUE: the table is rebuilt the way
-- SQLite's documentation gives (ALTER TABLE, "other kinds of table schema
-- changes"): foreign keys off for the rebuild, which only a connection
-- outside a transaction can set, the rebuild in one transaction, foreign
-- keys on again. The rows keep their ids, so every reference to them holds
-- (store: TestProductCodePerClient runs it on rows and checks them with
-- foreign_key_check).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE products_new (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    form          TEXT NOT NULL,
    sterile       BOOLEAN NOT NULL,
    strength      TEXT NOT NULL,
    presentation  TEXT NOT NULL,
    special_class TEXT NOT NULL,
    storage       TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
INSERT INTO products_new (id, client_id, code, name, form, sterile, strength, presentation, special_class, storage, version)
    SELECT id, client_id, code, name, form, sterile, strength, presentation, special_class, storage, version FROM products;
DROP TABLE products;
ALTER TABLE products_new RENAME TO products;
CREATE INDEX products_client ON products(client_id);
CREATE UNIQUE INDEX products_client_code ON products(client_id, code);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE products_old (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    form          TEXT NOT NULL,
    sterile       BOOLEAN NOT NULL,
    strength      TEXT NOT NULL,
    presentation  TEXT NOT NULL,
    special_class TEXT NOT NULL,
    storage       TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
INSERT INTO products_old SELECT id, client_id, code, name, form, sterile, strength, presentation, special_class, storage, version FROM products;
DROP TABLE products;
ALTER TABLE products_old RENAME TO products;
CREATE INDEX products_client ON products(client_id);
COMMIT;
PRAGMA foreign_keys = ON;
