// Package esign holds electronic signatures (21 CFR Part 11 §11.50, 11.70,
// 11.100, 11.200; EU GMP Annex 11 §14): what a signature means, what it is
// bound to (the SHA-256 of the exact content signed), how it is shown, and
// the rules that say who may sign what. No SQL, no HTTP.
package esign

import (
	"strings"

	"galenix/internal/errs"
	"galenix/internal/text"
)

// Meaning is what a signature says its signer did (11.50(a)(3)).
type Meaning string

// The meanings of a signature.
const (
	Performed    Meaning = "performed"
	Verified     Meaning = "verified"
	Reviewed     Meaning = "reviewed"
	Approved     Meaning = "approved"
	Released     Meaning = "released"
	Rejected     Meaning = "rejected"
	Acknowledged Meaning = "acknowledged"
	// Authored: the author signs a version as written, which submits it
	// for review (a master batch record).
	Authored Meaning = "authored"
)

// Meanings lists every meaning, in display order.
var Meanings = []Meaning{Performed, Verified, Reviewed, Approved, Released, Rejected, Acknowledged, Authored}

// Valid reports whether m is a known meaning.
func (m Meaning) Valid() bool {
	for _, k := range Meanings {
		if m == k {
			return true
		}
	}
	return false
}

// Key is the catalogue key of the meaning's label: "meaning.verified".
func (m Meaning) Key() string { return "meaning." + string(m) }

// Label returns the meaning in French when lang is "fr", in English
// otherwise, from the catalogue (internal/text).
func (m Meaning) Label(lang string) string {
	if !m.Valid() {
		return string(m)
	}
	if lang != text.FR {
		lang = text.EN
	}
	return text.Render(lang, m.Key())
}

// Labels returns the meaning in both languages, as signatures show it:
// "Vérifié / Verified".
func (m Meaning) Labels() string { return m.Label("fr") + " / " + m.Label("en") }

// ParseMeaning reads a meaning, refusing an unknown one.
func ParseMeaning(s string) (Meaning, error) {
	m := Meaning(strings.TrimSpace(s))
	if m.Valid() {
		return m, nil
	}
	names := make([]string, len(Meanings))
	for i, k := range Meanings {
		names[i] = string(k)
	}
	return "", errs.Field("meaning", "esign.meaning_signature_must", strings.Join(names, ", "))
}
