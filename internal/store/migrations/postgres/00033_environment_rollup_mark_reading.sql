-- +goose Up
-- The roll-up job's mark names a reading, not only a reception time: the
-- job rolls up a bounded number of readings per transaction, and one batch
-- received at one time may hold thousands. The readings received before
-- mark, and those received at mark up to (mark_sensor, mark_seq), are
-- rolled up; the nil UUID is before every sensor.
ALTER TABLE environment_rollup_mark ADD COLUMN mark_sensor TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE environment_rollup_mark ADD COLUMN mark_seq BIGINT NOT NULL DEFAULT 0;

-- The job reads the readings in that order, a chunk at a time: the index
-- serves the order, so a chunk reads only its own rows, however big the
-- batch. It takes the place of the index on received_at alone.
CREATE INDEX environment_readings_received_reading ON environment_readings(received_at, sensor_id, seq);
DROP INDEX environment_readings_received;

-- +goose Down
SELECT 'released migrations are never rolled back';
