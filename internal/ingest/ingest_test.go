package ingest

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
)

func TestDecode(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123e6, time.UTC)
	for _, c := range []struct {
		name, topic, body string
		want              environment.Refusal
	}{
		{"a reading", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15}`, ""},
		{"another prefix", "other/B30-T1", `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15}`, environment.RefusedMessageMalformed},
		{"no code", TopicPrefix, `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15}`, environment.RefusedMessageMalformed},
		{"a deeper topic", Topic("B30/T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15}`, environment.RefusedMessageMalformed},
		{"a string value", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":"20.15"}`, environment.RefusedMessageMalformed},
		{"an unknown field", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15,"x":1}`, environment.RefusedMessageMalformed},
		{"two objects", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15}{}`, environment.RefusedMessageMalformed},
		{"a negative seq", Topic("B30-T1"), `{"seq":-1,"at":"2026-12-04T10:00:00.123Z","value":20.15}`, environment.RefusedMessageMalformed},
		{"no seq", Topic("B30-T1"), `{"at":"2026-12-04T10:00:00.123Z","value":20.15}`, environment.RefusedSeqMissing},
		{"no time", Topic("B30-T1"), `{"seq":42,"value":20.15}`, environment.RefusedTimeMissing},
		{"a time without offset", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00","value":20.15}`, environment.RefusedMessageMalformed},
		{"no value", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z"}`, environment.RefusedMessageMalformed},
		{"invalid UTF-8", Topic("B30-T1"), "{\"seq\":42,\"at\":\"2026-12-04T10:00:00.123Z\",\"value\":20.15,\"\xff\":1}", environment.RefusedMessageMalformed},
		{"oversized", Topic("B30-T1"), `{"seq":42,"at":"2026-12-04T10:00:00.123Z","value":20.15` + strings.Repeat(" ", MaxPayload) + `}`, environment.RefusedMessageMalformed},
		{"garbage", Topic("B30-T1"), "\x00\x01garbage", environment.RefusedMessageMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, why := Decode(c.topic, []byte(c.body))
			if why != c.want {
				t.Fatalf("refusal %q, want %q", why, c.want)
			}
			if why == "" && (m.Sensor != "B30-T1" || m.Seq != 42 || !m.At.Equal(at) || m.Value != 20.15) {
				t.Fatalf("decoded %+v", m)
			}
		})
	}
}
