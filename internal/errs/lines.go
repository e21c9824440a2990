package errs

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// Lines are the refusals of an import's lines (a CSV file's), each naming
// its line: an import refused shows every bad line at once, and writes
// nothing.
type Lines []error

// Add notes the refusal of a line.
func (l *Lines) Add(line int, err error) {
	*l = append(*l, Field("line", "csvimport.line", line, sentence{err}))
}

// Localize writes every line's refusal, one after the other, in lang.
func (l Lines) Localize(lang string) string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = MessageOf(e, lang)
	}
	return strings.Join(parts, " ")
}

// Sort orders the refusals by line, when two passes found them.
func (l Lines) Sort() {
	slices.SortStableFunc(l, func(a, b error) int { return cmp.Compare(lineOf(a), lineOf(b)) })
}

func lineOf(err error) int {
	if e, ok := err.(*Error); ok && len(e.Args) > 0 {
		if n, ok := e.Args[0].(int); ok {
			return n
		}
	}
	return 0
}

// Err is the import's refusal: how many lines are refused, and why each;
// nil when none is.
func (l Lines) Err() error {
	if len(l) == 0 {
		return nil
	}
	return Field("file", "csvimport.refused", len(l), l)
}

// LinesOf is the refusal of each line of err, an import's refusal (Err);
// nil for any other error.
func LinesOf(err error) Lines {
	var e *Error
	if !errors.As(err, &e) || e.Key != "csvimport.refused" || len(e.Args) < 2 {
		return nil
	}
	l, _ := e.Args[1].(Lines)
	return l
}

// sentence is a line's refusal written within another sentence: without
// its final full stop, which the line's own message puts.
type sentence struct{ err error }

func (s sentence) Localize(lang string) string {
	return strings.TrimSuffix(MessageOf(s.err, lang), ".")
}
