package pdf

import (
	"strings"
	"unicode/utf8"
)

// breakAfter are the characters after which a word too long for its line
// may be broken: the separators of ids, codes, paths and hashes. The line
// then ends with the character itself; nothing is added, so a UUID or a
// lot code reads the same once its lines are put together.
const breakAfter = "-_/.:,;|=+→"

// Wrap breaks s into lines no wider than width millimetres at size points:
// at spaces first (as a word processor does); a word wider than a whole
// line is broken after one of breakAfter, or, for a run without any (a
// hash), between two characters. No character is ever added or removed
// inside a word: joining the pieces of a broken word gives it back. A line
// break in s is kept.
func Wrap(s string, width, size float64, isBold bool) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, wrapLine(para, width, size, isBold)...)
	}
	return lines
}

func wrapLine(s string, width, size float64, isBold bool) []string {
	fits := func(t string) bool { return Width(t, size, isBold) <= width }
	var lines []string
	cur := ""
	for _, w := range strings.Split(s, " ") {
		if w == "" {
			continue
		}
		if cur != "" && fits(cur+" "+w) {
			cur += " " + w
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
			cur = ""
		}
		for !fits(w) {
			head := splitWord(w, fits)
			lines = append(lines, head)
			w = w[len(head):]
		}
		cur = w
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// splitWord is the longest head of w that fits, ending after one of
// breakAfter if such a head fits, else cut between characters; at least
// one character.
func splitWord(w string, fits func(string) bool) string {
	safe, any := 0, 0
	for i, r := range w {
		end := i + utf8.RuneLen(r)
		if !fits(w[:end]) {
			break
		}
		any = end
		if strings.ContainsRune(breakAfter, r) && end < len(w) {
			safe = end
		}
	}
	switch {
	case safe > 0:
		return w[:safe]
	case any > 0:
		return w[:any]
	}
	_, n := utf8.DecodeRuneInString(w)
	return w[:n]
}
