-- +goose Up
-- Environmental monitoring: the sensors of the rooms, cold rooms,
-- equipment and lines, their limits, and the readings they send.

-- A sensor, placed in a room (a cold room is a room), on a piece of
-- equipment or on a line: place_id names one of those, by place.
CREATE TABLE environment_sensors (
    id              UUID PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    place           TEXT NOT NULL,
    place_id        UUID NOT NULL,
    location        TEXT NOT NULL,
    location_since  TIMESTAMPTZ NOT NULL,
    calibrated_on   DATE,
    calibration_due DATE NOT NULL,
    decimals        INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX environment_sensors_place ON environment_sensors(place_id);

-- A sensor's limits (environment.Limits as JSON): one record per sensor,
-- its id the sensor's.
CREATE TABLE environment_limits (
    id      UUID PRIMARY KEY REFERENCES environment_sensors(id),
    rules   TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- The readings: append-only, one per (sensor, sequence). They do not go
-- through the audit trail one by one: each committed batch is sealed there
-- by one entry holding the digest of its new readings (batch_id names it).
-- Partitioned by month of the reading's time, with a default partition
-- for a month whose own partition could not be made; a unique key of a
-- partitioned table must hold the partition key, so the store makes
-- (sensor, sequence) unique itself, appending under the lock of the
-- sensor's tracker (environment_trackers).
CREATE TABLE environment_readings (
    sensor_id   UUID NOT NULL REFERENCES environment_sensors(id),
    seq         BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    flags       INTEGER NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    batch_id    UUID NOT NULL,
    PRIMARY KEY (sensor_id, seq, at)
) PARTITION BY RANGE (at);
CREATE TABLE environment_readings_default PARTITION OF environment_readings DEFAULT;
CREATE INDEX environment_readings_batch ON environment_readings(batch_id);
CREATE INDEX environment_readings_at ON environment_readings(sensor_id, at);

-- Each sensor's intake state (environment.Tracker as JSON): its row is
-- locked while a batch of its readings is appended.
CREATE TABLE environment_trackers (
    sensor_id  UUID PRIMARY KEY REFERENCES environment_sensors(id),
    state      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The missing sequence ranges of each sensor, as first seen: a
-- data-completeness event, closed once every reading in it arrived.
CREATE TABLE environment_gaps (
    id        UUID PRIMARY KEY,
    sensor_id UUID NOT NULL REFERENCES environment_sensors(id),
    from_seq  BIGINT NOT NULL,
    to_seq    BIGINT NOT NULL,
    missing   BIGINT NOT NULL,
    seen_at   TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);
CREATE INDEX environment_gaps_sensor ON environment_gaps(sensor_id, from_seq);

-- Readings of a sensor galenix does not know, kept for admins to see:
-- the sensor as named and the message, bounded.
CREATE TABLE environment_quarantine (
    id          UUID PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    sensor_ref  TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX environment_quarantine_received ON environment_quarantine(received_at);

-- Refused readings, counted per reason (environment.Refusal).
CREATE TABLE environment_refusals (
    reason     TEXT PRIMARY KEY,
    count      BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The alarms (environment.Alarm as JSON in record, its times beside for
-- queries), each with its own audit trail.
CREATE TABLE environment_alarms (
    id         UUID PRIMARY KEY,
    sensor_id  UUID NOT NULL REFERENCES environment_sensors(id),
    kind       TEXT NOT NULL,
    start_at   TIMESTAMPTZ NOT NULL,
    end_at     TIMESTAMPTZ,
    acked_at   TIMESTAMPTZ,
    record     TEXT NOT NULL
);
CREATE INDEX environment_alarms_sensor ON environment_alarms(sensor_id, start_at);

-- Each sensor's alarm state (environment.Machine as JSON), so that
-- evaluation resumes where it was after a restart.
CREATE TABLE environment_machines (
    sensor_id  UUID PRIMARY KEY REFERENCES environment_sensors(id),
    state      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
SELECT 'released migrations are never rolled back';
