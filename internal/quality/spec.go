// Package quality holds the rules of the quality unit: the products'
// specifications, the laboratory's samples and results, out-of-specification
// investigations, deviations and their CAPA, and the disposition of a batch
// by quality assurance and its certification by the qualified person.
//
// Like production, it decides and writes nothing: each command is a function
// over the records it needs that returns what changes; the store reads those
// records in the write's transaction and persists the outcome with its audit
// entries (docs/architecture.md, "Deciding and persisting").
package quality

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// Op is how a limit bounds a value.
type Op string

// The operators of a limit: a minimum is ≥ or >, a maximum ≤ or <.
const (
	AtLeast  Op = ">="
	Above    Op = ">"
	AtMost   Op = "<="
	Below    Op = "<"
	opsOfMin    = "≥ >"
	opsOfMax    = "≤ <"
)

// Symbol is the operator as printed on a specification or a certificate.
func (o Op) Symbol() string {
	switch o {
	case AtLeast:
		return "≥"
	case AtMost:
		return "≤"
	}
	return string(o)
}

// Limit is one bound of a test: the value and how it bounds.
type Limit struct {
	Op    Op      `json:"op"`
	Value float64 `json:"value"`
}

// holds reports whether v is within the limit.
func (l *Limit) holds(v float64) bool {
	switch l.Op {
	case AtLeast:
		return v >= l.Value
	case Above:
		return v > l.Value
	case AtMost:
		return v <= l.Value
	case Below:
		return v < l.Value
	}
	return false
}

// TestKind is how a test's result is read.
type TestKind string

// The kinds of test.
const (
	// TestNumeric: a measured value, checked against its limits.
	TestNumeric TestKind = "numeric"
	// TestText: an observation, conforming when it reads as the
	// specification expects (appearance, identification).
	TestText TestKind = "text"
)

// Test is one test of a specification: what is measured, how, and what is
// accepted.
type Test struct {
	// Code names the test within its specification ("ASSAY", "PH").
	Code   string   `json:"code"`
	Name   string   `json:"name"`
	Method string   `json:"method"`
	Kind   TestKind `json:"kind"`
	// Numeric: the unit, the decimals a result is rounded to, the
	// specification limits and the alert limits inside them (out of
	// trend before out of specification). A limit may be absent on one
	// side.
	Unit     string `json:"unit,omitempty"`
	Decimals int    `json:"decimals,omitempty"`
	Min      *Limit `json:"min,omitempty"`
	Max      *Limit `json:"max,omitempty"`
	AlertMin *Limit `json:"alert_min,omitempty"`
	AlertMax *Limit `json:"alert_max,omitempty"`
	// Text: what a conforming observation reads ("Conforme",
	// "Solution limpide, incolore").
	Expected string `json:"expected,omitempty"`
	// Stages are the kinds of sample the test is done on (in-process,
	// finished product...).
	Stages []SampleKind `json:"stages"`
}

// SpecStatus is where a version of a specification is in its life cycle.
type SpecStatus string

// The life cycle, like a master batch record's: draft → in review →
// approved (QA signature) → effective from its date → superseded by a later
// version in force, or retired. Only a draft may be changed.
const (
	SpecDraft      SpecStatus = "draft"
	SpecInReview   SpecStatus = "in_review"
	SpecApproved   SpecStatus = "approved"
	SpecEffective  SpecStatus = "effective"
	SpecSuperseded SpecStatus = "superseded"
	SpecRetired    SpecStatus = "retired"
)

// Spec is one version of a product's specification, for one market or for
// every market (Market "").
type Spec struct {
	ID        string `json:"id"`
	ClientID  string `json:"client_id"`
	ProductID string `json:"product_id"`
	Code      string `json:"code"`
	Version   int    `json:"version"`
	// Revision counts the changes of this version (If-Match).
	Revision int    `json:"revision"`
	Title    string `json:"title"`
	// Market is where the version applies ("EU", "US"...); "" for every
	// market without its own.
	Market string     `json:"market"`
	Status SpecStatus `json:"status"`
	// EffectiveFrom is the day the version comes into force once
	// approved; a batch whose samples are taken before it keeps the
	// previous version.
	EffectiveFrom time.Time `json:"effective_from"`
	Tests         []Test    `json:"tests"`
}

// MaxTests bounds a specification's length.
const MaxTests = 80

// Validate checks a specification's fields and tests.
func (s *Spec) Validate() error {
	var err error
	if s.ProductID == "" {
		return errs.Field("product_id", "quality.spec.product")
	}
	if s.Code, err = code("code", s.Code); err != nil {
		return err
	}
	if s.Title, err = words("title", s.Title, 1, 160); err != nil {
		return err
	}
	if !s.EffectiveFrom.IsZero() {
		if err := bounds.Time("effective_from", s.EffectiveFrom); err != nil {
			return err
		}
	}
	s.Market = strings.ToUpper(strings.TrimSpace(s.Market))
	if utf8.RuneCountInString(s.Market) > 10 || strings.ContainsAny(s.Market, " \t") {
		return errs.Field("market", "quality.spec.market")
	}
	if len(s.Tests) == 0 || len(s.Tests) > MaxTests {
		return errs.Field("tests", "quality.spec.tests", MaxTests)
	}
	seen := map[string]bool{}
	for i := range s.Tests {
		t := &s.Tests[i]
		if err := t.validate(); err != nil {
			if e, ok := err.(*errs.Error); ok {
				e.Field = "tests[" + strconv.Itoa(i) + "]." + e.Field
			}
			return err
		}
		if seen[t.Code] {
			return errs.Field("tests["+strconv.Itoa(i)+"].code", "quality.spec.test_twice", t.Code)
		}
		seen[t.Code] = true
	}
	return nil
}

func (t *Test) validate() error {
	var err error
	if t.Code, err = code("code", t.Code); err != nil {
		return err
	}
	if t.Name, err = words("name", t.Name, 1, 120); err != nil {
		return err
	}
	if t.Method, err = words("method", t.Method, 1, 160); err != nil {
		return err
	}
	if len(t.Stages) == 0 {
		return errs.Field("stages", "quality.spec.stages")
	}
	for _, st := range t.Stages {
		if !st.known() {
			return errs.Field("stages", "quality.sample.kind")
		}
	}
	switch t.Kind {
	case TestNumeric:
		if t.Unit, err = words("unit", t.Unit, 1, 20); err != nil {
			return err
		}
		if t.Decimals < 0 || t.Decimals > 6 {
			return errs.Field("decimals", "quality.spec.decimals")
		}
		if t.Min == nil && t.Max == nil {
			return errs.Field("min", "quality.spec.no_limit")
		}
		for _, l := range []struct {
			field string
			lim   *Limit
			ops   string
		}{{"min", t.Min, opsOfMin}, {"max", t.Max, opsOfMax}, {"alert_min", t.AlertMin, opsOfMin}, {"alert_max", t.AlertMax, opsOfMax}} {
			if l.lim == nil {
				continue
			}
			if !strings.Contains(l.ops, l.lim.Op.Symbol()) || !finite(l.lim.Value) {
				return errs.Field(l.field, "quality.spec.limit_op", l.ops)
			}
		}
		if t.Min != nil && t.Max != nil && t.Min.Value > t.Max.Value {
			return errs.Field("max", "quality.spec.limits_order")
		}
		// Alert limits warn before the specification is left: inside it.
		if a := t.AlertMin; a != nil && (t.Min == nil || a.Value < t.Min.Value || (t.Max != nil && a.Value > t.Max.Value)) {
			return errs.Field("alert_min", "quality.spec.alert_inside")
		}
		if a := t.AlertMax; a != nil && (t.Max == nil || a.Value > t.Max.Value || (t.Min != nil && a.Value < t.Min.Value)) {
			return errs.Field("alert_max", "quality.spec.alert_inside")
		}
		t.Expected = ""
	case TestText:
		if t.Expected, err = words("expected", t.Expected, 1, 200); err != nil {
			return err
		}
		t.Unit, t.Decimals, t.Min, t.Max, t.AlertMin, t.AlertMax = "", 0, nil, nil, nil, nil
	default:
		return errs.Field("kind", "quality.spec.kind")
	}
	return nil
}

// Criterion is the test's acceptance criterion as a certificate prints it:
// "≥ 95,0 % et ≤ 105,0 %", "Conforme". lang is the reader's language.
func (t *Test) Criterion(lang string) string {
	if t.Kind == TestText {
		return t.Expected
	}
	var parts []string
	for _, l := range []*Limit{t.Min, t.Max} {
		if l != nil {
			parts = append(parts, l.Op.Symbol()+" "+text.FormatFixed(lang, l.Value, t.Decimals)+" "+t.Unit)
		}
	}
	return strings.Join(parts, text.Render(lang, "quality.spec.and"))
}

// Verdict is what a result says against its specification.
type Verdict string

// The verdicts.
const (
	// Conform: within the specification and its alert limits.
	Conform Verdict = "conform"
	// OutOfTrend: within the specification, outside an alert limit.
	OutOfTrend Verdict = "out_of_trend"
	// OutOfSpec: outside the specification (OOS).
	OutOfSpec Verdict = "out_of_spec"
)

// Reading is a result as typed, read against its test.
type Reading struct {
	// Value is the result as recorded: the number rounded to the test's
	// decimals, or the observation as typed.
	Value   string
	Number  *float64
	Verdict Verdict
}

// Read checks a typed result against the test: a number (French or English
// decimal mark) rounded to the test's decimals and compared to its limits,
// or an observation compared to the expected text. A malformed result is
// refused; a result outside the limits is read, as out of specification.
func (t *Test) Read(typed string) (*Reading, error) {
	typed = strings.TrimSpace(typed)
	if t.Kind == TestText {
		v, err := words("value", typed, 1, 200)
		if err != nil {
			return nil, err
		}
		r := &Reading{Value: v, Verdict: Conform}
		if !strings.EqualFold(strings.Join(strings.Fields(v), " "), strings.Join(strings.Fields(t.Expected), " ")) {
			r.Verdict = OutOfSpec
		}
		return r, nil
	}
	s := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(typed, " ", ""), "\u202f", ""), ",", ".")
	f, err := strconv.ParseFloat(s, 64)
	if s == "" || err != nil || !finite(f) {
		return nil, errs.Field("value", "quality.result.number")
	}
	f, ok := bounds.Round(f, t.Decimals)
	if !ok {
		return nil, errs.Field("value", "bounds.number_not_finite")
	}
	r := &Reading{Value: strconv.FormatFloat(f, 'f', t.Decimals, 64), Number: &f, Verdict: Conform}
	switch {
	case (t.Min != nil && !t.Min.holds(f)) || (t.Max != nil && !t.Max.holds(f)):
		r.Verdict = OutOfSpec
	case (t.AlertMin != nil && !t.AlertMin.holds(f)) || (t.AlertMax != nil && !t.AlertMax.holds(f)):
		r.Verdict = OutOfTrend
	}
	return r, nil
}

// TestFor returns the specification's test with the code.
func (s *Spec) TestFor(code string) (*Test, bool) {
	for i := range s.Tests {
		if s.Tests[i].Code == code {
			return &s.Tests[i], true
		}
	}
	return nil, false
}

// TestsFor lists the tests a sample of a kind is to have.
func (s *Spec) TestsFor(kind SampleKind) []Test {
	var out []Test
	for _, t := range s.Tests {
		for _, st := range t.Stages {
			if st == kind {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// InForce returns, among the versions of a product's specification, the one
// in force at t for the market: the highest version approved (or since
// superseded) whose effective day has come, the market's own before the
// one for every market. Drafts, versions in review and retired ones are
// never in force. A batch keeps the version in force when its samples were
// taken.
func InForce(versions []Spec, market string, t time.Time) (*Spec, error) {
	market = strings.ToUpper(strings.TrimSpace(market))
	var best *Spec
	for _, m := range []string{market, ""} {
		for i := range versions {
			v := &versions[i]
			if v.Market != m || t.Before(v.EffectiveFrom) {
				continue
			}
			switch v.Status {
			case SpecApproved, SpecEffective, SpecSuperseded:
			default:
				continue
			}
			if best == nil || v.Version > best.Version {
				best = v
			}
		}
		if best != nil {
			return best, nil
		}
		if m == "" {
			break
		}
	}
	return nil, errs.E(errs.Conflict, "quality.spec.none_in_force")
}

// StatusAt is the status a version shows at t among its product's versions
// for its market: an approved version is effective from its day, and
// superseded once a later one is in force.
func StatusAt(versions []Spec, v *Spec, t time.Time) SpecStatus {
	switch v.Status {
	case SpecApproved, SpecEffective, SpecSuperseded:
	default:
		return v.Status
	}
	if t.Before(v.EffectiveFrom) {
		return SpecApproved
	}
	var same []Spec
	for _, o := range versions {
		if o.Market == v.Market {
			same = append(same, o)
		}
	}
	if cur, err := InForce(same, v.Market, t); err == nil && cur.Version > v.Version {
		return SpecSuperseded
	}
	return SpecEffective
}

// SpecMove is a change of a specification's status asked by a person;
// approval is QA's signature, not a move.
type SpecMove string

// The moves.
const (
	SpecSubmit SpecMove = "submit" // draft → in review
	SpecReject SpecMove = "reject" // in review → draft
	SpecRetire SpecMove = "retire" // approved → retired
)

// Next returns the status a move leads to, or a conflict naming the move
// and the status.
func (s SpecStatus) Next(mv SpecMove) (SpecStatus, error) {
	to := map[SpecStatus]map[SpecMove]SpecStatus{
		SpecDraft:     {SpecSubmit: SpecInReview},
		SpecInReview:  {SpecReject: SpecDraft},
		SpecApproved:  {SpecRetire: SpecRetired},
		SpecEffective: {SpecRetire: SpecRetired},
	}[s][mv]
	if to == "" {
		return s, errs.E(errs.Conflict, "quality.spec.move", text.Key("specstatus."+string(s)), text.Key("specmove."+string(mv)))
	}
	return to, nil
}

func code(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 40 || strings.ContainsAny(v, " \t\r\n") {
		return v, errs.Field(field, "quality.code")
	}
	return v, nil
}

func words(field, v string, minLen, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < minLen || n > maxLen {
		if minLen == 0 {
			return v, errs.Field(field, "quality.text_at_most", maxLen)
		}
		return v, errs.Field(field, "quality.text_between", minLen, maxLen)
	}
	return v, nil
}

// finite is the one rule of numbers (bounds.Finite).
func finite(f float64) bool { return bounds.Finite(f) }
