package environment

import (
	"testing"
	"time"

	"galenix/internal/audit"
)

func fields(fs []audit.Field) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		if _, dup := m[f.Name]; dup {
			panic("field listed twice: " + f.Name)
		}
		m[f.Name] = f.Value
	}
	return m
}

func TestAuditFields(t *testing.T) {
	s := goodSensor()
	got := fields(s.AuditFields())
	for name, want := range map[string]string{"code": "TT-101", "kind": "temperature", "place": "room", "place_id": "room-1",
		"location": "north wall, 1.5 m", "location_since": "2026-01-10T00:00:00Z", "calibrated_on": "2026-01-10",
		"calibration_due": "2027-01-10", "decimals": "2"} {
		if got[name] != want {
			t.Errorf("sensor %s: got %q, want %q", name, got[name], want)
		}
	}
	moved := s
	moved.Location = "south wall"
	if ch := audit.Diff("sensor", "s1", s.AuditFields(), moved.AuditFields()); len(ch) != 1 {
		t.Errorf("a move: got %d changes, want 1", len(ch))
	}

	l := goodLimits()
	got = fields(l.AuditFields())
	for name, want := range map[string]string{"at_rest.alert_low": "19", "at_rest.action_high": "25", "in_operation.action_high": "",
		"in_operation": "same_as_at_rest", "delay_s": "60", "deadband": "0.2", "n": "0", "silence_s": "300", "gap_s": "120"} {
		if got[name] != want {
			t.Errorf("limits %s: got %q, want %q", name, got[name], want)
		}
	}
	op := l
	op.InOperation = &Thresholds{ActionHigh: f(26)}
	if ch := audit.Diff("limits", "s1", l.AuditFields(), op.AuditFields()); len(ch) != 2 {
		t.Errorf("limits in operation set: got %+v, want 2 changes", ch)
	}

	a := Alarm{SensorID: "s1", Kind: AlarmLimit, Level: Action, Start: t0, Raised: t0.Add(time.Minute), Peak: 27.5,
		Message: limitMessage(KindTemperature, 2, Action, High, 25, 0, 0)}
	got = fields(a.AuditFields())
	if got["peak"] != "27.5" || got["end"] != "" || got["message"] == "" || got["start"] != "2026-06-01T08:00:00Z" {
		t.Errorf("alarm: got %v", got)
	}
	signed := fields(a.SignedFields("checked"))
	later := a
	later.Level, later.Peak, later.End = Action, 30, t0.Add(time.Hour)
	if audit.Diff("alarm", "a1", a.SignedFields("checked"), later.SignedFields("checked")) != nil || signed["ack_comment"] != "checked" {
		t.Errorf("the signed content changes as the alarm goes on: %v", signed)
	}
	if audit.Diff("alarm", "a1", a.SignedFields("checked"), a.SignedFields("other")) == nil {
		t.Error("the comment is not signed")
	}
}
