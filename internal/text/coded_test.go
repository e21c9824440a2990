package text_test

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/text"
)

func TestCoded(t *testing.T) {
	why := text.Code("stored.why.outside_limits", text.Num(8.2, 2), text.Str("pH"), text.Num(6.5, 2), text.Num(7.5, 2))
	title := text.Code("stored.deviation.title", text.Str("L2603-0001"), text.Str("2.1"), why.Arg())
	for _, tt := range []struct {
		name   string
		c      text.Coded
		stored string
		fr, en string
	}{
		{"without arguments", text.Code("stored.step.confirmed"), `{"key":"stored.step.confirmed"}`, "confirmée", "confirmed"},
		{"a number with its decimals", text.Code("stored.step.numeric", text.Num(7.5, 2), text.Str("pH")),
			`{"key":"stored.step.numeric","args":[{"num":"7.50"},{"str":"pH"}]}`, "7,50 pH", "7.50 pH"},
		{"a number as short as it reads back", text.Code("stored.step.numeric", text.Num(7.5, -1), text.Str("pH")),
			`{"key":"stored.step.numeric","args":[{"num":"7.5"},{"str":"pH"}]}`, "7,5 pH", "7.5 pH"},
		{"arguments in another order", why,
			`{"key":"stored.why.outside_limits","args":[{"num":"8.20"},{"str":"pH"},{"num":"6.50"},{"num":"7.50"}]}`,
			"8,20 pH est hors des limites [6,50 ; 7,50] pH.", "8.20 pH is outside the limits [6.50; 7.50] pH."},
		{"a coded text within", title,
			`{"key":"stored.deviation.title","args":[{"str":"L2603-0001"},{"str":"2.1"},{"text":` + why.String() + `}]}`,
			"Lot L2603-0001, étape 2.1 : 8,20 pH est hors des limites [6,50 ; 7,50] pH.",
			"Batch L2603-0001, step 2.1: 8.20 pH is outside the limits [6.50; 7.50] pH."},
		{"a string written as it is", text.Code("stored.step.equipment", text.Str("<MX-1.5>")),
			`{"key":"stored.step.equipment","args":[{"str":"<MX-1.5>"}]}`, "<MX-1.5> : propre, qualifié", "<MX-1.5>: clean, qualified"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.stored {
				t.Errorf("stored as %s, want %s", got, tt.stored)
			}
			back, ok := text.ParseCoded(tt.stored)
			if !ok || back.String() != tt.stored {
				t.Errorf("read back as %+v (%v)", back, ok)
			}
			for lang, want := range map[string]string{text.FR: tt.fr, text.EN: tt.en} {
				if got := text.RenderStored(lang, tt.stored); got != want {
					t.Errorf("in %s: %q, want %q", lang, got, want)
				}
				if got := text.Render(lang, "stored.step.numeric", tt.c, ""); got != want+" " {
					t.Errorf("as an argument in %s: %q", lang, got)
				}
			}
		})
	}
}

// TestStoredNotCoded: what is not a coded text's stored form (a row from
// before texts were coded, a free text) is shown as it is.
func TestStoredNotCoded(t *testing.T) {
	for _, s := range []string{
		"", "confirmed", "2/2 checked", "7.5 pH", "MX-01: clean, qualified", "ECH-2", "{ECH-2}",
		`{"key":""}`, `{"key":"stored.step.confirmed","extra":1}`, `{"key":"stored.step.confirmed"} and more`,
		`{"key":"stored.step.numeric","args":[{"num":"7.5","unit":"pH"}]}`, `{"key":`,
	} {
		if _, ok := text.ParseCoded(s); ok {
			t.Errorf("%q reads as a coded text", s)
		}
		for _, lang := range text.Languages {
			if got := text.RenderStored(lang, s); got != s {
				t.Errorf("%q in %s shows as %q", s, lang, got)
			}
		}
	}
}

// TestCoding: a message as the code passes it (a key within it, a day in
// a zone, numbers, a string) is stored as a coded text that reads back as
// the message did, in each language.
func TestCoding(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC is already the next day in Paris.
	day := text.Date{T: time.Date(2026, 2, 27, 23, 30, 0, 0, time.UTC), Loc: paris}
	args := []any{text.Key("qualification.kind.gowning"), "B", day}
	c := text.Coding("qualification.lapsed", args...)
	back, ok := text.ParseCoded(c.String())
	if !ok {
		t.Fatalf("stored as %s", c.String())
	}
	for _, lang := range []string{text.FR, text.EN} {
		if got, want := back.Render(lang), text.Render(lang, "qualification.lapsed", args...); got != want || !strings.Contains(got, "28") {
			t.Errorf("in %s: %q, want %q", lang, got, want)
		}
	}
	if got := text.Coding("access.rule.escort", "Labo", "60").Render(text.EN); got != "Access to Labo refused: a visitor enters only behind their escort, who badges first (within 60 s)." {
		t.Errorf("a number: %q", got)
	}
}
