package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
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
	must(g.t, g.dial())
}

// dial connects the gateway to the broker (again).
func (g *gateway) dial() error {
	conn, err := net.Dial("tcp", g.b.Addr())
	if err != nil {
		return err
	}
	g.cli = paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: g.id})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = g.cli.Connect(ctx, &paho.Connect{ClientID: g.id, CleanStart: true, KeepAlive: 30})
	return err
}

// publish sends one reading and returns once the broker acknowledged it.
func (g *gateway) publish(code string, seq uint64, at time.Time, value float64) {
	g.t.Helper()
	must(g.t, g.send(code, seq, at, value))
}

// send publishes one reading; it may be called from another goroutine.
func (g *gateway) send(code string, seq uint64, at time.Time, value float64) error {
	body, _ := json.Marshal(map[string]any{"seq": seq, "at": at.UTC().Format(time.RFC3339Nano), "value": value})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cli.Publish(ctx, &paho.Publish{Topic: Topic(code), QoS: 1, Payload: body}); err != nil {
		return fmt.Errorf("publish %s #%d: %w", code, seq, err)
	}
	return nil
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

// gaps returns a sensor's gaps.
func (s *testSite) gaps(t *testing.T, code string) []store.Gap {
	t.Helper()
	gs, err := s.env.Gaps(sys, s.sensors[code])
	must(t, err)
	return gs
}

// noOpenGap fails when a sensor has a gap not closed.
func (s *testSite) noOpenGap(t *testing.T, code string) {
	t.Helper()
	for _, g := range s.gaps(t, code) {
		if g.Closed.IsZero() {
			t.Errorf("%s: gap %d..%d still open", code, g.From, g.To)
		}
	}
}

// (b) Galenix is away 30 s while the sensors go on publishing; restarted,
// it stores every reading exactly once: the broker queued them in the
// node's persistent session. Meanwhile one gateway cannot reach the broker
// for 10 s and keeps its readings: sent late, after its current ones, they
// open a gap that they fill.
func TestMQTTOutage(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 5)
	b := testmqtt.New(t, testmqtt.Options{})
	m := subscribe(t, b, "node-a", &StoreSink{Env: s.env})

	// Each gateway publishes a reading of each of its sensors every
	// 100 ms until told to stop, and says the last sequence number sent.
	// While cut from the broker, it keeps them, and sends them once back,
	// after its current ones.
	stop := make(chan struct{})
	type run struct {
		last     uint64
		buffered []uint64
		err      error
	}
	gateway := func(g *gateway, sensors []string, cut, back <-chan struct{}) <-chan run {
		done := make(chan run, 1)
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			var r run
			var buffer []uint64
			away := false
			for r.err == nil {
				select {
				case <-stop:
					done <- r
					return
				case <-cut:
					cut, away = nil, true
					g.cli.Disconnect(&paho.Disconnect{})
					continue
				case <-back:
					back, away = nil, false
					r.err = g.dial()
					continue
				case <-tick.C:
				}
				r.last++
				if away {
					buffer = append(buffer, r.last)
					continue
				}
				for _, c := range sensors {
					r.err = errors.Join(r.err, g.send(c, r.last, time.Now(), 20.5))
				}
				for _, q := range buffer {
					for _, c := range sensors {
						r.err = errors.Join(r.err, g.send(c, q, time.Now().Add(time.Duration(q-r.last)*100*time.Millisecond), 20.5))
					}
				}
				r.buffered, buffer = append(r.buffered, buffer...), nil
			}
			done <- r
		}()
		return done
	}
	cut, back := make(chan struct{}), make(chan struct{})
	gw1 := gateway(newGateway(t, b, "gw-1"), codes(4), nil, nil)
	gw2 := gateway(newGateway(t, b, "gw-2"), []string{"T-05"}, cut, back)

	waitFor(t, 10*time.Second, "readings stored before the outage", func() bool { return s.stored(t) >= 25 })
	must(t, m.Stop(context.Background()))
	before := s.stored(t)
	// The outage the test is about (30 s), and the gateway's within it
	// (10 s): spans of time, not waits for a condition.
	outage := time.NewTimer(30 * time.Second)
	time.AfterFunc(5*time.Second, func() { close(cut) })
	time.AfterFunc(15*time.Second, func() { close(back) })
	<-outage.C
	if s.stored(t) != before {
		t.Fatal("readings stored while the subscriber was stopped")
	}
	subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	waitFor(t, 20*time.Second, "readings after the restart", func() bool { return s.stored(t) > before+5*300 })
	close(stop)
	r1, r2 := <-gw1, <-gw2
	if r1.err != nil || r2.err != nil {
		t.Fatalf("gateways: %v; %v", r1.err, r2.err)
	}
	if r1.last < 300 || len(r2.buffered) < 50 {
		t.Fatalf("only %d readings per sensor published, %d kept by the gateway cut off", r1.last, len(r2.buffered))
	}
	waitFor(t, 30*time.Second, "every reading stored", func() bool { return s.stored(t) >= 4*int(r1.last)+int(r2.last) })
	for _, c := range codes(4) {
		s.exactly(t, c, r1.last)
		s.noOpenGap(t, c)
	}
	s.exactly(t, "T-05", r2.last)
	gs := s.gaps(t, "T-05")
	if len(gs) != 1 || gs[0].From != r2.buffered[0] || gs[0].To != r2.buffered[len(r2.buffered)-1] || gs[0].Closed.IsZero() {
		t.Fatalf("gaps of the gateway cut off: %+v, want %d..%d, closed", gs, r2.buffered[0], r2.buffered[len(r2.buffered)-1])
	}
}

// failingSink commits part of the first batch (at most 10 readings)
// through the store, then hangs until its context ends: a node that dies
// after committing some readings and before acknowledging them, while
// others were received and not committed.
type failingSink struct {
	next      Sink
	mu        sync.Mutex
	committed int
}

func (f *failingSink) Submit(ctx context.Context, msgs []Message, refused environment.Counts) (*store.AppendResult, error) {
	f.mu.Lock()
	first := f.committed == 0
	f.committed += len(msgs)
	f.mu.Unlock()
	if first {
		if _, err := f.next.Submit(ctx, msgs[:min(10, len(msgs))], refused); err != nil {
			return nil, err
		}
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A message is acknowledged to the broker only once committed: a node
// that dies after receiving, or after committing but before acknowledging,
// loses nothing and stores nothing twice.
func TestMQTTAcknowledgesAfterCommit(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 1)
	b := testmqtt.New(t, testmqtt.Options{})
	sink := &failingSink{next: &StoreSink{Env: s.env}}
	m := subscribe(t, b, "node-a", sink)
	g := newGateway(t, b, "gw-1")
	for seq := uint64(1); seq <= 40; seq++ {
		g.publish("T-01", seq, time.Now(), 21)
	}
	waitFor(t, 10*time.Second, "a batch committed", func() bool { return s.stored(t) > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	m.Stop(ctx)
	if n := s.stored(t); n >= 40 {
		t.Fatalf("%d readings stored by the failing node: the test proves nothing", n)
	}
	store := &countingSink{next: &StoreSink{Env: s.env}}
	subscribe(t, b, "node-a", store)
	waitFor(t, 20*time.Second, "every reading stored", func() bool { return s.stored(t) >= 40 })
	s.exactly(t, "T-01", 40)
	if store.duplicates() == 0 {
		t.Error("the readings committed but not acknowledged were not sent again")
	}
}

// countingSink passes readings on and remembers which it was given, and
// the duplicates the store dropped.
type countingSink struct {
	next Sink
	mu   sync.Mutex
	seen []string
	dups int
}

func (c *countingSink) Submit(ctx context.Context, msgs []Message, refused environment.Counts) (*store.AppendResult, error) {
	res, err := c.next.Submit(ctx, msgs, refused)
	if err == nil {
		c.mu.Lock()
		for _, m := range msgs {
			c.seen = append(c.seen, fmt.Sprintf("%s/%d", m.Sensor, m.Seq))
		}
		c.dups += res.Duplicates
		c.mu.Unlock()
	}
	return res, err
}

func (c *countingSink) duplicates() int { c.mu.Lock(); defer c.mu.Unlock(); return c.dups }

func (c *countingSink) readings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// (c) A gateway that could not reach the broker sends its current
// readings, then its buffer: the gap is recorded, then closed.
func TestMQTTLateBuffer(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 1)
	b := testmqtt.New(t, testmqtt.Options{})
	subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	g := newGateway(t, b, "gw-1")
	at := time.Now().Add(-10 * time.Minute)
	send := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			g.publish("T-01", seq, at.Add(time.Duration(seq)*10*time.Second), 20)
		}
	}
	send(1, 5)
	send(11, 15)
	waitFor(t, 10*time.Second, "the readings before and after the outage", func() bool { return s.stored(t) >= 10 })
	gs := s.gaps(t, "T-01")
	if len(gs) != 1 || gs[0].From != 6 || gs[0].To != 10 || !gs[0].Closed.IsZero() {
		t.Fatalf("gaps after the outage: %+v, want 6..10 open", gs)
	}
	send(6, 10)
	waitFor(t, 10*time.Second, "the buffer stored", func() bool { return s.stored(t) >= 15 })
	s.exactly(t, "T-01", 15)
	gs = s.gaps(t, "T-01")
	if len(gs) != 1 || gs[0].Closed.IsZero() {
		t.Fatalf("gaps after the buffer: %+v, want 6..10 closed", gs)
	}
}

// (d) The broker restarts: cleanly, it keeps the messages it queued for a
// node away; killed, what galenix acknowledged is stored, what the broker
// held in memory only is lost and shows as a gap, and the gateway's buffer
// fills it.
func TestMQTTBrokerRestart(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 1)
	b := testmqtt.New(t, testmqtt.Options{AutosaveInterval: 3600})
	m := subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	g := newGateway(t, b, "gw-1")
	at := time.Now().Add(-10 * time.Minute)
	send := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			g.publish("T-01", seq, at.Add(time.Duration(seq)*10*time.Second), 20)
		}
	}
	send(1, 10)
	waitFor(t, 10*time.Second, "the first readings", func() bool { return s.stored(t) >= 10 })

	// A clean restart while galenix is away: the queued messages are
	// saved and delivered after.
	must(t, m.Stop(context.Background()))
	send(11, 20)
	must(t, b.Restart())
	g.connect()
	m = subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	waitFor(t, 20*time.Second, "the readings queued over the clean restart", func() bool { return s.stored(t) >= 20 })
	s.exactly(t, "T-01", 20)

	// A crash while galenix is away: the broker acknowledged 21..30 to
	// the gateway, but held them in memory only.
	must(t, m.Stop(context.Background()))
	send(21, 30)
	must(t, b.Kill())
	must(t, b.Restart())
	g.connect()
	subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	send(31, 31)
	waitFor(t, 20*time.Second, "the reading after the crash", func() bool { return slices.Contains(s.seqs(t, "T-01"), 31) })
	// Nothing galenix acknowledged is lost, nor stored twice (the broker
	// sends again what it had saved before).
	got := s.seqs(t, "T-01")
	if !slices.Equal(got[:20], []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}) {
		t.Fatalf("readings after the crash: %v", got)
	}
	if len(got) == 21 {
		// What the broker lost is visible: a gap of exactly those.
		gs := s.gaps(t, "T-01")
		if len(gs) != 1 || gs[0].From != 21 || gs[0].To != 30 || !gs[0].Closed.IsZero() {
			t.Fatalf("gaps after the crash: %+v, want 21..30 open", gs)
		}
	} else {
		t.Logf("the broker kept %d of the readings it held at the crash", len(got)-21)
	}
	// The gateway sends its buffer again: the gap closes.
	send(21, 30)
	waitFor(t, 20*time.Second, "the buffer stored", func() bool { return s.stored(t) >= 31 })
	s.exactly(t, "T-01", 31)
	s.noOpenGap(t, "T-01")
}

// (e) Two nodes on the shared subscription split the readings, none
// received by both.
func TestMQTTSharedSubscription(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 4)
	b := testmqtt.New(t, testmqtt.Options{})
	a, c := &countingSink{next: &StoreSink{Env: s.env}}, &countingSink{next: &StoreSink{Env: s.env}}
	subscribe(t, b, "node-a", a)
	nb := subscribe(t, b, "node-b", c)
	g := newGateway(t, b, "gw-1")
	for seq := uint64(1); seq <= 50; seq++ {
		for _, code := range codes(4) {
			g.publish(code, seq, time.Now(), 20)
		}
	}
	waitFor(t, 20*time.Second, "every reading stored", func() bool { return s.stored(t) >= 200 })
	for _, code := range codes(4) {
		s.exactly(t, code, 50)
	}
	ra, rc := a.readings(), c.readings()
	if len(ra) == 0 || len(rc) == 0 || len(ra)+len(rc) != 200 {
		t.Fatalf("node a received %d, node b %d: want both some, 200 in all", len(ra), len(rc))
	}
	for _, r := range ra {
		if slices.Contains(rc, r) {
			t.Fatalf("%s received by both nodes", r)
		}
	}

	// A node away keeps its share of the group's messages in its session
	// (mosquitto hands them to it all the same): they arrive when it
	// comes back, not before, and still once.
	must(t, nb.Stop(context.Background()))
	for seq := uint64(51); seq <= 60; seq++ {
		g.publish("T-01", seq, time.Now(), 20)
	}
	waitFor(t, 20*time.Second, "node a's share (one in two)", func() bool { return len(a.readings()) >= len(ra)+5 })
	if n := len(s.seqs(t, "T-01")); n == 60 {
		t.Fatal("node a received the share of the node away")
	}
	subscribe(t, b, "node-b", c)
	waitFor(t, 20*time.Second, "the share of the node away", func() bool { return len(s.seqs(t, "T-01")) >= 60 })
	s.exactly(t, "T-01", 60)
}

// (f) Garbage is refused alone and counted, nothing of it stored, and the
// good readings after it arrive.
func TestMQTTGarbage(t *testing.T) {
	t.Parallel()
	s := newSite(t, "", 1)
	b := testmqtt.New(t, testmqtt.Options{})
	m := subscribe(t, b, "node-a", &StoreSink{Env: s.env})
	g := newGateway(t, b, "gw-1")
	now := time.Now().UTC()
	good := func(seq uint64) string {
		return fmt.Sprintf(`{"seq":%d,"at":%q,"value":20.5}`, seq, now.Format(time.RFC3339Nano))
	}
	g.raw(Topic("T-01"), []byte(good(1)))
	for _, bad := range []struct{ topic, body string }{
		{Topic("T-01"), `{"seq":"2","at":"` + now.Format(time.RFC3339) + `","value":20.5}`},                     // wrong type
		{Topic("T-01"), `{"seq":2,"at":"` + now.Format(time.RFC3339) + `","value":true}`},                       // wrong type
		{Topic("T-01"), good(2)[:len(good(2))-1] + strings.Repeat(" ", 4*MaxPayload) + `}`},                     // oversized
		{Topic("T-01"), "{\"seq\":2,\"at\":\"" + now.Format(time.RFC3339) + "\",\"value\":\xff}"},               // invalid UTF-8
		{Topic("T-01"), `{"at":"` + now.Format(time.RFC3339) + `","value":20.5}`},                               // no sequence
		{Topic("T-01"), fmt.Sprintf(`{"seq":2,"at":%q,"value":20.5}`, now.Add(time.Hour).Format(time.RFC3339))}, // future
		{Topic("NO-SUCH-SENSOR"), good(1)},                                                                      // unknown sensor
	} {
		g.raw(bad.topic, []byte(bad.body))
	}
	for seq := uint64(2); seq <= 4; seq++ {
		g.raw(Topic("T-01"), []byte(good(seq)))
	}
	waitFor(t, 10*time.Second, "the good readings after the garbage", func() bool { return s.stored(t) >= 4 })
	s.exactly(t, "T-01", 4)
	counts, err := s.env.Refusals(sys)
	must(t, err)
	want := environment.Counts{environment.RefusedMessageMalformed: 4, environment.RefusedSeqMissing: 1,
		environment.RefusedTimeFuture: 1, environment.RefusedSensorUnknown: 1}
	for r, n := range want {
		if counts[r] != n {
			t.Errorf("refused as %s: %d, want %d (all: %v)", r, counts[r], n, counts)
		}
		if got := testutil.ToFloat64(m.refused.WithLabelValues(string(r))); got != float64(n) {
			t.Errorf("metric of refusals %s: %v, want %d", r, got, n)
		}
	}
	q, err := s.env.Quarantined(sys, 10)
	must(t, err)
	if len(q) != 1 || q[0].SensorRef != "NO-SUCH-SENSOR" {
		t.Errorf("quarantine: %+v", q)
	}
}
