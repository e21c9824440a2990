package ingest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"galenix/internal/access"
	"galenix/internal/testmqtt"
	"galenix/internal/testpg"
)

// TestMQTTAccessEvents: a badge reader publishes its events over MQTT,
// some twice, one message garbled and one naming another reader: each
// event is stored once, the bad messages refused and counted, the
// readings' intake beside them untouched; on SQLite and on PostgreSQL.
func TestMQTTAccessEvents(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			dsn := ""
			if db == "postgres" {
				dsn = testpg.DSN(t)
			}
			s := newSite(t, dsn, 1)
			acc := s.db.Access()
			z := access.Zone{Code: "SITE", Name: "Site", Kind: access.Perimeter}
			must(t, acc.CreateZone(sys, &z))
			must(t, acc.CreateReader(sys, &access.Reader{Code: "GATE", ZoneID: z.ID, Direction: access.In, Door: "Portail"}))
			b := testmqtt.New(t, testmqtt.Options{})
			m, err := NewMQTT(MQTTConfig{URL: b.URL(), ClientID: "node-a", SessionExpiry: time.Hour}, &StoreSink{Env: s.env}, nil)
			must(t, err)
			m.WithAccess(acc)
			must(t, m.Start())
			t.Cleanup(func() { m.Stop(context.Background()) })
			waitFor(t, 10*time.Second, "the subscriber subscribed", m.Subscribed)

			g := newGateway(t, b, "reader-gate")
			at := time.Now().Add(-time.Minute).UTC()
			ev := func(seq int64) access.Event {
				return access.Event{Reader: "GATE", Seq: seq, Badge: "B-1", At: at.Add(time.Duration(seq) * time.Second), Allow: true, Rule: "allowed", Policy: 1}
			}
			pub := func(topic string, evs ...access.Event) {
				body, _ := json.Marshal(evs)
				g.raw(topic, body)
			}
			pub(AccessTopicPrefix+"GATE", ev(1), ev(2), ev(3))
			pub(AccessTopicPrefix+"GATE", ev(2), ev(3), ev(4)) // sent again after a reconnect
			pub(AccessTopicPrefix+"OTHER", ev(5))              // a reader's events under another's topic
			g.raw(AccessTopicPrefix+"GATE", []byte("not json"))
			g.publish("T-01", 1, at, 20.5)
			waitFor(t, 20*time.Second, "4 events and a reading stored", func() bool {
				n, err := s.db.Count(sys, "access_events")
				return err == nil && n >= 4 && s.stored(t) >= 1
			})
			waitFor(t, 10*time.Second, "2 refused messages", func() bool { return testutil.ToFloat64(m.accessRefused) == 2 })
			if n, err := s.db.Count(sys, "access_events"); err != nil || n != 4 {
				t.Fatalf("%d events stored (%v), want 4", n, err)
			}
			gaps, err := acc.Gaps(sys)
			must(t, err)
			if len(gaps) != 0 {
				t.Errorf("gaps: %+v", gaps)
			}
		})
	}
}
