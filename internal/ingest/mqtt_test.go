package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/testmqtt"
	"galenix/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

var sys = identity.WithActor(context.Background(), identity.System)

// site holds a database with a room and its sensors, by code.
type testSite struct {
	db      *store.DB
	env     *store.EnvironmentStore
	sensors map[string]string // code → id
}

// newSite opens a database (SQLite unless dsn is given) with n temperature
// sensors T-01, T-02... in one room.
func newSite(t *testing.T, dsn string, n int) *testSite {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir(), SecretKey: []byte("0123456789abcdef0123456789abcdef")}
	if dsn != "" {
		cfg = store.Config{DSN: dsn, SecretKey: cfg.SecretKey}
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := db.Site()
	must(t, s.CreateSite(sys, &site.Site{Code: "LYO", Name: "Lyon", Timezone: "Europe/Paris"}))
	b := site.Building{Code: "B1", Name: "Sterile production", Role: site.RoleSterileProduction}
	must(t, s.CreateBuilding(sys, &b))
	r := site.Room{BuildingID: b.ID, Code: "R-B", Name: "Filling room", Grade: site.GradeB, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
	must(t, s.CreateRoom(sys, &r))
	ts := &testSite{db: db, env: db.Environment(), sensors: map[string]string{}}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := 1; i <= n; i++ {
		x := &environment.Sensor{Code: fmt.Sprintf("T-%02d", i), Name: "Temperature", Kind: environment.KindTemperature, Place: environment.PlaceRoom,
			PlaceID: r.ID, Location: "North wall", LocationSince: today.AddDate(0, -1, 0),
			CalibratedOn: today.AddDate(0, -1, 0), CalibrationDue: today.AddDate(0, 6, 0), Decimals: 2}
		must(t, ts.env.CreateSensor(sys, x))
		ts.sensors[x.Code] = x.ID
	}
	return ts
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seqs returns a sensor's stored sequence numbers, sorted, duplicates kept.
func (s *testSite) seqs(t *testing.T, code string) []uint64 {
	t.Helper()
	rs, err := s.env.Readings(sys, s.sensors[code], time.Now().AddDate(0, 0, -1), time.Now().Add(time.Hour), 100000)
	must(t, err)
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	slices.Sort(out)
	return out
}

// stored counts the readings of every sensor.
func (s *testSite) stored(t *testing.T) int {
	n := 0
	for code := range s.sensors {
		n += len(s.seqs(t, code))
	}
	return n
}

// exactly checks that a sensor holds 1..n, each once.
func (s *testSite) exactly(t *testing.T, code string, n uint64) {
	t.Helper()
	got := s.seqs(t, code)
	if uint64(len(got)) != n {
		t.Fatalf("%s: %d readings stored, want %d (1..%d once each)", code, len(got), n, n)
	}
	for i, q := range got {
		if q != uint64(i+1) {
			t.Fatalf("%s: readings %v..., want 1..%d once each", code, got[:min(len(got), i+3)], n)
		}
	}
}

// waitFor polls cond until it holds, failing the test after the deadline.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling, with a deadline
	}
}

// subscribe starts a subscriber with the client id and stops it when the
// test ends.
func subscribe(t *testing.T, b *testmqtt.Broker, clientID string, sink Sink) *MQTT {
	t.Helper()
	m, err := NewMQTT(MQTTConfig{URL: b.URL(), ClientID: clientID, SessionExpiry: time.Hour}, sink, nil)
	must(t, err)
	must(t, m.Start())
	t.Cleanup(func() { m.Stop(context.Background()) })
	waitFor(t, 10*time.Second, "the subscriber subscribed", m.Subscribed)
	return m
}

// gateway publishes readings at QoS 1, as a site gateway does.
type gateway struct {
	t   *testing.T
	cli *paho.Client
	b   *testmqtt.Broker
	id  string
}

func newGateway(t *testing.T, b *testmqtt.Broker, id string) *gateway {
	t.Helper()
	g := &gateway{t: t, b: b, id: id}
	g.connect()
	t.Cleanup(func() { g.cli.Disconnect(&paho.Disconnect{}) })
	return g
}

func (g *gateway) connect() {
	g.t.Helper()
	conn, err := net.Dial("tcp", g.b.Addr())
	must(g.t, err)
	g.cli = paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: g.id})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cli.Connect(ctx, &paho.Connect{ClientID: g.id, CleanStart: true, KeepAlive: 30}); err != nil {
		g.t.Fatal(err)
	}
}

// publish sends one reading and returns once the broker acknowledged it.
func (g *gateway) publish(code string, seq uint64, at time.Time, value float64) {
	g.t.Helper()
	body, _ := json.Marshal(map[string]any{"seq": seq, "at": at.UTC().Format(time.RFC3339Nano), "value": value})
	g.raw(Topic(code), body)
}

func (g *gateway) raw(topic string, body []byte) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cli.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: body}); err != nil {
		g.t.Fatalf("publish %s: %v", topic, err)
	}
}

// codes lists n sensor codes.
func codes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("T-%02d", i+1)
	}
	return out
}

// (a) Readings published at QoS 1 are stored exactly once, on SQLite and
// on PostgreSQL; their refusals are none.
func TestMQTTStoresOnce(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			dsn := ""
			if db == "postgres" {
				dsn = testpg.DSN(t)
			}
			s := newSite(t, dsn, 3)
			b := testmqtt.New(t, testmqtt.Options{})
			m := subscribe(t, b, "node-a", &StoreSink{Env: s.env})
			g := newGateway(t, b, "gw-1")
			at := time.Now().Add(-time.Minute)
			for seq := uint64(1); seq <= 50; seq++ {
				for _, c := range codes(3) {
					g.publish(c, seq, at.Add(time.Duration(seq)*time.Second), 20+float64(seq%10)/10)
				}
			}
			waitFor(t, 20*time.Second, "150 readings stored", func() bool { return s.stored(t) >= 150 })
			for _, c := range codes(3) {
				s.exactly(t, c, 50)
			}
			if n := testutil.ToFloat64(m.received); n != 150 {
				t.Errorf("received counter %v, want 150", n)
			}
			if n := testutil.CollectAndCount(m.latency); n != 1 {
				t.Errorf("batch latency metric: %d series", n)
			}
		})
	}
}
