package text

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Coded is a text people read that is stored rather than shown at once: a
// batch step's entry, an exception's reason, a deviation's title. It is
// kept as a message key of the catalogue with its arguments, and written in
// the reader's language, with that language's decimal mark, each time it
// is read; so a record made on a French tablet reads in English to an
// English auditor, and the stored bytes (which a signature's hash covers)
// never depend on who reads them.
//
// Its stored form (String) is one JSON object, the same for the same text:
//
//	{"key":"stored.step.numeric","args":[{"num":"7.50"},{"str":"pH"}]}
//
// The keys written into the database are under "stored.": their wording
// may change, but such a key, once released, is never renamed nor removed,
// or the rows holding it would show the bare key.
type Coded struct {
	Key  string `json:"key"`
	Args []Arg  `json:"args,omitempty"`
}

// Arg is one argument of a coded text; at most one of its fields is set
// (none: an empty string). Each is written into the message as a string:
// its place in the message is a %s (or %[n]s).
type Arg struct {
	// Str is written as it is in every language: a code, a unit, a lot.
	Str string `json:"str,omitempty"`
	// Num is a number as written in English with the decimals it was
	// recorded with ("7.50"), written with the reader's decimal mark.
	Num string `json:"num,omitempty"`
	// Text is a coded text within this one, rendered in the reader's
	// language too.
	Text *Coded `json:"text,omitempty"`
	// Day is a day ("2006-01-02", as it was where it was recorded),
	// written the reader's way.
	Day string `json:"day,omitempty"`
	// Time is a day and a time of day ("2006-01-02 15:04", as it was
	// where it was recorded), written the reader's way.
	Time string `json:"time,omitempty"`
}

// Moment is an argument naming the minute t, as it was in loc.
func Moment(t time.Time, loc *time.Location) Arg { return Arg{Time: t.In(loc).Format(momentLayout)} }

const momentLayout = "2006-01-02 15:04"

// Code returns the coded text of key with its arguments.
func Code(key string, args ...Arg) Coded { return Coded{Key: key, Args: args} }

// Str is an argument written as it is in every language.
func Str(s string) Arg { return Arg{Str: s} }

// Num is a number argument with the given decimals (7.5 with 2 decimals is
// 7,50 in French, 7.50 in English); decimals < 0 writes it as short as it
// reads back exactly.
func Num(v float64, decimals int) Arg { return Arg{Num: strconv.FormatFloat(v, 'f', decimals, 64)} }

// Coding turns a message and its arguments as the code passes them (an
// error's, a decision's) into a coded text to store: a Key or a Msg
// becomes a coded text within it, a Date its day where it was, a number a
// number; any other value is written as it is.
func Coding(key string, args ...any) Coded {
	c := Coded{Key: key}
	for _, a := range args {
		c.Args = append(c.Args, argOf(a))
	}
	return c
}

func argOf(v any) Arg {
	switch a := v.(type) {
	case string:
		return Str(a)
	case Key:
		return Coded{Key: string(a)}.Arg()
	case Msg:
		return Coding(a.Key, a.Args...).Arg()
	case Coded:
		return a.Arg()
	case Date:
		return Arg{Day: a.T.In(a.loc()).Format(time.DateOnly)}
	case int:
		return Num(float64(a), 0)
	case int64:
		return Num(float64(a), 0)
	case float64:
		return Num(a, -1)
	}
	return Str(fmt.Sprint(v))
}

// Arg returns c as the argument of another coded text.
func (c Coded) Arg() Arg { return Arg{Text: &c} }

// Render writes c in lang.
func (c Coded) Render(lang string) string {
	args := make([]any, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.render(lang)
	}
	return Render(lang, c.Key, args...)
}

// Localize writes c in lang, so that a coded text can be the argument of
// a message (an error's, a page's).
func (c Coded) Localize(lang string) string { return c.Render(lang) }

func (a Arg) render(lang string) string {
	switch {
	case a.Time != "":
		if t, err := time.Parse(momentLayout, a.Time); err == nil {
			return FormatDate(lang, t, time.UTC) + " " + t.Format("15:04")
		}
		return a.Time
	case a.Day != "":
		if t, err := time.Parse(time.DateOnly, a.Day); err == nil {
			return FormatDate(lang, t, time.UTC)
		}
		return a.Day
	case a.Text != nil:
		return a.Text.Render(lang)
	case a.Num != "":
		return LocalizeNumber(lang, a.Num)
	}
	return a.Str
}

// String returns c's stored form: compact JSON, its fields always in the
// same order, HTML characters left as they are.
func (c Coded) String() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(c) // strings and slices of them: encoding cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// ParseCoded reads a stored text. ok is false for a string that is not the
// stored form of a coded text: a free text (a sample's label as typed), or
// a row written before texts were coded, which held English words.
func ParseCoded(s string) (c Coded, ok bool) {
	if !strings.HasPrefix(s, "{") {
		return Coded{}, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Key == "" {
		return Coded{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return Coded{}, false
	}
	return c, true
}

// RenderStored writes a stored text in lang: a coded text rendered, any
// other string as it is (see ParseCoded).
func RenderStored(lang, s string) string {
	if c, ok := ParseCoded(s); ok {
		return c.Render(lang)
	}
	return s
}
