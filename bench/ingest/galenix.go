package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"galenix/internal/app"
	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/site"
	"galenix/internal/testmqtt"
)

var system = identity.WithActor(context.Background(), identity.System)

// node is galenix serving as `galenix serve --mqtt` does, in this process,
// on a fresh database (SQLite in dir, or PostgreSQL at dsn) holding one
// room and the benchmark's sensors.
type node struct {
	m       *app.Main
	stop    func() error
	sensors map[string]string // code → id
	token   string            // a gateway's machine token (telemetry:write)
}

// startNode opens galenix on the database, subscribed to the broker, and
// records the site, a grade C room and the sensors (not timed).
func startNode(dir, dsn, broker string, sensors int) (*node, error) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, DSN: dsn,
		MQTT: ingest.MQTTConfig{URL: broker, ClientID: "bench-ingest", SessionExpiry: time.Hour}}, nil)
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	n := &node{m: m, sensors: map[string]string{}, stop: sync.OnceValue(func() error {
		cancel()
		return errors.Join(<-done, m.Close())
	})}
	s := m.DB.Site()
	b := site.Building{Code: "B1", Name: "Bench", Role: site.RoleSterileProduction}
	r := site.Room{Code: "R1", Name: "Bench room", Grade: site.GradeC, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
	err := s.CreateSite(system, &site.Site{Code: "BEN", Name: "Bench", Timezone: "Europe/Paris"})
	if err == nil {
		err = s.CreateBuilding(system, &b)
	}
	if err == nil {
		r.BuildingID = b.ID
		err = s.CreateRoom(system, &r)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := 0; i < sensors && err == nil; i++ {
		x := &environment.Sensor{Code: code(i), Name: "Temperature", Kind: environment.KindTemperature, Place: environment.PlaceRoom,
			PlaceID: r.ID, Location: "Wall", LocationSince: today.AddDate(0, -1, 0), CalibratedOn: today.AddDate(0, -1, 0),
			CalibrationDue: today.AddDate(0, 6, 0), Decimals: 2}
		if err = m.DB.Environment().CreateSensor(system, x); err != nil {
			break
		}
		n.sensors[x.Code] = x.ID
		// The room's limits, without delay: every reading is evaluated
		// by the alarm machine, and one over 24 °C raises an alarm at once.
		l, _ := environment.RoomLimits(&r, x.Kind)
		l.SensorID = x.ID
		err = m.DB.Environment().SetLimits(system, &l, "")
	}
	if err == nil {
		n.token, err = m.DB.Identity().Admin().CreateToken(system, &identity.Token{Name: "Bench gateway",
			Scopes: []identity.TokenScope{identity.ScopeTelemetryWrite}, ExpiresAt: time.Now().Add(24 * time.Hour)}, "Benchmark")
	}
	if err != nil {
		return nil, errors.Join(err, n.stop())
	}
	return n, nil
}

// metric reads one counter of the node's /metrics (0 when absent).
func (n *node) metric(name string) (float64, error) {
	resp, err := http.Get(n.m.URL() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, sc.Err()
}

// viaMQTT publishes rs at QoS 1 from gateways connections, each with
// inflight publishes at once, and returns the readings per second counted
// from the first publish to the node's commit of the last one (its
// received counter counts a message once committed).
func viaMQTT(n *node, b *testmqtt.Broker, rs []reading, gateways, inflight int) (float64, error) {
	base, err := n.metric("galenix_ingest_mqtt_received_total")
	if err != nil {
		return 0, err
	}
	var clients []*paho.Client
	defer func() {
		for _, c := range clients {
			c.Disconnect(&paho.Disconnect{})
		}
	}()
	for g := range gateways {
		conn, err := net.Dial("tcp", b.Addr())
		if err != nil {
			return 0, err
		}
		id := fmt.Sprintf("bench-gateway-%d", g)
		c := paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: id})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30})
		cancel()
		if err != nil {
			return 0, err
		}
		clients = append(clients, c)
	}
	// Each sensor's readings go in order through one worker, each worker
	// through one gateway.
	workers := gateways * inflight
	t0 := time.Now()
	err = fanOut(workers, workers, func(w int) error {
		c := clients[w%gateways]
		for _, r := range rs {
			if r.sensor%workers != w {
				continue
			}
			body, _ := json.Marshal(map[string]any{"seq": r.seq, "at": r.at.Format(time.RFC3339Nano), "value": r.value})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := c.Publish(ctx, &paho.Publish{Topic: ingest.Topic(code(r.sensor)), QoS: 1, Payload: body})
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	want := base + float64(len(rs))
	var got float64
	if err := waitFor(func() bool {
		got, _ = n.metric("galenix_ingest_mqtt_received_total")
		return got >= want
	}, 10*time.Minute); err != nil {
		return 0, fmt.Errorf("galenix committed %.0f readings of %d: %w", got-base, len(rs), err)
	}
	return float64(len(rs)) / time.Since(t0).Seconds(), nil
}

// viaHTTP sends rs to the bulk endpoint in batches of batch readings from
// writers at once, as gateways do, each answered once committed; it
// returns the readings per second.
func viaHTTP(n *node, rs []reading, batch, writers int) (float64, error) {
	bs := batches(rs, batch)
	t0 := time.Now()
	err := fanOut(len(bs), writers, func(i int) error {
		type item struct {
			Sensor string    `json:"sensor"`
			Seq    uint64    `json:"seq"`
			At     time.Time `json:"at"`
			Value  float64   `json:"value"`
		}
		body := struct {
			Readings []item `json:"readings"`
		}{}
		for _, r := range bs[i] {
			body.Readings = append(body.Readings, item{code(r.sensor), r.seq, r.at, r.value})
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", n.m.URL()+"/api/v1/readings", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+n.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var res struct {
			Stored int `json:"stored"`
		}
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &res) != nil || res.Stored != len(bs[i]) {
			return fmt.Errorf("bulk intake: %s: %.300s", resp.Status, raw)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return float64(len(rs)) / time.Since(t0).Seconds(), nil
}

// alarmLatency publishes, on k sensors one after the other, a reading over
// the action limit, and times each from its publish until its alarm is
// recorded, as the alarm list reads it. It returns the p50 and p99.
func alarmLatency(n *node, b *testmqtt.Broker, k int, seq uint64) (p50, p99 time.Duration, err error) {
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		return 0, 0, err
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: "bench-alarms"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = c.Connect(ctx, &paho.Connect{ClientID: "bench-alarms", CleanStart: true, KeepAlive: 30})
	cancel()
	if err != nil {
		return 0, 0, err
	}
	defer c.Disconnect(&paho.Disconnect{})
	var took []time.Duration
	for i := range min(k, len(n.sensors)) {
		id := n.sensors[code(i)]
		body, _ := json.Marshal(map[string]any{"seq": seq, "at": time.Now().UTC().Format(time.RFC3339Nano), "value": 30.0})
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Publish(ctx, &paho.Publish{Topic: ingest.Topic(code(i)), QoS: 1, Payload: body})
		cancel()
		if err != nil {
			return 0, 0, err
		}
		if err := waitFor(func() bool {
			as, err := n.m.DB.Environment().Alarms(system, id, 1)
			return err == nil && len(as) > 0
		}, 30*time.Second); err != nil {
			return 0, 0, fmt.Errorf("no alarm for %s: %w", code(i), err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return took[len(took)/2], took[(len(took)*99)/100], nil
}
