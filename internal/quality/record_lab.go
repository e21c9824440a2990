package quality

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
)

// What the laboratory's records give the audit trail and a signature, and
// the commands that the store's writes ask before they persist: a
// specification's moves and approval, the kind of a sample a sampling step
// takes.

// stamp writes a time for the audit trail ("" when unset).
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Body is the specification's tests as stored: one JSON document.
func (s *Spec) Body() string {
	tests := s.Tests
	if tests == nil {
		tests = []Test{}
	}
	b, err := json.Marshal(tests)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return string(b)
}

// VersionRef returns the address of the specification's revision: the
// counter of its changes (site.Versioned).
func (s *Spec) VersionRef() *int { return &s.Revision }

// AuditFields lists the specification's fields for the audit trail; its
// tests are recorded whole, so that the trail shows every change of a
// draft.
func (s *Spec) AuditFields() []audit.Field {
	sum := sha256.Sum256([]byte(s.Body()))
	return []audit.Field{audit.F("client_id", s.ClientID), audit.F("product_id", s.ProductID), audit.F("code", s.Code),
		audit.F("version", strconv.Itoa(s.Version)), audit.F("title", s.Title), audit.F("market", s.Market),
		audit.F("status", string(s.Status)), audit.F("effective_from", stamp(s.EffectiveFrom)),
		audit.F("body_sha256", hex.EncodeToString(sum[:])), audit.F("body", s.Body())}
}

// SignedFields is the content QA's approval signs: the tests and what
// names them; neither the status nor the effective day, which the approval
// itself sets.
func (s *Spec) SignedFields() []audit.Field {
	var out []audit.Field
	for _, f := range s.AuditFields() {
		if f.Name != "status" && f.Name != "effective_from" {
			out = append(out, f)
		}
	}
	return out
}

// MaySpecMove refuses a move the actor may not make: submitting is for
// those who write specifications; rejecting and retiring are quality
// assurance's, with their reason.
func MaySpecMove(a identity.Actor, mv SpecMove, reason string) error {
	switch mv {
	case SpecSubmit:
		return a.Require(identity.PermSpecEdit)
	case SpecReject, SpecRetire:
		if err := a.Require(identity.PermQualityDecide); err != nil {
			return err
		}
		if strings.TrimSpace(reason) == "" {
			return errs.Field("reason", "quality.spec.move_reason")
		}
		return nil
	}
	return errs.Field("action", "quality.spec.move_unknown")
}

// ApproveSpec is QA's approval of a version in review, by a signature of
// meaning approved: it returns the version approved, in force from its
// effective day, or from the approval if that day has passed (a version is
// never in force before it is approved). Other meanings change nothing
// (nil, nil).
func ApproveSpec(a identity.Actor, s Spec, m esign.Meaning, now time.Time) (*Spec, error) {
	if m != esign.Approved {
		return nil, nil
	}
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if s.Status != SpecInReview {
		return nil, errs.E(errs.Conflict, "quality.spec.approve_in_review", s.Code, s.Version)
	}
	s.Status = SpecApproved
	if s.EffectiveFrom.Before(now) {
		s.EffectiveFrom = now
	}
	return &s, nil
}

// SampleKindOfStep is the kind of sample a sampling step of the batch
// record takes: a step of the master's last operation samples the
// finished product, any earlier one is in process.
func SampleKindOfStep(op, lastOp int) SampleKind {
	if op >= lastOp {
		return SampleFinished
	}
	return SampleInProcess
}

// AuditFields lists the sample's fields for the audit trail.
func (s *Sample) AuditFields() []audit.Field {
	f := []audit.Field{audit.F("code", s.Code), audit.F("kind", string(s.Kind)), audit.F("batch_id", s.BatchID), audit.F("lot_id", s.LotID),
		audit.F("product_id", s.ProductID), audit.F("step_id", s.StepID), audit.F("spec_id", s.SpecID), audit.F("spec_version", strconv.Itoa(s.SpecVersion)),
		audit.F("state", string(s.State)), audit.F("taken_at", stamp(s.TakenAt)), audit.F("taken_by", s.TakenBy), audit.F("due", stamp(s.Due)),
		audit.F("tests", strings.Join(s.Tests, ","))}
	r := s.Received
	if r == nil {
		r = &Receipt{}
	}
	q := ""
	if r.Quantity != 0 {
		q = num(r.Quantity)
	}
	return append(f, audit.F("received_by", r.By), audit.F("received_at", stamp(r.At)), audit.F("quantity", q), audit.F("unit", r.Unit),
		audit.F("condition", string(r.Condition)), audit.F("note", r.Note))
}

// VersionRef returns the address of the sample's version.
func (s *Sample) VersionRef() *int { return &s.Version }

// AuditFields lists the result's fields for the audit trail.
func (r *Result) AuditFields() []audit.Field {
	n := ""
	if r.Number != nil {
		n = num(*r.Number)
	}
	return []audit.Field{audit.F("sample_id", r.SampleID), audit.F("batch_id", r.BatchID), audit.F("test", r.TestCode), audit.F("seq", strconv.Itoa(r.Seq)),
		audit.F("value", r.Value), audit.F("number", n), audit.F("unit", r.Unit), audit.F("verdict", string(r.Verdict)), audit.F("instrument", r.Instrument),
		audit.F("state", string(r.State)), audit.F("entered_by", r.EnteredBy), audit.F("entered_at", stamp(r.EnteredAt)),
		audit.F("reviewed_by", r.ReviewedBy), audit.F("reviewed_at", stampPtr(r.ReviewedAt)), audit.F("retest", strconv.FormatBool(r.Retest)),
		audit.F("investigation_id", r.InvestigationID), audit.F("comment", r.Comment)}
}

// VersionRef returns the address of the result's version.
func (r *Result) VersionRef() *int { return &r.Version }

// AuditFields lists the investigation's fields for the audit trail.
func (inv *Investigation) AuditFields() []audit.Field {
	return append(inv.SignedFields(), audit.F("state", string(inv.State)), audit.F("outcome", string(inv.Outcome)),
		audit.F("closed_by", inv.ClosedBy), audit.F("closed_at", stampPtr(inv.ClosedAt)))
}

// SignedFields is what QA's closing signature binds: the investigation as
// the laboratory and the full investigation left it; not its state nor
// outcome, which the closure sets.
func (inv *Investigation) SignedFields() []audit.Field {
	lab := ""
	if inv.LabError != nil {
		lab = strconv.FormatBool(*inv.LabError)
	}
	return []audit.Field{audit.F("code", inv.Code), audit.F("result_id", inv.ResultID), audit.F("sample_id", inv.SampleID), audit.F("batch_id", inv.BatchID),
		audit.F("test", inv.TestCode), audit.F("analyst", inv.Analyst), audit.F("opened_at", stamp(inv.OpenedAt)), audit.F("hypothesis", inv.Hypothesis),
		audit.F("hypothesis_by", inv.HypothesisBy), audit.F("hypothesis_at", stampPtr(inv.HypothesisAt)),
		audit.F("retests_planned", strconv.Itoa(inv.RetestsPlanned)), audit.F("lab_error", lab), audit.F("lab_error_cause", inv.LabErrorCause),
		audit.F("findings", inv.Findings), audit.F("deviation_id", inv.DeviationID)}
}

// VersionRef returns the address of the investigation's version.
func (inv *Investigation) VersionRef() *int { return &inv.Version }

// OOSCode numbers an investigation: OOS-2026-0001, from the site's
// counter of the year.
func OOSCode(now time.Time, seq int) string {
	return "OOS-" + now.UTC().Format("2006") + "-" + leftPad(strconv.Itoa(seq), 4)
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// Anonymous blanks who took, received, entered or reviewed: a client
// laboratory's users see the results of their batches, never the names of
// the site's staff.
func (s *Sample) Anonymous() {
	s.TakenBy, s.TakenName = "", ""
	if s.Received != nil {
		r := *s.Received
		r.By, r.Name = "", ""
		s.Received = &r
	}
}

// Anonymous blanks the analysts of a result.
func (r *Result) Anonymous() {
	r.EnteredBy, r.EnteredName, r.ReviewedBy, r.ReviewedName = "", "", "", ""
}

// Anonymous blanks the people of an investigation.
func (inv *Investigation) Anonymous() {
	inv.Analyst, inv.HypothesisBy, inv.ClosedBy, inv.ClosedName = "", "", "", ""
}
