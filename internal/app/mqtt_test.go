package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"galenix/internal/app"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/testmqtt"
)

// TestServeMQTT: serve with a broker subscribes the node; a reading
// published reaches the store (here a sensor nobody declared: quarantined)
// and the intake's counters show at /metrics.
func TestServeMQTT(t *testing.T) {
	b := testmqtt.New(t, testmqtt.Options{})
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		DrainTimeout: -1, MQTT: ingest.MQTTConfig{URL: b.URL(), ClientID: "node-test"}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	gw := paho.NewClient(paho.ClientConfig{Conn: conn})
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if _, err := gw.Connect(pctx, &paho.Connect{ClientID: "gw-1", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer gw.Disconnect(&paho.Disconnect{})
	sys := identity.WithActor(context.Background(), identity.System)
	body := []byte(`{"seq":1,"at":"` + time.Now().UTC().Format(time.RFC3339) + `","value":20.5}`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Published again until it lands: the node may not have
		// subscribed yet when the first one arrives.
		if _, err := gw.Publish(pctx, &paho.Publish{Topic: ingest.Topic("UNDECLARED-1"), QoS: 1, Payload: body}); err != nil {
			t.Fatal(err)
		}
		q, err := m.DB.Environment().Quarantined(sys, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) > 0 {
			if q[0].SensorRef != "UNDECLARED-1" {
				t.Fatalf("quarantined: %+v", q[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the published reading did not reach the store within 20 s")
		}
		time.Sleep(50 * time.Millisecond) // polling, with a deadline
	}
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"galenix_ingest_mqtt_received_total", `galenix_ingest_mqtt_refused_total{reason="sensor_unknown"}`, "galenix_ingest_mqtt_connected 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
