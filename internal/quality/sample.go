package quality

import (
	"slices"
	"sort"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// SampleKind is what a sample is taken from and for.
type SampleKind string

// The kinds of sample.
const (
	SampleRawMaterial   SampleKind = "raw_material"
	SampleInProcess     SampleKind = "in_process"
	SampleFinished      SampleKind = "finished"
	SampleStability     SampleKind = "stability"
	SampleEnvironmental SampleKind = "environmental"
)

// SampleKinds lists the kinds in display order.
var SampleKinds = []SampleKind{SampleRawMaterial, SampleInProcess, SampleFinished, SampleStability, SampleEnvironmental}

func (k SampleKind) known() bool { return slices.Contains(SampleKinds, k) }

// SampleState is where a sample is.
type SampleState string

// The states: taken (on the floor or at the warehouse), received into the
// laboratory, complete when every test has a reviewed result.
const (
	SampleTaken    SampleState = "taken"
	SampleReceived SampleState = "received"
	SampleComplete SampleState = "complete"
)

// Condition is the state a sample arrives in at the laboratory.
type Condition string

// The conditions of a sample received.
const (
	ConditionIntact    Condition = "intact"
	ConditionDamaged   Condition = "damaged"
	ConditionExcursion Condition = "temperature_excursion"
	ConditionShortfall Condition = "insufficient"
	defaultDueDays               = 5
)

// Conditions lists the conditions in display order.
var Conditions = []Condition{ConditionIntact, ConditionDamaged, ConditionExcursion, ConditionShortfall}

// Sample is a quantity of material taken for testing, with the
// specification version its results are read against.
type Sample struct {
	ID       string     `json:"id"`
	ClientID string     `json:"client_id"`
	Code     string     `json:"code"`
	Kind     SampleKind `json:"kind"`
	// BatchID is the batch sampled (in-process, finished product,
	// stability); LotID the material lot (raw material).
	BatchID   string `json:"batch_id,omitempty"`
	LotID     string `json:"lot_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	// StepID is the batch record's sampling step that took it.
	StepID string `json:"step_id,omitempty"`
	// SpecID and SpecVersion are the specification in force when the
	// sample was taken: its results are read against it, whatever
	// version comes later.
	SpecID      string      `json:"spec_id"`
	SpecVersion int         `json:"spec_version"`
	State       SampleState `json:"state"`
	TakenAt     time.Time   `json:"taken_at"`
	TakenBy     string      `json:"taken_by"`
	TakenName   string      `json:"taken_name"`
	// Due is when its tests are to be done.
	Due time.Time `json:"due"`
	// Tests are the codes of the tests the sample is to have.
	Tests    []string `json:"tests"`
	Received *Receipt `json:"received,omitempty"`
	// Version counts the sample's changes (If-Match).
	Version int `json:"version"`
}

// Receipt is a sample's arrival in the laboratory.
type Receipt struct {
	By        string    `json:"by"`
	Name      string    `json:"name"`
	At        time.Time `json:"at"`
	Quantity  float64   `json:"quantity"`
	Unit      string    `json:"unit"`
	Condition Condition `json:"condition"`
	Note      string    `json:"note,omitempty"`
}

// Sampling is what taking a sample needs: who, what, when, and the
// specification in force for it (InForce).
type Sampling struct {
	Actor identity.Actor
	Code  string
	Kind  SampleKind
	// BatchID, LotID, ProductID, StepID: what is sampled (see Sample).
	BatchID, LotID, ProductID, StepID string
	ClientID                          string
	Spec                              *Spec
	Now                               time.Time
}

// TakeSample records a sample taken, with the tests its kind has in the
// specification in force. A sampling step of the batch record takes one
// in its operator's name; by hand, the laboratory does.
func TakeSample(c Sampling) (*Sample, error) {
	if c.StepID == "" {
		if err := c.Actor.Require(identity.PermLabWork); err != nil {
			return nil, err
		}
	}
	code, err := code("code", c.Code)
	if err != nil {
		return nil, err
	}
	if !c.Kind.known() {
		return nil, errs.Field("kind", "quality.sample.kind")
	}
	switch {
	case c.Kind == SampleRawMaterial && c.LotID == "":
		return nil, errs.Field("lot_id", "quality.sample.lot")
	case c.Kind != SampleRawMaterial && c.Kind != SampleEnvironmental && c.BatchID == "":
		return nil, errs.Field("batch_id", "quality.sample.batch")
	}
	if c.Spec == nil {
		return nil, errs.E(errs.Conflict, "quality.spec.none_in_force")
	}
	tests := c.Spec.TestsFor(c.Kind)
	if len(tests) == 0 {
		return nil, errs.E(errs.Conflict, "quality.sample.no_tests", c.Spec.Code, c.Spec.Version, text.Key("samplekind."+string(c.Kind)))
	}
	s := &Sample{Code: code, Kind: c.Kind, ClientID: c.ClientID, BatchID: c.BatchID, LotID: c.LotID, ProductID: c.ProductID, StepID: c.StepID,
		SpecID: c.Spec.ID, SpecVersion: c.Spec.Version, State: SampleTaken, TakenAt: c.Now, TakenBy: c.Actor.UserID, TakenName: nameOf(c.Actor),
		Due: c.Now.AddDate(0, 0, defaultDueDays)}
	for _, t := range tests {
		s.Tests = append(s.Tests, t.Code)
	}
	return s, nil
}

// ReceiveSample records a sample's arrival in the laboratory: who, when,
// how much and in what condition. A sample is received once.
func ReceiveSample(a identity.Actor, s Sample, r Receipt, now time.Time) (*Sample, error) {
	if err := a.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	if s.State != SampleTaken {
		return nil, errs.E(errs.Conflict, "quality.sample.received_already", s.Code)
	}
	if !finite(r.Quantity) || r.Quantity <= 0 {
		return nil, errs.Field("quantity", "quality.sample.quantity")
	}
	var err error
	if r.Unit, err = words("unit", r.Unit, 1, 20); err != nil {
		return nil, err
	}
	if !slices.Contains(Conditions, r.Condition) {
		return nil, errs.Field("condition", "quality.sample.condition")
	}
	if r.Note, err = words("note", r.Note, 0, 500); err != nil {
		return nil, err
	}
	if r.Condition != ConditionIntact && r.Note == "" {
		return nil, errs.Field("note", "quality.sample.condition_note")
	}
	r.By, r.Name, r.At = a.UserID, nameOf(a), now
	s.Received, s.State = &r, SampleReceived
	return &s, nil
}

// Work is a test to do on a sample received: the analyst's worklist.
type Work struct {
	Sample Sample `json:"sample"`
	Test   string `json:"test"`
	// Retest says the work is a retest an OOS investigation planned.
	Retest bool      `json:"retest"`
	Due    time.Time `json:"due"`
}

// Worklist lists the tests to do on the samples received, earliest due
// first: each test without a valid result, and each retest an open
// investigation planned and not yet done.
func Worklist(samples []Sample, results []Result, investigations []Investigation) []Work {
	var out []Work
	for _, s := range samples {
		if s.State != SampleReceived {
			continue
		}
		for _, t := range s.Tests {
			rs := resultsOf(results, s.ID, t)
			if len(rs) == 0 {
				out = append(out, Work{Sample: s, Test: t, Due: s.Due})
				continue
			}
			for _, inv := range investigations {
				if inv.SampleID == s.ID && inv.TestCode == t && inv.State != OOSClosed {
					for n := retests(rs, inv.ID); n < inv.RetestsPlanned; n++ {
						out = append(out, Work{Sample: s, Test: t, Retest: true, Due: s.Due})
					}
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}

// resultsOf lists a sample's results of one test, in the order entered.
func resultsOf(results []Result, sampleID, test string) []Result {
	var out []Result
	for _, r := range results {
		if r.SampleID == sampleID && r.TestCode == test {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// retests counts the retests done within an investigation.
func retests(rs []Result, investigationID string) int {
	n := 0
	for _, r := range rs {
		if r.Retest && r.InvestigationID == investigationID {
			n++
		}
	}
	return n
}

// nameOf is how a person is named in a quality record.
func nameOf(a identity.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}
