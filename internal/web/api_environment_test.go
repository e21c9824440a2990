package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/identity"
)

// telemetryToken creates a machine token of scope telemetry:write through
// the API and answers its secret.
func (e *env) telemetryToken(t *testing.T, name string) string {
	t.Helper()
	r := e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": name, "scopes": []string{"telemetry:write"}, "reason": "Gateway"})
	if r.status != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	return r.object(t)["secret"].(string)
}

// sensorBody is a new sensor's body.
func sensorBody(code, kind, place, placeID string) map[string]any {
	return map[string]any{"code": code, "name": "Sensor " + code, "kind": kind, "place": place, "place_id": placeID,
		"location": "North wall, 1.5 m", "location_since": "2026-01-05T08:00:00Z", "calibrated_on": "2026-01-02T00:00:00Z",
		"calibration_due": "2099-01-01T00:00:00Z", "decimals": 2}
}

// envCount counts the rows of a table.
func (e *env) envCount(t *testing.T, table string) int {
	t.Helper()
	n, err := e.db.Count(identity.WithActor(context.Background(), identity.System), table)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusalCounts reads the intake's counters through the API.
func (e *env) refusalCounts(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, it := range e.call(t, "admin", "GET", "/api/v1/readings/refusals", nil).items(t) {
		if it["label"] == "" || it["label"] == nil {
			t.Errorf("counter %v has no label", it)
		}
		out[it["reason"].(string)] = it["count"].(float64)
	}
	return out
}

// TestEnvironmentAPI walks environmental monitoring's API on one
// environment per database: sensors and limits (defaults from the room,
// versions, reasons, refusals in words), the bulk intake with and without
// the right token, its answers per reading, its garbage refused and
// counted with nothing stored, readings, gaps, the quarantine and the
// counters, and alarms with their trail.
func TestEnvironmentAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		var temp, part, door map[string]any
		now := time.Now().UTC().Truncate(time.Second)

		t.Run("sensors", func(t *testing.T) {
			for _, who := range []string{"admin", "operator", "client-alpha"} {
				e.token(t, who) // signed in before the counts
			}
			before := e.snapshot(t)
			got := e.call(t, "operator", "POST", "/api/v1/sensors", sensorBody("T1", "temperature", "room", e.roomB.ID)).
				wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(got.Message, "administrator") {
				t.Errorf("refusal %q does not say who may", got.Message)
			}
			e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("T1", "smell", "room", e.roomB.ID)).wantError(t, http.StatusBadRequest, "invalid", "kind")
			e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("T1", "temperature", "room", newUUID(t))).wantError(t, http.StatusBadRequest, "invalid", "place_id")
			e.unchanged(t, before)

			temp = e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("T1", "temperature", "room", e.roomB.ID)).object(t)
			part = e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("P1", "particles_0_5", "line", e.line.ID)).object(t)
			door = e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("D1", "door", "room", e.roomD.ID)).object(t)
			if temp["id"] == nil || part["id"] == nil || door["id"] == nil || temp["version"] != float64(1) {
				t.Fatalf("created %v %v %v", temp, part, door)
			}
			before = e.snapshot(t)
			e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody("T1", "humidity", "room", e.roomB.ID)).wantError(t, http.StatusBadRequest, "invalid", "code")
			e.unchanged(t, before)

			if n := len(e.call(t, "operator", "GET", "/api/v1/sensors", nil).items(t)); n != 3 {
				t.Errorf("%d sensors, want 3", n)
			}
			if items := e.call(t, "operator", "GET", "/api/v1/sensors?place_id="+e.roomB.ID, nil).items(t); len(items) != 1 || items[0]["code"] != "T1" {
				t.Errorf("sensors of room B: %v", items)
			}
			if items := e.call(t, "operator", "GET", "/api/v1/sensors?kind=door", nil).items(t); len(items) != 1 || items[0]["code"] != "D1" {
				t.Errorf("door sensors: %v", items)
			}
			e.call(t, "operator", "GET", "/api/v1/sensors?kind=smell", nil).wantError(t, http.StatusBadRequest, "invalid", "kind")
			got = e.call(t, "client-alpha", "GET", "/api/v1/sensors", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(got.Message, "site staff") {
				t.Errorf("a client's refusal %q", got.Message)
			}
			e.call(t, "client-alpha", "GET", "/api/v1/sensors/"+temp["id"].(string), nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.call(t, "operator", "GET", "/api/v1/sensors/"+newUUID(t), nil).wantError(t, http.StatusNotFound, "not_found", "")

			// Moved, with a reason, at its version.
			path := "/api/v1/sensors/" + temp["id"].(string)
			g := e.call(t, "operator", "GET", path, nil)
			if g.header.Get("ETag") != `"1"` {
				t.Errorf("ETag %q", g.header.Get("ETag"))
			}
			body := g.object(t)
			body["location"] = "South wall, by the door"
			body["location_since"] = now.Add(-time.Hour).Format(time.RFC3339)
			before = e.snapshot(t)
			e.call(t, "admin", "PUT", path, body).wantError(t, http.StatusBadRequest, "invalid", "reason")
			e.call(t, "admin", "PUT", path, withReason(body, "Moved for the new filler"), "If-Match", `"7"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
			kind := withReason(body, "x")
			kind["kind"] = "humidity"
			e.call(t, "admin", "PUT", path, kind).wantError(t, http.StatusBadRequest, "invalid", "kind")
			e.unchanged(t, before)
			up := e.call(t, "admin", "PUT", path, withReason(body, "Moved for the new filler"), "If-Match", `"1"`)
			if up.status != http.StatusOK || up.object(t)["location"] != "South wall, by the door" || up.header.Get("ETag") != `"2"` {
				t.Fatalf("update: %d %s %v", up.status, up.body, up.header)
			}
		})

		t.Run("limits", func(t *testing.T) {
			tp, pp := "/api/v1/sensors/"+temp["id"].(string)+"/limits", "/api/v1/sensors/"+part["id"].(string)+"/limits"
			// Defaults: the room's ranges; for particles on a line, its
			// room's grade (B: 3,520 at rest, 352,000 in operation).
			d := e.call(t, "operator", "GET", tp, nil).object(t)
			rest := d["at_rest"].(map[string]any)
			if d["source"] != "default" || rest["action_low"] != float64(18) || rest["action_high"] != float64(24) {
				t.Errorf("temperature defaults %v", d)
			}
			d = e.call(t, "operator", "GET", pp, nil).object(t)
			if d["source"] != "default" || d["at_rest"].(map[string]any)["action_high"] != float64(3520) ||
				d["in_operation"].(map[string]any)["action_high"] != float64(352000) {
				t.Errorf("particle defaults %v", d)
			}
			d = e.call(t, "operator", "GET", "/api/v1/sensors/"+door["id"].(string)+"/limits", nil).object(t)
			if d["source"] != "none" {
				t.Errorf("door defaults %v", d)
			}
			e.call(t, "client-alpha", "GET", tp, nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.call(t, "operator", "GET", "/api/v1/sensors/"+newUUID(t)+"/limits", nil).wantError(t, http.StatusNotFound, "not_found", "")

			lim := map[string]any{"at_rest": map[string]any{"alert_low": 19, "alert_high": 23, "action_low": 18, "action_high": 24},
				"delay_s": 0, "deadband": 0.2, "silence_s": 600, "gap_s": 0}
			before := e.snapshot(t)
			e.call(t, "operator", "PUT", tp, lim).wantError(t, http.StatusForbidden, "forbidden", "")
			bad := map[string]any{"at_rest": map[string]any{"alert_high": 25, "action_high": 24}}
			got := e.call(t, "admin", "PUT", tp, bad).wantError(t, http.StatusBadRequest, "invalid", "at_rest.alert_high")
			if !strings.Contains(got.Message, "inside") {
				t.Errorf("message %q", got.Message)
			}
			e.unchanged(t, before)
			first := e.call(t, "admin", "PUT", tp, lim)
			if first.status != http.StatusOK || first.header.Get("ETag") != `"1"` {
				t.Fatalf("first limits: %d %s", first.status, first.body)
			}
			set := e.call(t, "operator", "GET", tp, nil)
			if o := set.object(t); o["source"] != "set" || o["version"] != float64(1) || set.header.Get("ETag") != `"1"` {
				t.Errorf("limits set: %v %v", o, set.header)
			}
			lim["delay_s"] = 60
			before = e.snapshot(t)
			e.call(t, "admin", "PUT", tp, lim).wantError(t, http.StatusBadRequest, "invalid", "reason")
			e.call(t, "admin", "PUT", tp, withReason(lim, "Trend review"), "If-Match", `"9"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
			e.unchanged(t, before)
			if r := e.call(t, "admin", "PUT", tp, withReason(lim, "Trend review"), "If-Match", `"1"`); r.status != http.StatusOK || r.header.Get("ETag") != `"2"` {
				t.Fatalf("change limits: %d %s", r.status, r.body)
			}
			// The delay back at 0 for the alarm below.
			lim["delay_s"] = 0
			if r := e.call(t, "admin", "PUT", tp, withReason(lim, "Alarm at once")); r.status != http.StatusOK {
				t.Fatalf("change limits: %d %s", r.status, r.body)
			}
		})

		gateway := e.telemetryToken(t, "Gateway B30")
		send := func(body any, hdr ...string) reply {
			t.Helper()
			return e.call(t, "", "POST", "/api/v1/readings", body, append([]string{"Authorization", "Bearer " + gateway}, hdr...)...)
		}
		at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }

		t.Run("intake", func(t *testing.T) {
			batch := map[string]any{"readings": []map[string]any{{"sensor": "T1", "seq": 1, "at": at(-4 * time.Minute), "value": 20.5}}}
			before := e.envCount(t, "environment_readings")
			// A person, and a token without the scope, are refused.
			got := e.call(t, "admin", "POST", "/api/v1/readings", batch).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(got.Message, "telemetry:write") {
				t.Errorf("a person's refusal %q", got.Message)
			}
			e.call(t, "", "POST", "/api/v1/readings", batch, "Authorization", "Bearer "+e.machineSecret).wantError(t, http.StatusForbidden, "forbidden", "")
			if n := e.envCount(t, "environment_readings"); n != before {
				t.Fatalf("refused senders stored %d readings", n-before)
			}
			// The gateway's token reaches the intake and nothing else.
			e.with(t, gateway, "GET", "/api/v1/sensors", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.with(t, gateway, "POST", "/api/v1/sensors", sensorBody("T9", "temperature", "room", e.roomB.ID)).wantError(t, http.StatusForbidden, "forbidden", "")

			// Seq 1, 2 and 4: a gap at 3; each bad reading refused alone.
			r := send(map[string]any{"readings": []map[string]any{
				{"sensor": "T1", "seq": 1, "at": at(-4 * time.Minute), "value": 20.5},
				{"sensor": "T1", "seq": 2, "at": at(-3 * time.Minute), "value": 20.6},
				{"sensor": "NOPE-9", "seq": 1, "at": at(-3 * time.Minute), "value": 1},
				{"sensor": "T1", "seq": 4, "at": at(-1 * time.Minute), "value": 20.8},
				{"sensor": "T1", "seq": 5, "at": at(time.Hour), "value": 20.8},
				{"sensor": "T1", "seq": 6, "at": at(-24 * 60 * time.Hour), "value": 20.8},
				{"sensor": "T1", "at": at(-time.Minute), "value": 20.8},
				{"sensor": "D1", "seq": 1, "at": at(-time.Minute), "value": 0.5},
				{"sensor": "T1", "seq": 1, "at": at(-4 * time.Minute), "value": 20.5},
				{"sensor": "T1", "seq": 2, "at": at(-3 * time.Minute), "value": 99},
			}})
			if r.status != http.StatusOK {
				t.Fatalf("batch: %d %s", r.status, r.body)
			}
			var res struct {
				BatchID    string `json:"batch_id"`
				Received   int
				Stored     int
				Duplicates int
				Late       int
				Refused    []struct {
					Index   int
					Sensor  string
					Reason  string
					Field   string
					Message string
				}
				RefusedCounts map[string]int   `json:"refused_counts"`
				GapsOpened    []map[string]any `json:"gaps_opened"`
			}
			r.decode(t, &res)
			if res.Received != 10 || res.Stored != 3 || res.Duplicates != 1 || res.BatchID == "" {
				t.Errorf("batch answer %s", r.body)
			}
			want := map[int]string{2: "sensor_unknown", 4: "time_future", 5: "time_too_old", 6: "seq_missing", 7: "value_not_binary", 9: "seq_conflict"}
			if len(res.Refused) != len(want) {
				t.Errorf("refused %+v, want %v", res.Refused, want)
			}
			for _, x := range res.Refused {
				if want[x.Index] != x.Reason || x.Message == "" || x.Message == x.Reason {
					t.Errorf("refused reading %d: %+v, want %s in words", x.Index, x, want[x.Index])
				}
				if x.Reason == "time_future" && (x.Field != "at" || !strings.Contains(x.Message, "future")) {
					t.Errorf("future time refused as %+v", x)
				}
			}
			if res.RefusedCounts["time_future"] != 1 || res.RefusedCounts["sensor_unknown"] != 1 || len(res.RefusedCounts) != 6 {
				t.Errorf("counts %v", res.RefusedCounts)
			}
			if len(res.GapsOpened) != 1 || res.GapsOpened[0]["from"] != float64(3) || res.GapsOpened[0]["to"] != float64(3) {
				t.Errorf("gaps opened %v", res.GapsOpened)
			}
			// The batch is sealed in the audit trail.
			trail := e.call(t, "admin", "GET", "/api/v1/audit?entity=environment_reading_batch&entity_id="+res.BatchID, nil).items(t)
			if len(trail) == 0 || trail[0]["command"] != "environment_readings.append" {
				t.Errorf("seal of the batch: %v", trail)
			}

			// The gateway's buffer fills the gap; sent twice with a key,
			// applied once; sent again without, only duplicates.
			late := map[string]any{"readings": []map[string]any{{"sensor": "T1", "seq": 3, "at": at(-2 * time.Minute), "value": 20.7}}}
			key := newUUID(t)
			first := send(late, "Idempotency-Key", key)
			var lr struct {
				Stored, Late int
				GapsClosed   []map[string]any `json:"gaps_closed"`
			}
			first.decode(t, &lr)
			if lr.Stored != 1 || lr.Late != 1 || len(lr.GapsClosed) != 1 {
				t.Errorf("late reading: %s", first.body)
			}
			again := send(late, "Idempotency-Key", key)
			if again.header.Get("Idempotent-Replayed") != "true" || !sameAnswer(again.body, first.body) {
				t.Errorf("replay: %v %s", again.header, again.body)
			}
			var dup struct{ Stored, Duplicates int }
			send(late).decode(t, &dup)
			if dup.Stored != 0 || dup.Duplicates != 1 {
				t.Errorf("sent again: %+v", dup)
			}

			// Readings and gaps of the sensor.
			rp := "/api/v1/sensors/" + temp["id"].(string) + "/readings"
			if items := e.call(t, "operator", "GET", rp, nil).items(t); len(items) != 4 || items[0]["seq"] != float64(1) || items[3]["seq"] != float64(4) {
				t.Errorf("readings %v", items)
			}
			q := "?from=" + now.Add(-150*time.Second).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339) + "&limit=1"
			if items := e.call(t, "operator", "GET", rp+strings.ReplaceAll(q, "+", "%2B"), nil).items(t); len(items) != 1 || items[0]["seq"] != float64(3) {
				t.Errorf("readings of the period %v", items)
			}
			e.call(t, "operator", "GET", rp+"?limit=10001", nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
			e.call(t, "operator", "GET", rp+"?from=yesterday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
			e.call(t, "operator", "GET", rp+"?from=2026-12-04T10:00:00Z&to=2026-12-04T09:00:00Z", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
			e.call(t, "client-alpha", "GET", rp, nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.call(t, "operator", "GET", "/api/v1/sensors/"+newUUID(t)+"/readings", nil).wantError(t, http.StatusNotFound, "not_found", "")
			gaps := e.call(t, "operator", "GET", "/api/v1/sensors/"+temp["id"].(string)+"/gaps", nil).items(t)
			if len(gaps) != 1 || gaps[0]["closed"] == nil || gaps[0]["missing"] != float64(0) {
				t.Errorf("gaps %v", gaps)
			}
			if gaps := e.call(t, "operator", "GET", "/api/v1/sensors/"+door["id"].(string)+"/gaps", nil).items(t); len(gaps) != 0 {
				t.Errorf("door gaps %v", gaps)
			}

			// The quarantine and the counters: administrators only.
			qs := e.call(t, "admin", "GET", "/api/v1/readings/quarantine", nil).items(t)
			if len(qs) != 1 || qs[0]["sensor_ref"] != "NOPE-9" {
				t.Errorf("quarantine %v", qs)
			}
			e.call(t, "operator", "GET", "/api/v1/readings/quarantine", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			e.call(t, "operator", "GET", "/api/v1/readings/refusals", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			if c := e.refusalCounts(t); c["time_future"] != 1 || c["seq_conflict"] != 1 || c["message_malformed"] != 0 {
				t.Errorf("counters %v", c)
			}
		})

		t.Run("garbage", func(t *testing.T) {
			readings := e.envCount(t, "environment_readings")
			counted := e.refusalCounts(t)["message_malformed"]
			big := `{"readings":[` + strings.Repeat(`{"sensor":"T1","seq":9,"at":"`+at(-time.Second)+`","value":20.1},`, 20001)
			tooMany := big[:len(big)-1] + `]}`
			for _, c := range []struct {
				name, body string
				status     int
				field      string
			}{
				{"wrong type", `{"readings":[{"sensor":"T1","seq":"seven","at":"` + at(0) + `","value":1}]}`, 400, "readings"},
				{"value as text", `{"readings":[{"sensor":"T1","seq":7,"at":"` + at(0) + `","value":"20.1"}]}`, 400, "readings"},
				{"invalid UTF-8", "{\"readings\":[{\"sensor\":\"T\xff\xfe\",\"seq\":7,\"at\":\"" + at(0) + "\",\"value\":1}]}", 400, ""},
				{"a NUL", "{\"readings\":[{\"sensor\":\"T1\x00\",\"seq\":7,\"at\":\"" + at(0) + "\",\"value\":1}]}", 400, ""},
				{"not JSON", `readings: many`, 400, ""},
				{"unknown field", `{"readings":[],"gateway":"x"}`, 400, "gateway"},
				{"no readings", `{"readings":[]}`, 400, "readings"},
				{"a time that is no time", `{"readings":[{"sensor":"T1","seq":7,"at":"yesterday","value":1}]}`, 400, "readings"},
				{"too many readings", tooMany, 400, "readings"},
				{"huge payload", `{"readings":[` + strings.Repeat(" ", 5<<20) + `]}`, 413, ""},
			} {
				t.Run(c.name, func(t *testing.T) {
					code := "invalid"
					if c.status == 413 {
						code = "too_large"
					}
					send(c.body).wantError(t, c.status, code, c.field)
					if n := e.envCount(t, "environment_readings"); n != readings {
						t.Errorf("garbage stored %d readings", n-readings)
					}
					counted++
					if got := e.refusalCounts(t)["message_malformed"]; got != counted {
						t.Errorf("message_malformed counted %v, want %v", got, counted)
					}
				})
			}
			// An escaped NUL in a sensor's code refuses that reading alone.
			var res struct {
				Stored  int
				Refused []struct {
					Index  int
					Reason string
				}
			}
			send(`{"readings":[{"sensor":"T1\u0000","seq":7,"at":"`+at(0)+`","value":1}]}`).decode(t, &res)
			if res.Stored != 0 || len(res.Refused) != 1 || res.Refused[0].Reason != "message_malformed" {
				t.Errorf("escaped NUL: %+v", res)
			}
		})

		t.Run("alarms", func(t *testing.T) {
			// Evaluation is the alarm pipeline's: here the store records
			// what the machine found for a reading above the action limit.
			sys := identity.WithActor(context.Background(), identity.System)
			env := e.db.Environment()
			id := temp["id"].(string)
			m, err := env.Machine(sys, id)
			if err != nil {
				t.Fatal(err)
			}
			l, err := env.Limits(sys, id)
			if err != nil {
				t.Fatal(err)
			}
			events, _ := m.Step(l, environment.AtRest, &environment.Reading{SensorID: id, Seq: 10, At: now, Value: 25.3}, now)
			if len(events) == 0 {
				t.Fatal("no alarm opened above the action limit")
			}
			if err := env.RecordAlarms(sys, m, events); err != nil {
				t.Fatal(err)
			}
			items := e.call(t, "operator", "GET", "/api/v1/alarms?state=open&sensor_id="+id, nil).items(t)
			if len(items) != 1 || items[0]["open"] != true || items[0]["level"] != "action" {
				t.Fatalf("open alarms %v", items)
			}
			if msg, _ := items[0]["message_text"].(string); !strings.Contains(msg, "24") {
				t.Errorf("message %q", msg)
			}
			for q, n := range map[string]int{"place_id=" + e.roomB.ID: 1, "place_id=" + e.roomD.ID: 0, "state=ended": 0, "state=unacknowledged": 1, "": 1} {
				if got := len(e.call(t, "operator", "GET", "/api/v1/alarms?"+q, nil).items(t)); got != n {
					t.Errorf("alarms ?%s: %d, want %d", q, got, n)
				}
			}
			e.call(t, "operator", "GET", "/api/v1/alarms?state=ringing", nil).wantError(t, http.StatusBadRequest, "invalid", "state")
			e.call(t, "client-alpha", "GET", "/api/v1/alarms", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			one := e.call(t, "operator", "GET", "/api/v1/alarms/"+items[0]["id"].(string), nil).object(t)
			trail := e.call(t, "admin", "GET", one["trail"].(string), nil).items(t)
			if len(trail) == 0 || trail[0]["entity_id"] != items[0]["id"] {
				t.Errorf("the alarm's trail %s: %v", one["trail"], trail)
			}
			e.call(t, "operator", "GET", "/api/v1/alarms/"+newUUID(t), nil).wantError(t, http.StatusNotFound, "not_found", "")
			e.call(t, "client-alpha", "GET", "/api/v1/alarms/"+items[0]["id"].(string), nil).wantError(t, http.StatusForbidden, "forbidden", "")
		})
	})
}

// withReason is body with a reason added.
func withReason(body map[string]any, reason string) map[string]any {
	out := map[string]any{"reason": reason}
	for k, v := range body {
		if k != "reason" {
			out[k] = v
		}
	}
	return out
}

// environmentIdemCases are the cases of TestIdempotencyEveryWriteRoute for
// environmental monitoring's writes.
func environmentIdemCases(t *testing.T, e *env) map[string]func(t *testing.T) idemRequest {
	n := 0
	sensor := func(t *testing.T) (id, code string) {
		t.Helper()
		n++
		code = fmt.Sprintf("IDEM-T%d", n)
		r := e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody(code, "temperature", "room", e.roomB.ID))
		if r.status != http.StatusCreated {
			t.Fatalf("create sensor: %d %s", r.status, r.body)
		}
		return r.object(t)["id"].(string), code
	}
	limits := map[string]any{"at_rest": map[string]any{"action_low": 18, "action_high": 24}, "delay_s": 60, "deadband": 0.1, "silence_s": 600, "gap_s": 60}
	return map[string]func(t *testing.T) idemRequest{
		"createSensor": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/sensors", body: sensorBody("IDEM-NEW", "humidity", "room", e.roomD.ID)}
		},
		"updateSensor": func(t *testing.T) idemRequest {
			id, _ := sensor(t)
			body := e.call(t, "admin", "GET", "/api/v1/sensors/"+id, nil).object(t)
			body["name"], body["reason"] = "Renamed sensor", "Idempotency test"
			return idemRequest{who: "admin", path: "/api/v1/sensors/" + id, body: body}
		},
		"setSensorLimits": func(t *testing.T) idemRequest {
			id, _ := sensor(t)
			return idemRequest{who: "admin", path: "/api/v1/sensors/" + id + "/limits", body: limits}
		},
		"sendReadings": func(t *testing.T) idemRequest {
			_, code := sensor(t)
			at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
			return idemRequest{tok: e.telemetryToken(t, "Gateway idem "+code), path: "/api/v1/readings",
				body: map[string]any{"readings": []map[string]any{{"sensor": code, "seq": 1, "at": at, "value": 21.2}}}}
		},
	}
}

// sensorWithLimits declares a temperature sensor in room B with its
// limits set, through the API, and returns its id: the PUT walks change
// both.
func sensorWithLimits(t *testing.T, e *env, code string) string {
	t.Helper()
	r := e.call(t, "admin", "POST", "/api/v1/sensors", sensorBody(code, "temperature", "room", e.roomB.ID))
	if r.status != http.StatusCreated {
		t.Fatalf("create sensor: %d %s", r.status, r.body)
	}
	id := r.object(t)["id"].(string)
	l := map[string]any{"at_rest": map[string]any{"action_low": 18, "action_high": 24}, "delay_s": 60, "deadband": 0.1, "silence_s": 600, "gap_s": 60}
	if r := e.call(t, "admin", "PUT", "/api/v1/sensors/"+id+"/limits", l); r.status != http.StatusOK {
		t.Fatalf("set limits: %d %s", r.status, r.body)
	}
	return id
}

// exerciseEnvironment runs every write command of environmental
// monitoring for TestEveryWriteCommandIsAudited: a sensor declared and
// changed, its limits set and changed, a batch of readings sealed, and an
// alarm recorded (the alarm pipeline's command, through the store). It
// returns the sensor's id, its limits set.
func exerciseEnvironment(t *testing.T, e *env) string {
	t.Helper()
	id := sensorWithLimits(t, e, "CMD-T1")
	path := "/api/v1/sensors/" + id
	s := e.call(t, "admin", "GET", path, nil).object(t)
	s["calibrated_on"] = time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02") + "T00:00:00Z"
	if r := e.call(t, "admin", "PUT", path, withReason(s, "Recalibrated")); r.status != http.StatusOK {
		t.Fatalf("update sensor: %d %s", r.status, r.body)
	}
	l := e.call(t, "admin", "GET", path+"/limits", nil).object(t)
	l["delay_s"] = float64(120)
	if r := e.call(t, "admin", "PUT", path+"/limits", withReason(l, "Trend review")); r.status != http.StatusOK {
		t.Fatalf("change limits: %d %s", r.status, r.body)
	}
	now := time.Now().UTC()
	r := e.call(t, "", "POST", "/api/v1/readings", map[string]any{"readings": []map[string]any{
		{"sensor": "CMD-T1", "seq": 1, "at": now.Add(-time.Minute).Format(time.RFC3339Nano), "value": 21}}},
		"Authorization", "Bearer "+e.telemetryToken(t, "Gateway CMD"))
	if r.status != http.StatusOK {
		t.Fatalf("send readings: %d %s", r.status, r.body)
	}
	sys := identity.WithActor(context.Background(), identity.System)
	env := e.db.Environment()
	m, err := env.Machine(sys, id)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := env.Limits(sys, id)
	if err != nil {
		t.Fatal(err)
	}
	lim.DelayS = 0
	events, _ := m.Step(lim, environment.AtRest, &environment.Reading{SensorID: id, Seq: 2, At: now, Value: 30}, now)
	if len(events) == 0 {
		t.Fatal("no alarm opened above the action limit")
	}
	if err := env.RecordAlarms(sys, m, events); err != nil {
		t.Fatal(err)
	}
	// Left unacknowledged, it is escalated by the leader's job (no API
	// does it): an hour later, once.
	esc, err := env.EscalateAlarms(sys, 15*time.Minute, now.Add(time.Hour))
	if err != nil || len(esc) != 1 {
		t.Fatalf("escalation: %v, %d alarms", err, len(esc))
	}
	return id
}

// compactAndPurge runs the leader's compaction two hours from now, and its
// retention past GMP's minimum, on the readings sent so far.
func compactAndPurge(t *testing.T, e *env) {
	t.Helper()
	sys := identity.WithActor(context.Background(), identity.System)
	env := e.db.Environment()
	real := e.db.Now
	later := real().Add(2 * time.Hour)
	e.db.Now = func() time.Time { return later }
	defer func() { e.db.Now = real }()
	if _, err := env.RollUp(sys); err != nil {
		t.Fatal(err)
	}
	run, err := env.Compact(sys, later, 10)
	if err != nil || run.Windows == 0 {
		t.Fatalf("compaction: %+v, %v", run, err)
	}
	n, err := env.PurgeReadings(sys, environment.MinRetention, later.Add(environment.MinRetention+time.Hour))
	if err != nil || n != run.Readings {
		t.Fatalf("retention: %d readings deleted of %d compacted, %v", n, run.Readings, err)
	}
}
