package access

import (
	"context"
	"crypto/ed25519"
	"time"

	"galenix/internal/text"
)

// Event is one badge shown at a reader, as the reader decided it: numbered
// by the reader, one after the other from 1, so that the central intake
// stores each once (by reader and sequence) and sees the numbers missing.
type Event struct {
	Reader  string    `json:"reader"`
	Seq     int64     `json:"seq"`
	Badge   string    `json:"badge"`
	At      time.Time `json:"at"`
	Allow   bool      `json:"allow"`
	Rule    string    `json:"rule"`
	Flagged bool      `json:"flagged,omitempty"`
	Offline bool      `json:"offline,omitempty"`
	Policy  int64     `json:"policy"`
	// Reason is why, in the reader's words: the decision's message as a
	// coded text (its keys, access.rule.* and qualification.*, are
	// stored: never renamed).
	Reason   *text.Coded `json:"reason,omitempty"`
	WithPair string      `json:"with,omitempty"`
	// Kind is what the reader reports: a badge ("", the default), or its
	// door forced or held open (DoorForced, DoorHeld), with no badge.
	Kind string `json:"kind,omitempty"`
}

// Device is a door controller's own logic, for the readers of its doors
// (a zone's way in and way out): it holds the last policy it verified,
// decides each badge from it alone, remembers who is inside (anti-
// passback) and keeps the events galenix has not acknowledged, to send
// again until it does (offline, it keeps deciding and keeps them all).
type Device struct {
	pub    ed25519.PublicKey
	policy *Policy
	state  State
	seq    map[string]int64
	// Online says whether it reaches galenix now.
	Online  bool
	pending []Event
}

// NewDevice is a controller that trusts the site's public key.
func NewDevice(pub ed25519.PublicKey) *Device {
	return &Device{pub: pub, Online: true, seq: map[string]int64{}}
}

// Load verifies a bundle and decides from its policy from then on; a
// forged, altered or replayed bundle is refused and the policy held kept.
func (d *Device) Load(b *Bundle) error {
	var current int64
	if d.policy != nil {
		current = d.policy.Version
	}
	p, err := Open(b, d.pub, current)
	if err != nil {
		return err
	}
	d.policy = p
	return nil
}

// Resume numbers each reader's next events after the last galenix holds
// (a controller restarted, its counters restored).
func (d *Device) Resume(last map[string]int64) {
	for r, n := range last {
		d.seq[r] = max(d.seq[r], n)
	}
}

// PolicyVersion is the version of the policy held, 0 for none.
func (d *Device) PolicyVersion() int64 {
	if d.policy == nil {
		return 0
	}
	return d.policy.Version
}

// Swipe decides a badge shown at one of its readers at t and records the
// event, numbered after the reader's last. Without a policy, every entry
// is refused.
func (d *Device) Swipe(reader, badge string, at time.Time) Event {
	d.seq[reader]++
	ev := Event{Reader: reader, Seq: d.seq[reader], Badge: badge, At: at.UTC(), Offline: !d.Online}
	if d.policy == nil {
		reason := text.Coding("access.rule.no_policy")
		ev.Rule, ev.Reason = RuleReader, &reason
	} else {
		dec := d.policy.Decide(&d.state, reader, badge, at, d.Online)
		reason := text.Coding(dec.Key, dec.Args...)
		ev.Allow, ev.Rule, ev.Flagged, ev.Reason, ev.WithPair, ev.Policy = dec.Allow, dec.Rule, dec.Flagged, &reason, dec.With, d.policy.Version
	}
	d.pending = append(d.pending, ev)
	return ev
}

// Pending are the events galenix has not acknowledged, oldest first.
func (d *Device) Pending() []Event { return append([]Event(nil), d.pending...) }

// Ack forgets the events galenix stored: each reader's up to and
// including its sequence number given.
func (d *Device) Ack(stored map[string]int64) {
	kept := d.pending[:0]
	for _, ev := range d.pending {
		if ev.Seq > stored[ev.Reader] {
			kept = append(kept, ev)
		}
	}
	d.pending = kept
}

// Gap is a run of a reader's sequence numbers galenix has not received:
// events the reader decided and did not deliver yet, or lost.
type Gap struct {
	Reader string `json:"reader"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
}

// Gaps lists the runs missing from a reader's sequence numbers received
// (sorted, from 1).
func Gaps(reader string, have []int64) []Gap {
	var out []Gap
	next := int64(1)
	for _, s := range have {
		if s > next {
			out = append(out, Gap{Reader: reader, From: next, To: s - 1})
		}
		if s >= next {
			next = s + 1
		}
	}
	return out
}

// IntakeResult is what an intake of reader events did: the events
// stored, those received before (stored once), those refused (a reader
// galenix does not know), and for each reader of the batch the sequence
// number up to which it holds every event (the reader forgets them) and
// the runs still missing.
type IntakeResult struct {
	Stored     int              `json:"stored"`
	Duplicates int              `json:"duplicates"`
	Refused    int              `json:"refused"`
	Acked      map[string]int64 `json:"acked"`
	Gaps       []Gap            `json:"gaps"`
	Seal       string           `json:"seal,omitempty"`
}

// Service reads and writes site access: the zones and readers, the
// readers' policy, their events.
type Service interface {
	Zones(ctx context.Context) ([]Zone, error)
	Zone(ctx context.Context, id string) (*Zone, error)
	CreateZone(ctx context.Context, z *Zone) error
	UpdateZone(ctx context.Context, z *Zone, reason string) error
	Readers(ctx context.Context) ([]Reader, error)
	Reader(ctx context.Context, id string) (*Reader, error)
	CreateReader(ctx context.Context, r *Reader) error
	UpdateReader(ctx context.Context, r *Reader, reason string) error
	// Policy compiles the readers' policy as the site stands.
	Policy(ctx context.Context) (*Policy, error)
	// Intake stores the events readers delivered, each once.
	Intake(ctx context.Context, events []Event) (*IntakeResult, error)
	// Gaps lists the runs of events not received, by reader.
	Gaps(ctx context.Context) ([]Gap, error)
	// Presence lists who is on site now, as the readers saw them.
	Presence(ctx context.Context) ([]Presence, error)
	// Journal lists the readers' latest events, the latest first.
	Journal(ctx context.Context, f JournalFilter) ([]Record, error)
	// StartMuster begins a roll call of the people on site; CheckOff
	// checks one off; EndMuster ends it, with a reason.
	StartMuster(ctx context.Context, reason string) (*Muster, error)
	Muster(ctx context.Context, id string) (*Muster, error)
	Musters(ctx context.Context) ([]Muster, error)
	CheckOff(ctx context.Context, musterID, personID string) (*MusterLine, error)
	EndMuster(ctx context.Context, id, reason string) (*Muster, error)
	// Visits lists the visits a host or the PC Sécurité sees; Visit
	// reads one; CreateVisit pre-registers one, UpdateVisit changes it
	// with a reason; ArriveVisit hands the badge at the gate,
	// DepartVisit takes it back; CancelVisit calls one off.
	Visits(ctx context.Context) ([]Visit, error)
	Visit(ctx context.Context, id string) (*Visit, error)
	CreateVisit(ctx context.Context, v *Visit) error
	UpdateVisit(ctx context.Context, v *Visit, reason string) error
	ArriveVisit(ctx context.Context, id, badge string) (*Visit, error)
	DepartVisit(ctx context.Context, id string) (*Visit, error)
	CancelVisit(ctx context.Context, id, reason string) (*Visit, error)
}
