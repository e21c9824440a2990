// Package errs holds galenix's one error type: a code that says what kind of
// failure it is, a message safe to show to a person (a catalogue key and its
// arguments, rendered in the reader's language by internal/text), and an
// internal cause that is only ever logged.
package errs

import (
	"errors"
	"fmt"

	"galenix/internal/text"
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

	// PasswordChangeRequired: the person signed in with a password an
	// administrator set or reset, or one that has expired, and must choose
	// their own before any other request, signatures included (403).
	PasswordChangeRequired Code = "password_change_required"
)

// Codes lists every code, in the order the API documents them.
var Codes = []Code{Invalid, NotFound, MethodNotAllowed, Conflict, Stale, IdempotencyApplied, IdempotencyMismatch, Forbidden, PasswordChangeRequired, Unauthorized, TooLarge, RateLimited, Unavailable, Internal}

// Error is a failure with a code and a message for a person, given as a
// key of the catalogue (internal/text) and its arguments, rendered in the
// reader's language when shown. Cause, when set, is the underlying error:
// it is logged, never shown.
type Error struct {
	Code Code
	// Key is the message's catalogue key ("site.room.name_required").
	Key string
	// Args are the message's arguments, rendered in the reader's language
	// (a text.Localizer writes itself the reader's way).
	Args []any
	// Field names the input field at fault, when there is one.
	Field string
	// Version is, for Stale, the record's current version.
	Version int
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Text(text.EN), e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Text(text.EN))
}

func (e *Error) Unwrap() error { return e.Cause }

// Text renders the error's message in lang: French for "fr", English
// otherwise.
func (e *Error) Text(lang string) string {
	if lang != text.FR {
		lang = text.EN
	}
	key := e.Key
	if key == "" {
		key = keyInternal // an error made without its message shows nothing of itself
	}
	return text.Render(lang, key, e.Args...)
}

// Localize renders the error's message in lang: an error given as the
// argument of another's message is written in the reader's language too.
func (e *Error) Localize(lang string) string { return e.Text(lang) }

// E builds an error with a code and its message: a catalogue key and the
// message's arguments.
func E(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// Field builds an invalid-input error naming the field at fault, with its
// message's catalogue key and arguments.
func Field(field, key string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Key: key, Args: args}
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
	return &Error{Code: Internal, Key: keyInternal, Cause: fmt.Errorf("%s: %w", what, err)}
}

// Unavailability builds the error of a request the database could not take
// now, keeping the cause for the log.
func Unavailability(cause error) *Error {
	return &Error{Code: Unavailable, Cause: cause, Key: "errs.unavailable"}
}

// CodeOf returns the code of err, or Internal when err has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// keyInternal is the message of every internal error: its detail is
// logged, never shown.
const keyInternal = "errs.internal"

// MessageOf returns the message of err that is safe to show, in French when
// lang is "fr" and in English otherwise.
func MessageOf(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Text(lang)
	}
	return (&Error{Key: keyInternal}).Text(lang)
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
	return &Error{Code: Stale, Version: current, Key: "errs.stale", Args: []any{asked, current}}
}

// VersionOf returns the current version a Stale error carries, or 0.
func VersionOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Version
	}
	return 0
}
