package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/quality"
)

// The laboratory's results: every measurement kept, reviewed by a second
// analyst; a first result out of specification opens its investigation
// (oos.go).

const resultCols = `r.id, r.client_id, r.sample_id, COALESCE(CAST(r.batch_id AS TEXT), ''), r.test, r.seq, r.value, r.number, r.unit, r.verdict,
	r.instrument, r.state, r.entered_by, r.entered_name, r.entered_at, r.reviewed_by, r.reviewed_name, r.reviewed_at, r.retest,
	COALESCE(CAST(r.investigation_id AS TEXT), ''), r.comment, r.version`

func scanResult(sc scanner, r *quality.Result) error {
	var n sql.NullFloat64
	var at sql.NullTime
	if err := sc.Scan(&r.ID, &r.ClientID, &r.SampleID, &r.BatchID, &r.TestCode, &r.Seq, &r.Value, &n, &r.Unit, &r.Verdict, &r.Instrument, &r.State,
		&r.EnteredBy, &r.EnteredName, &r.EnteredAt, &r.ReviewedBy, &r.ReviewedName, &at, &r.Retest, &r.InvestigationID, &r.Comment, &r.Version); err != nil {
		return err
	}
	r.Number = nil
	if n.Valid {
		r.Number = &n.Float64
	}
	r.EnteredAt, r.ReviewedAt = r.EnteredAt.UTC(), timePtr(at)
	return nil
}

func resultRow(r *quality.Result) row {
	var reviewed any
	if r.ReviewedAt != nil {
		reviewed = *r.ReviewedAt
	}
	return row{"client_id": r.ClientID, "sample_id": r.SampleID, "batch_id": nullable(r.BatchID), "test": r.TestCode, "seq": r.Seq, "value": r.Value,
		"number": r.Number, "unit": r.Unit, "verdict": string(r.Verdict), "instrument": r.Instrument, "state": string(r.State), "entered_by": r.EnteredBy,
		"entered_name": r.EnteredName, "entered_at": r.EnteredAt, "reviewed_by": r.ReviewedBy, "reviewed_name": r.ReviewedName, "reviewed_at": reviewed,
		"retest": r.Retest, "investigation_id": nullable(r.InvestigationID), "comment": r.Comment}
}

// resultByID reads a result in the actor's scope.
func (tx *Tx) resultByID(id string, r *quality.Result) error {
	cond, args := inScope("r.client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+resultCols+` FROM results r WHERE r.id = ? AND `+cond, id,
		func(sc scanner) error { return scanResult(sc, r) }, "store.no_such_result", args...)
}

// resultsOf lists the results in the actor's scope matching the filter, by
// sample, test and order entered.
func (tx *Tx) resultsOf(f quality.ResultFilter) ([]quality.Result, error) {
	cond, args := inScope("r.client_id", tx.actor.ClientScope())
	q, args := andIDFilters(`SELECT `+resultCols+` FROM results r WHERE `+cond, args, "r.sample_id", f.SampleID, "r.batch_id", f.BatchID)
	if f.State != "" {
		q += ` AND r.state = ?`
		args = append(args, string(f.State))
	}
	return collect(tx, q+` ORDER BY r.sample_id, r.test, r.seq`, args, scanResult)
}

// Results lists the results in the actor's scope; a client laboratory's
// users see them without the analysts' names.
func (s *LabStore) Results(ctx context.Context, f quality.ResultFilter) ([]quality.Result, error) {
	var out []quality.Result
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		var err error
		out, err = tx.resultsOf(f)
		return err
	})
	if err == nil && !isStaff(actorOf(ctx)) {
		for i := range out {
			out[i].Anonymous()
		}
	}
	return out, err
}

// Result returns one result in the actor's scope.
func (s *LabStore) Result(ctx context.Context, id string) (*quality.Result, error) {
	var r quality.Result
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		return tx.resultByID(id, &r)
	})
	if err != nil {
		return nil, err
	}
	if !isStaff(actorOf(ctx)) {
		r.Anonymous()
	}
	return &r, nil
}

// EnterResult records a result of a sample's test as the domain reads it
// (quality.EnterResult), and the investigation a first result out of
// specification opens. Of two analysts entering the same test at once, one
// is recorded; the other finds the result there.
func (s *LabStore) EnterResult(ctx context.Context, sampleID string, e quality.Entry) (*quality.ResultOutcome, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	var out *quality.ResultOutcome
	err := s.db.Write(ctx, "result.enter", "", func(tx *Tx) error {
		var sm quality.Sample
		if err := tx.sampleByID(sampleID, &sm); err != nil {
			return err
		}
		var err error
		out, err = tx.enterResult(&sm, e)
		return err
	})
	return out, err
}

// enterResult reads what entering a result needs, decides and persists.
func (tx *Tx) enterResult(sm *quality.Sample, e quality.Entry) (*quality.ResultOutcome, error) {
	c := quality.Entering{Actor: tx.actor, Sample: *sm, Now: tx.now}
	if err := tx.specByID(sm.SpecID, &c.Spec); err != nil {
		return nil, err
	}
	test := strings.TrimSpace(e.Test)
	// The analyst is qualified on the test's method (EU GMP chapter 2).
	for _, tc := range c.Spec.Tests {
		if tc.Code == test && tc.Method != "" {
			if err := tx.requireQualification(qualification.ForMethod(tc.Method)); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if c.Earlier, err = tx.resultsOf(quality.ResultFilter{SampleID: sm.ID}); err != nil {
		return nil, err
	}
	c.Earlier = onlyTest(c.Earlier, test)
	invs, err := tx.investigationsOn(sm.ID)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.TestCode == test {
			c.Investigations = append(c.Investigations, inv)
		}
	}
	out, err := quality.EnterResult(c, e)
	if err != nil {
		return nil, err
	}
	r := &out.Result
	r.ID = NewID()
	if inv := out.Opened; inv != nil {
		seq, err := tx.nextNumber("oos-" + tx.now.UTC().Format("2006"))
		if err != nil {
			return nil, err
		}
		inv.ID, inv.Code, inv.ResultID = NewID(), quality.OOSCode(tx.now, seq), r.ID
		r.InvestigationID = inv.ID
	}
	if err := createClientRecord(tx, resultTable, r.ID, r.ClientID, r, resultRow(r)); err != nil {
		return nil, err
	}
	if inv := out.Opened; inv != nil {
		if err := createClientRecord(tx, oosTable, inv.ID, inv.ClientID, inv, oosRow(inv)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func onlyTest(rs []quality.Result, test string) []quality.Result {
	var out []quality.Result
	for _, r := range rs {
		if r.TestCode == test {
			out = append(out, r)
		}
	}
	return out
}

// ReviewResult records the second analyst's review (quality.ReviewResult).
// Of two analysts reviewing one result at once, one is recorded; the other
// is refused.
func (s *LabStore) ReviewResult(ctx context.Context, id string) (*quality.Result, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	var out *quality.Result
	err := s.db.Write(ctx, "result.review", "", func(tx *Tx) error {
		var old quality.Result
		if err := tx.resultByID(id, &old); err != nil {
			return err
		}
		r, err := quality.ReviewResult(tx.actor, old, tx.now)
		if err != nil {
			return err
		}
		if err := advance(tx, resultTable, r.ID, r.ClientID, &old, r, resultRow(r)); err != nil {
			if errs.Is(err, errs.Stale) {
				return errs.E(errs.Conflict, "quality.result.reviewed_already", old.TestCode)
			}
			return err
		}
		out = r
		return tx.completeSample(r.SampleID)
	})
	return out, err
}

// completeSample marks a received sample complete once every test has a
// reportable result, reviewed (quality.Reportable).
func (tx *Tx) completeSample(sampleID string) error {
	var sm quality.Sample
	if err := tx.sampleByID(sampleID, &sm); err != nil {
		return err
	}
	if sm.State != quality.SampleReceived {
		return nil
	}
	results, err := tx.resultsOf(quality.ResultFilter{SampleID: sm.ID})
	if err != nil {
		return err
	}
	invs, err := tx.investigationsOn(sm.ID)
	if err != nil {
		return err
	}
	for _, t := range sm.Tests {
		r, ok := quality.Reportable(results, invs, sm.ID, t)
		if !ok || r.State != quality.ResultReviewed {
			return nil
		}
	}
	done := sm
	done.State = quality.SampleComplete
	return advance(tx, sampleTable, sm.ID, sm.ClientID, &sm, &done, sampleRow(&done))
}

// ImportResults enters an instrument's CSV export in one transaction: every
// line is read (quality.ParseImport) and entered as if typed; a line
// naming an unknown sample or refused by the rules is named with its
// reason, and any refusal writes nothing at all.
func (s *LabStore) ImportResults(ctx context.Context, data []byte, instrument string) ([]quality.ResultOutcome, error) {
	if err := actorOf(ctx).Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	lines, err := quality.ParseImport(data, strings.TrimSpace(instrument))
	if err != nil {
		return nil, err
	}
	var out []quality.ResultOutcome
	err = s.db.Write(ctx, "result.import", "", func(tx *Tx) error {
		out = nil
		var bad errs.Lines
		for _, l := range lines {
			sm, err := tx.sampleByCode(l.Sample)
			if err != nil {
				return err
			}
			if sm == nil {
				bad.Add(l.Line, errs.E(errs.NotFound, "store.no_sample_code", l.Sample))
				continue
			}
			o, err := tx.enterResult(sm, l.Entry)
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) || e.Code == errs.Internal || e.Code == errs.Unavailable {
					return err // the database's, not the line's: the transaction is over
				}
				bad.Add(l.Line, err)
				continue
			}
			out = append(out, *o)
		}
		return bad.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
