package simulate

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/store"
)

// Readers simulates the demo's badge readers: each round, a few people
// pass the gate (in when out, out when in) and, coming in, their
// building's door, each badge decided by a controller from the policy
// galenix compiles (signed with a key of the simulator's own, the demo
// having no readers' keys) and published on the readers' topics.
type Readers struct {
	dev   *access.Device
	pub   ed25519.PublicKey
	key   ed25519.PrivateKey
	in    map[string]bool
	round int
	// PerRound is how many people pass each round.
	PerRound int
}

// NewReaders is a simulation resuming each reader's numbering after the
// last event galenix holds.
func NewReaders(last map[string]int64) (*Readers, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	d := access.NewDevice(pub)
	d.Resume(last)
	return &Readers{dev: d, pub: pub, key: key, in: map[string]bool{}, PerRound: 5}, nil
}

// Round decides the passages of one round at t from policy p: the
// events to publish, by reader, those of earlier rounds not acknowledged
// first. A policy not newer than the last is kept.
func (r *Readers) Round(p *access.Policy, t time.Time) (map[string][]access.Event, error) {
	if p.Version > r.dev.PolicyVersion() {
		b, err := access.Sign(p, r.key)
		if err != nil {
			return nil, err
		}
		if err := r.dev.Load(b); err != nil {
			return nil, err
		}
	}
	gateIn, gateOut := "", ""
	doorOf := map[string]string{} // building id → its door's reader in
	zoneOf := map[string]access.Zone{}
	for _, z := range p.Zones {
		zoneOf[z.ID] = z
	}
	for _, rd := range p.Readers {
		z := zoneOf[rd.ZoneID]
		switch {
		case z.Kind == access.Perimeter && rd.Direction == access.In:
			gateIn = rd.Code
		case z.Kind == access.Perimeter:
			gateOut = rd.Code
		case z.Kind == access.Building && rd.Direction == access.In:
			doorOf[z.BuildingID] = rd.Code
		}
	}
	if gateIn == "" || gateOut == "" || len(p.Holders) == 0 {
		return nil, fmt.Errorf("the policy has no gate or no badge holder")
	}
	out := map[string][]access.Event{}
	for _, ev := range r.dev.Pending() {
		out[ev.Reader] = append(out[ev.Reader], ev)
	}
	for k := range r.PerRound {
		h := p.Holders[(r.round*r.PerRound*7+k*131)%len(p.Holders)]
		if r.in[h.Badge] {
			ev := r.dev.Swipe(gateOut, h.Badge, t)
			out[ev.Reader] = append(out[ev.Reader], ev)
			r.in[h.Badge] = false
			continue
		}
		ev := r.dev.Swipe(gateIn, h.Badge, t)
		out[ev.Reader] = append(out[ev.Reader], ev)
		r.in[h.Badge] = ev.Allow
		for _, door := range doorOf {
			// The first building's door, for the demo's simplicity.
			ev := r.dev.Swipe(door, h.Badge, t.Add(2*time.Minute))
			out[ev.Reader] = append(out[ev.Reader], ev)
			break
		}
	}
	r.round++
	return out, nil
}

// Ack forgets the events galenix received.
func (r *Readers) Ack(sent map[string][]access.Event) {
	last := map[string]int64{}
	for reader, evs := range sent {
		for _, ev := range evs {
			last[reader] = max(last[reader], ev.Seq)
		}
	}
	r.dev.Ack(last)
}

// ServeReaders publishes the demo's readers' events through the broker
// every interval until ctx is done: what "serve --demo --simulate" runs
// beside the sensors.
func ServeReaders(ctx context.Context, db *store.DB, c *MQTT, every time.Duration, log *slog.Logger) error {
	sys := identity.WithActor(ctx, identity.System)
	acc := db.Access()
	last, err := acc.LastSeqs(sys)
	if err != nil {
		return err
	}
	r, err := NewReaders(last)
	if err != nil {
		return err
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-tick.C:
			p, err := acc.Policy(sys)
			if err != nil {
				return err
			}
			evs, err := r.Round(p, t)
			if err != nil {
				return err
			}
			// Only what the broker acknowledged is forgotten: the rest goes
			// again with the next round.
			sent := map[string][]access.Event{}
			for reader, list := range evs {
				body, err := json.Marshal(list)
				if err != nil {
					return err
				}
				if _, err := c.cm.Publish(ctx, &paho.Publish{QoS: 1, Topic: ingest.AccessTopicPrefix + reader, Payload: body}); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					log.Warn("publishing reader events", "reader", reader, "err", err)
					continue
				}
				sent[reader] = list
			}
			r.Ack(sent)
		}
	}
}
