package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"galenix/internal/identity"
)

// On PostgreSQL a transaction is begun by hand on a connection of the pool,
// its row-level security scope set in the same round trip: "BEGIN; SELECT
// set_config(...)" as one simple query. Through database/sql that would be
// two (BeginTx, then the scope), on every read of every request.

// txConn is what a transaction runs its statements on: a database/sql
// transaction (SQLite) or a connection in a transaction begun by hand
// (PostgreSQL).
type txConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errRolledBack is a COMMIT that PostgreSQL answered with a rollback: the
// transaction had failed before.
var errRolledBack = errors.New("the transaction failed and was rolled back")

// beginPostgres takes a connection and begins a transaction on it with the
// actor's scope. It returns the connection and the function that ends the
// transaction (commit or rollback) and gives the connection back.
func (db *DB) beginPostgres(ctx context.Context, readOnly bool, a identity.Actor) (*sql.Conn, func(commit bool) error, error) {
	conn, err := db.conn(ctx, db.write)
	if err != nil {
		return nil, nil, err
	}
	end := func(commit bool) error { return endPostgres(ctx, conn, commit) }
	// A read sees one snapshot, as on SQLite: under PostgreSQL's default
	// (read committed) each statement would see its own, and a batch
	// record read in three queries could mix two states of the batch. A
	// read-only transaction in repeatable read never fails to serialize.
	begin := "BEGIN"
	if readOnly {
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
	}
	q, args := scopeSettings(a)
	err = conn.Raw(func(dc any) error {
		// The simple protocol takes several statements; pgx writes the
		// arguments into the text, quoted.
		_, err := dc.(*stdlib.Conn).Conn().Exec(ctx, begin+"; "+q, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		return err
	})
	if err != nil {
		_ = end(false)
		return nil, nil, err
	}
	return conn, end, nil
}

// endPostgres commits or rolls back the transaction of conn and gives the
// connection back to the pool; one left in a transaction, or broken, is
// closed instead (pgx's stdlib checks that when the pool takes it back). As
// database/sql does, a commit whose request is gone rolls back instead.
func endPostgres(ctx context.Context, conn *sql.Conn, commit bool) error {
	defer conn.Close()
	if commit && ctx.Err() != nil {
		_ = endPostgres(ctx, conn, false)
		return ctx.Err()
	}
	verb := "ROLLBACK"
	if commit {
		verb = "COMMIT"
	}
	// Ending does not wait on the request: a rollback goes through even
	// when the request that began the transaction is gone.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	rerr := conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if c.IsClosed() {
			err = errors.New("the connection to PostgreSQL was closed during the transaction")
			return nil
		}
		tag, e := c.Exec(ectx, verb)
		if e == nil && commit && tag.String() != "COMMIT" {
			e = errRolledBack
		}
		err = e
		return nil
	})
	return errors.Join(err, rerr)
}
