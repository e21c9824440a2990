package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"galenix/internal/esign"
	"galenix/internal/production"
	"galenix/internal/site"
)

// workCounts is what the operators did during the run.
type workCounts struct {
	steps, exceptions, signatures atomic.Int64
	completed, released           atomic.Int64
	cleaned, restocked            atomic.Int64
	idle, stuck                   atomic.Int64
}

// maxFailures in a row stop a line: its operator cannot get on.
const maxFailures = 3

// operate plays the operator of one line: every interval from start (the
// schedule, from which each action's first request is timed) it reads the
// tablet's next step and does it, until the deadline. Each of its requests
// that does not sign takes one from the readers' budget (credit), so that
// operators and readers together keep the rate.
func (w *world) operate(ctx context.Context, l *line, start, deadline time.Time, interval time.Duration, credit *atomic.Int64) {
	next := start
	failures := 0
	for next.Before(deadline) {
		if !sleepUntil(ctx, next) {
			return
		}
		signed, err := w.act(ctx, l, next, credit)
		switch {
		case err == errIdle:
			w.work.idle.Add(1)
			return
		case err != nil && !refused(err):
			// A timeout or a server error is counted already; the
			// operator tries again at the next step.
		case err != nil:
			failures++
			if failures >= maxFailures {
				w.c.rec.note(fmt.Sprintf("line %s stopped after %d failures in a row: %v", l.Code, failures, err))
				w.work.stuck.Add(1)
				return
			}
		default:
			failures = 0
		}
		next = next.Add(interval)
		// Signing is the operator typing a password and argon2id checking
		// it: the next step is scheduled after it, not counted late.
		if now := time.Now(); signed && next.Before(now) {
			next = now
		}
	}
}

// requestError is a request of the operator that failed; a refusal (4xx)
// stops the line if it keeps coming, a timeout or a server error does not.
type requestError struct {
	msg     string
	refusal bool
}

func (e *requestError) Error() string { return e.msg }

// failed describes the failed answer to the operator's request.
func failed(what string, a answer) error {
	return &requestError{msg: what + ": " + a.failure(), refusal: a.err == nil && a.status >= 400 && a.status < 500}
}

// refused reports whether the error is a refusal of galenix or a fault of
// the benchmark: what the operator cannot get past by trying again.
func refused(err error) bool {
	var re *requestError
	if errors.As(err, &re) {
		return re.refusal
	}
	return true
}

// errIdle: the line has no batch left to work.
var errIdle = fmt.Errorf("no batch left on the line")

// act does the line's next action: start the next batch, complete the
// current one, sign a step waiting for its signatures, or record the next
// step. It reports whether it signed.
func (w *world) act(ctx context.Context, l *line, sched time.Time, credit *atomic.Int64) (bool, error) {
	credit.Add(1)
	a := w.c.timed(ctx, kindOpFloor, sched, l.op, "GET", "/api/v1/lines/"+l.ID+"/floor", nil, false, false)
	if !a.ok() {
		return false, failed("floor", a)
	}
	var f production.Floor
	if err := jsonDecode(a.body, &f); err != nil {
		return false, err
	}
	switch {
	case f.Reserved:
		return false, fmt.Errorf("line %s shows a batch of a client the operator is not assigned to", l.Code)
	case f.Batch == nil:
		return false, w.release(ctx, l, f.Upcoming, credit)
	case f.Next == nil:
		credit.Add(1)
		a := w.c.timed(ctx, kindComplete, time.Now(), l.op, "POST", "/api/v1/batches/"+f.Batch.ID+"/move",
			map[string]string{"action": "complete", "reason": "bench/ebr: every step done"}, false, false)
		if !a.ok() {
			return false, failed(fmt.Sprintf("completing %s", f.Batch.Lot), a)
		}
		w.work.completed.Add(1)
		return false, nil
	case f.Next.State == production.StepRecorded:
		return true, w.signStep(ctx, l, f.Next, credit)
	}
	e, err := w.entry(ctx, l, f.Batch, f.Next, credit)
	if err != nil {
		return false, err
	}
	credit.Add(1)
	a = w.c.timed(ctx, kindStep, time.Now(), l.op, "POST", "/api/v1/batches/"+f.Batch.ID+"/steps", e, false, false)
	if a.status == 409 {
		return false, nil // another tablet was first: the next read shows what is next
	}
	if !a.ok() {
		return false, failed(fmt.Sprintf("step %s of %s", f.Next.Label(), f.Batch.Lot), a)
	}
	var st production.StepRecord
	if err := jsonDecode(a.body, &st); err != nil {
		return false, err
	}
	w.work.steps.Add(1)
	if st.Exception {
		w.work.exceptions.Add(1)
	}
	if st.State != production.StepRecorded {
		return false, nil
	}
	return true, w.signStep(ctx, l, &st, credit)
}

// release sends the line's next scheduled batch to the floor, as the
// supervisor; with none, the line is idle.
func (w *world) release(ctx context.Context, l *line, upcoming []production.Batch, credit *atomic.Int64) error {
	var next *production.Batch
	for i, b := range upcoming {
		if b.State != production.BatchScheduled {
			continue
		}
		if next == nil || (b.Start != nil && next.Start != nil && b.Start.Before(*next.Start)) {
			next = &upcoming[i]
		}
	}
	if next == nil {
		return errIdle
	}
	credit.Add(1)
	a := w.c.timed(ctx, kindRelease, time.Now(), w.supervisor, "POST", "/api/v1/batches/"+next.ID+"/move",
		map[string]string{"action": "release", "reason": "bench/ebr: next batch of the line"}, false, false)
	if !a.ok() {
		return failed(fmt.Sprintf("releasing %s", next.Lot), a)
	}
	w.work.released.Add(1)
	return nil
}

// entry builds what the operator enters for the step, by its kind.
func (w *world) entry(ctx context.Context, l *line, b *production.Batch, st *production.StepRecord, credit *atomic.Int64) (production.Entry, error) {
	e := production.Entry{StepID: st.ID}
	s := st.Step
	switch s.Kind {
	case production.StepClearance:
		e.Checked = make([]bool, len(s.Checklist))
		for i := range e.Checked {
			e.Checked[i] = true
		}
	case production.StepInstruction:
		e.Confirm = true
	case production.StepNumeric:
		v := 0.0
		switch {
		case s.Target != nil:
			v = *s.Target
		case s.Low != nil && s.High != nil:
			v = (*s.Low + *s.High) / 2
		}
		e.Value = strconv.FormatFloat(v, 'f', s.Decimals, 64)
	case production.StepMaterial:
		lot, err := w.pickLot(ctx, l, s.MaterialID, s.Quantity, credit)
		if err != nil {
			return e, err
		}
		e.Lot, e.Quantity = lot, strconv.FormatFloat(s.Quantity, 'f', -1, 64)
	case production.StepEquipment:
		code, err := w.pickEquipment(ctx, l, s.EquipmentKind, credit)
		if err != nil {
			return e, err
		}
		e.Equipment = code
	case production.StepSampling:
		e.Value = fmt.Sprintf("ECH-%s-%d", b.Lot, st.Seq)
	default:
		return e, fmt.Errorf("step %s of %s: unknown kind %q", st.Label(), b.Lot, s.Kind)
	}
	return e, nil
}

// pickLot looks the material's lots up, as the tablet does when the
// operator scans one, and takes the usable lot with the most stock. With
// none, quality assurance receives a released lot first.
func (w *world) pickLot(ctx context.Context, l *line, materialID string, qty float64, credit *atomic.Int64) (string, error) {
	credit.Add(1)
	a := w.c.timed(ctx, kindOpLookup, time.Now(), l.op, "GET", "/api/v1/lots?material_id="+materialID, nil, false, false)
	if !a.ok() {
		return "", failed(fmt.Sprintf("lots of material %s", materialID), a)
	}
	var lots items[production.Lot]
	if err := jsonDecode(a.body, &lots); err != nil {
		return "", err
	}
	var best *production.Lot
	for i, lot := range lots.Items {
		if lot.Usable(time.Now()) != nil || lot.Quantity < qty*1.01 {
			continue
		}
		if best == nil || lot.Quantity > best.Quantity {
			best = &lots.Items[i]
		}
	}
	if best != nil {
		return best.Code, nil
	}
	w.mu.Lock()
	w.lotSeq++
	code := fmt.Sprintf("BENCH-%05d", w.lotSeq)
	w.mu.Unlock()
	credit.Add(1)
	body := map[string]any{"material_id": materialID, "code": code, "status": production.LotReleased,
		"quantity": max(qty*500, 1), "expires_on": time.Now().UTC().AddDate(2, 0, 0).Truncate(24 * time.Hour)}
	a = w.c.timed(ctx, kindRestock, time.Now(), w.qa, "POST", "/api/v1/lots", body, false, false)
	if !a.ok() {
		return "", failed(fmt.Sprintf("receiving a lot of material %s", materialID), a)
	}
	w.work.restocked.Add(1)
	return code, nil
}

// pickEquipment looks the line's equipment up and takes a usable piece of
// the kind. With none, the supervisor records one cleaned first (the last
// batch left it dirty).
func (w *world) pickEquipment(ctx context.Context, l *line, kind string, credit *atomic.Int64) (string, error) {
	credit.Add(1)
	a := w.c.timed(ctx, kindOpLookup, time.Now(), l.op, "GET", "/api/v1/equipment?line_id="+l.ID, nil, false, false)
	if !a.ok() {
		return "", failed(fmt.Sprintf("equipment of line %s", l.Code), a)
	}
	var eq items[site.Equipment]
	if err := jsonDecode(a.body, &eq); err != nil {
		return "", err
	}
	var dirty *site.Equipment
	for i, e := range eq.Items {
		if e.Kind != kind {
			continue
		}
		if usable(e) {
			return e.Code, nil
		}
		if dirty == nil {
			dirty = &eq.Items[i]
		}
	}
	if dirty == nil {
		return "", fmt.Errorf("line %s has no equipment of the kind %q", l.Code, kind)
	}
	credit.Add(1)
	t := time.Now()
	e := *dirty
	e.Status = site.EquipmentClean
	if !usable(e) {
		d := time.Now().UTC().AddDate(1, 0, 0)
		e.QualificationDue = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	a = w.c.timed(ctx, kindClean, t, w.supervisor, "PUT", "/api/v1/equipment/"+e.ID, equipmentBody(e, "bench/ebr: cleaned after the last batch"), false, false)
	if !a.ok() {
		return "", failed(fmt.Sprintf("cleaning %s", e.Code), a)
	}
	w.work.cleaned.Add(1)
	return e.Code, nil
}

// signStep gives the step the signatures it still needs: performed, by
// the person who recorded it; verified, for a critical step, by another.
// Each signature asks for a challenge, then signs with the password again.
func (w *world) signStep(ctx context.Context, l *line, st *production.StepRecord, credit *atomic.Int64) error {
	have := map[esign.Meaning]bool{}
	for _, g := range st.Signatures {
		if g.Status == esign.Valid {
			have[g.Meaning] = true
		}
	}
	for _, m := range st.Step.Needs() {
		if have[m] {
			continue
		}
		signer, err := w.signer(ctx, l, st, m)
		if err != nil {
			return err
		}
		credit.Add(1)
		target := map[string]string{"entity": "batch_step", "entity_id": st.ID, "meaning": string(m)}
		a := w.c.timed(ctx, kindChallenge, time.Now(), signer, "POST", "/api/v1/signatures/challenge", target, false, false)
		if !a.ok() {
			return failed(fmt.Sprintf("challenge to sign step %s as %s", st.Label(), m), a)
		}
		var ch esign.Challenge
		if err := jsonDecode(a.body, &ch); err != nil {
			return err
		}
		body := map[string]string{"entity": "batch_step", "entity_id": st.ID, "meaning": string(m),
			"username": signer.username, "password": signer.password, "challenge": ch.Challenge}
		a = w.c.timed(ctx, kindSign, time.Now(), signer, "POST", "/api/v1/signatures", body, false, false)
		if !a.ok() {
			return failed(fmt.Sprintf("signing step %s as %s", st.Label(), m), a)
		}
		w.work.signatures.Add(1)
	}
	return nil
}

// signer is who signs the step with the meaning.
func (w *world) signer(ctx context.Context, l *line, st *production.StepRecord, m esign.Meaning) (*session, error) {
	if m == esign.Performed {
		if st.PerformedBy == l.op.accountID {
			return l.op, nil
		}
		// Recorded before the run, by a demo account.
		return w.sessionFor(ctx, st.PerformedBy)
	}
	for _, s := range []*session{l.verifier, l.op, w.supervisor} {
		if s.accountID != st.PerformedBy {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no verifier for step %s", st.Label())
}

// sleepUntil waits until t; false if the context ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func jsonDecode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", clip(string(b), 120), err)
	}
	return nil
}
