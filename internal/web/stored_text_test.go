package web

import (
	"encoding/json"
	"strings"
	"testing"

	"galenix/internal/production"
	"galenix/internal/text"
)

// TestStoredTexts: a step's entry and reason are written in the reader's
// language from their coded form; a row from before texts were coded shows
// its words as they are, on the pages and in the API, without a code.
func TestStoredTexts(t *testing.T) {
	why := text.Code("stored.why.outside_limits", text.Num(7.5, 2), text.Str("pH"), text.Num(6.8, 2), text.Num(7.2, 2))
	coded := production.StepRecord{Value: text.Code("stored.step.numeric", text.Num(7.5, 2), text.Str("pH")).String(), Why: why.String(), Exception: true}
	legacy := production.StepRecord{Value: "2/2 checked", Why: "7.50 pH is outside the limits [6.80 ; 7.20] pH.", Exception: true}
	for _, tt := range []struct {
		name      string
		r         production.StepRecord
		lang      string
		value, wh string
	}{
		{"coded, in French", coded, langFR, "7,50 pH", "7,50 pH est hors des limites [6,80 ; 7,20] pH."},
		{"coded, in English", coded, langEN, "7.50 pH", "7.50 pH is outside the limits [6.80; 7.20] pH."},
		{"an older row, in French", legacy, langFR, legacy.Value, legacy.Why},
		{"an older row, in English", legacy, langEN, legacy.Value, legacy.Why},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := entryText(tt.lang, &tt.r); got != tt.value {
				t.Errorf("entry %q, want %q", got, tt.value)
			}
			if got := stepWhy(tt.lang, &tt.r); got != tt.wh {
				t.Errorf("reason %q, want %q", got, tt.wh)
			}
			a := stepAnswer(tt.lang, &tt.r)
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["value"] != tt.value || m["exception_text"] != tt.wh {
				t.Errorf("API answer %s", b)
			}
			if hasCode := m["value_code"] != nil && m["exception_code"] != nil; hasCode != strings.HasPrefix(tt.r.Value, "{") {
				t.Errorf("API answer's codes %s", b)
			}
		})
	}
}
