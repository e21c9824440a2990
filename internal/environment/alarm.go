package environment

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// Level is how far a sensor is from its limits.
type Level string

// The levels, lowest first.
const (
	Normal Level = "normal"
	Alert  Level = "alert"
	Action Level = "action"
)

func (l Level) rank() int {
	switch l {
	case Alert:
		return 1
	case Action:
		return 2
	}
	return 0
}

// Levels lists the levels, lowest first.
var Levels = []Level{Normal, Alert, Action}

// AlarmKind says what raised an alarm.
type AlarmKind string

// The kinds of alarm.
const (
	// AlarmLimit: readings beyond the alert or action limits.
	AlarmLimit AlarmKind = "limit"
	// AlarmSilence: no reading for Limits.SilenceS.
	AlarmSilence AlarmKind = "silence"
	// AlarmGap: sequence numbers missing for Limits.GapS.
	AlarmGap AlarmKind = "gap"
)

// Side is the side of the limits a value went beyond.
type Side string

// The sides.
const (
	Low  Side = "low"
	High Side = "high"
)

// Alarm is one alarm of one sensor, from the moment its condition began
// to the moment it ended. Its message is a coded text (key and arguments),
// written in the reader's language when read, never a stored sentence.
type Alarm struct {
	ID       string    `json:"id,omitempty"`
	SensorID string    `json:"sensor_id"`
	Kind     AlarmKind `json:"kind"`
	// Level is the highest level the alarm reached; silence and gap
	// alarms are at the alert level.
	Level Level `json:"level"`
	// Side and Limit: the side and the limit crossed at Level (limit
	// alarms only).
	Side  Side    `json:"side,omitempty"`
	Limit float64 `json:"limit,omitempty"`
	// State is the room's state when the alarm was raised.
	State RoomState `json:"state,omitempty"`
	// Start is when the condition began (the first reading beyond the
	// limit; the last reading heard, for silence; when the gap was seen);
	// Raised when the alarm rose, once the delay or rule was met.
	Start  time.Time `json:"start"`
	Raised time.Time `json:"raised"`
	// End is when it ended: zero while it lasts.
	End time.Time `json:"end,omitzero"`
	// ActionStart and ActionEnd bound its action-level part, the
	// excursion that concerns batches (zero: none, or not ended).
	ActionStart time.Time `json:"action_start,omitzero"`
	ActionEnd   time.Time `json:"action_end,omitzero"`
	// Peak is the value furthest beyond the limit (the most sequence
	// numbers missing at once, for a gap), at PeakAt.
	Peak    float64    `json:"peak"`
	PeakAt  time.Time  `json:"peak_at,omitzero"`
	Message text.Coded `json:"message"`
	// The acknowledgement: who, when, why, and the electronic signature
	// that binds it (the signature carries its meaning).
	AckBy          string    `json:"ack_by,omitempty"`
	AckAt          time.Time `json:"ack_at,omitzero"`
	AckComment     string    `json:"ack_comment,omitempty"`
	AckSignatureID string    `json:"ack_signature_id,omitempty"`
	// Escalated is when the alarm, not acknowledged in time, was
	// escalated (Overdue): once.
	Escalated time.Time `json:"escalated,omitzero"`
}

// Open reports whether the alarm still lasts.
func (a *Alarm) Open() bool { return a.End.IsZero() }

// Acknowledged reports whether someone acknowledged the alarm.
func (a *Alarm) Acknowledged() bool { return !a.AckAt.IsZero() }

// Excursion is the alarm's action-level part, in the sensor's place; ok
// is false when the alarm never reached the action level.
func (a *Alarm) Excursion(place PlaceKind, placeID string) (Excursion, bool) {
	if a.ActionStart.IsZero() {
		return Excursion{}, false
	}
	return Excursion{Place: place, PlaceID: placeID, Interval: Interval{Start: a.ActionStart, End: a.ActionEnd}}, true
}

// Overdue reports whether the alarm, raised at least within ago and still
// not acknowledged, is to be escalated now: once, and never when within
// is zero (no escalation configured).
func (a *Alarm) Overdue(within time.Duration, now time.Time) bool {
	return within > 0 && !a.Acknowledged() && a.Escalated.IsZero() && !a.Raised.IsZero() && !now.Before(a.Raised.Add(within))
}

// MaxComment bounds an acknowledgement's comment, in characters.
const MaxComment = 2000

// MayAcknowledge decides whether the alarm may be acknowledged at now
// with comment under the signature signatureID: once only, with a
// comment saying what was done, and a signature. An alarm may be
// acknowledged while it lasts: acknowledging says someone took charge,
// not that the condition is over.
func (a *Alarm) MayAcknowledge(comment, signatureID string, now time.Time) error {
	if a.Acknowledged() {
		return errs.E(errs.Conflict, "environment.alarm.already_acknowledged")
	}
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return errs.Field("comment", "environment.alarm.comment_required")
	}
	if utf8.RuneCountInString(comment) > MaxComment || !bounds.Text(comment) {
		return errs.Field("comment", "environment.alarm.comment_long", text.Int(MaxComment))
	}
	if signatureID == "" {
		return errs.Field("signature_id", "environment.alarm.signature_required")
	}
	if now.Before(a.Raised) {
		return errs.E(errs.Conflict, "environment.alarm.ack_before_raised")
	}
	return nil
}

// Acknowledge records the acknowledgement when MayAcknowledge allows it.
func (a *Alarm) Acknowledge(by, comment, signatureID string, now time.Time) error {
	if err := a.MayAcknowledge(comment, signatureID, now); err != nil {
		return err
	}
	a.AckBy, a.AckAt, a.AckComment, a.AckSignatureID = by, now, strings.TrimSpace(comment), signatureID
	return nil
}

// levelArg is a level as the argument of an alarm's message.
func levelArg(l Level) text.Arg { return text.Code(levelKeys[l]).Arg() }

var levelKeys = map[Level]string{Normal: "stored.environment.level.normal", Alert: "stored.environment.level.alert", Action: "stored.environment.level.action"}

// limitMessage is the message of a limit alarm.
func limitMessage(k Kind, decimals int, level Level, side Side, limit float64, n, m int) text.Coded {
	switch {
	case k == KindDoor:
		return text.Code("stored.environment.alarm.door_open", levelArg(level))
	case side == Low:
		return text.Code("stored.environment.alarm.below", levelArg(level), text.Num(limit, decimals), text.Str(k.Unit()))
	case n > 0:
		return text.Code("stored.environment.alarm.above_n_of_m", levelArg(level), text.Num(limit, decimals), text.Str(k.Unit()),
			text.Num(float64(n), 0), text.Num(float64(m), 0))
	}
	return text.Code("stored.environment.alarm.above", levelArg(level), text.Num(limit, decimals), text.Str(k.Unit()))
}
