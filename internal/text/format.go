package text

import (
	"strconv"
	"strings"
	"time"
)

// Int is a whole number written with its thousands grouped: 12 000 in
// French (narrow no-break space), 12,000 in English.
type Int int

// Localize writes n the reader's way.
func (n Int) Localize(lang string) string { return FormatInt(lang, int(n)) }

// Decimal is a number written with the language's decimal mark and its
// thousands grouped: 12 500,5 in French, 12,500.5 in English.
type Decimal float64

// Localize writes f the reader's way.
func (f Decimal) Localize(lang string) string { return FormatQuantity(lang, float64(f)) }

// FormatInt writes n with its thousands grouped the way lang does.
func FormatInt(lang string, n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if Lang(lang) == FR {
		sep = "\u202f"
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatDecimal writes f with lang's decimal mark, as short as it reads
// back exactly.
func FormatDecimal(lang string, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if Lang(lang) == FR {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// FormatQuantity writes a quantity for reading, its thousands grouped and
// lang's decimal mark: 20 000 or 12 500,5 in French (narrow no-break
// space), 20,000 or 12,500.5 in English. Not for a form's input, which
// reads numbers without grouping.
func FormatQuantity(lang string, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	whole, frac, dec := strings.Cut(s, ".")
	n, err := strconv.Atoi(whole)
	if err != nil {
		return FormatDecimal(lang, f)
	}
	out := FormatInt(lang, n)
	if whole == "-0" {
		out = "-0"
	}
	if dec {
		mark := "."
		if Lang(lang) == FR {
			mark = ","
		}
		out += mark + frac
	}
	return out
}

// FormatFixed writes f with exactly decimals decimals and lang's decimal
// mark: 7,50 in French, 7.50 in English.
func FormatFixed(lang string, f float64, decimals int) string {
	return LocalizeNumber(lang, strconv.FormatFloat(f, 'f', decimals, 64))
}

// LocalizeNumber writes a number stored with a decimal point ("99.5") with
// lang's decimal mark, its digits kept and its thousands grouped
// ("12500.50" is 12 500,50 in French, 12,500.50 in English); a string that
// is not such a number is returned as it is.
func LocalizeNumber(lang, s string) string {
	whole, frac, dec := strings.Cut(s, ".")
	digits := strings.TrimPrefix(whole, "-")
	if n, err := strconv.Atoi(digits); err == nil && digits[0] != '+' && digits[0] != '0' && n >= 1000 {
		whole = strings.TrimSuffix(whole, digits) + FormatInt(lang, n)
	}
	if !dec {
		return whole
	}
	if Lang(lang) == FR {
		return whole + "," + frac
	}
	return whole + "." + frac
}

// FormatDate writes the calendar day of t in the zone loc: 02/01/2006 in
// French, 2 Jan 2006 in English; a zero time is a dash.
func FormatDate(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if Lang(lang) == EN {
		return t.In(loc).Format("2 Jan 2006")
	}
	return t.In(loc).Format("02/01/2006")
}

// FormatDateTime writes t to the minute in the zone loc: 02/01/2006 15:04
// in French, 2 Jan 2006 15:04 in English; a zero time is a dash.
func FormatDateTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if Lang(lang) == EN {
		return t.In(loc).Format("2 Jan 2006 15:04")
	}
	return t.In(loc).Format("02/01/2006 15:04")
}

// Date is a moment written as its calendar day in a zone, the reader's way.
type Date struct {
	T   time.Time
	Loc *time.Location
}

// Localize writes the day the reader's way.
func (d Date) Localize(lang string) string { return FormatDate(lang, d.T, d.loc()) }

// DateTime is a moment written to the minute in a zone, the reader's way.
type DateTime struct {
	T   time.Time
	Loc *time.Location
}

// Localize writes the moment the reader's way.
func (d DateTime) Localize(lang string) string { return FormatDateTime(lang, d.T, Date(d).loc()) }

func (d Date) loc() *time.Location {
	if d.Loc == nil {
		return time.UTC
	}
	return d.Loc
}
