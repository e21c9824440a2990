package store

import (
	"context"
	"strconv"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// AlarmState selects alarms by where they stand.
type AlarmState string

// The states an alarm list selects.
const (
	// AlarmsOpen: the alarm still lasts.
	AlarmsOpen AlarmState = "open"
	// AlarmsEnded: its condition is over.
	AlarmsEnded AlarmState = "ended"
	// AlarmsUnacknowledged: nobody acknowledged it yet, lasting or not.
	AlarmsUnacknowledged AlarmState = "unacknowledged"
)

// AlarmStates lists the states an alarm list selects.
var AlarmStates = []AlarmState{AlarmsOpen, AlarmsEnded, AlarmsUnacknowledged}

// AlarmFilter selects alarms: of a sensor, of the sensors of a place (a
// room, cold room, piece of equipment or line), in a state; at most Limit
// (1 to 1000).
type AlarmFilter struct {
	SensorID string
	PlaceID  string
	State    AlarmState
	Limit    int
}

// AlarmList lists the alarms the filter selects, those still lasting
// first, then newest first.
func (e *EnvironmentStore) AlarmList(ctx context.Context, f AlarmFilter) ([]environment.Alarm, error) {
	if err := actorOf(ctx).Require(identity.PermSiteView); err != nil {
		return nil, err
	}
	q, args := where(`SELECT a.id, a.record FROM environment_alarms a JOIN environment_sensors s ON s.id = a.sensor_id`,
		"a.sensor_id", f.SensorID, "s.place_id", f.PlaceID)
	cond := ""
	switch f.State {
	case "":
	case AlarmsOpen:
		cond = "a.end_at IS NULL"
	case AlarmsEnded:
		cond = "a.end_at IS NOT NULL"
	case AlarmsUnacknowledged:
		cond = "a.acked_at IS NULL"
	default:
		return nil, errs.Field("state", "environment.alarm.state_must")
	}
	if cond != "" {
		if len(args) > 0 || f.SensorID != "" || f.PlaceID != "" {
			q += " AND " + cond
		} else {
			q += " WHERE " + cond
		}
	}
	limit := max(1, min(f.Limit, 1000))
	return list(ctx, e.db, q+` ORDER BY CASE WHEN a.end_at IS NULL THEN 0 ELSE 1 END, a.start_at DESC, a.id DESC LIMIT `+strconv.Itoa(limit),
		args, scanAlarm)
}
