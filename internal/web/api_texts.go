package web

import (
	"galenix/internal/production"
	"galenix/internal/text"
)

// The batch record keeps the texts people read (a step's entry, an
// exception's reason, a deviation's title) as coded texts (text.Coded),
// rendered when read. The API answers them under their usual names written
// in the request's language (apiLang), and the coded form beside them
// (value_code, exception_code, title_code) for a client that writes them
// itself. A text stored as it is (a sample's label, a row from before
// texts were coded) has no code.

// apiStep is a step of a batch record as the API answers it.
type apiStep struct {
	production.StepRecord
	Value     string      `json:"value,omitempty"`
	ValueCode *text.Coded `json:"value_code,omitempty"`
	Why       string      `json:"exception_text,omitempty"`
	WhyCode   *text.Coded `json:"exception_code,omitempty"`
}

// apiDeviation is a deviation as the API answers it.
type apiDeviation struct {
	production.Deviation
	Title     string      `json:"title"`
	TitleCode *text.Coded `json:"title_code,omitempty"`
}

// apiRecord is a batch's record as the API answers it.
type apiRecord struct {
	production.Record
	Steps      []apiStep      `json:"steps"`
	Deviations []apiDeviation `json:"deviations"`
}

// apiReview is a batch's review as the API answers it.
type apiReview struct {
	production.Review
	Exceptions []apiStep      `json:"exceptions"`
	Deviations []apiDeviation `json:"deviations"`
	Corrected  []apiStep      `json:"corrected"`
}

// apiFloor is a line's floor as the API answers it.
type apiFloor struct {
	production.Floor
	Next   *apiStep  `json:"next,omitempty"`
	Recent []apiStep `json:"recent"`
}

// storedAnswer writes a stored text in lang, with its code when it has one.
func storedAnswer(lang, s string) (string, *text.Coded) {
	c, ok := text.ParseCoded(s)
	if !ok {
		return s, nil
	}
	return c.Render(lang), &c
}

func stepAnswer(lang string, st *production.StepRecord) *apiStep {
	if st == nil {
		return nil
	}
	a := apiStep{StepRecord: *st}
	a.Value, a.ValueCode = storedAnswer(lang, st.Value)
	a.Why, a.WhyCode = storedAnswer(lang, st.Why)
	return &a
}

func stepsAnswer(lang string, steps []production.StepRecord) []apiStep {
	if steps == nil {
		return nil
	}
	out := make([]apiStep, len(steps))
	for i := range steps {
		out[i] = *stepAnswer(lang, &steps[i])
	}
	return out
}

func deviationsAnswer(lang string, devs []production.Deviation) []apiDeviation {
	if devs == nil {
		return nil
	}
	out := make([]apiDeviation, len(devs))
	for i, d := range devs {
		out[i] = apiDeviation{Deviation: d}
		out[i].Title, out[i].TitleCode = storedAnswer(lang, d.Title)
	}
	return out
}

func recordAnswer(lang string, rec *production.Record) *apiRecord {
	return &apiRecord{Record: *rec, Steps: stepsAnswer(lang, rec.Steps), Deviations: deviationsAnswer(lang, rec.Deviations)}
}

func reviewAnswer(lang string, rv *production.Review) *apiReview {
	return &apiReview{Review: *rv, Exceptions: stepsAnswer(lang, rv.Exceptions), Deviations: deviationsAnswer(lang, rv.Deviations),
		Corrected: stepsAnswer(lang, rv.Corrected)}
}

func floorAnswer(lang string, f *production.Floor) *apiFloor {
	return &apiFloor{Floor: *f, Next: stepAnswer(lang, f.Next), Recent: stepsAnswer(lang, f.Recent)}
}
