package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"galenix/internal/errs"
)

// classify turns a database error into a galenix error: a broken uniqueness
// becomes a conflict, a reference to a missing record invalid input, and
// anything unexpected an internal error whose cause is kept for the log.
func (db *DB) classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return duplicate(pe.ConstraintName)
		case "23503":
			return badReference()
		case "22P02":
			// A malformed id, refused by a uuid column before any foreign
			// key is checked: SQLite, storing ids as text, sees a missing
			// reference instead, and so should the person.
			return badReference()
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return duplicate(se.Error())
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return badReference()
		}
	}
	return errs.Wrap(err, what)
}

func duplicate(detail string) error {
	if strings.Contains(detail, "masters_one_effective") || strings.Contains(detail, "masters.product_id") {
		// Two versions of one product made effective at the same moment.
		return errs.E(errs.Conflict, "Another version of this product's master batch record was just made effective; reload and try again.",
			"Une autre version du dossier de lot maître de ce produit vient d'être mise en vigueur ; rechargez et réessayez.")
	}
	field := "code"
	for _, f := range []string{"username", "badge", "token_hash"} {
		if strings.Contains(detail, f) {
			field = f
		}
	}
	return &errs.Error{Code: errs.Conflict, Field: field,
		Message:   "This " + field + " is already used by another record; choose another.",
		MessageFR: "Ce " + map[string]string{"code": "code", "username": "identifiant", "badge": "badge", "token_hash": "jeton"}[field] + " est déjà utilisé par un autre enregistrement ; choisissez-en un autre."}
}

func badReference() error {
	return errs.E(errs.Invalid, "The record refers to something that does not exist.",
		"L'enregistrement fait référence à un élément qui n'existe pas.")
}
