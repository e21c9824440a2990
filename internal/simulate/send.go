package simulate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// Sender sends one round of readings, in the wire format of package
// ingest, and returns once they are acknowledged.
type Sender interface {
	Send(ctx context.Context, msgs []ingest.Message) error
	Close() error
}

// Run sends the model's readings as time passes, one round every step,
// each sensor's sequence numbers starting after base[i] (the last a
// database holds of it, or a number that grows with time for a sensor it
// does not know, so that two runs never reuse one). It stops when ctx is
// done or after duration (0: no end).
func Run(ctx context.Context, m *Model, base []uint64, s Sender, duration time.Duration, log *slog.Logger) error {
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	tick := time.NewTicker(m.step())
	defer tick.Stop()
	sent := 0
	for n := int64(0); ; n++ {
		msgs := m.Round(n, base)
		if err := s.Send(ctx, msgs); err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		sent += len(msgs)
		if n%10 == 0 && log != nil {
			log.Info("readings sent", "round", n+1, "readings", sent, "sensors", len(m.Specs))
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	if log != nil {
		log.Info("simulation stopped", "readings", sent)
	}
	return nil
}

// Round is the n-th round of readings of every sensor not silent, as
// messages, each sequence number after the sensor's base.
func (m *Model) Round(n int64, base []uint64) []ingest.Message {
	out := make([]ingest.Message, 0, len(m.Specs))
	for i := range m.Specs {
		r, ok := m.At(i, n)
		if !ok {
			continue
		}
		var b uint64
		if i < len(base) {
			b = base[i]
		}
		out = append(out, ingest.Message{Sensor: m.Specs[i].Code, Seq: b + r.Seq, At: r.At, Value: r.Value})
	}
	return out
}

// TimeBase is the sequence base of a sensor no database knows: the
// steps elapsed since 2020 at the step given, so that a sensor's numbers
// keep growing from one run to the next.
func TimeBase(now time.Time, step time.Duration) uint64 {
	epoch := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if step <= 0 || now.Before(epoch) {
		return 0
	}
	return uint64(now.Sub(epoch) / step)
}

// Synthesize makes n sensors' specs: rooms of six sensors each (grade B
// clean rooms: temperature, humidity, differential pressure, particles at
// both sizes, a door), coded SIM-R0001-T1 and on.
func Synthesize(n int) []Spec {
	out := make([]Spec, 0, n)
	for r := 1; len(out) < n; r++ {
		room := fmt.Sprintf("SIM-R%04d", r)
		for _, s := range []Spec{
			{Code: room + "-T1", Kind: environment.KindTemperature, Decimals: 2, Low: 18, High: 22},
			{Code: room + "-H1", Kind: environment.KindHumidity, Decimals: 1, Low: 35, High: 55},
			{Code: room + "-DP1", Kind: environment.KindPressureDiff, Decimals: 1, Low: 15, High: 45},
			{Code: room + "-PA1", Kind: environment.KindParticles05, High: 3520, OpHigh: 352000},
			{Code: room + "-PB1", Kind: environment.KindParticles5, High: 29, OpHigh: 2930},
			{Code: room + "-D1", Kind: environment.KindDoor},
		} {
			if len(out) == n {
				break
			}
			s.Room = room
			out = append(out, s)
		}
	}
	return out
}

// SpecOf is the model of a sensor recorded in galenix, from its limits:
// temperature and humidity swing inside their action limits, the
// pressure holds above its low limit, particle counts stay below their
// limits at rest and in operation. room names its place.
func SpecOf(s *environment.Sensor, l *environment.Limits) Spec {
	sp := Spec{Code: s.Code, Room: s.PlaceID, Kind: s.Kind, Decimals: s.Decimals}
	t := l.AtRest
	get := func(p *float64, def float64) float64 {
		if p == nil {
			return def
		}
		return *p
	}
	switch s.Kind {
	case environment.KindTemperature:
		sp.Low, sp.High = get(t.ActionLow, 18), get(t.ActionHigh, 25)
	case environment.KindHumidity:
		sp.Low, sp.High = get(t.ActionLow, 30), get(t.ActionHigh, 60)
	case environment.KindPressureDiff:
		sp.Low = get(t.ActionLow, 10)
		sp.High = sp.Low + 30
	case environment.KindParticles05, environment.KindParticles5:
		sp.High = get(t.ActionHigh, 29)
		sp.OpHigh = get(l.For(environment.InOperation).ActionHigh, sp.High)
	}
	if sp.High <= sp.Low && s.Kind != environment.KindDoor {
		sp.High = sp.Low + 1
	}
	return sp
}

// Known is what galenix knows of the sensors simulated: their models
// from their limits (SpecOf), their sequence bases (the last number
// received of each), and which of their places are in operation.
type Known struct {
	Specs []Spec
	Base  []uint64
	// Operating: the places (rooms, lines) with a batch in progress when
	// read, a grade A zone's background room included.
	Operating map[string]bool
}

// FromStore reads the sensors galenix knows, at most limit (0: all).
func FromStore(ctx context.Context, db *store.DB, limit int) (*Known, error) {
	ctx = identity.WithActor(ctx, identity.System)
	env := db.Environment()
	sensors, err := env.Sensors(ctx, "")
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(sensors) > limit {
		sensors = sensors[:limit]
	}
	k := &Known{Operating: map[string]bool{}}
	for i := range sensors {
		s := &sensors[i]
		l, err := env.Limits(ctx, s.ID)
		if errs.Is(err, errs.NotFound) {
			l, err = &environment.Limits{}, nil
		}
		if err != nil {
			return nil, err
		}
		t, err := env.Tracker(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		k.Specs, k.Base = append(k.Specs, SpecOf(s, l)), append(k.Base, t.High)
	}
	// The batch record decides: a batch in progress on a line holds the
	// line and its room in operation, and the room a grade A zone stands in.
	batches, err := db.Production().Batches(ctx, production.BatchFilter{States: []production.BatchState{production.BatchInProgress}})
	if err != nil {
		return nil, err
	}
	lines, err := db.Site().Lines(ctx, site.LineFilter{})
	if err != nil {
		return nil, err
	}
	rooms, err := db.Site().Rooms(ctx, site.RoomFilter{})
	if err != nil {
		return nil, err
	}
	room := map[string]site.Room{}
	for _, r := range rooms {
		room[r.ID] = r
	}
	line := map[string]site.Line{}
	for _, ln := range lines {
		line[ln.ID] = ln
	}
	for _, b := range batches {
		ln, ok := line[b.LineID]
		if !ok {
			continue
		}
		k.Operating[ln.ID], k.Operating[ln.RoomID] = true, true
		if z := room[ln.RoomID]; z.Grade == site.GradeA && z.CascadesTo != "" {
			k.Operating[z.CascadesTo] = true
		}
	}
	return k, nil
}

// Site is the model of a site's sensors from now on, one reading every
// step: the sensors known (specs, with their sequence bases), completed by
// synthesized ones up to want (0: those known only), the last of them
// going silent after a quarter of an hour.
func Site(specs []Spec, base []uint64, want int, seed uint64, now time.Time, step time.Duration) (*Model, []uint64) {
	if want > 0 && len(specs) > want {
		specs, base = specs[:want], base[:want]
	}
	if extra := want - len(specs); extra > 0 {
		tb := TimeBase(now, step)
		for _, s := range Synthesize(extra) {
			specs, base = append(specs, s), append(base, tb)
		}
	}
	m := &Model{Seed: seed, Specs: specs, Start: now, Step: step}
	if len(specs) > 0 {
		m.Silent = map[int]time.Time{len(specs) - 1: now.Add(15 * time.Minute)}
	}
	return m, base
}

// Serve publishes the readings of the sensors of db through the broker
// until ctx is done: what "serve --demo" runs when asked to simulate.
func Serve(ctx context.Context, db *store.DB, broker string, step time.Duration, log *slog.Logger) error {
	k, err := FromStore(ctx, db, 0)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(step)
	m, base := Site(k.Specs, k.Base, 0, 1, now, step)
	m.InOperation = k.Operation()
	if len(m.Specs) == 0 {
		return errors.New("no sensor to simulate")
	}
	s, err := DialMQTT(ctx, broker, 30*time.Second, log)
	if err != nil {
		return err
	}
	defer s.Close()
	// The badge readers too, a round every 30 seconds.
	go func() {
		if err := ServeReaders(ctx, db, s, 30*time.Second, log); err != nil && ctx.Err() == nil {
			log.Error("the badge readers' simulator stopped", "err", err)
		}
	}()
	return Run(ctx, m, base, s, 0, log)
}

// Operation is the Model.InOperation of the sensors known and others: a
// place galenix knows is in operation when a batch was in progress there
// when read (the batch record decides); another follows DefaultOperation.
func (k *Known) Operation() func(string, time.Time) bool {
	places := map[string]bool{}
	for _, s := range k.Specs {
		places[s.Room] = true
	}
	return func(room string, t time.Time) bool {
		if places[room] {
			return k.Operating[room]
		}
		return DefaultOperation(room, t)
	}
}

// --- MQTT

// MQTT publishes each reading on its sensor's topic at QoS 1.
type MQTT struct {
	cm *autopaho.ConnectionManager
	// Workers publish at once, each waiting for its acknowledgement.
	Workers int
}

// DialMQTT connects to the broker (tcp://HOST:PORT, mqtt://, or tls://)
// and waits for the connection, at most timeout.
func DialMQTT(ctx context.Context, broker string, timeout time.Duration, log *slog.Logger) (*MQTT, error) {
	u, err := url.Parse(broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--broker %q: give the broker's URL, as tcp://127.0.0.1:1883", broker)
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("galenix-simulate-%s-%d", host, os.Getpid())
	if len(id) > 64 {
		id = id[:64]
	}
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true, ConnectTimeout: timeout,
		OnConnectError: func(err error) {
			if log != nil {
				log.Warn("connecting to the broker", "broker", broker, "err", err)
			}
		},
		ClientConfig: paho.ClientConfig{ClientID: id},
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cm.AwaitConnection(wait); err != nil {
		cm.Disconnect(context.Background())
		return nil, fmt.Errorf("no connection to the broker %s within %s: %w", broker, timeout, err)
	}
	return &MQTT{cm: cm, Workers: 32}, nil
}

// Send publishes the messages at QoS 1 and returns once the broker
// acknowledged every one; a message whose publication fails is published
// again once the connection is back, so that none is lost.
func (c *MQTT) Send(ctx context.Context, msgs []ingest.Message) error {
	jobs := make(chan ingest.Message)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range max(1, c.Workers) {
		wg.Go(func() {
			for m := range jobs {
				if err := c.publish(ctx, m); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range msgs {
		select {
		case jobs <- m:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func (c *MQTT) publish(ctx context.Context, m ingest.Message) error {
	body, err := Payload(m)
	if err != nil {
		return err
	}
	for {
		res, err := c.cm.Publish(ctx, &paho.Publish{QoS: 1, Topic: ingest.Topic(m.Sensor), Payload: body})
		switch {
		case err == nil && res != nil && res.ReasonCode >= 0x80:
			return fmt.Errorf("the broker refused %s seq %d: reason %#x", m.Sensor, m.Seq, res.ReasonCode)
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		// The connection dropped: publish again once it is back.
		if err := c.cm.AwaitConnection(ctx); err != nil {
			return err
		}
	}
}

// Payload is the MQTT message of a reading: {"seq", "at", "value"}.
func Payload(m ingest.Message) ([]byte, error) {
	return json.Marshal(struct {
		Seq   uint64    `json:"seq"`
		At    time.Time `json:"at"`
		Value float64   `json:"value"`
	}{m.Seq, m.At.UTC(), m.Value})
}

// Close disconnects from the broker.
func (c *MQTT) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.cm.Disconnect(ctx)
}

// --- HTTP

// HTTP sends the readings in bulk to galenix's POST /api/v1/readings, with
// a machine token of the telemetry scope: for sites without a broker.
type HTTP struct {
	URL    string
	Token  string
	Client *http.Client
	// Retry is how long a batch is sent again while galenix does not
	// answer or answers 5xx (0: one minute).
	Retry time.Duration
}

// NewHTTP checks the address and token: base is galenix's address
// (http[s]://HOST[:PORT]), or the endpoint's whole URL.
func NewHTTP(base, token string) (*HTTP, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--http %q: give galenix's address, as https://galenix.example:8443", base)
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("--http needs --token: a machine token with the telemetry scope (Administration, tokens)")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/v1/readings"
	}
	return &HTTP{URL: u.String(), Token: token, Client: &http.Client{Timeout: 60 * time.Second}}, nil
}

// Send posts the messages in batches of at most store.MaxReadingBatch,
// each with its own idempotency key, sent again with the same key after a
// failure of the network or of the server.
func (h *HTTP) Send(ctx context.Context, msgs []ingest.Message) error {
	for start := 0; start < len(msgs); start += store.MaxReadingBatch {
		if err := h.post(ctx, msgs[start:min(start+store.MaxReadingBatch, len(msgs))]); err != nil {
			return err
		}
	}
	return nil
}

func (h *HTTP) post(ctx context.Context, msgs []ingest.Message) error {
	body, err := json.Marshal(struct {
		Readings []ingest.Message `json:"readings"`
	}{msgs})
	if err != nil {
		return err
	}
	key := make([]byte, 16)
	rand.Read(key)
	retry := h.Retry
	if retry <= 0 {
		retry = time.Minute
	}
	deadline := time.Now().Add(retry)
	wait := 250 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.Token)
		req.Header.Set("Idempotency-Key", hex.EncodeToString(key))
		res, err := h.Client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
			res.Body.Close()
			switch {
			case res.StatusCode < 300:
				return nil
			case res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests:
				return fmt.Errorf("galenix refused the readings (%s): %s", res.Status, strings.TrimSpace(string(msg)))
			}
			err = fmt.Errorf("galenix answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sending readings to %s: %w", h.URL, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Close does nothing: HTTP keeps no connection to end.
func (h *HTTP) Close() error { return nil }
