package environment

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
)

// wantErr checks err is of code, naming field, with the catalogue key.
func wantErr(t *testing.T, err error, code errs.Code, field, key string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %s (%s)", code, field, key)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want an *errs.Error", err, err)
	}
	if e.Code != code || e.Field != field || e.Key != key {
		t.Errorf("got %s field %q key %q, want %s field %q key %q", e.Code, e.Field, e.Key, code, field, key)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func goodSensor() Sensor {
	return Sensor{ID: "s1", Code: "TT-101", Name: "Filling room temperature", Kind: KindTemperature, Place: PlaceRoom, PlaceID: "room-1",
		Location: "north wall, 1.5 m", LocationSince: day("2026-01-10"), CalibratedOn: day("2026-01-10"), CalibrationDue: day("2027-01-10"), Decimals: 2}
}

func TestSensorValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *Sensor)
		field string
		key   string
	}{
		{"valid", func(s *Sensor) {}, "", ""},
		{"valid without a known calibration day", func(s *Sensor) { s.CalibratedOn = time.Time{} }, "", ""},
		{"every kind and place", func(s *Sensor) { s.Kind, s.Place = KindDoor, PlaceLine }, "", ""},
		{"code missing", func(s *Sensor) { s.Code = "  " }, "code", "client.code_1_32_characters"},
		{"code with a space", func(s *Sensor) { s.Code = "TT 101" }, "code", "client.code_1_32_characters"},
		{"code too long", func(s *Sensor) { s.Code = strings.Repeat("x", 33) }, "code", "client.code_1_32_characters"},
		{"name missing", func(s *Sensor) { s.Name = "" }, "name", "client.name_1_120_characters"},
		{"name not UTF-8", func(s *Sensor) { s.Name = "a\xffb" }, "name", "client.name_1_120_characters"},
		{"kind unknown", func(s *Sensor) { s.Kind = "radiation" }, "kind", "environment.sensor.kind_must"},
		{"place unknown", func(s *Sensor) { s.Place = "corridor" }, "place", "environment.sensor.place_must"},
		{"place id missing", func(s *Sensor) { s.PlaceID = " " }, "place_id", "environment.sensor.place_required"},
		{"location missing", func(s *Sensor) { s.Location = "" }, "location", "environment.sensor.location_1_120"},
		{"location too long", func(s *Sensor) { s.Location = strings.Repeat("é", 121) }, "location", "environment.sensor.location_1_120"},
		{"location since missing", func(s *Sensor) { s.LocationSince = time.Time{} }, "location_since", "environment.sensor.location_since_required"},
		{"location since out of bounds", func(s *Sensor) { s.LocationSince = day("1999-12-31") }, "location_since", "bounds.time_out_of_range"},
		{"calibration due missing", func(s *Sensor) { s.CalibrationDue = time.Time{} }, "calibration_due", "environment.sensor.calibration_due_required"},
		{"calibration due out of bounds", func(s *Sensor) { s.CalibrationDue = day("2101-01-01") }, "calibration_due", "bounds.time_out_of_range"},
		{"calibrated on the due day", func(s *Sensor) { s.CalibratedOn = s.CalibrationDue }, "calibrated_on", "environment.sensor.calibrated_before_due"},
		{"decimals negative", func(s *Sensor) { s.Decimals = -1 }, "decimals", "environment.sensor.decimals_range"},
		{"decimals too many", func(s *Sensor) { s.Decimals = MaxDecimals + 1 }, "decimals", "environment.sensor.decimals_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := goodSensor()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			wantErr(t, err, errs.Invalid, tt.field, tt.key)
		})
	}
}

func TestSensorFlagsAt(t *testing.T) {
	moved := goodSensor()
	moved.Location, moved.LocationSince = "south wall", day("2026-03-01")
	tests := []struct {
		name string
		s    Sensor
		at   time.Time
		want Flags
	}{
		{"calibrated, in place", goodSensor(), at("2026-06-01T10:00:00Z"), 0},
		{"last second of the due day", goodSensor(), at("2027-01-10T23:59:59Z"), 0},
		{"the day after the due day", goodSensor(), at("2027-01-11T00:00:00Z"), FlagCalibrationOverdue},
		{"before the move", moved, at("2026-02-28T23:59:59Z"), 0},
		{"from the move on", moved, at("2026-03-01T00:00:00Z"), FlagMoved},
		{"moved and overdue", moved, at("2027-02-01T00:00:00Z"), FlagMoved | FlagCalibrationOverdue},
		{"mounted the day it was calibrated", func() Sensor { s := goodSensor(); s.LocationSince = at("2026-01-10T15:00:00Z"); return s }(), at("2026-06-01T00:00:00Z"), 0},
		{"calibration day unknown: not moved", func() Sensor { s := moved; s.CalibratedOn = time.Time{}; return s }(), at("2026-06-01T00:00:00Z"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.FlagsAt(tt.at); got != tt.want {
				t.Errorf("got %v, want %v", got.Names(), tt.want.Names())
			}
		})
	}
}

func TestFlagsJSON(t *testing.T) {
	r := Reading{SensorID: "s1", Seq: 3, At: at("2026-06-01T10:00:00Z"), Value: 20.5, Flags: FlagMoved | FlagCalibrationOverdue}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"flags":["calibration_overdue","moved"]`) {
		t.Errorf("got %s, want the flags by name", b)
	}
	var back Reading
	if err := json.Unmarshal(b, &back); err != nil || !Same(&back, &r) || back.Flags != r.Flags {
		t.Errorf("got %+v %v, want %+v", back, err, r)
	}
	b, _ = json.Marshal(Reading{SensorID: "s1"})
	if strings.Contains(string(b), "flags") {
		t.Errorf("got %s, want no flags written when there are none", b)
	}
	for _, bad := range []string{`{"flags":["stolen"]}`, `{"flags":"moved"}`} {
		err := json.Unmarshal([]byte(bad), &back)
		if errs.FieldOf(err) != "flags" {
			t.Errorf("%s: got %v, want refused on flags", bad, err)
		}
	}
}
