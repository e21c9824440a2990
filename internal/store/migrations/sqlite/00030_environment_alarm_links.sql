-- +goose Up
-- The deviations an action-level excursion opened, one per client whose
-- batches were in progress there: the key makes it once per alarm and
-- client, however often the alarm is evaluated again.
CREATE TABLE environment_alarm_deviations (
    alarm_id     TEXT NOT NULL REFERENCES environment_alarms(id),
    client_id    TEXT NOT NULL REFERENCES clients(id),
    deviation_id TEXT NOT NULL REFERENCES deviations(id),
    PRIMARY KEY (alarm_id, client_id)
);

-- When an alarm not acknowledged in time was escalated (once).
ALTER TABLE environment_alarms ADD COLUMN escalated_at TIMESTAMP;

-- +goose Down
SELECT 'released migrations are never rolled back';
