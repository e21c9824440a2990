-- +goose Up
-- Environmental monitoring: the sensors of the rooms, cold rooms,
-- equipment and lines, their limits, and the readings they send.

-- A sensor, placed in a room (a cold room is a room), on a piece of
-- equipment or on a line: place_id names one of those, by place.
CREATE TABLE environment_sensors (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    place           TEXT NOT NULL,
    place_id        TEXT NOT NULL,
    location        TEXT NOT NULL,
    location_since  TIMESTAMP NOT NULL,
    calibrated_on   DATE,
    calibration_due DATE NOT NULL,
    decimals        INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX environment_sensors_place ON environment_sensors(place_id);

-- A sensor's limits (environment.Limits as JSON): one record per sensor,
-- its id the sensor's.
CREATE TABLE environment_limits (
    id      TEXT PRIMARY KEY REFERENCES environment_sensors(id),
    rules   TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- The readings: append-only, one per (sensor, sequence). They do not go
-- through the audit trail one by one: each committed batch is sealed there
-- by one entry holding the digest of its new readings (batch_id names it).
-- (PostgreSQL partitions them by month.) The store makes (sensor,
-- sequence) unique itself, as on PostgreSQL, where a unique key of the
-- partitioned table must hold the partition key.
CREATE TABLE environment_readings (
    sensor_id   TEXT NOT NULL REFERENCES environment_sensors(id),
    seq         BIGINT NOT NULL,
    at          TIMESTAMP NOT NULL,
    value       REAL NOT NULL,
    flags       INTEGER NOT NULL,
    received_at TIMESTAMP NOT NULL,
    batch_id    TEXT NOT NULL,
    PRIMARY KEY (sensor_id, seq, at)
);
CREATE INDEX environment_readings_batch ON environment_readings(batch_id);
CREATE INDEX environment_readings_at ON environment_readings(sensor_id, at);

-- Each sensor's intake state (environment.Tracker as JSON): its row is
-- locked while a batch of its readings is appended.
CREATE TABLE environment_trackers (
    sensor_id  TEXT PRIMARY KEY REFERENCES environment_sensors(id),
    state      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The missing sequence ranges of each sensor, as first seen: a
-- data-completeness event, closed once every reading in it arrived.
CREATE TABLE environment_gaps (
    id        TEXT PRIMARY KEY,
    sensor_id TEXT NOT NULL REFERENCES environment_sensors(id),
    from_seq  BIGINT NOT NULL,
    to_seq    BIGINT NOT NULL,
    missing   BIGINT NOT NULL,
    seen_at   TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX environment_gaps_sensor ON environment_gaps(sensor_id, from_seq);

-- Readings of a sensor galenix does not know, kept for admins to see:
-- the sensor as named and the message, bounded.
CREATE TABLE environment_quarantine (
    id          TEXT PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    sensor_ref  TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX environment_quarantine_received ON environment_quarantine(received_at);

-- Refused readings, counted per reason (environment.Refusal).
CREATE TABLE environment_refusals (
    reason     TEXT PRIMARY KEY,
    count      BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The alarms (environment.Alarm as JSON in record, its times beside for
-- queries), each with its own audit trail.
CREATE TABLE environment_alarms (
    id         TEXT PRIMARY KEY,
    sensor_id  TEXT NOT NULL REFERENCES environment_sensors(id),
    kind       TEXT NOT NULL,
    start_at   TIMESTAMP NOT NULL,
    end_at     TIMESTAMP,
    acked_at   TIMESTAMP,
    record     TEXT NOT NULL
);
CREATE INDEX environment_alarms_sensor ON environment_alarms(sensor_id, start_at);

-- Each sensor's alarm state (environment.Machine as JSON), so that
-- evaluation resumes where it was after a restart.
CREATE TABLE environment_machines (
    sensor_id  TEXT PRIMARY KEY REFERENCES environment_sensors(id),
    state      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
SELECT 'released migrations are never rolled back';
