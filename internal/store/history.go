package store

import (
	"context"
	"errors"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// History is a history load under way: one write transaction, by the
// system, that loads records as they were before it is written (the demo
// site and its past batches). The records themselves go through the
// services, called with the context WriteHistory gives: each service's
// write runs in the load's transaction (see Write), so that the whole
// history commits or none of it does. What only a history may do is here,
// and nowhere else: date what it writes earlier (Backdate), write a past
// signature without credentials (Sign), set a master's status as the
// history has it (SetMasterStatus) and create an account with a password
// hashed before the load (CreateAccount).
//
// Every audit entry of the load carries its command (the demo's
// "demo.load"), whichever service wrote it, and the past signatures the
// session "demo": the trail shows them for what they are.
//
// Like a transaction, a history load is used by one goroutine at a time.
type History struct {
	tx *Tx
	// failed is the first write of the load that failed: its rows may be
	// half written, so the load does not commit.
	failed error
	done   bool
	// people are the persons the load writes as (As), by id: what they
	// did is theirs in the records, in the session "demo".
	people map[string]bool
}

type historyKey struct{}

// historyOf returns the history load under way in ctx on this database, if
// any.
func (db *DB) historyOf(ctx context.Context) *History {
	h, _ := ctx.Value(historyKey{}).(*History)
	if h == nil || h.tx.db != db {
		return nil
	}
	return h
}

// WriteHistory loads a history in one write transaction: fn writes it
// through the services with the context it is given, and through h what
// only a history may do. Only the system loads a history; the command names
// it in the audit trail. The transaction is a one-time bulk write
// (bulkWrite). If fn fails, or any write of the load failed, nothing is
// written.
func (db *DB) WriteHistory(ctx context.Context, command string, fn func(ctx context.Context, h *History) error) error {
	actor, _ := identity.ActorFrom(ctx)
	if !actor.IsSystem() {
		return errs.Wrap(errors.New("a history is loaded by the system only: "+command), "write history")
	}
	if db.historyOf(ctx) != nil {
		return errs.Wrap(errors.New("a history load within another: "+command), "write history")
	}
	return db.run(ctx, db.write, false, actor, command, "", func(tx *Tx) error {
		tx.history = true
		if err := tx.bulkWrite(); err != nil {
			return err
		}
		h := &History{tx: tx, people: map[string]bool{}}
		// Once fn returns, the load's context and h write nothing: the
		// transaction commits or rolls back.
		defer func() { h.done = true }()
		if err := fn(context.WithValue(ctx, historyKey{}, h), h); err != nil {
			return err
		}
		return h.failed
	})
}

// nested runs a service's transaction function in the load's transaction:
// no transaction of its own, no retry, no commit. The actor must be the
// load's. A write that fails fails the load.
func (h *History) nested(actor identity.Actor, reason string, write bool, fn func(tx *Tx) error) error {
	if h.done {
		return errs.Wrap(errors.New("a write in a history load that has ended"), "history")
	}
	if h.failed != nil {
		return h.failed
	}
	if actor.UserID != h.tx.actor.UserID && !h.people[actor.UserID] {
		h.failed = errs.Wrap(errors.New("another actor than the system in a history load"), "history")
		return h.failed
	}
	if actor.UserID == h.tx.actor.UserID && actor.Address != h.tx.actor.Address {
		// The system answering a sign-in the history replays: what it
		// records comes from the attempt's address.
		saved := h.tx.actor.Address
		h.tx.actor.Address = actor.Address
		defer func() { h.tx.actor.Address = saved }()
	}
	if actor.UserID != h.tx.actor.UserID {
		// A person of the history: the write is theirs, its rules
		// applied to them, PostgreSQL's row-level security too.
		saved := h.tx.actor
		if err := h.tx.actAs(actor); err != nil {
			h.failed = err
			return err
		}
		defer func() {
			if err := h.tx.actAs(saved); err != nil && h.failed == nil {
				h.failed = err
			}
		}()
	}
	var err error
	if write {
		// The write's reason, for its entries only.
		saved := h.tx.reason
		h.tx.reason = reason
		err = fn(h.tx)
		h.tx.reason = saved
	} else {
		err = fn(h.tx)
	}
	if err != nil {
		err = h.tx.db.classify(err, h.tx.command)
		if write {
			h.failed = err
		}
	}
	return err
}

// do runs what only a history may do in the load's transaction.
func (h *History) do(fn func(tx *Tx) error) error {
	return h.nested(h.tx.actor, "", true, fn)
}

// As is ctx acting as a person of the history (the demo's analysts
// entering and reviewing results, its quality assurance assessing a
// deviation), in the session "demo": the services apply their rules to
// that person, and the records and the trail name them, under the load's
// command. Only the load's context takes it.
func (h *History) As(ctx context.Context, a identity.Actor) context.Context {
	a.SessionID, a.Address = "demo", ""
	h.people[a.UserID] = true
	return identity.WithActor(ctx, a)
}

// Now is the load's clock: when it began, or the time it was last
// backdated to.
func (h *History) Now() time.Time { return h.tx.now }

// Backdate dates what the load writes from now on at t.
func (h *History) Backdate(t time.Time) error {
	return h.do(func(tx *Tx) error {
		tx.now = t.UTC().Truncate(time.Microsecond)
		return nil
	})
}

// Sign records a past signature of a step, given without credentials (a
// history cannot type passwords): bound to the step's content like any
// other, attributed to the named account in the session "demo", audited.
func (h *History) Sign(stepID string, m esign.Meaning, signerID, signerName string) error {
	return h.SignRecord("batch_step", stepID, m, signerID, signerName, "")
}

// SignRecord records a past signature of any record that can be signed
// (the entity as the audit trail names it: "batch", "spec"...), with its
// comment, as Sign does; its reactions run as for a signature given: QA's
// review moves a batch on, a qualified person's decision enters the
// register, a lot's approval releases it; the comment is the write's
// reason, as a signature's is.
func (h *History) SignRecord(entity, id string, m esign.Meaning, signerID, signerName, reason string) error {
	return h.nested(h.tx.actor, reason, true, func(tx *Tx) error { return tx.demoSign(entity, id, m, signerID, signerName, reason) })
}

// SetMasterStatus sets a master's status as the history has it, without
// the life cycle's moves (the demo's masters, approved and effective
// before it begins).
func (h *History) SetMasterStatus(id string, to production.MasterStatus) error {
	return h.do(func(tx *Tx) error { return tx.setMasterStatus(id, to) })
}

// CreateAccount records an account whose password was chosen before the
// load, given as its argon2id hash (the demo's accounts share one, hashed
// once); the hash never enters the audit trail.
func (h *History) CreateAccount(a *identity.Account, passwordHash string) error {
	return h.do(func(tx *Tx) error { return tx.createAccount(a, passwordHash) })
}

// historyOnly refuses what only a history load may do.
func (tx *Tx) historyOnly(what string) error {
	if !tx.history {
		return errs.Wrap(errors.New(what+" outside a history load"), what)
	}
	return nil
}

// actAs makes a the transaction's actor, and on PostgreSQL its scope the
// row-level security's.
func (tx *Tx) actAs(a identity.Actor) error {
	tx.actor = a
	if tx.db.dialect != Postgres {
		return nil
	}
	q, args := scopeSettings(a)
	_, err := tx.exec(q, args...)
	return err
}
