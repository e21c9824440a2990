package quality

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// ResultState is where a result is in its review.
type ResultState string

// The states of a result. A result is never deleted nor replaced: an
// invalidated one stays, marked, beside the retests that report instead.
const (
	ResultEntered     ResultState = "entered"
	ResultReviewed    ResultState = "reviewed"
	ResultInvalidated ResultState = "invalidated"
)

// Result is one measurement of one test on one sample, as entered.
type Result struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	SampleID string `json:"sample_id"`
	BatchID  string `json:"batch_id,omitempty"`
	TestCode string `json:"test"`
	// Seq numbers the sample's results of the test, from 1, in the
	// order entered.
	Seq     int      `json:"seq"`
	Value   string   `json:"value"`
	Number  *float64 `json:"number,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	Verdict Verdict  `json:"verdict"`
	// Instrument names the file a result was imported from; "" when
	// typed.
	Instrument  string      `json:"instrument,omitempty"`
	State       ResultState `json:"state"`
	EnteredBy   string      `json:"entered_by"`
	EnteredName string      `json:"entered_name"`
	EnteredAt   time.Time   `json:"entered_at"`
	// ReviewedBy is the second analyst, never the one who entered it.
	ReviewedBy   string     `json:"reviewed_by,omitempty"`
	ReviewedName string     `json:"reviewed_name,omitempty"`
	ReviewedAt   *time.Time `json:"reviewed_at,omitempty"`
	// Retest: measured within an OOS investigation (InvestigationID),
	// as it planned. A first result out of specification opens the
	// investigation and carries its id too.
	Retest          bool   `json:"retest"`
	InvestigationID string `json:"investigation_id,omitempty"`
	Comment         string `json:"comment,omitempty"`
	// Version counts the result's changes (If-Match).
	Version int `json:"version"`
}

// Entering is what entering a result needs: the sample, its specification
// version, the results it already has for the test and the investigations
// open on it.
type Entering struct {
	Actor  identity.Actor
	Sample Sample
	Spec   Spec
	// Earlier are the sample's results of the test; Investigations the
	// investigations on the sample's test.
	Earlier        []Result
	Investigations []Investigation
	Now            time.Time
}

// Entry is a result as an analyst types it or an instrument reports it.
type Entry struct {
	Test       string `json:"test"`
	Value      string `json:"value"`
	Comment    string `json:"comment,omitempty"`
	Instrument string `json:"-"`
}

// ResultOutcome is what entering a result changes.
type ResultOutcome struct {
	Result Result `json:"result"`
	// Opened is the OOS investigation a first result out of
	// specification opens (its id and code are the store's); nil
	// otherwise.
	Opened *Investigation `json:"opened,omitempty"`
}

// EnterResult checks a result against the test of the sample's
// specification, as typed, and records it. A test has one result; another
// measurement is a retest, only within an OOS investigation that stated its
// hypothesis and fixed the number of retests beforehand, by an analyst other
// than the one whose result is investigated, and no more than planned. A
// result out of specification is recorded as it is and opens an
// investigation; a retest out of specification is recorded in the
// investigation it belongs to. Nothing averages or hides it.
func EnterResult(c Entering, e Entry) (*ResultOutcome, error) {
	if err := c.Actor.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	s := c.Sample
	if s.State != SampleReceived {
		return nil, errs.E(errs.Conflict, "quality.result.not_received", s.Code)
	}
	test, ok := c.Spec.TestFor(strings.TrimSpace(e.Test))
	if !ok || !contains(s.Tests, test.Code) {
		return nil, errs.Field("test", "quality.result.no_such_test", strings.TrimSpace(e.Test), s.Code)
	}
	comment, err := words("comment", e.Comment, 0, 1000)
	if err != nil {
		return nil, err
	}
	reading, err := test.Read(e.Value)
	if err != nil {
		return nil, err
	}
	r := Result{ClientID: s.ClientID, SampleID: s.ID, BatchID: s.BatchID, TestCode: test.Code, Seq: len(c.Earlier) + 1,
		Value: reading.Value, Number: reading.Number, Unit: test.Unit, Verdict: reading.Verdict, Instrument: e.Instrument,
		State: ResultEntered, EnteredBy: c.Actor.UserID, EnteredName: nameOf(c.Actor), EnteredAt: c.Now, Comment: comment}
	out := &ResultOutcome{}
	if len(c.Earlier) > 0 {
		inv := openOn(c.Investigations, s.ID, test.Code)
		if inv == nil {
			return nil, errs.E(errs.Conflict, "quality.result.exists", test.Code, s.Code)
		}
		if err := inv.mayRetest(c.Actor, retests(c.Earlier, inv.ID)); err != nil {
			return nil, err
		}
		r.Retest, r.InvestigationID = true, inv.ID
		out.Result = r
		return out, nil
	}
	if r.Verdict == OutOfSpec {
		out.Opened = &Investigation{ClientID: s.ClientID, SampleID: s.ID, BatchID: s.BatchID, TestCode: test.Code,
			Analyst: c.Actor.UserID, State: OOSPhase1, OpenedAt: c.Now}
	}
	out.Result = r
	return out, nil
}

// ReviewResult records the second analyst's review of a result: never by
// the analyst who entered it, once.
func ReviewResult(a identity.Actor, r Result, now time.Time) (*Result, error) {
	if err := a.Require(identity.PermLabWork); err != nil {
		return nil, err
	}
	if r.EnteredBy == a.UserID {
		return nil, errs.E(errs.Forbidden, "quality.result.review_own")
	}
	if r.State != ResultEntered {
		return nil, errs.E(errs.Conflict, "quality.result.reviewed_already", r.TestCode)
	}
	r.State, r.ReviewedBy, r.ReviewedName, r.ReviewedAt = ResultReviewed, a.UserID, nameOf(a), &now
	return &r, nil
}

// Reportable returns the result that reports for a test of a sample: the
// first, unless an investigation invalidated it (a laboratory error
// proven), then the last retest of that investigation. ok is false while
// none does: no result, an investigation open, or retests still to do.
func Reportable(results []Result, investigations []Investigation, sampleID, test string) (r Result, ok bool) {
	rs := resultsOf(results, sampleID, test)
	if len(rs) == 0 {
		return Result{}, false
	}
	if inv := openOn(investigations, sampleID, test); inv != nil {
		return rs[0], false
	}
	first := rs[0]
	if first.State != ResultInvalidated {
		return first, true
	}
	for i := len(rs) - 1; i > 0; i-- {
		if rs[i].Retest && rs[i].InvestigationID == first.InvestigationID {
			return rs[i], true
		}
	}
	return first, false
}

// ImportLine is one line of an instrument's CSV export: the sample's code,
// the test's code and the value.
type ImportLine struct {
	Line   int
	Sample string
	Entry  Entry
}

// MaxImportLines bounds one import.
const MaxImportLines = 2000

// ParseImport reads an instrument's CSV export: a header naming the columns
// sample, test and value (in any order, comment optional; ";" or ","
// separated, as spreadsheets write it in French or English), then one result
// per line. Every malformed line is reported, with its number; the import is
// all or nothing, so an error on any line means nothing is entered.
func ParseImport(data []byte, instrument string) ([]ImportLine, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// The file's text is held to the rule of every text input: UTF-8,
	// without a NUL byte (a file saved in Latin-1 is refused whole, never
	// stored with its accents lost).
	if !bounds.Text(string(data)) {
		return nil, bounds.TextField("file", string(data))
	}
	head, _, _ := bytes.Cut(data, []byte("\n"))
	sep := ','
	if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		sep = ';'
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.Comma, rd.FieldsPerRecord, rd.TrimLeadingSpace = sep, -1, true
	header, err := rd.Read()
	if err != nil {
		return nil, errs.Field("file", "quality.import.header")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"sample", "test", "value"} {
		if _, ok := col[need]; !ok {
			return nil, errs.Field("file", "quality.import.header")
		}
	}
	var lines []ImportLine
	var bad errs.Lines
	for n := 2; ; n++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad.Add(n, errs.E(errs.Invalid, "csvimport.unreadable"))
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		at := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l := ImportLine{Line: n, Sample: at("sample"), Entry: Entry{Test: at("test"), Value: at("value"), Comment: at("comment"), Instrument: instrument}}
		if l.Sample == "" || l.Entry.Test == "" || l.Entry.Value == "" {
			bad.Add(n, errs.E(errs.Invalid, "quality.import.missing"))
			continue
		}
		lines = append(lines, l)
		if len(lines) > MaxImportLines {
			return nil, errs.Field("file", "quality.import.too_long", MaxImportLines)
		}
	}
	if len(bad) > 0 {
		return nil, bad.Err()
	}
	if len(lines) == 0 {
		return nil, errs.Field("file", "quality.import.empty")
	}
	return lines, nil
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
