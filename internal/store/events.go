package store

import (
	"galenix/internal/controlled"
	"sync"

	"galenix/internal/document"
	"galenix/internal/esign"
	"galenix/internal/production"
)

// Domain events: what a command did that another context reacts to, in the
// command's own transaction, so that the reaction commits with it or the
// whole command is refused. A signature completing a step, a QA approval
// moving a master on, and soon a controlled lot consumed feeding the
// narcotics register or a batch waiting on the laboratory: the context
// that reacts subscribes (DB.On), the one that acts only publishes. What
// must happen after the commit (notifications, live streams) goes through
// the outbox instead (outbox.go, internal/outbox): appended in the same
// transaction, delivered once it committed, and unable to refuse it.

// EventKind names a kind of event.
type EventKind string

// The events published so far.
const (
	// SignatureGiven: a signature was written on a record (Event.Signature).
	SignatureGiven EventKind = "signature.given"
	// StepDone: a step of a batch record became done (Event.Step), at its
	// entry or with its last signature.
	StepDone EventKind = "step.done"
)

// Event is one thing a command did.
type Event struct {
	Kind EventKind
	// Entity is the kind of record it happened to, as the audit trail
	// names it; a handler subscribed for another entity is not called.
	Entity    string
	Signature *esign.Signature
	Step      *production.StepRecord
}

// Handler reacts to an event in the command's transaction; an error
// refuses the whole command.
type Handler func(tx *Tx, ev Event) error

// handlers are a database's subscriptions, by kind and entity.
type handlers struct {
	mu sync.RWMutex
	by map[EventKind]map[string][]Handler
}

// On subscribes h to the events of a kind on records of an entity. Call it
// while wiring, before the database serves: app registers the reactions of
// each context there; Open registers production's own (onSigned).
func (db *DB) On(kind EventKind, entity string, h Handler) {
	db.events.mu.Lock()
	defer db.events.mu.Unlock()
	if db.events.by == nil {
		db.events.by = map[EventKind]map[string][]Handler{}
	}
	if db.events.by[kind] == nil {
		db.events.by[kind] = map[string][]Handler{}
	}
	db.events.by[kind][entity] = append(db.events.by[kind][entity], h)
}

// publish runs the handlers subscribed to ev, in the order they were
// subscribed, in this transaction.
func (tx *Tx) publish(ev Event) error {
	tx.db.events.mu.RLock()
	hs := tx.db.events.by[ev.Kind][ev.Entity]
	tx.db.events.mu.RUnlock()
	for _, h := range hs {
		if err := h(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// onSigned subscribes the reactions to signatures on production's records:
// a step's signatures complete it (production.SignStep), quality
// assurance's approval moves a master in review to approved, QA's review
// and the qualified person's decision move a batch on.
func (db *DB) onSigned() {
	db.On(SignatureGiven, stepTable.entity, func(tx *Tx, ev Event) error { return tx.stepSigned(ev.Signature, true) })
	db.On(SignatureGiven, masterTable.entity, func(tx *Tx, ev Event) error { return approveMaster(tx, ev.Signature) })
	// Quality's signed decision on a material lot releases or rejects it.
	db.On(SignatureGiven, lotTable.entity, func(tx *Tx, ev Event) error { return decideLot(tx, ev.Signature) })
	// Maintenance's signature on a piece of equipment renews its
	// qualification.
	db.On(SignatureGiven, equipmentTable.entity, func(tx *Tx, ev Event) error { return renewQualification(tx, ev.Signature) })
	// A batch's own life cycle after manufacture: QA's signed review and
	// the qualified person's decision (store/release.go).
	db.On(SignatureGiven, batchTable.entity, func(tx *Tx, ev Event) error { return onBatchSigned(tx, ev.Signature) })
	// Quality's own records: QA's signature (approved) closes a
	// deviation, approves a specification in review, closes an OOS
	// investigation. (What quality does when another context acts, a
	// sampling step taking its sample, is wired in app.)
	db.On(SignatureGiven, devTable.entity, func(tx *Tx, ev Event) error { return closeDeviation(tx, ev.Signature) })
	lab := db.Lab()
	db.On(SignatureGiven, specTable.entity, lab.SpecSigned)
	db.On(SignatureGiven, oosTable.entity, lab.OOSSigned)
	// An alarm's acknowledgement is a signature (meaning acknowledged)
	// with its comment.
	db.On(SignatureGiven, entityAlarm, func(tx *Tx, ev Event) error { return acknowledgeAlarm(tx, ev.Signature) })
	// A client's documents: a version's approval, the client's key
	// destroyed (store/document.go).
	db.On(SignatureGiven, versionTable.entity, func(tx *Tx, ev Event) error { return approveVersion(tx, ev.Signature) })
	db.On(SignatureGiven, document.EntityClientKey, func(tx *Tx, ev Event) error { return shredKey(tx, ev.Signature) })
	// Quality assurance's signature grants a person's qualification.
	db.On(SignatureGiven, EntityQualification, func(tx *Tx, ev Event) error { return grantQualification(tx, ev.Signature) })
	// A register's movement counts once its performer and its witness
	// have signed it.
	db.On(SignatureGiven, controlled.EntityMovement, func(tx *Tx, ev Event) error { return movementSigned(tx, ev.Signature) })
}

// The entities whose events another context subscribes to, by the names
// the audit trail gives them.
const (
	EntityBatchStep     = "batch_step"
	EntitySpec          = "spec"
	EntityMaster        = "master"
	EntityInvestigation = "oos_investigation"
)
