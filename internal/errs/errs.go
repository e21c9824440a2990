// Package errs holds galenix's one error type: a code that says what kind of
// failure it is, a message safe to show to a person, and an internal cause
// that is only ever logged.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error; the web layer maps each code to one HTTP status.
type Code string

// The error codes. Every error leaving a service carries one of them.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Forbidden    Code = "forbidden"
	Unauthorized Code = "unauthorized"
	TooLarge     Code = "too_large"
	// MethodNotAllowed: the resource exists but not for this method.
	MethodNotAllowed Code = "method_not_allowed"
	// RateLimited: too many attempts from one place; wait and try again.
	RateLimited Code = "rate_limited"
	// Unavailable: the database cannot take the request now (a failover,
	// an outage, a full disk, a bound reached); nothing was changed, and
	// the same request may be sent again in a few seconds.
	Unavailable Code = "unavailable"
	// Stale: the update names a version of the record that is no longer
	// the current one (someone changed it meanwhile); nothing was changed.
	Stale    Code = "stale"
	Internal Code = "internal"

	// IdempotencyMismatch: an Idempotency-Key sent again with another
	// request than the one it was first sent with; nothing was applied.
	IdempotencyMismatch Code = "idempotency_mismatch"
	// IdempotencyApplied: the request sent with this Idempotency-Key was
	// applied, once, and its first answer cannot be given again (lost when
	// a node stopped just after the write, or withheld because it held a
	// secret shown only once). Nothing was applied twice.
	IdempotencyApplied Code = "idempotency_applied"
)

// Codes lists every code, in the order the API documents them.
var Codes = []Code{Invalid, NotFound, MethodNotAllowed, Conflict, Stale, IdempotencyApplied, IdempotencyMismatch, Forbidden, Unauthorized, TooLarge, RateLimited, Unavailable, Internal}

// Error is a failure with a code and a message written for a person, in
// English and in French. Cause, when set, is the underlying error: it is
// logged, never shown.
type Error struct {
	Code    Code
	Message string
	// MessageFR is the French message; the web layer picks by language.
	MessageFR string
	// Field names the input field at fault, when there is one.
	Field string
	// Version is, for Stale, the record's current version.
	Version int
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// E builds an error with a code and its message in English and French.
func E(code Code, en, fr string) *Error {
	return &Error{Code: code, Message: en, MessageFR: fr}
}

// Field builds an invalid-input error naming the field at fault.
func Field(field, en, fr string) *Error {
	return &Error{Code: Invalid, Field: field, Message: en, MessageFR: fr}
}

// Wrap turns an unexpected error into an internal one, keeping the cause for
// the log. An error that already carries a code is returned unchanged.
func Wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: Internal, Message: internalEN, MessageFR: internalFR, Cause: fmt.Errorf("%s: %w", what, err)}
}

// Unavailability builds the error of a request the database could not take
// now, keeping the cause for the log.
func Unavailability(cause error) *Error {
	return &Error{Code: Unavailable, Cause: cause,
		Message:   "The site is in a degraded state: its database cannot take this request right now. Nothing was lost; try again in a few seconds.",
		MessageFR: "Le site fonctionne en mode dégradé : sa base de données ne peut pas traiter cette demande pour l'instant. Rien n'est perdu ; réessayez dans quelques secondes."}
}

// CodeOf returns the code of err, or Internal when err has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

const (
	internalEN = "An internal error occurred; it has been logged."
	internalFR = "Une erreur interne s'est produite ; elle a été journalisée."
)

// MessageOf returns the message of err that is safe to show, in French when
// lang is "fr" and in English otherwise.
func MessageOf(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		if lang == "fr" && e.MessageFR != "" {
			return e.MessageFR
		}
		return e.Message
	}
	if lang == "fr" {
		return internalFR
	}
	return internalEN
}

// FieldOf returns the field named by err, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// StaleVersion is the error of an update that names version asked of a
// record now at version current.
func StaleVersion(asked, current int) *Error {
	return &Error{Code: Stale, Version: current,
		Message: fmt.Sprintf("Someone else changed this record meanwhile: you edited version %d, it is now at version %d. "+
			"Nothing was changed; look at the current record and make your change again.", asked, current),
		MessageFR: fmt.Sprintf("Quelqu'un d'autre a modifié cet enregistrement entre-temps : vous avez modifié la version %d, il en est à la version %d. "+
			"Rien n'a été modifié ; consultez l'enregistrement actuel et refaites votre modification.", asked, current)}
}

// VersionOf returns the current version a Stale error carries, or 0.
func VersionOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Version
	}
	return 0
}
