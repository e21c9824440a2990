// Package store is the only code that speaks SQL. It keeps galenix's state in
// one database, SQLite or PostgreSQL, chosen once at start; the differences
// between the two stay in this package.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"galenix/internal/identity"
)

// Dialect is the SQL dialect of the database in use.
type Dialect string

// The two supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is galenix's database. Writes go through Write, reads through Read.
type DB struct {
	dialect Dialect
	// write is the pool that writes; on SQLite it holds one connection so
	// that writers queue in Go instead of failing on a busy database.
	write *sql.DB
	// read is the pool that reads; the same as write on PostgreSQL.
	read *sql.DB
	pool *pgxpool.Pool
	log  *slog.Logger
	// Now is the clock; tests replace it. Each transaction reads it once.
	Now func() time.Time
	// seen are the sessions seen, still to be written.
	seen seenSessions
	// ending are PostgreSQL's read transactions still ending.
	ending sync.WaitGroup
	// leader is this node's leadership, made once.
	leader     *Leader
	leaderOnce sync.Once
	// dir is SQLite's data directory.
	dir string
	// dirLock is the SQLite data directory's lock of a serving node.
	dirLock *os.File
	// poolWait bounds the wait for a connection of a pool.
	poolWait time.Duration
	// rollupChunk, when not 0, replaces RollupChunk (tests).
	rollupChunk int
	// events are the reactions to domain events (events.go).
	events handlers
	// appended are told of this node's commits that appended outbox
	// events (outbox.go).
	appended appended
	// passwords hashes and checks the passwords (Config.Keys).
	passwords identity.Passwords
	// secretKey seals the second-factor secrets (Config.SecretKey).
	secretKey []byte
	// masterKey wraps the clients' keys of documents (Config.MasterKey).
	masterKey []byte
}

// Config says which database to open.
type Config struct {
	// DSN is a postgres:// URL; when empty, SQLite in DataDir is used.
	DSN string
	// DataDir holds the SQLite file.
	DataDir string
	Logger  *slog.Logger
	// Serve marks the database of a serving node: on SQLite it locks the
	// data directory, so that a second node on it is refused. Tools run
	// beside a node (audit verify, account commands) leave it off.
	Serve bool
	// PoolWait bounds how long a transaction waits for a connection of
	// the pool: past it, the request answers 503 (busy) at once rather
	// than queue without end. 0 means DefaultPoolWait.
	PoolWait time.Duration
	// Keys computes the argon2id keys of password checks and hashes; nil:
	// in the process. A serving node's are its worker processes
	// (internal/keyworker), handed by internal/app.
	Keys identity.KeyDeriver
	// SecretKey is the key (SecretKeySize bytes) that encrypts the
	// second-factor secrets, kept outside the database (internal/app reads
	// it from its file); on opening, secrets an older galenix kept in
	// clear are encrypted with it. Nil: no second factor can be set up or
	// checked (it fails closed), and clear secrets are left as they are.
	SecretKey []byte
	// MasterKey is the site's master key of documents (32 bytes), kept
	// outside the database (internal/app reads it from its file): it
	// wraps each client's key, which wraps each version's data key. Nil:
	// no document can be uploaded or read (503).
	MasterKey []byte
}

// DefaultPoolWait is the wait for a connection when Config names none.
// Admission (the web layer) keeps the requests served at once near the
// pool's size, so that a wait this long means the database itself is slow.
const DefaultPoolWait = 2 * time.Second

// SQLiteFile is the name of the SQLite database in the data directory.
const SQLiteFile = "galenix.db"

// Open opens the database and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.SecretKey != nil && len(cfg.SecretKey) != SecretKeySize {
		return nil, fmt.Errorf("the key of second-factor secrets must be %d bytes", SecretKeySize)
	}
	if cfg.MasterKey != nil && len(cfg.MasterKey) != SecretKeySize {
		return nil, fmt.Errorf("the master key of documents must be %d bytes", SecretKeySize)
	}
	db := &DB{log: cfg.Logger, Now: func() time.Time { return time.Now().UTC() }, poolWait: cfg.PoolWait,
		passwords: identity.Passwords{Keys: cfg.Keys}, secretKey: cfg.SecretKey, masterKey: cfg.MasterKey}
	if db.poolWait <= 0 {
		db.poolWait = DefaultPoolWait
	}
	db.onSigned()
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if cfg.DSN != "" {
		err = db.openPostgres(ctx, cfg.DSN)
	} else {
		err = db.openSQLite(ctx, cfg.DataDir, cfg.Serve)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.sealClearSecrets(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("encrypting the second-factor secrets kept in clear: %w", err)
	}
	return db, nil
}

// PostgresTimeouts are the session settings every connection starts with,
// in milliseconds: a statement is cut after 15 s, a lock waited for 5 s, a
// transaction left idle for a minute.
var PostgresTimeouts = map[string]string{
	"statement_timeout":                   "15000",
	"lock_timeout":                        "5000",
	"idle_in_transaction_session_timeout": "60000",
}

func (db *DB) openPostgres(ctx context.Context, dsn string) error {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return fmt.Errorf("the database DSN must be a postgres:// URL")
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("reading the PostgreSQL DSN: %w", err)
	}
	// Bounded times: a frozen database, a held lock or a transaction left
	// open never holds a request, or a connection, without end. A DSN that
	// names its own value keeps it.
	for k, v := range PostgresTimeouts {
		if _, set := pcfg.ConnConfig.RuntimeParams[k]; !set {
			pcfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("opening PostgreSQL: %w", err)
	}
	db.dialect = Postgres
	db.pool = pool
	db.write = stdlib.OpenDBFromPool(pool)
	// database/sql holds the line for the pool's connections, so that a
	// wait for one is bounded (conn) and counted (its statistics, in the
	// metrics), rather than hidden in pgxpool.
	n := int(pcfg.MaxConns)
	db.write.SetMaxOpenConns(n)
	db.write.SetMaxIdleConns(n)
	db.read = db.write
	return nil
}

func (db *DB) openSQLite(ctx context.Context, dir string, serve bool) error {
	if dir == "" {
		return fmt.Errorf("a data directory is required for SQLite")
	}
	fixed, err := privateDataDir(dir)
	if err != nil {
		return err
	}
	if len(fixed) > 0 {
		db.log.Warn("files of the data directory were readable by others: made private", "dir", dir, "files", fixed)
	}
	db.dir = dir
	if serve {
		l, err := lockDataDir(dir)
		if err != nil {
			return err
		}
		db.dirLock = l
	}
	path := filepath.Join(dir, SQLiteFile)
	if err := privateDBFile(path); err != nil {
		return err
	}
	q := url.Values{}
	// synchronous=FULL: a commit is synced to disk before it is
	// acknowledged, so that a power loss never rolls an acknowledged write
	// back (NORMAL in WAL mode only survives a process crash).
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	wc, err := newKeepingConnector("file:" + path + "?" + wq.Encode())
	if err != nil {
		return err
	}
	db.write = sql.OpenDB(wc)
	db.write.SetMaxOpenConns(1)
	// The reading pool cannot write: a write outside db.Write, and so
	// outside the audit trail, fails instead of going through.
	rq := url.Values{"_time_format": q["_time_format"]}
	rq["_pragma"] = append(append([]string(nil), q["_pragma"]...), "query_only(1)")
	rc, err := newKeepingConnector("file:" + path + "?" + rq.Encode())
	if err != nil {
		db.write.Close()
		return err
	}
	db.read = sql.OpenDB(rc)
	// Every connection stays open: a new one reads the schema again and
	// has no statements kept.
	n := max(4, runtime.NumCPU())
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.dialect = SQLite
	return db.write.PingContext(ctx)
}

// privateDataDir makes the data directory, or makes it private if it
// exists: the directory 0700 whatever the umask, so that no other account
// of the machine lists or reads what it holds, and what an older galenix
// left there readable by others (the database, the keys) taken from them:
// files lose their group and other bits, directories become 0700. It
// returns the names it made private.
func privateDataDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	if info, err := os.Stat(dir); err != nil {
		return nil, err
	} else if info.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("making the data directory private: %w", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the data directory: %w", err)
	}
	var fixed []string
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		mode := info.Mode()
		want := mode.Perm() &^ 0o077
		switch {
		case mode.IsDir():
			want = 0o700
		case !mode.IsRegular():
			continue
		}
		if want == mode.Perm() {
			continue
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), want); err != nil {
			return nil, fmt.Errorf("making the data directory private: %w", err)
		}
		fixed = append(fixed, e.Name())
	}
	return fixed, nil
}

// privateDBFile creates the SQLite database file 0600 before SQLite opens
// it: SQLite would create it 0644 less the umask. SQLite gives its -wal and
// -shm files the main file's mode, whatever the umask; an existing file
// readable by others was made private with the directory (privateDataDir).
func privateDBFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the database file: %w", err)
	}
	return f.Close()
}

// Migrate applies the pending embedded migrations, each in one transaction.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	if err := db.knowsSchema(ctx, p); err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	for _, r := range res {
		db.log.Info("migration applied", "version", r.Source.Version, "file", filepath.Base(r.Source.Path))
	}
	return nil
}

// migrator is goose's provider of the embedded migrations of the
// database's dialect.
func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		gd = goose.DialectPostgres
		// Nodes starting together migrate one after the other: the first
		// holds a session advisory lock, the others wait (up to a minute),
		// then find nothing left to apply.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 60))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db.write, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	return p, nil
}

// SchemaTooNew is the error of a node older than its database: another
// node, of a later version, migrated it past what this one knows.
type SchemaTooNew struct{ Database, Known int64 }

func (e *SchemaTooNew) Error() string {
	return fmt.Sprintf("the database is at schema version %d and this galenix knows versions up to %d: "+
		"a newer galenix migrated it; run that version (or newer) on this node", e.Database, e.Known)
}

// knowsSchema refuses a database migrated past the newest migration this
// binary carries: serving it would write rows its schema does not expect.
func (db *DB) knowsSchema(ctx context.Context, p *goose.Provider) error {
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return nil
	}
	known := srcs[len(srcs)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		// A fresh database has no version table yet.
		return nil
	}
	if current > known {
		return &SchemaTooNew{Database: current, Known: known}
	}
	return nil
}

// Dialect returns the database in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// Describe names the database for logs, without credentials.
func (db *DB) Describe() string {
	if db.dialect == Postgres {
		c := db.pool.Config().ConnConfig
		return fmt.Sprintf("PostgreSQL %s:%d/%s", c.Host, c.Port, c.Database)
	}
	return "SQLite"
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// SQL returns the pool of connections, for metrics.
func (db *DB) SQL() *sql.DB { return db.read }

// WriteSQL returns the pool that writes, for metrics: on SQLite its one
// connection, the one writers wait for; on PostgreSQL the same as SQL.
func (db *DB) WriteSQL() *sql.DB { return db.write }

// Close closes the database; on SQLite it checkpoints the write-ahead log.
func (db *DB) Close() error {
	if db.leader != nil {
		db.leader.Release()
	}
	db.seen.wait()
	db.ending.Wait()
	var errs []error
	if db.dialect == SQLite {
		if _, err := db.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	if db.pool != nil {
		db.pool.Close()
	}
	if db.dirLock != nil {
		errs = append(errs, db.dirLock.Close())
	}
	return errors.Join(errs...)
}

// tableName is what a name of one of galenix's tables looks like.
var tableName = regexp.MustCompile(`^[a-z_]+$`)

// Count returns the number of rows of one of galenix's tables, seen by the
// actor in ctx (row-level security applies); for checks and tests.
func (db *DB) Count(ctx context.Context, table string) (int, error) {
	if !tableName.MatchString(table) {
		return 0, fmt.Errorf("not a table name: %q", table)
	}
	var n int
	err := db.Read(ctx, func(tx *Tx) error { return tx.queryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n) })
	return n, err
}

// Counts counts the rows of tables, in one read transaction and one query.
func (db *DB) Counts(ctx context.Context, tables ...string) (map[string]int, error) {
	var q []string
	for _, t := range tables {
		if !tableName.MatchString(t) {
			return nil, fmt.Errorf("not a table name: %q", t)
		}
		q = append(q, `(SELECT COUNT(*) FROM `+t+`)`)
	}
	out := make(map[string]int, len(tables))
	if len(tables) == 0 {
		return out, nil
	}
	ns := make([]int, len(tables))
	dest := make([]any, len(tables))
	for i := range ns {
		dest[i] = &ns[i]
	}
	err := db.Read(ctx, func(tx *Tx) error { return tx.queryRow(`SELECT ` + strings.Join(q, ", ")).Scan(dest...) })
	for i, t := range tables {
		out[t] = ns[i]
	}
	return out, err
}
