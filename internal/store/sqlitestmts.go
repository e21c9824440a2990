package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLite's connections keep their prepared statements: preparing one is
// SQLite's parser and planner, about a fifth of the work of a typical
// read, and galenix's queries are few texts run again and again. The
// driver prepares a statement for each query it runs; wrapped here, a
// connection prepares each text once and runs it again, reset, the next
// time. database/sql then prepares, runs and closes as with any driver
// without direct queries, and closing a kept statement returns it to its
// connection.

// maxKept bounds the statements one connection keeps; beyond it, new texts
// are prepared for each run, as without the cache.
const maxKept = 512

// keepingConnector opens SQLite connections that keep their statements.
type keepingConnector struct {
	driver.Connector
}

func newKeepingConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return keepingConnector{c}, nil
}

func (k keepingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &keepingConn{conn: c, kept: map[string]*keptStmt{}}, nil
}

// keepingConn is a connection that keeps its prepared statements. It
// implements neither driver.QueryerContext nor driver.ExecerContext, so
// that database/sql goes through PrepareContext for every query. Like any
// driver connection, it is used by one goroutine at a time.
type keepingConn struct {
	conn driver.Conn
	kept map[string]*keptStmt
}

// The interfaces of the wrapped connection that database/sql uses.
var (
	_ driver.ConnPrepareContext = (*keepingConn)(nil)
	_ driver.ConnBeginTx        = (*keepingConn)(nil)
	_ driver.Pinger             = (*keepingConn)(nil)
	_ driver.SessionResetter    = (*keepingConn)(nil)
	_ driver.Validator          = (*keepingConn)(nil)
)

func (c *keepingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns the statement of query kept by the connection, or
// prepares it. A statement still in use (rows of it open while the same
// text runs again) is not shared: the second run gets its own, closed
// after it.
func (c *keepingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok := c.kept[query]; ok && !s.busy {
		s.busy = true
		return s, nil
	}
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := c.kept[query]; ok || len(c.kept) >= maxKept {
		return st, nil
	}
	s := &keptStmt{Stmt: st, busy: true}
	c.kept[query] = s
	return s, nil
}

func (c *keepingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *keepingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// Close finalises the kept statements, then closes the connection.
func (c *keepingConn) Close() error {
	var errs []error
	for q, s := range c.kept {
		errs = append(errs, s.Stmt.Close())
		delete(c.kept, q)
	}
	return errors.Join(append(errs, c.conn.Close())...)
}

func (c *keepingConn) Ping(ctx context.Context) error { return c.conn.(driver.Pinger).Ping(ctx) }

func (c *keepingConn) ResetSession(ctx context.Context) error {
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *keepingConn) IsValid() bool { return c.conn.(driver.Validator).IsValid() }

// keptStmt is a statement a connection keeps; busy while database/sql
// uses it (until its rows are closed).
type keptStmt struct {
	driver.Stmt
	busy bool
}

// Close gives the statement back to its connection; the driver reset it
// when its rows closed.
func (s *keptStmt) Close() error {
	s.busy = false
	return nil
}

func (s *keptStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *keptStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
