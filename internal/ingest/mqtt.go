package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session/state"
	"github.com/prometheus/client_golang/prometheus"

	"galenix/internal/access"
	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// SharedGroup is the shared subscription's group: every galenix node of a
// site subscribes in it, and the broker hands each message to one of them.
const SharedGroup = "galenix"

// SharedTopic is the subscription of every node: all sensors' topics, in
// the shared group.
const SharedTopic = "$share/" + SharedGroup + "/" + TopicPrefix + "+"

// AccessTopicPrefix starts a badge reader's topic; the rest is the
// reader's code. A message is a JSON array of the reader's events
// (access.Event), numbered by the reader.
const AccessTopicPrefix = "galenix/v1/readers/"

// AccessSharedTopic is the subscription of every node to the readers'
// topics, in the shared group.
const AccessSharedTopic = "$share/" + SharedGroup + "/" + AccessTopicPrefix + "+"

// AccessSink commits the events badge readers publish: each stored once
// by (reader, sequence).
type AccessSink interface {
	Intake(ctx context.Context, events []access.Event) (*access.IntakeResult, error)
}

// MQTTConfig says how a node subscribes to the broker.
type MQTTConfig struct {
	// URL is the broker's: mqtt://HOST:PORT or tcp://HOST:PORT (tls:// or
	// mqtts:// for TLS with the system's authorities).
	URL string
	// ClientID names this node's session at the broker; it must stay the
	// same across restarts of the node (the broker keeps the node's
	// unacknowledged and queued messages under it) and differ between
	// nodes. Empty means "galenix-" and the host name.
	ClientID string
	// SessionExpiry is how long the broker keeps the node's session, and
	// queues its share of the messages, while the node is away. 0 means
	// 24 hours.
	SessionExpiry time.Duration
	// BatchWait is how long the first message of a batch waits for others;
	// BatchMax bounds a batch. 0 means 5 ms and 1,000.
	BatchWait time.Duration
	BatchMax  int
	// Username and Password, when the broker asks for them.
	Username string
	Password []byte
}

// MQTT subscribes to the sensors' topics and commits what it receives
// through a sink, acknowledging each message to the broker only once the
// sink has committed it: a message received but not committed when the
// node stops, or the connection drops, is sent again by the broker (the
// session is persistent), and the store drops what it stored already.
type MQTT struct {
	cfg    MQTTConfig
	url    *url.URL
	sink   Sink
	access AccessSink
	log    *slog.Logger

	received prometheus.Counter
	refused  *prometheus.CounterVec
	latency  prometheus.Histogram
	up       prometheus.Gauge

	accessRefused prometheus.Counter

	subscribed atomic.Bool

	in          chan delivery
	cm          *autopaho.ConnectionManager
	stopIntake  context.CancelFunc
	cancelWork  context.CancelFunc
	cancelConn  context.CancelFunc
	batcherDone chan struct{}
	stopOnce    sync.Once
}

// delivery is one PUBLISH as received, with the connection it came on: it
// is acknowledged on that connection, in the order received.
type delivery struct {
	pub *paho.Publish
	cli *paho.Client
}

// BrokerURL reads the broker's URL: mqtt:// or tcp:// (plain), tls:// or
// mqtts:// (TLS), a host and a port.
func BrokerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("the MQTT broker's URL %q: say mqtt://HOST:PORT", s)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "tls", "mqtts", "ssl":
	default:
		return nil, fmt.Errorf("the MQTT broker's URL %q: the scheme is mqtt, tcp, tls or mqtts", s)
	}
	return u, nil
}

// NewMQTT returns a subscriber not yet connected; Start connects it.
func NewMQTT(cfg MQTTConfig, sink Sink, log *slog.Logger) (*MQTT, error) {
	u, err := BrokerURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		host, _ := os.Hostname()
		cfg.ClientID = "galenix-" + host
	}
	if cfg.SessionExpiry <= 0 {
		cfg.SessionExpiry = 24 * time.Hour
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 5 * time.Millisecond
	}
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 1000
	}
	cfg.BatchMax = min(cfg.BatchMax, store.MaxReadingBatch)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &MQTT{cfg: cfg, url: u, sink: sink, log: log,
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "galenix_ingest_mqtt_received_total",
			Help: "MQTT messages of readings received and committed (stored, duplicates, refused alike)."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "galenix_ingest_mqtt_refused_total",
			Help: "MQTT readings refused, by reason (malformed messages, unknown sensors, times out of range...)."}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "galenix_ingest_mqtt_batch_seconds",
			Help:    "Time to commit one batch of MQTT readings, from its first message's arrival to the commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "galenix_ingest_mqtt_connected",
			Help: "1 while this node is connected to the MQTT broker, else 0."}),
	}, nil
}

// Collectors are the subscriber's metrics, for /metrics.
func (m *MQTT) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.received, m.refused, m.latency, m.up}
	if m.accessRefused != nil {
		cs = append(cs, m.accessRefused)
	}
	return cs
}

// Subscribed reports whether the subscriber is connected and the broker
// acknowledged its subscription.
func (m *MQTT) Subscribed() bool { return m.subscribed.Load() }

// receiveMaximum bounds the messages the broker sends before it has their
// acknowledgement: a few batches' worth.
func (m *MQTT) receiveMaximum() uint16 { return uint16(min(4*m.cfg.BatchMax, 65535)) }

// Start connects to the broker (retrying until Stop while it cannot) and
// commits what arrives. It returns at once.
func (m *MQTT) Start() error {
	intake, stopIntake := context.WithCancel(context.Background())
	work, cancelWork := context.WithCancel(identity.WithActor(context.Background(), identity.System))
	conn, cancelConn := context.WithCancel(context.Background())
	m.stopIntake, m.cancelWork, m.cancelConn = stopIntake, cancelWork, cancelConn
	m.in = make(chan delivery, m.receiveMaximum())
	m.batcherDone = make(chan struct{})
	rm := m.receiveMaximum()
	// (0xFFFFFFFF would be "never expires": the longest bounded one.)
	expiry := uint32(min(m.cfg.SessionExpiry/time.Second, math.MaxUint32-1))
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{m.url},
		KeepAlive:  30,
		// Never a clean start: the session the broker kept for this
		// node holds what it received while the node was away.
		CleanStartOnInitialConnection: false,
		SessionExpiryInterval:         expiry,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(250*time.Millisecond, 10*time.Second, 250*time.Millisecond, 2),
		ConnectTimeout:                10 * time.Second,
		ConnectUsername:               m.cfg.Username,
		ConnectPassword:               m.cfg.Password,
		ConnectPacketBuilder: func(c *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if c.Properties == nil {
				c.Properties = &paho.ConnectProperties{}
			}
			c.Properties.ReceiveMaximum = &rm
			return c, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ca *paho.Connack) {
			m.up.Set(1)
			m.log.Info("MQTT connected", "broker", m.url.Redacted(), "client_id", m.cfg.ClientID, "session_present", ca.SessionPresent)
			// (Again on every connection: a session the broker lost, or
			// one that expired, has no subscription.)
			go func() {
				ctx, cancel := context.WithTimeout(conn, 10*time.Second)
				defer cancel()
				subs := []paho.SubscribeOptions{{Topic: SharedTopic, QoS: 1}}
				if m.access != nil {
					subs = append(subs, paho.SubscribeOptions{Topic: AccessSharedTopic, QoS: 1})
				}
				sa, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs})
				if err == nil && (len(sa.Reasons) != len(subs) || slices.ContainsFunc(sa.Reasons, func(r byte) bool { return r != 1 })) {
					// Granted at QoS 1 only: QoS 0 would lose readings,
					// and the broker may refuse (its ACL).
					err = fmt.Errorf("the broker answered the subscription with reason codes %v (want 1, QoS 1 granted)", sa.Reasons)
				}
				switch {
				case err == nil:
					m.subscribed.Store(true)
				case intake.Err() == nil:
					m.log.Error("MQTT subscribe", "topic", SharedTopic, "err", err)
				}
			}()
		},
		OnConnectionDown: func() bool {
			m.up.Set(0)
			m.subscribed.Store(false)
			m.log.Warn("MQTT connection lost; reconnecting", "broker", m.url.Redacted())
			return true
		},
		OnConnectError: func(err error) {
			m.log.Warn("MQTT connect", "broker", m.url.Redacted(), "err", err)
		},
		ClientConfig: paho.ClientConfig{
			ClientID: m.cfg.ClientID,
			// One session state for every connection of this process:
			// the in-flight packets survive a reconnect.
			Session: state.NewInMemory(),
			// A PUBLISH is acknowledged only once committed.
			EnableManualAcknowledgment: true,
			SendAcksInterval:           ackInterval,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				select {
				case m.in <- delivery{pub: pr.Packet, cli: pr.Client}:
				case <-intake.Done():
					// Not acknowledged: the broker sends it again.
				}
				return true, nil
			}},
		},
	}
	cm, err := autopaho.NewConnection(conn, cfg)
	if err != nil {
		stopIntake()
		cancelWork()
		cancelConn()
		return err
	}
	m.cm = cm
	go func() {
		defer close(m.batcherDone)
		m.batches(intake, work)
	}()
	return nil
}

// ackInterval is how often the acknowledgements of committed messages
// leave, in the order the messages came.
const ackInterval = 5 * time.Millisecond

// Stop stops taking messages, lets the batch under way commit and its
// acknowledgements leave (until ctx is done), then disconnects; the broker
// keeps the session and sends the messages not acknowledged again at the
// next start.
func (m *MQTT) Stop(ctx context.Context) error {
	if m.cm == nil {
		return nil
	}
	var err error
	m.stopOnce.Do(func() {
		defer m.cancelConn()
		m.stopIntake()
		select {
		case <-m.batcherDone:
		case <-ctx.Done():
			m.cancelWork()
			<-m.batcherDone
		}
		m.cancelWork()
		// The last batch's acknowledgements leave at the next tick of
		// the client's acknowledger; one not sent is only a duplicate
		// at the next start.
		t := time.NewTimer(3 * ackInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = m.cm.Disconnect(dctx)
		if errors.Is(err, autopaho.ConnectionDownError) {
			err = nil
		}
		m.up.Set(0)
		m.subscribed.Store(false)
	})
	return err
}

// batches gathers the messages received into batches, commits each and
// acknowledges its messages in the order received.
func (m *MQTT) batches(intake, work context.Context) {
	batch := make([]delivery, 0, m.cfg.BatchMax)
	for {
		batch = batch[:0]
		select {
		case d := <-m.in:
			batch = append(batch, d)
		case <-intake.Done():
			return
		}
		first := time.Now()
		timer := time.NewTimer(m.cfg.BatchWait)
	gather:
		for len(batch) < m.cfg.BatchMax {
			select {
			case d := <-m.in:
				batch = append(batch, d)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		if !m.commit(work, batch) {
			return
		}
		m.latency.Observe(time.Since(first).Seconds())
		for _, d := range batch {
			// An acknowledgement for a connection since dropped goes
			// nowhere: the broker sends the message again, and the store
			// drops it as a duplicate.
			if err := d.cli.Ack(d.pub); err != nil && !errors.Is(err, paho.ErrPacketNotFound) {
				m.log.Warn("MQTT acknowledgement", "err", err)
			}
		}
	}
}

// commit decodes the batch and submits it until the sink has committed it
// or work is cancelled (false: nothing of the batch is acknowledged). A
// message that cannot be decoded is refused alone, counted in the same
// commit; the sink refuses a reading alone too (an unknown sensor, a time
// out of range), so only a sink that cannot commit (its database away)
// holds the batch, and the broker's messages wait unacknowledged.
func (m *MQTT) commit(work context.Context, batch []delivery) bool {
	msgs := make([]Message, 0, len(batch))
	refused := environment.Counts{}
	var events []access.Event
	for _, d := range batch {
		if reader, ok := strings.CutPrefix(d.pub.Topic, AccessTopicPrefix); ok && m.access != nil {
			evs, ok := decodeEvents(reader, d.pub.Payload)
			if !ok {
				m.accessRefused.Inc()
				continue
			}
			events = append(events, evs...)
			continue
		}
		msg, why := Decode(d.pub.Topic, d.pub.Payload)
		if why != "" {
			refused.Add(why)
			continue
		}
		msgs = append(msgs, msg)
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		var res *store.AppendResult
		var err error
		if len(events) > 0 {
			_, err = m.access.Intake(work, events)
			if err == nil {
				events = nil // committed: not again if the readings' commit is retried
			}
		}
		if err == nil {
			res, err = m.sink.Submit(work, msgs, refused)
		}
		if err == nil {
			m.received.Add(float64(len(batch)))
			counted := refused
			if res != nil {
				counted = res.Refused // the sink's own refusals with ours
			}
			for r, n := range counted {
				m.refused.WithLabelValues(string(r)).Add(float64(n))
			}
			return true
		}
		if work.Err() != nil {
			return false
		}
		m.log.Error("committing MQTT readings; retrying", "readings", len(msgs), "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-work.Done():
			return false
		}
	}
}

// WithAccess has the node also subscribe to the badge readers' topics and
// commit their events through sink. Call it before Start.
func (m *MQTT) WithAccess(sink AccessSink) *MQTT {
	m.access = sink
	m.accessRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "galenix_access_mqtt_refused_total",
		Help: "Badge reader messages received over MQTT that could not be read (not a JSON array of the topic's reader's events)."})
	return m
}

// maxEventsPerMessage bounds a reader's message.
const maxEventsPerMessage = 1000

// decodeEvents reads a reader's message: a JSON array of its events, each
// of the topic's reader; false when it is not.
func decodeEvents(reader string, payload []byte) ([]access.Event, bool) {
	var evs []access.Event
	if len(payload) > 1<<20 || json.Unmarshal(payload, &evs) != nil || len(evs) == 0 || len(evs) > maxEventsPerMessage {
		return nil, false
	}
	for _, ev := range evs {
		if ev.Reader != reader {
			return nil, false
		}
	}
	return evs, true
}
