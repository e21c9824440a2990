// Package ingest takes sensor readings in, by MQTT and by HTTP, and hands
// them to one sink that commits them (store.EnvironmentStore.AppendReadings)
// and evaluates their alarms. It decodes and refuses; it decides nothing
// the environment package decides, and speaks no SQL.
//
// The wire format, which gateways, the simulator and the benchmark share:
//
//   - MQTT topic: TopicPrefix + the sensor's code, e.g.
//     "galenix/v1/sensors/B30-R12-T1", published at QoS 1.
//   - MQTT payload: one JSON object {"seq": 42, "at": "2026-12-04T10:00:00.123Z",
//     "value": 20.15}; seq counts from 1 per sensor, at is RFC 3339 with
//     its offset.
//   - HTTP bulk body: {"readings": [{"sensor": "B30-R12-T1", "seq": 42,
//     "at": "...", "value": 20.15}, ...]}, at most store.MaxReadingBatch.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TopicPrefix starts every sensor's topic; the rest is the sensor's code.
const TopicPrefix = "galenix/v1/sensors/"

// MaxPayload bounds one MQTT message, in bytes: a reading is under 100.
const MaxPayload = 1024

// Topic is the MQTT topic a sensor publishes on.
func Topic(code string) string { return TopicPrefix + code }

// Message is one reading as a sender names it: its sensor by code (or
// id), its own sequence number and time, and the value.
type Message struct {
	Sensor string    `json:"sensor"`
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Value  float64   `json:"value"`
}

// payload is the MQTT message's body: the sensor is the topic's.
type payload struct {
	Seq   *uint64    `json:"seq"`
	At    *time.Time `json:"at"`
	Value *float64   `json:"value"`
}

// Decode reads an MQTT message: its sensor from the topic, the rest from
// the payload. A message it cannot read is refused as malformed (wrong
// types, unknown fields, invalid UTF-8, oversized, a missing field), alone.
func Decode(topic string, body []byte) (Message, environment.Refusal) {
	code, ok := strings.CutPrefix(topic, TopicPrefix)
	if !ok || code == "" || strings.Contains(code, "/") || !utf8.ValidString(code) {
		return Message{}, environment.RefusedMessageMalformed
	}
	if len(body) > MaxPayload || !utf8.Valid(body) {
		return Message{Sensor: code}, environment.RefusedMessageMalformed
	}
	var p payload
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil || d.More() {
		return Message{Sensor: code}, environment.RefusedMessageMalformed
	}
	m := Message{Sensor: code}
	switch {
	case p.Seq == nil:
		return m, environment.RefusedSeqMissing
	case p.At == nil:
		return m, environment.RefusedTimeMissing
	case p.Value == nil:
		return m, environment.RefusedMessageMalformed
	}
	m.Seq, m.At, m.Value = *p.Seq, *p.At, *p.Value
	return m, ""
}

// Sink takes decoded readings in: it commits them and answers only once
// they are durable, with what it did. refused counts the messages the
// caller could not decode, added to the intake's counters in the same
// commit.
type Sink interface {
	Submit(ctx context.Context, msgs []Message, refused environment.Counts) (*store.AppendResult, error)
}

// StoreSink commits readings through the store, naming each sensor by its
// id from its code (a code it does not know is passed on as it is, and
// the store quarantines the reading as of an unknown sensor). It does not
// evaluate alarms.
type StoreSink struct {
	Env *store.EnvironmentStore

	mu    sync.Mutex
	codes map[string]string
	read  time.Time
}

// refreshEvery bounds how often an unknown code reads the sensors again:
// a flood of unknown topics costs one read per period, not one each.
const refreshEvery = 5 * time.Second

// Submit commits msgs under the context's actor (the system, or a machine
// token with the telemetry scope).
func (s *StoreSink) Submit(ctx context.Context, msgs []Message, refused environment.Counts) (*store.AppendResult, error) {
	rs := make([]environment.Reading, len(msgs))
	for i, m := range msgs {
		id, err := s.resolve(ctx, m.Sensor)
		if err != nil {
			return nil, err
		}
		rs[i] = environment.Reading{SensorID: id, Seq: m.Seq, At: m.At, Value: m.Value}
	}
	return s.Env.AppendReadings(ctx, rs, refused)
}

// resolve names a sensor by its id: a code known is looked up (the list
// read again once when a code is missing, as when a sensor was added);
// anything else is passed on as it is.
func (s *StoreSink) resolve(ctx context.Context, ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.codes[ref]; ok {
		return id, nil
	}
	if s.codes != nil && time.Since(s.read) < refreshEvery {
		return ref, nil
	}
	// The codes are the intake's own lookup: read as galenix itself, a
	// machine token holding no right to list the sensors.
	sensors, err := s.Env.Sensors(identity.WithActor(ctx, identity.System), "")
	if err != nil {
		return "", err
	}
	s.codes, s.read = make(map[string]string, len(sensors)), time.Now()
	for _, x := range sensors {
		s.codes[x.Code] = x.ID
	}
	if id, ok := s.codes[ref]; ok {
		return id, nil
	}
	return ref, nil
}
