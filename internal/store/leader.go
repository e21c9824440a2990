package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
)

// leaderLockKey is the PostgreSQL advisory lock the leading node holds
// ("galenix leader" in ASCII, folded into an int64).
const leaderLockKey int64 = 0x67616c656e6978

// Leader tells whether this node is the one that runs the site's once-only
// work (signing checkpoints, purging, every later periodic job). On
// PostgreSQL the leader holds a session advisory lock on a connection of
// its own: the lock ends with the connection, so when a leading node dies
// (or its database does) another takes over at its next try. On SQLite the
// only node always leads.
type Leader struct {
	db   *DB
	mu   sync.Mutex
	conn *sql.Conn
}

// Leader returns this node's leadership; Close gives it up.
func (db *DB) Leader() *Leader {
	db.leaderOnce.Do(func() { db.leader = &Leader{db: db} })
	return db.leader
}

// Try takes the lead if nobody holds it, and checks that a lead already
// held still is: it reports whether this node leads now.
func (l *Leader) Try(ctx context.Context) (bool, error) {
	if l.db.dialect != Postgres {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		// Held: the lock lives as long as its connection answers.
		if err := l.conn.PingContext(ctx); err == nil {
			return true, nil
		}
		l.drop()
	}
	conn, err := l.db.write.Conn(ctx)
	if err != nil {
		return false, l.db.classify(err, "leader")
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaderLockKey).Scan(&got); err != nil {
		conn.Close()
		return false, l.db.classify(err, "leader")
	}
	if !got {
		conn.Close()
		return false, nil
	}
	l.conn = conn
	return true, nil
}

// Release gives the lead up, for a node that stops.
func (l *Leader) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_, _ = l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, leaderLockKey)
		l.drop()
	}
}

// drop closes the lock's connection; the caller holds mu. A connection
// that held the lock is discarded rather than returned to the pool, where
// another request would carry the lock on.
func (l *Leader) drop() {
	_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
	l.conn.Close()
	l.conn = nil
}
