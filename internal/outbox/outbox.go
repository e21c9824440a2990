// Package outbox delivers what a command did to whoever acts on it after
// the commit: the live streams of every node, later notifications. A
// command appends its events to the outbox table in its own transaction
// (the store does, DESIGN.md "Every write is one command in one
// transaction"), so an event exists if and only if its command committed;
// a Dispatcher reads them in sequence order and hands them to the
// subscribers registered by name (internal/app wires them).
//
// Domain events (store.DB.On) are another thing: they run inside the
// command's transaction, and their handler's error refuses the command.
// An outbox subscriber runs after the commit and cannot refuse anything; a
// failure is retried until it succeeds (at-least-once).
package outbox

import (
	"context"
	"encoding/json"
	"time"
)

// The topics appended so far. A topic names what happened, in the past
// tense, after the record it happened to.
const (
	// StepRecorded: a batch step was entered (its state in the payload:
	// recorded, waiting for signatures, or done).
	StepRecorded = "batch.step.recorded"
	// StepCorrected: a step's entry was changed after it was made.
	StepCorrected = "batch.step.corrected"
	// StepDone: a step's last signature was given; it is done.
	StepDone = "batch.step.done"
	// BatchMoved: a batch changed state (released, started, completed ...).
	BatchMoved = "batch.moved"
	// DeviationOpened: an exception opened a deviation.
	DeviationOpened = "deviation.opened"
	// SignatureGiven: a record was signed.
	SignatureGiven = "signature.given"
	// CertificatePublished: the qualified person certified a batch; its
	// certificate of analysis is published to the batch's client.
	CertificatePublished = "certificate.published"
	// AlarmEscalated: an environmental alarm was not acknowledged in
	// time (its sensor, kind, level, when raised and its coded message
	// in the payload).
	AlarmEscalated = "environment.alarm.escalated"
	// ClientNotified: quality assurance sent a client what its quality
	// agreement owes it for a deviation (its notification, the
	// investigation's summary).
	ClientNotified = "quality.client.notified"
	// ObligationEscalated: such an obligation is late, escalated.
	ObligationEscalated = "quality.obligation.escalated"
	// ProjectChanged: a client's project moved to its next phase.
	ProjectChanged = "project.changed"
	// ProjectEntryAdded: a milestone, objective, decision, task or
	// message was recorded in a client's project (its kind and side in
	// the payload).
	ProjectEntryAdded = "project.entry.added"
	// InfraStateChanged: a supervision check of the infrastructure found
	// its asset in another state (down, up again, a certificate near its
	// end): the asset and both states in the payload.
	InfraStateChanged = "infra.state.changed"
)

// Event is one thing a committed command did.
type Event struct {
	// Seq numbers the events in commit order, without gaps.
	Seq   int64
	At    time.Time
	Topic string
	// Entity and EntityID name the record, as the audit trail does.
	Entity   string
	EntityID string
	// ClientID is the client whose record it is, empty for the site's
	// own: a consumer serving a reader delivers only within the reader's
	// client scope.
	ClientID string
	// Payload is the topic's details, JSON.
	Payload json.RawMessage
	// Command is the command that did it (batch.step.record ...).
	Command string
}

// Store is what the dispatcher needs of the outbox's storage.
type Store interface {
	// Events returns at most limit events after seq, in order.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// Tail is the sequence of the last event appended, 0 if none.
	Tail(ctx context.Context) (int64, error)
	// Register records a durable consumer if it is new (at sequence 0,
	// so that nothing is pruned before it has it) and returns its cursor.
	Register(ctx context.Context, consumer string) (int64, error)
	// Advance moves a durable consumer's cursor to seq; never backwards.
	Advance(ctx context.Context, consumer string, seq int64) error
}
