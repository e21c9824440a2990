-- +goose Up
-- Who is on site: each person's last exit through the perimeter, found in
-- the index alone, so that presence and the muster read a person's
-- passages from that exit on rather than the week's passages of everyone.
CREATE INDEX access_events_exits ON access_events (person_id, direction, allow, zone_id, at);

-- +goose Down
SELECT 'released migrations are never rolled back';
