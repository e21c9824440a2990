package quality

import (
	"slices"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// The disposition of a batch (EU GMP Annex 16): quality assurance reviews
// the batch record by exception and signs the review, each exception
// justified; the qualified person then certifies the batch or rejects it.
// From completion to that decision the batch is in quarantine. The release
// view checks, from live data, everything it can and says in words what
// blocks.

// Exception is a step of the batch record recorded outside its limits, and
// QA's justification of it in the review.
type Exception struct {
	StepID string `json:"step_id"`
	// Label names the step ("2.3") for the reader.
	Label         string `json:"label"`
	Justification string `json:"justification,omitempty"`
}

// Reviewing is what QA's review of a batch needs.
type Reviewing struct {
	Actor      identity.Actor
	Batch      production.Batch
	Exceptions []Exception
	// Justifications are QA's, by step id.
	Justifications map[string]string
	Now            time.Time
}

// ReviewBatch is QA's review by exception, signed (meaning reviewed): the
// batch is in QA review and every exception of its record is justified.
// It returns the batch QA reviewed and the exceptions with their
// justifications.
func ReviewBatch(c Reviewing) (*production.Batch, []Exception, error) {
	if err := c.Actor.Require(identity.PermQualityDecide); err != nil {
		return nil, nil, err
	}
	b := c.Batch
	if b.State != production.BatchInReview {
		return nil, nil, errs.E(errs.Conflict, "quality.release.not_in_review", b.Lot, text.Key("batchstate."+string(b.State)))
	}
	out := make([]Exception, len(c.Exceptions))
	for i, ex := range c.Exceptions {
		j, err := words("justification", c.Justifications[ex.StepID], 0, 2000)
		if err != nil {
			return nil, nil, err
		}
		if j == "" {
			j = ex.Justification
		}
		if len([]rune(j)) < 10 {
			return nil, nil, errs.Field("justifications", "quality.release.justify_exception", ex.Label)
		}
		ex.Justification = j
		out[i] = ex
	}
	b.State = production.BatchQAReviewed
	return &b, out, nil
}

// Justify records QA's justifications of a batch's exceptions, by step id,
// before QA signs the review: only the batch's exceptions, while it is in QA
// review; an empty text withdraws a justification.
func Justify(a identity.Actor, b production.Batch, exceptions []Exception, old BatchReview, justifications map[string]string) (*BatchReview, error) {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return nil, err
	}
	if b.State != production.BatchInReview {
		return nil, errs.E(errs.Conflict, "quality.release.not_in_review", b.Lot, text.Key("batchstate."+string(b.State)))
	}
	next := old
	next.Justifications = map[string]string{}
	for k, v := range old.Justifications {
		next.Justifications[k] = v
	}
	for id, j := range justifications {
		i := slices.IndexFunc(exceptions, func(e Exception) bool { return e.StepID == id })
		if i < 0 {
			return nil, errs.Field("justifications", "quality.release.not_exception")
		}
		j, err := words("justifications", j, 0, 2000)
		if err != nil {
			return nil, err
		}
		if j == "" {
			delete(next.Justifications, id)
			continue
		}
		if len([]rune(j)) < 10 {
			return nil, errs.Field("justifications", "quality.release.justify_exception", exceptions[i].Label)
		}
		next.Justifications[id] = j
	}
	return &next, nil
}

// Releasing is what the qualified person's view of a batch reads, live.
type Releasing struct {
	Actor      identity.Actor
	Batch      production.Batch
	Exceptions []Exception
	// Spec is the specification version the batch's samples are read
	// against; nil when none was in force.
	Spec           *Spec
	Samples        []Sample
	Results        []Result
	Investigations []Investigation
	Deviations     []Deviation
	// Lots are the material lots the batch used.
	Lots []production.Lot
	Now  time.Time
}

// Blocker is what stands between a batch and its certification, in words.
type Blocker = text.Msg

// Blockers says what keeps the batch from being certified: the record not
// QA reviewed, an exception not justified, a required test without a
// reviewed reportable result or out of specification, an OOS investigation
// open, a deviation neither closed nor justified as not affecting the
// batch, a material lot used that is not released. None: it may be
// certified.
func Blockers(c Releasing) []Blocker {
	var out []Blocker
	b := c.Batch
	switch b.State {
	case production.BatchQAReviewed:
	case production.BatchCertified, production.BatchRejected:
		return []Blocker{{Key: "quality.block.decided", Args: []any{text.Key("batchstate." + string(b.State))}}}
	default:
		out = append(out, Blocker{Key: "quality.block.not_reviewed", Args: []any{text.Key("batchstate." + string(b.State))}})
	}
	for _, ex := range c.Exceptions {
		if ex.Justification == "" {
			out = append(out, Blocker{Key: "quality.block.exception", Args: []any{ex.Label}})
		}
	}
	out = append(out, testBlockers(c)...)
	for _, inv := range c.Investigations {
		if inv.State != OOSClosed {
			out = append(out, Blocker{Key: "quality.block.oos_open", Args: []any{inv.Code, inv.TestCode}})
		}
	}
	for _, d := range c.Deviations {
		if !d.Settled(b.ID) {
			out = append(out, Blocker{Key: "quality.block.deviation", Args: []any{d.Code, text.Key("deviationstate." + string(d.State))}})
		}
	}
	for _, l := range c.Lots {
		if l.Status != production.LotReleased {
			out = append(out, Blocker{Key: "quality.block.lot", Args: []any{l.Code, text.Key("lotstatus." + string(l.Status))}})
		}
	}
	return out
}

// testBlockers checks every test the specification requires of the batch's
// samples: each sample kind it requires taken, each test with a reportable
// result reviewed and within specification.
func testBlockers(c Releasing) []Blocker {
	if c.Spec == nil {
		return []Blocker{{Key: "quality.block.no_spec"}}
	}
	var out []Blocker
	for _, kind := range []SampleKind{SampleInProcess, SampleFinished} {
		tests := c.Spec.TestsFor(kind)
		if len(tests) == 0 {
			continue
		}
		var samples []Sample
		for _, s := range c.Samples {
			if s.Kind == kind && s.BatchID == c.Batch.ID {
				samples = append(samples, s)
			}
		}
		if len(samples) == 0 {
			out = append(out, Blocker{Key: "quality.block.no_sample", Args: []any{text.Key("samplekind." + string(kind))}})
			continue
		}
		for _, s := range samples {
			for _, t := range s.Tests {
				r, ok := Reportable(c.Results, c.Investigations, s.ID, t)
				switch {
				case !ok && len(resultsOf(c.Results, s.ID, t)) == 0:
					out = append(out, Blocker{Key: "quality.block.no_result", Args: []any{t, s.Code}})
				case !ok:
					// An investigation open or retests to do: said once,
					// by the investigation.
				case r.State != ResultReviewed:
					out = append(out, Blocker{Key: "quality.block.unreviewed", Args: []any{t, s.Code}})
				case r.Verdict == OutOfSpec:
					out = append(out, Blocker{Key: "quality.block.oos", Args: []any{t, s.Code, r.Value}})
				}
			}
		}
	}
	return out
}

// Certify is the qualified person's decision, signed: certified (meaning
// released) only when nothing blocks; rejected whatever blocks, with its
// reason. It returns the batch in its new state.
func Certify(c Releasing, meaning esign.Meaning, reason string) (*production.Batch, error) {
	if err := c.Actor.Require(identity.PermBatchRelease); err != nil {
		return nil, err
	}
	b := c.Batch
	switch meaning {
	case esign.Released:
		if bl := Blockers(c); len(bl) > 0 {
			return nil, errs.E(errs.Conflict, "quality.release.blocked", b.Lot, Blocked(bl))
		}
		b.State = production.BatchCertified
	case esign.Rejected:
		if b.State != production.BatchQAReviewed && b.State != production.BatchInReview {
			return nil, errs.E(errs.Conflict, "quality.release.not_reviewed", b.Lot, text.Key("batchstate."+string(b.State)))
		}
		if r, err := words("reason", reason, 10, 2000); err != nil || r == "" {
			return nil, errs.Field("reason", "quality.release.reject_reason")
		}
		b.State = production.BatchRejected
	default:
		return nil, errs.Field("meaning", "quality.release.meaning")
	}
	return &b, nil
}

// Blocked writes a list of blockers, one after the other, in the reader's
// language.
type Blocked []Blocker

// Localize writes the blockers in lang.
func (bl Blocked) Localize(lang string) string {
	s := ""
	for i, b := range bl {
		if i > 0 {
			s += " "
		}
		s += b.Localize(lang)
	}
	return s
}
