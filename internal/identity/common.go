package identity

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// commonPasswordsFile lists the commonest passwords of public breach lists,
// English and French, and their usual variants: the first that attackers
// try (NIST SP 800-63B §5.1.1.2, ANSSI).
//
//go:embed common-passwords.txt
var commonPasswordsFile string

// commonPasswords is the list as a set, built the first time it is needed.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := map[string]struct{}{}
	for line := range strings.SplitSeq(commonPasswordsFile, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// CommonPasswordCount is the number of passwords in the shipped list.
func CommonPasswordCount() int { return len(commonPasswords()) }

// IsCommonPassword reports whether a password is one attackers try first:
// one of the shipped list, whatever its case; one of them with digits or
// signs around it ("Soleil2024!"); one of them, or a short unit, repeated
// ("soleilsoleil", "abcabcabcabc"); or a run of consecutive characters
// ("123456789012", "abcdefghijkl").
func IsCommonPassword(password string) bool {
	set := commonPasswords()
	lower := strings.ToLower(strings.TrimSpace(password))
	if lower == "" {
		return true
	}
	if _, ok := set[lower]; ok {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if _, ok := set[core]; ok && core != "" {
		return true
	}
	for _, s := range []string{lower, core} {
		if unit, ok := repeated(s); ok {
			if _, common := set[unit]; common || utf8.RuneCountInString(unit) <= 4 {
				return true
			}
		}
	}
	return sequence(lower)
}

// repeated returns the shortest unit that s is two or more copies of.
func repeated(s string) (string, bool) {
	r := []rune(s)
	for p := 1; p <= len(r)/2; p++ {
		if len(r)%p != 0 {
			continue
		}
		unit := string(r[:p])
		if strings.Repeat(unit, len(r)/p) == s {
			return unit, true
		}
	}
	return "", false
}

// sequence reports whether s is a run of consecutive characters, going up
// or down, digits wrapping round ("7890123").
func sequence(s string) bool {
	r := []rune(s)
	if len(r) < 3 {
		return false
	}
	next := func(a, b rune, step rune) bool {
		if b-a == step {
			return true
		}
		return (step == 1 && a == '9' && b == '0') || (step == -1 && a == '0' && b == '9')
	}
	for _, step := range []rune{1, -1} {
		ok := true
		for i := 1; i < len(r) && ok; i++ {
			ok = next(r[i-1], r[i], step)
		}
		if ok {
			return true
		}
	}
	return false
}
