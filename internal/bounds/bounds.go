// Package bounds holds the limits every value galenix accepts keeps, one
// rule for every input (JSON bodies, forms, query parameters, imports, the
// domain's own checks): times within the years MinYear to MaxYear, numbers
// finite (after their rounding too), text in valid UTF-8 without a NUL
// byte. A value outside them is refused where it enters, with a message a
// person understands, and never reaches the database: a record holding one
// could not be read back or written out (EU GMP Annex 11 §5, built-in
// checks of the data entered).
package bounds

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
)

// MinYear and MaxYear bound every time galenix accepts, both included. A
// fixed range rather than one around today: a rule that moves with the
// clock would refuse tomorrow what it accepted today, and batch records
// reach back decades (history loads) and schedules a few years ahead.
// Every date and time in 2000..2100 is written in four digits, in RFC 3339
// and in both databases; a batch placed at the end of 2100 still ends
// within what both can store and read back.
const (
	MinYear = 2000
	MaxYear = 2100
)

// InRange reports whether t falls in the years MinYear to MaxYear, its
// year read as it is written (in its own zone): a day of the site's
// calendar, 2000-01-01 in Paris, is in range although its start is still
// 1999 in UTC. Either way it is stored and read back in four digits.
func InRange(t time.Time) bool { y := t.Year(); return y >= MinYear && y <= MaxYear }

// Time refuses a time outside the years MinYear to MaxYear, naming the
// field at fault; the zero time (no time given) is the caller's to refuse.
func Time(field string, t time.Time) error {
	if InRange(t) {
		return nil
	}
	return errs.Field(field, "bounds.time_out_of_range", strconv.Itoa(MinYear), strconv.Itoa(MaxYear))
}

// Finite reports whether f is a number: neither infinite nor NaN.
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Number refuses a non-finite number, naming the field at fault.
func Number(field string, f float64) error {
	if Finite(f) {
		return nil
	}
	return errs.Field(field, "bounds.number_not_finite")
}

// Round rounds f to decimals places; ok is false when f or its rounding is
// not finite (1.7e308 to one decimal overflows to +Inf on its way).
func Round(f float64, decimals int) (v float64, ok bool) {
	if !Finite(f) {
		return f, false
	}
	p := math.Pow(10, float64(decimals))
	v = math.Round(f*p) / p
	return v, Finite(f*p) && Finite(v)
}

// Text reports whether s is valid UTF-8 without a NUL byte: text that
// both databases store as it was given (PostgreSQL refuses both).
func Text(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// TextField refuses text that is not valid UTF-8 or holds a NUL byte,
// naming the field at fault.
func TextField(field, s string) error {
	if Text(s) {
		return nil
	}
	return errs.Field(field, "bounds.text_not_valid")
}
