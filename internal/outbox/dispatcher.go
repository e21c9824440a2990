package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Subscriber is a consumer of the outbox, registered by name.
type Subscriber struct {
	// Name identifies the consumer; a durable consumer's cursor is kept
	// under it.
	Name string
	// Durable consumers (notifications) are delivered every event once
	// at least, across restarts and from the leading node only; their
	// cursor is stored. The others are the node's own (its live streams):
	// their cursor is in memory and starts at the outbox's tail when the
	// dispatcher starts, on every node.
	Durable bool
	// Deliver acts on one event. An error stops the consumer at that
	// event, which is delivered again after a backoff; the other
	// consumers go on. It may be called again for an event it already
	// handled (a node stopped between the delivery and the cursor's
	// advance): it must tolerate that.
	Deliver func(ctx context.Context, ev Event) error
}

// Dispatcher delivers the outbox's events to its subscribers, each in
// sequence order in a goroutine of its own.
type Dispatcher struct {
	store Store
	log   *slog.Logger
	// Leading reports whether this node leads: durable consumers are
	// delivered only while it does. nil: always (a single node).
	Leading func() bool
	// Poll is how often a consumer looks for events other nodes
	// appended; Nudge wakes it at once for this node's own.
	Poll time.Duration
	// Batch is how many events one read returns at most.
	Batch int
	// MinBackoff and MaxBackoff bound the wait before a failed delivery
	// is tried again; it doubles at each failure in a row.
	MinBackoff, MaxBackoff time.Duration

	subs    []*consumer
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// consumer is a subscriber and where it is.
type consumer struct {
	Subscriber
	cursor int64
	// wake holds at most one nudge: a nudge while the consumer is
	// reading is not lost, a thousand are one.
	wake chan struct{}
}

// The dispatcher's defaults.
const (
	DefaultPoll       = 500 * time.Millisecond
	DefaultBatch      = 100
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// New returns a dispatcher reading s, not started.
func New(s Store, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{store: s, log: log, Poll: DefaultPoll, Batch: DefaultBatch,
		MinBackoff: DefaultMinBackoff, MaxBackoff: DefaultMaxBackoff}
}

// Subscribe registers a consumer; call it before Start.
func (d *Dispatcher) Subscribe(s Subscriber) {
	if d.started {
		panic("outbox: Subscribe after Start: " + s.Name)
	}
	for _, c := range d.subs {
		if c.Name == s.Name {
			panic("outbox: two subscribers named " + s.Name)
		}
	}
	d.subs = append(d.subs, &consumer{Subscriber: s, wake: make(chan struct{}, 1)})
}

// Start places the node's own consumers at the outbox's tail and starts
// delivering. ctx carries the actor the store reads as (the system, whose
// scope is every client); cancelling it stops the dispatcher as Stop does.
func (d *Dispatcher) Start(ctx context.Context) error {
	if d.started {
		return errors.New("outbox: dispatcher started twice")
	}
	tail, err := d.store.Tail(ctx)
	if err != nil {
		return err
	}
	d.started = true
	ctx, d.cancel = context.WithCancel(ctx)
	for _, c := range d.subs {
		c.cursor = tail
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.run(ctx, c)
		}()
	}
	return nil
}

// Nudge wakes every consumer: this node has just committed events.
func (d *Dispatcher) Nudge() {
	for _, c := range d.subs {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Stop stops delivering and waits for the deliveries under way.
func (d *Dispatcher) Stop() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

// run is one consumer's loop: read what follows its cursor, deliver it,
// wait for a nudge or the next poll; after a failure, wait the backoff.
func (d *Dispatcher) run(ctx context.Context, c *consumer) {
	var failures int
	registered := false
	wait := time.Duration(0)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if failures > 0 {
			// A failing consumer waits its backoff out: nudges do not
			// hammer what is failing.
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-c.wake:
				if !t.Stop() {
					select {
					case <-t.C:
					default:
					}
				}
			}
		}
		err := error(nil)
		switch {
		case c.Durable && d.Leading != nil && !d.Leading():
			// Another node delivers it; when this one leads again, it
			// starts from the stored cursor, which the other moved on.
			registered = false
		case c.Durable && !registered:
			if c.cursor, err = d.store.Register(ctx, c.Name); err == nil {
				registered = true
				err = d.drain(ctx, c)
			}
		default:
			err = d.drain(ctx, c)
		}
		wait = d.Poll
		if err != nil && ctx.Err() == nil {
			failures++
			wait = d.backoff(failures)
			d.log.Warn("outbox: a consumer failed; trying again", "consumer", c.Name, "after", c.cursor, "in", wait, "err", err)
		} else {
			failures = 0
		}
		t.Reset(wait)
	}
}

// drain delivers every event after the consumer's cursor, moving it on
// after each success.
func (d *Dispatcher) drain(ctx context.Context, c *consumer) error {
	for {
		evs, err := d.store.Events(ctx, c.cursor, d.Batch)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := c.Deliver(ctx, ev); err != nil {
				return err
			}
			if c.Durable {
				if err := d.store.Advance(ctx, c.Name, ev.Seq); err != nil {
					return err
				}
			}
			c.cursor = ev.Seq
		}
		if len(evs) < d.Batch {
			return nil
		}
	}
}

// backoff is the wait after n failures in a row.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.MinBackoff
	for i := 1; i < n && w < d.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, d.MaxBackoff)
}
