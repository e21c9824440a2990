package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// The outbox (DESIGN.md): a command appends what must be acted on after
// its commit (outbox.Event) in its own transaction, beside its audit
// entries; a rolled-back command leaves none. The writes people watch live
// call tx.enqueue where they persist what changed; run writes the events
// last thing before the commit (flushOutbox) and, once committed, nudges
// this node's dispatcher (OutboxStore.OnAppend). internal/outbox reads
// them through OutboxStore.

// appended are the callbacks told that this node committed events.
type appended struct {
	mu sync.RWMutex
	fs []func()
}

// enqueue appends an event to the command's outbox, written when the
// command commits. A history load appends none: it is the past, not news.
func (tx *Tx) enqueue(topic, entity, entityID, clientID string, payload map[string]any) {
	if tx.history {
		return
	}
	tx.outbox = append(tx.outbox, pendingEvent{topic: topic, entity: entity, entityID: entityID, clientID: clientID, payload: payload})
}

// The events of the writes people watch live, one helper per kind of
// record, called where the write persists what changed.

// enqueueStep appends a step's entry or correction (persistStep).
func (tx *Tx) enqueueStep(b *production.Batch, out *production.StepOutcome) {
	topic := outbox.StepCorrected
	if out.Before.State == production.StepPending {
		topic = outbox.StepRecorded
	}
	r := &out.Step
	tx.enqueue(topic, stepTable.entity, r.ID, r.ClientID, map[string]any{"batch_id": b.ID, "lot": b.Lot, "state": r.State, "exception": r.Exception})
}

// enqueueStepDone appends a step done by its last signature (markDone).
func (tx *Tx) enqueueStepDone(r *production.StepRecord) {
	tx.enqueue(outbox.StepDone, stepTable.entity, r.ID, r.ClientID, map[string]any{"batch_id": r.BatchID, "state": production.StepDone})
}

// enqueueBatch appends a batch's change of state (saveBatch); a change of
// its other fields (its slot) is none.
func (tx *Tx) enqueueBatch(old, b *production.Batch) {
	if old.State == b.State {
		return
	}
	tx.enqueue(outbox.BatchMoved, batchTable.entity, b.ID, b.ClientID, map[string]any{"lot": b.Lot, "from": old.State, "to": b.State})
}

// enqueueDeviation appends a deviation opened (openDeviation).
func (tx *Tx) enqueueDeviation(d *production.Deviation) {
	tx.enqueue(outbox.DeviationOpened, devTable.entity, d.ID, d.ClientID, map[string]any{"code": d.Code, "batch_id": d.BatchID, "step_id": d.StepID})
}

// enqueueSignature appends a signature given (signature.go, with the
// domain event SignatureGiven).
func (tx *Tx) enqueueSignature(sig *esign.Signature) {
	tx.enqueue(outbox.SignatureGiven, sig.Entity, sig.EntityID, sig.ClientID, map[string]any{"signature_id": sig.ID, "meaning": sig.Meaning})
}

// enqueueCertificate appends a certificate published to the batch's client
// (certify): its users are told live.
func (tx *Tx) enqueueCertificate(c *quality.Certification) {
	tx.enqueue(outbox.CertificatePublished, certificationTable.entity, c.ID, c.ClientID,
		map[string]any{"batch_id": c.BatchID, "lot": c.Lot, "certificate": c.Certificate})
}

// pendingEvent is an event of the command not written yet.
type pendingEvent struct {
	topic, entity, entityID, clientID string
	payload                           map[string]any
}

// flushOutbox numbers the command's events and writes them. It locks the
// outbox's head until the commit, so that events are numbered in commit
// order without gaps: a reader that has seen event n has seen every event
// before it (a database sequence would not do: of two transactions the
// later number may commit first, and a reader past it would skip the
// other for good). Writers already queue on the audit chain's head here;
// this lock is taken after it, always in that order.
func (tx *Tx) flushOutbox() error {
	if len(tx.outbox) == 0 {
		return nil
	}
	q := `SELECT seq FROM outbox_head WHERE id = 1`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var seq int64
	if err := tx.queryRow(q).Scan(&seq); err != nil {
		return fmt.Errorf("reading the head of the outbox: %w", err)
	}
	for _, e := range tx.outbox {
		payload, err := json.Marshal(e.payload)
		if err != nil {
			return fmt.Errorf("outbox payload of %s: %w", e.topic, err)
		}
		seq++
		if _, err := tx.exec(`INSERT INTO outbox (seq, at, topic, entity, entity_id, client_id, payload, command) VALUES (?,?,?,?,?,?,?,?)`,
			seq, tx.now, e.topic, e.entity, e.entityID, nullable(e.clientID), string(payload), tx.command); err != nil {
			return err
		}
	}
	_, err := tx.exec(`UPDATE outbox_head SET seq = ? WHERE id = 1`, seq)
	return err
}

// outboxAppended tells the callbacks that this node committed events.
func (db *DB) outboxAppended() {
	db.appended.mu.RLock()
	defer db.appended.mu.RUnlock()
	for _, f := range db.appended.fs {
		f()
	}
}

// OutboxStore reads the outbox and keeps its durable consumers' cursors
// (outbox.Store).
type OutboxStore struct{ db *DB }

// Outbox returns the outbox's storage.
func (db *DB) Outbox() *OutboxStore { return &OutboxStore{db: db} }

var _ outbox.Store = (*OutboxStore)(nil)

// OnAppend calls f after each commit of this node that appended events,
// after the commit: the dispatcher's nudge, so that this node's consumers
// need not wait for their next poll. f must not block.
func (s *OutboxStore) OnAppend(f func()) {
	s.db.appended.mu.Lock()
	defer s.db.appended.mu.Unlock()
	s.db.appended.fs = append(s.db.appended.fs, f)
}

// Events returns at most limit events after seq, in order, of the clients
// in the actor's scope (the site's own events: for staff). The dispatcher
// reads as the system, which sees them all.
func (s *OutboxStore) Events(ctx context.Context, after int64, limit int) ([]outbox.Event, error) {
	if limit <= 0 {
		limit = outbox.DefaultBatch
	}
	var out []outbox.Event
	err := s.db.Read(ctx, func(tx *Tx) error {
		cond, args := inScope("client_id", tx.actor.ClientScope())
		if isStaff(tx.actor) {
			cond = "(" + cond + " OR client_id IS NULL)"
		}
		var err error
		out, err = collect(tx, `SELECT seq, at, topic, entity, entity_id, COALESCE(client_id, ''), payload, command FROM outbox
			WHERE seq > ? AND `+cond+` ORDER BY seq LIMIT ?`, append(append([]any{after}, args...), limit), scanOutboxEvent)
		return err
	})
	return out, err
}

// Recent returns the last limit events of the topics, newest first, of
// the clients in the actor's scope (a client's user: its own; the site's
// own events are not among them): the notices of a client's space.
func (s *OutboxStore) Recent(ctx context.Context, topics []string, limit int) ([]outbox.Event, error) {
	if limit <= 0 || limit > outbox.DefaultBatch {
		limit = outbox.DefaultBatch
	}
	if len(topics) == 0 {
		return []outbox.Event{}, nil
	}
	var out []outbox.Event
	err := s.db.Read(ctx, func(tx *Tx) error {
		cond, args := inScope("client_id", tx.actor.ClientScope())
		for _, t := range topics {
			args = append(args, t)
		}
		var err error
		out, err = collect(tx, `SELECT seq, at, topic, entity, entity_id, COALESCE(client_id, ''), payload, command FROM outbox
			WHERE client_id IS NOT NULL AND `+cond+` AND topic IN (?`+strings.Repeat(", ?", len(topics)-1)+`) ORDER BY seq DESC LIMIT ?`,
			append(args, limit), scanOutboxEvent)
		return err
	})
	if out == nil {
		out = []outbox.Event{}
	}
	return out, err
}

// scanOutboxEvent reads an event of the outbox.
func scanOutboxEvent(sc scanner, e *outbox.Event) error {
	var payload string
	if err := sc.Scan(&e.Seq, &e.At, &e.Topic, &e.Entity, &e.EntityID, &e.ClientID, &payload, &e.Command); err != nil {
		return err
	}
	e.At = e.At.UTC()
	e.Payload = json.RawMessage(payload)
	return nil
}

// Tail is the sequence of the last event appended, 0 if none.
func (s *OutboxStore) Tail(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT seq FROM outbox_head WHERE id = 1`).Scan(&seq)
	})
	return seq, err
}

// systemOnly refuses the keeping of cursors and the pruning to any actor
// but the system: they are the dispatcher's.
func systemOnly(tx *Tx, what string) error {
	if !tx.actor.IsSystem() {
		return errs.Wrap(errors.New(what+" by another than the system"), what)
	}
	return nil
}

// Register records a durable consumer if it is new, at sequence 0 (so
// that pruning keeps every event until it has had it), and returns its
// cursor.
func (s *OutboxStore) Register(ctx context.Context, consumer string) (int64, error) {
	var seq int64
	err := s.db.Write(ctx, "outbox.register", "", func(tx *Tx) error {
		if err := systemOnly(tx, "outbox.register"); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO outbox_cursors (consumer, seq, updated_at) VALUES (?, 0, ?) ON CONFLICT (consumer) DO NOTHING`,
			consumer, tx.now); err != nil {
			return err
		}
		return tx.queryRow(`SELECT seq FROM outbox_cursors WHERE consumer = ?`, consumer).Scan(&seq)
	})
	return seq, err
}

// Advance moves a durable consumer's cursor to seq: every event up to it
// was delivered. It never moves back (two nodes that both believed they
// led deliver the same events twice, not fewer).
func (s *OutboxStore) Advance(ctx context.Context, consumer string, seq int64) error {
	return s.db.Write(ctx, "outbox.advance", "", func(tx *Tx) error {
		if err := systemOnly(tx, "outbox.advance"); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO outbox_cursors (consumer, seq, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at WHERE outbox_cursors.seq < excluded.seq`,
			consumer, seq, tx.now)
		return err
	})
}

// Prune deletes the events appended before the time given that every
// durable consumer has had; it returns how many. An event a durable
// consumer has not had yet stays, however old.
func (s *OutboxStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.db.Write(ctx, "outbox.prune", "", func(tx *Tx) error {
		if err := systemOnly(tx, "outbox.prune"); err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM outbox WHERE at < ? AND seq <= (SELECT COALESCE(MIN(seq), (SELECT seq FROM outbox_head WHERE id = 1)) FROM outbox_cursors)`,
			before.UTC())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
