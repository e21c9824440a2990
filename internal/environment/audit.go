package environment

import (
	"strconv"
	"time"

	"galenix/internal/audit"
)

// The audit trail records a record's fields in the plain form below, so
// that a reader of the trail sees the values the screens show.

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func limit(p *float64) string {
	if p == nil {
		return ""
	}
	return num(*p)
}

func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func auditDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// AuditFields lists the sensor's fields for the audit trail.
func (s *Sensor) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", s.Code), audit.F("name", s.Name), audit.F("kind", string(s.Kind)),
		audit.F("place", string(s.Place)), audit.F("place_id", s.PlaceID), audit.F("location", s.Location),
		audit.F("location_since", auditTime(s.LocationSince)), audit.F("calibrated_on", auditDay(s.CalibratedOn)),
		audit.F("calibration_due", auditDay(s.CalibrationDue)), audit.F("decimals", strconv.Itoa(s.Decimals))}
}

// AuditFields lists the limits' fields for the audit trail; the limits in
// operation are empty when the ones at rest hold in both states.
func (l *Limits) AuditFields() []audit.Field {
	at, op := l.AtRest, Thresholds{}
	if l.InOperation != nil {
		op = *l.InOperation
	}
	out := []audit.Field{audit.F("sensor_id", l.SensorID),
		audit.F("at_rest.alert_low", limit(at.AlertLow)), audit.F("at_rest.alert_high", limit(at.AlertHigh)),
		audit.F("at_rest.action_low", limit(at.ActionLow)), audit.F("at_rest.action_high", limit(at.ActionHigh)),
		audit.F("in_operation.alert_low", limit(op.AlertLow)), audit.F("in_operation.alert_high", limit(op.AlertHigh)),
		audit.F("in_operation.action_low", limit(op.ActionLow)), audit.F("in_operation.action_high", limit(op.ActionHigh))}
	inOp := "same_as_at_rest"
	if l.InOperation != nil {
		inOp = "own"
	}
	return append(out, audit.F("in_operation", inOp), audit.F("delay_s", strconv.FormatInt(l.DelayS, 10)), audit.F("deadband", num(l.Deadband)),
		audit.F("n", strconv.Itoa(l.N)), audit.F("m", strconv.Itoa(l.M)),
		audit.F("silence_s", strconv.FormatInt(l.SilenceS, 10)), audit.F("gap_s", strconv.FormatInt(l.GapS, 10)))
}

// AuditFields lists the alarm's fields for the audit trail: its own
// trail follows it from opening to acknowledgement.
func (a *Alarm) AuditFields() []audit.Field {
	return []audit.Field{audit.F("sensor_id", a.SensorID), audit.F("kind", string(a.Kind)), audit.F("level", string(a.Level)),
		audit.F("side", string(a.Side)), audit.F("limit", num(a.Limit)), audit.F("state", string(a.State)),
		audit.F("start", auditTime(a.Start)), audit.F("raised", auditTime(a.Raised)), audit.F("end", auditTime(a.End)),
		audit.F("action_start", auditTime(a.ActionStart)), audit.F("action_end", auditTime(a.ActionEnd)),
		audit.F("peak", num(a.Peak)), audit.F("peak_at", auditTime(a.PeakAt)), audit.F("message", a.Message.String()),
		audit.F("ack_by", a.AckBy), audit.F("ack_at", auditTime(a.AckAt)), audit.F("ack_comment", a.AckComment),
		audit.F("ack_signature_id", a.AckSignatureID), audit.F("escalated", auditTime(a.Escalated))}
}

// SignedFields is the content an acknowledgement's signature binds: which
// alarm (sensor, kind, start, raised) and the comment. What may still
// change while the alarm lasts — its level, peak, message and end — is
// left out: an alarm may be acknowledged while it lasts, and its later
// course is in its own trail, not a change to what was signed.
func (a *Alarm) SignedFields(comment string) []audit.Field {
	return []audit.Field{audit.F("sensor_id", a.SensorID), audit.F("kind", string(a.Kind)),
		audit.F("start", auditTime(a.Start)), audit.F("raised", auditTime(a.Raised)), audit.F("ack_comment", comment)}
}
