package text_test

import (
	"fmt"
	"testing"
	"time"

	"galenix/internal/text"
)

func TestRender(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC) // the 23rd in Paris
	for _, tt := range []struct {
		lang, format string
		args         []any
		want         string
	}{
		{text.FR, "%d versions", []any{3}, "3 versions"},
		{text.FR, "100 %", nil, "100 %"},
		{text.FR, "%s kg", []any{text.Decimal(12.5)}, "12,5 kg"},
		{text.EN, "%s kg", []any{text.Decimal(12.5)}, "12.5 kg"},
		{text.FR, "%s unités", []any{text.Int(12000)}, "12\u202f000 unités"},
		{text.EN, "%s units", []any{text.Int(-1234567)}, "-1,234,567 units"},
		{text.FR, "le %s", []any{text.Date{T: day, Loc: paris}}, "le 23/11/2026"},
		{text.EN, "on %s", []any{text.Date{T: day, Loc: paris}}, "on 23 Nov 2026"},
		{text.FR, "à %s", []any{text.DateTime{T: day, Loc: paris}}, "à 23/11/2026 00:30"},
		{text.EN, "%[2]s before %[1]s", []any{"a", "b"}, "b before a"},
		{text.FR, "{who} a signé : {meaning}", []any{text.Named{"who": "A. Martin", "meaning": text.Key("meaning.verified")}}, "A. Martin a signé : Vérifié"},
		{text.EN, "{who} signed: {meaning} ({nobody})", []any{text.Named{"who": "A. Martin", "meaning": text.Key("meaning.verified")}}, "A. Martin signed: Verified ({nobody})"},
	} {
		if got := text.Format(tt.lang, tt.format, tt.args...); got != tt.want {
			t.Errorf("Format(%s, %q, %v) = %q, want %q", tt.lang, tt.format, tt.args, got, tt.want)
		}
	}
	if got := text.Render(text.FR, "meaning.approved"); got != "Approuvé" {
		t.Errorf("meaning.approved in French: %q", got)
	}
	if got := text.Render("de", "meaning.approved"); got != "Approuvé" {
		t.Errorf("an unknown language reads French, the site's: %q", got)
	}
	if got := text.Render(text.EN, "no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows as itself: %q", got)
	}
	if got := text.Render(text.EN, "errs.stale", 3, 4); got != fmt.Sprintf("Someone else changed this record meanwhile: you edited version %d, it is now at version %d. "+
		"Nothing was changed; look at the current record and make your change again.", 3, 4) {
		t.Errorf("errs.stale: %q", got)
	}
}

// TestRenderCount: a count of one (and of zero in French) takes the
// message's singular form; others, and a message without one, the plural.
func TestRenderCount(t *testing.T) {
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{text.FR, 0, "0 entrée"}, {text.FR, 1, "1 entrée"}, {text.FR, 2, "2 entrées"},
		{text.EN, 0, "0 entries"}, {text.EN, 1, "1 entry"}, {text.EN, 12, "12 entries"},
	} {
		if got := text.RenderCount(tt.lang, "audit.pdf.count", tt.n, tt.n); got != tt.want {
			t.Errorf("RenderCount(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := text.RenderCount(text.FR, "common.page", 1, 1); got != "Page 1" {
		t.Errorf("a message without a singular form: %q", got)
	}
}

// TestNumbersGrouped: the numbers people read have their thousands
// grouped; a code of digits keeps its leading zero.
func TestNumbersGrouped(t *testing.T) {
	for _, tt := range []struct{ lang, in, want string }{
		{text.FR, "12500.50", "12\u202f500,50"}, {text.EN, "12500.50", "12,500.50"}, {text.FR, "-2000000", "-2\u202f000\u202f000"},
		{text.FR, "999.5", "999,5"}, {text.EN, "7.40", "7.40"}, {text.FR, "01234", "01234"}, {text.FR, "abc", "abc"},
	} {
		if got := text.LocalizeNumber(tt.lang, tt.in); got != tt.want {
			t.Errorf("LocalizeNumber(%s, %q) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
	if got := text.Format(text.FR, "%s g", text.Decimal(106.5)); got != "106,5 g" {
		t.Errorf("106.5 g in French: %q", got)
	}
	if got := text.Format(text.FR, "%s g", text.Decimal(12500.5)); got != "12\u202f500,5 g" {
		t.Errorf("12500.5 g in French: %q", got)
	}
}
