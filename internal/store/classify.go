package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

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
	if unavailable(err) {
		return errs.Unavailability(fmt.Errorf("%s: %w", what, err))
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

// unavailable tells a failure of the database itself, which a retry may
// get past, from a failure of the request: the server unreachable or
// restarting, a standby that cannot write (a failover under way), a full
// disk, too many connections, a statement or lock wait cut by its bound,
// the request's own time bound reached.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources: disk full, too many connections
			strings.HasPrefix(pe.Code, "57"), // operator intervention: shutdown, cannot connect now, statement timeout
			pe.Code == "25006",               // read-only transaction: a standby, or a primary being demoted
			pe.Code == "55P03",               // lock not available within lock_timeout
			pe.Code == "58030":               // I/O error
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ENOSPC) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

func duplicate(detail string) error {
	if strings.Contains(detail, "masters_one_effective") || strings.Contains(detail, "masters.product_id") {
		// Two versions of one product made effective at the same moment.
		return errs.E(errs.Conflict, "store.another_version_product_master")
	}
	if strings.Contains(detail, "products_client_code") || strings.Contains(detail, "products.client_id") {
		// A product's code is unique within its client only, whose
		// products the caller sees: the refusal may say so.
		return &errs.Error{Code: errs.Conflict, Field: "code", Key: "store.product_code_taken"}
	}
	field := "code"
	for _, f := range []string{"username", "badge", "token_hash"} {
		if strings.Contains(detail, f) {
			field = f
		}
	}
	return taken(errs.Conflict, field)
}

// taken is the refusal of a value that must be unique across the site and
// is not free. It does not say that another record holds it, nor whose:
// the record may be another client's product, or a username of the site's
// staff, which the caller may not learn of (a supervisor of one client, a
// client's manager naming a user).
func taken(code errs.Code, field string) error {
	en := map[string]string{"code": "code", "username": "username", "badge": "badge", "token_hash": "token"}[field]
	fr := map[string]string{"code": "Ce code", "username": "Cet identifiant", "badge": "Ce badge", "token_hash": "Ce jeton"}[field]
	return &errs.Error{Code: code, Field: field, Key: "store.value_cannot_be_used", Args: []any{en, fr}}
}

func badReference() error {
	return errs.E(errs.Invalid, "store.record_refers_something_does")
}
