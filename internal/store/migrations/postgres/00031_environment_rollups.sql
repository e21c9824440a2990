-- +goose Up
-- The roll-ups of environmental readings that plots zoom through: per
-- sensor and closed interval of width_s seconds (60: a minute, 3600: an
-- hour), the count, least and greatest value and the compensated sum
-- (sum + sum_err) of its readings (environment.Rollup). Derived from the
-- raw readings, which stay the record: a roll-up is recomputed whole from
-- them, never added to, so a run done twice changes nothing.
CREATE TABLE environment_rollups (
    sensor_id UUID NOT NULL REFERENCES environment_sensors(id),
    width_s   INTEGER NOT NULL,
    start_at  TIMESTAMPTZ NOT NULL,
    count     BIGINT NOT NULL,
    min       DOUBLE PRECISION NOT NULL,
    max       DOUBLE PRECISION NOT NULL,
    sum       DOUBLE PRECISION NOT NULL,
    sum_err   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sensor_id, width_s, start_at)
);

-- Where the roll-up job is: the readings received up to mark are rolled
-- up (one row, id 1).
CREATE TABLE environment_rollup_mark (
    id         INTEGER PRIMARY KEY,
    mark       TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Intervals that received readings while still open: rolled up once
-- closed.
CREATE TABLE environment_rollup_pending (
    sensor_id UUID NOT NULL REFERENCES environment_sensors(id),
    width_s   INTEGER NOT NULL,
    start_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sensor_id, width_s, start_at)
);

-- The job reads the readings by the time they were received.
CREATE INDEX environment_readings_received ON environment_readings(received_at);

-- +goose Down
SELECT 'released migrations are never rolled back';
