-- +goose Up
-- Old readings compacted losslessly (environment.EncodeBlock): the
-- readings received in one window of time (window_at, its start;
-- environment.CompactWindow) become one block per sensor, its readings in
-- (time, sequence) order, and leave environment_readings in the same
-- transaction. The window's seal in the audit trail (entity
-- environment_reading_window) covers its readings and its blocks' hashes,
-- and takes over from the seals of the batches received in it, each
-- checked first. min_seq and max_seq find the block of a sequence number
-- sent again. Retention deletes a window's blocks whole, audited.
CREATE TABLE environment_blocks (
    id        TEXT PRIMARY KEY,
    sensor_id TEXT NOT NULL REFERENCES environment_sensors(id),
    from_at   TIMESTAMP NOT NULL,
    to_at     TIMESTAMP NOT NULL,
    min_seq   BIGINT NOT NULL,
    max_seq   BIGINT NOT NULL,
    count     INTEGER NOT NULL,
    data      BLOB NOT NULL,
    hash      TEXT NOT NULL,
    window_at TIMESTAMP NOT NULL,
    made_at   TIMESTAMP NOT NULL
);
CREATE INDEX environment_blocks_sensor ON environment_blocks(sensor_id, from_at);
CREATE INDEX environment_blocks_window ON environment_blocks(window_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
