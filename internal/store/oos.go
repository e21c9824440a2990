package store

import (
	"context"
	"database/sql"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/quality"
)

// The investigations of results out of specification (FDA guidance, 2022):
// opened by the result (result.go), phase I and II recorded here, closed by
// QA's signature (OOSSigned).

const oosCols = `id, client_id, code, result_id, sample_id, COALESCE(CAST(batch_id AS TEXT), ''), test, analyst, state, opened_at,
	hypothesis, hypothesis_by, hypothesis_at, retests_planned, lab_error, lab_error_cause, findings, COALESCE(CAST(deviation_id AS TEXT), ''),
	outcome, closed_by, closed_name, closed_at, version`

func scanOOS(sc scanner, inv *quality.Investigation) error {
	var hyp, closed sql.NullTime
	var lab sql.NullBool
	if err := sc.Scan(&inv.ID, &inv.ClientID, &inv.Code, &inv.ResultID, &inv.SampleID, &inv.BatchID, &inv.TestCode, &inv.Analyst, &inv.State, &inv.OpenedAt,
		&inv.Hypothesis, &inv.HypothesisBy, &hyp, &inv.RetestsPlanned, &lab, &inv.LabErrorCause, &inv.Findings, &inv.DeviationID,
		&inv.Outcome, &inv.ClosedBy, &inv.ClosedName, &closed, &inv.Version); err != nil {
		return err
	}
	inv.OpenedAt, inv.HypothesisAt, inv.ClosedAt = inv.OpenedAt.UTC(), timePtr(hyp), timePtr(closed)
	inv.LabError = nil
	if lab.Valid {
		inv.LabError = &lab.Bool
	}
	return nil
}

func oosRow(inv *quality.Investigation) row {
	var hyp, closed, lab any
	if inv.HypothesisAt != nil {
		hyp = *inv.HypothesisAt
	}
	if inv.ClosedAt != nil {
		closed = *inv.ClosedAt
	}
	if inv.LabError != nil {
		lab = *inv.LabError
	}
	return row{"client_id": inv.ClientID, "code": inv.Code, "result_id": inv.ResultID, "sample_id": inv.SampleID, "batch_id": nullable(inv.BatchID),
		"test": inv.TestCode, "analyst": inv.Analyst, "state": string(inv.State), "opened_at": inv.OpenedAt, "hypothesis": inv.Hypothesis,
		"hypothesis_by": inv.HypothesisBy, "hypothesis_at": hyp, "retests_planned": inv.RetestsPlanned, "lab_error": lab,
		"lab_error_cause": inv.LabErrorCause, "findings": inv.Findings, "deviation_id": nullable(inv.DeviationID), "outcome": string(inv.Outcome),
		"closed_by": inv.ClosedBy, "closed_name": inv.ClosedName, "closed_at": closed}
}

// investigationByID reads an investigation in the actor's scope.
func (tx *Tx) investigationByID(id string, inv *quality.Investigation) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+oosCols+` FROM oos_investigations WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanOOS(sc, inv) }, "store.no_such_investigation", args...)
}

// investigationsOf lists the investigations in the actor's scope matching
// the filter, the latest opened first.
func (tx *Tx) investigationsOf(f quality.OOSFilter) ([]quality.Investigation, error) {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	q, args := andIDFilters(`SELECT `+oosCols+` FROM oos_investigations WHERE `+cond, args, "batch_id", f.BatchID)
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Open {
		q += ` AND state <> ?`
		args = append(args, string(quality.OOSClosed))
	}
	return collect(tx, q+` ORDER BY opened_at DESC, code DESC`, args, scanOOS)
}

// investigationsOn lists a sample's investigations.
func (tx *Tx) investigationsOn(sampleID string) ([]quality.Investigation, error) {
	return collect(tx, `SELECT `+oosCols+` FROM oos_investigations WHERE sample_id = ? ORDER BY opened_at`, []any{sampleID}, scanOOS)
}

// Investigations lists the investigations in the actor's scope; a client
// laboratory's users see them without names.
func (s *LabStore) Investigations(ctx context.Context, f quality.OOSFilter) ([]quality.Investigation, error) {
	var out []quality.Investigation
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		var err error
		out, err = tx.investigationsOf(f)
		return err
	})
	if err == nil && !isStaff(actorOf(ctx)) {
		for i := range out {
			out[i].Anonymous()
		}
	}
	return out, err
}

// Investigation returns one investigation in the actor's scope.
func (s *LabStore) Investigation(ctx context.Context, id string) (*quality.Investigation, error) {
	var inv quality.Investigation
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := labView(tx.actor); err != nil {
			return err
		}
		return tx.investigationByID(id, &inv)
	})
	if err != nil {
		return nil, err
	}
	if !isStaff(actorOf(ctx)) {
		inv.Anonymous()
	}
	return &inv, nil
}

// phase runs one step of an investigation in the command's transaction:
// read at the version asked (0: any), decide, write at the version read.
func (tx *Tx) phase(id string, version int, decide func(inv quality.Investigation) (*quality.Investigation, error)) (*quality.Investigation, error) {
	var old quality.Investigation
	if err := tx.investigationByID(id, &old); err != nil {
		return nil, err
	}
	if version != 0 && version != old.Version {
		return nil, errs.StaleVersion(version, old.Version)
	}
	inv, err := decide(old)
	if err != nil {
		return nil, err
	}
	return inv, advance(tx, oosTable, inv.ID, inv.ClientID, &old, inv, oosRow(inv))
}

// StateHypothesis records phase I's hypothesis, before any retest.
func (s *LabStore) StateHypothesis(ctx context.Context, id, hypothesis string, version int) (*quality.Investigation, error) {
	var out *quality.Investigation
	err := s.db.Write(ctx, "oos.hypothesis", "", func(tx *Tx) (err error) {
		out, err = tx.phase(id, version, func(inv quality.Investigation) (*quality.Investigation, error) {
			return quality.StateHypothesis(tx.actor, inv, hypothesis, tx.now)
		})
		return err
	})
	return out, err
}

// PlanRetests fixes the number of retests, once.
func (s *LabStore) PlanRetests(ctx context.Context, id string, n, version int) (*quality.Investigation, error) {
	var out *quality.Investigation
	err := s.db.Write(ctx, "oos.plan", "", func(tx *Tx) (err error) {
		out, err = tx.phase(id, version, func(inv quality.Investigation) (*quality.Investigation, error) {
			return quality.PlanRetests(tx.actor, inv, n)
		})
		return err
	})
	return out, err
}

// ConcludePhase1 records whether a laboratory error is proven.
func (s *LabStore) ConcludePhase1(ctx context.Context, id string, proven bool, cause string, version int) (*quality.Investigation, error) {
	var out *quality.Investigation
	err := s.db.Write(ctx, "oos.phase1", "", func(tx *Tx) (err error) {
		out, err = tx.phase(id, version, func(inv quality.Investigation) (*quality.Investigation, error) {
			return quality.ConcludePhase1(tx.actor, inv, proven, cause)
		})
		return err
	})
	return out, err
}

// RecordFindings records phase II's findings and the deviation, of the
// investigation's client, that follows them.
func (s *LabStore) RecordFindings(ctx context.Context, id, findings, deviationID string, version int) (*quality.Investigation, error) {
	var out *quality.Investigation
	err := s.db.Write(ctx, "oos.findings", "", func(tx *Tx) (err error) {
		out, err = tx.phase(id, version, func(inv quality.Investigation) (*quality.Investigation, error) {
			deviationID = strings.TrimSpace(deviationID)
			if deviationID != "" {
				var n int
				cond, args := inScope("client_id", tx.actor.ClientScope())
				err := tx.byID(`SELECT COUNT(*) FROM deviations WHERE id = ? AND client_id = ? AND `+cond, deviationID,
					func(sc scanner) error { return sc.Scan(&n) }, "store.no_such_deviation", append([]any{inv.ClientID}, args...)...)
				if err != nil && !errs.Is(err, errs.NotFound) {
					return nil, err
				}
				if n == 0 {
					return nil, errs.Field("deviation_id", "store.no_such_deviation")
				}
			}
			return quality.RecordFindings(tx.actor, inv, findings, deviationID)
		})
		return err
	})
	return out, err
}

// OOSSigned is the laboratory's reaction to a signature on an
// investigation: one meaning approved is QA's conclusion
// (quality.CloseOOS), which closes it, invalidates the result a proven
// laboratory error invalidates (kept, marked, beside its retests) and
// completes the sample when every test then reports. Other meanings change
// nothing. app subscribes it.
func (s *LabStore) OOSSigned(tx *Tx, ev Event) error {
	sig := ev.Signature
	if sig == nil || sig.Meaning != esign.Approved {
		return nil
	}
	var old quality.Investigation
	if err := tx.investigationByID(sig.EntityID, &old); err != nil {
		return err
	}
	results, err := tx.resultsOf(quality.ResultFilter{SampleID: old.SampleID})
	if err != nil {
		return err
	}
	inv, invalid, err := quality.CloseOOS(quality.Closing{Actor: tx.actor, Investigation: old, Results: onlyTest(results, old.TestCode), Now: tx.now})
	if err != nil {
		return err
	}
	if err := advance(tx, oosTable, inv.ID, inv.ClientID, &old, inv, oosRow(inv)); err != nil {
		return err
	}
	was := map[string]quality.ResultState{}
	for _, r := range results {
		was[r.ID] = r.State
	}
	for i := range invalid {
		r := &invalid[i]
		res, err := tx.exec(`UPDATE results SET state = ?, version = version + 1 WHERE id = ? AND state <> ?`, string(r.State), r.ID, string(r.State))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return refusalOr(err, errs.E(errs.Conflict, "store.someone_else_changed_result"))
		}
		if err := tx.Audit([]audit.Change{{Entity: resultTable.entity, EntityID: r.ID, Field: "state", Old: string(was[r.ID]), New: string(r.State)}}, r.ClientID); err != nil {
			return err
		}
	}
	return tx.completeSample(inv.SampleID)
}

// signableOOS reads an investigation for QA's signature, staff only.
func signableOOS(tx *Tx, id string) ([]audit.Field, string, error) {
	if !isStaff(tx.actor) {
		return nil, "", errNoRecord()
	}
	var inv quality.Investigation
	if err := tx.investigationByID(id, &inv); err != nil {
		return nil, "", err
	}
	return inv.SignedFields(), inv.ClientID, nil
}
