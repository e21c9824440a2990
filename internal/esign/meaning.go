// Package esign holds electronic signatures (21 CFR Part 11 §11.50, 11.70,
// 11.100, 11.200; EU GMP Annex 11 §14): what a signature means, what it is
// bound to (the SHA-256 of the exact content signed), how it is shown, and
// the rules that say who may sign what. No SQL, no HTTP.
package esign

import (
	"strings"

	"galenix/internal/errs"
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
)

// Meanings lists every meaning, in display order.
var Meanings = []Meaning{Performed, Verified, Reviewed, Approved, Released, Rejected, Acknowledged}

// labels are the meanings as people read them: French first, English second.
var labels = map[Meaning]struct{ fr, en string }{
	Performed:    {"Réalisé", "Performed"},
	Verified:     {"Vérifié", "Verified"},
	Reviewed:     {"Revu", "Reviewed"},
	Approved:     {"Approuvé", "Approved"},
	Released:     {"Libéré", "Released"},
	Rejected:     {"Rejeté", "Rejected"},
	Acknowledged: {"Pris en compte", "Acknowledged"},
}

// Valid reports whether m is a known meaning.
func (m Meaning) Valid() bool {
	_, ok := labels[m]
	return ok
}

// Label returns the meaning in French when lang is "fr", in English
// otherwise.
func (m Meaning) Label(lang string) string {
	l, ok := labels[m]
	if !ok {
		return string(m)
	}
	if lang == "fr" {
		return l.fr
	}
	return l.en
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
	return "", errs.Field("meaning", "The meaning of a signature must be one of: "+strings.Join(names, ", ")+".",
		"La signification d'une signature doit être l'une de : "+strings.Join(names, ", ")+".")
}
