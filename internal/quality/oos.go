package quality

import (
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The investigation of an out-of-specification result, as the FDA's
// guidance on OOS results (2022) has it: phase I in the laboratory (is
// there an obvious, assignable laboratory error? a hypothesis is stated
// before anything is measured again), phase II in full when no laboratory
// error is proven; retests only by another analyst, in a number fixed
// beforehand; the conclusion signed by quality assurance. An open
// investigation blocks the batch's release.

// OOSState is where an investigation is.
type OOSState string

// The states of an investigation.
const (
	OOSPhase1 OOSState = "phase1"
	OOSPhase2 OOSState = "phase2"
	OOSClosed OOSState = "closed"
)

// OOSOutcome is what an investigation concluded.
type OOSOutcome string

// The outcomes: a laboratory error proven invalidates the result (the
// retests report); otherwise the result out of specification stands.
const (
	OOSInvalidated OOSOutcome = "invalidated"
	OOSConfirmed   OOSOutcome = "confirmed"
)

// MaxRetests bounds the retests an investigation may plan.
const MaxRetests = 9

// Investigation is the investigation a result out of specification opens.
type Investigation struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
	// ResultID is the result investigated; SampleID, BatchID and
	// TestCode where it was measured.
	ResultID string `json:"result_id"`
	SampleID string `json:"sample_id"`
	BatchID  string `json:"batch_id,omitempty"`
	TestCode string `json:"test"`
	// Analyst entered the result investigated: a retest is someone
	// else's.
	Analyst  string    `json:"analyst"`
	State    OOSState  `json:"state"`
	OpenedAt time.Time `json:"opened_at"`
	// Hypothesis is the laboratory's, stated before any measurement is
	// repeated.
	Hypothesis   string     `json:"hypothesis,omitempty"`
	HypothesisBy string     `json:"hypothesis_by,omitempty"`
	HypothesisAt *time.Time `json:"hypothesis_at,omitempty"`
	// RetestsPlanned is fixed once, before the first retest.
	RetestsPlanned int `json:"retests_planned"`
	// LabError is phase I's conclusion: whether a laboratory error is
	// proven, and which.
	LabError      *bool  `json:"lab_error,omitempty"`
	LabErrorCause string `json:"lab_error_cause,omitempty"`
	// Findings are phase II's: the full investigation's root cause
	// (manufacturing, materials, process); DeviationID the deviation
	// it is recorded in, if any.
	Findings    string     `json:"findings,omitempty"`
	DeviationID string     `json:"deviation_id,omitempty"`
	Outcome     OOSOutcome `json:"outcome,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	ClosedName  string     `json:"closed_name,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	// Version counts the investigation's changes (If-Match).
	Version int `json:"version"`
}

// openOn returns the investigation open on a sample's test, if any.
func openOn(invs []Investigation, sampleID, test string) *Investigation {
	for i := range invs {
		if invs[i].SampleID == sampleID && invs[i].TestCode == test && invs[i].State != OOSClosed {
			return &invs[i]
		}
	}
	return nil
}

// mayRetest refuses a retest that the investigation did not plan: before
// its hypothesis, beyond the number fixed, or by the analyst investigated.
func (inv *Investigation) mayRetest(a identity.Actor, done int) error {
	switch {
	case inv.Hypothesis == "":
		return errs.E(errs.Conflict, "quality.oos.hypothesis_first", inv.Code)
	case inv.RetestsPlanned == 0:
		return errs.E(errs.Conflict, "quality.oos.retests_unplanned", inv.Code)
	case done >= inv.RetestsPlanned:
		return errs.E(errs.Conflict, "quality.oos.retests_done", inv.Code, inv.RetestsPlanned)
	case a.UserID == inv.Analyst:
		return errs.E(errs.Forbidden, "quality.oos.retest_same_analyst", inv.Code)
	}
	return nil
}

// StateHypothesis records phase I's hypothesis, once, before anything is
// measured again.
func StateHypothesis(a identity.Actor, inv Investigation, hypothesis string, now time.Time) (*Investigation, error) {
	if err := a.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	if inv.State == OOSClosed {
		return nil, errs.E(errs.Conflict, "quality.oos.closed", inv.Code)
	}
	if inv.Hypothesis != "" {
		return nil, errs.E(errs.Conflict, "quality.oos.hypothesis_stated", inv.Code)
	}
	h, err := words("hypothesis", hypothesis, 10, 2000)
	if err != nil {
		return nil, err
	}
	inv.Hypothesis, inv.HypothesisBy, inv.HypothesisAt = h, a.UserID, &now
	return &inv, nil
}

// PlanRetests fixes, once, how many retests the investigation takes: after
// its hypothesis, before the first retest.
func PlanRetests(a identity.Actor, inv Investigation, n int) (*Investigation, error) {
	if err := a.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	switch {
	case inv.State == OOSClosed:
		return nil, errs.E(errs.Conflict, "quality.oos.closed", inv.Code)
	case inv.Hypothesis == "":
		return nil, errs.E(errs.Conflict, "quality.oos.hypothesis_first", inv.Code)
	case inv.RetestsPlanned > 0:
		return nil, errs.E(errs.Conflict, "quality.oos.retests_fixed", inv.Code, inv.RetestsPlanned)
	case n < 1 || n > MaxRetests:
		return nil, errs.Field("retests", "quality.oos.retests_count", MaxRetests)
	}
	inv.RetestsPlanned = n
	return &inv, nil
}

// ConcludePhase1 records whether a laboratory error is proven. Proven (with
// its cause), the result investigated is invalidated, kept beside the
// retests; not proven, the investigation goes to phase II.
func ConcludePhase1(a identity.Actor, inv Investigation, proven bool, cause string) (*Investigation, error) {
	if err := a.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	if inv.State != OOSPhase1 {
		return nil, errs.E(errs.Conflict, "quality.oos.not_phase1", inv.Code)
	}
	if inv.Hypothesis == "" {
		return nil, errs.E(errs.Conflict, "quality.oos.hypothesis_first", inv.Code)
	}
	c, err := words("cause", cause, 0, 2000)
	if err != nil {
		return nil, err
	}
	if proven && len([]rune(c)) < 10 {
		return nil, errs.Field("cause", "quality.oos.cause_required")
	}
	inv.LabError, inv.LabErrorCause = &proven, c
	if !proven {
		inv.State = OOSPhase2
	}
	return &inv, nil
}

// RecordFindings records phase II's full investigation: its root cause,
// and the deviation it is followed in.
func RecordFindings(a identity.Actor, inv Investigation, findings, deviationID string) (*Investigation, error) {
	if err := a.Require(identity.PermDeviationWork); err != nil {
		return nil, err
	}
	if inv.State != OOSPhase2 {
		return nil, errs.E(errs.Conflict, "quality.oos.not_phase2", inv.Code)
	}
	f, err := words("findings", findings, 10, 4000)
	if err != nil {
		return nil, err
	}
	inv.Findings, inv.DeviationID = f, deviationID
	return &inv, nil
}

// Closing is what closing an investigation needs: the results of its test
// on its sample.
type Closing struct {
	Actor         identity.Actor
	Investigation Investigation
	Results       []Result
	Now           time.Time
}

// CloseOOS is quality assurance's conclusion, signed: a laboratory error
// proven and every planned retest done and reviewed invalidates the
// result; phase II's findings recorded confirm it. It returns the results
// the conclusion invalidates.
func CloseOOS(c Closing) (*Investigation, []Result, error) {
	if err := c.Actor.Require(identity.PermQualityDecide); err != nil {
		return nil, nil, err
	}
	inv := c.Investigation
	if inv.State == OOSClosed {
		return nil, nil, errs.E(errs.Conflict, "quality.oos.closed", inv.Code)
	}
	var invalid []Result
	switch {
	case inv.LabError == nil:
		return nil, nil, errs.E(errs.Conflict, "quality.oos.phase1_open", inv.Code)
	case *inv.LabError:
		done := 0
		for _, r := range c.Results {
			if r.Retest && r.InvestigationID == inv.ID {
				if r.State != ResultReviewed {
					return nil, nil, errs.E(errs.Conflict, "quality.oos.retest_unreviewed", inv.Code)
				}
				done++
			}
			if r.ID == inv.ResultID {
				r.State = ResultInvalidated
				invalid = append(invalid, r)
			}
		}
		if done < inv.RetestsPlanned || inv.RetestsPlanned == 0 {
			return nil, nil, errs.E(errs.Conflict, "quality.oos.retests_missing", inv.Code, inv.RetestsPlanned, done)
		}
		inv.Outcome = OOSInvalidated
	default:
		if inv.Findings == "" {
			return nil, nil, errs.E(errs.Conflict, "quality.oos.findings_missing", inv.Code)
		}
		inv.Outcome = OOSConfirmed
	}
	inv.State, inv.ClosedBy, inv.ClosedName, inv.ClosedAt = OOSClosed, c.Actor.UserID, nameOf(c.Actor), &c.Now
	return &inv, invalid, nil
}
