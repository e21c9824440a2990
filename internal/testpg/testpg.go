// Package testpg starts a throwaway PostgreSQL cluster on loopback for tests
// and hands out fresh, empty databases on it.
//
// The cluster is started lazily, once per test binary, in a temporary
// directory, and is stopped and removed by Main after the tests have run.
// Programs that need a cluster of their own, such as the benchmarks, start
// one with Start.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const notInstalled = "PostgreSQL not installed (pg_config/initdb not found): skipping; install the postgresql package"

var (
	bindirOnce sync.Once
	bindir     string // PostgreSQL server binaries; empty if not found

	startOnce sync.Once
	startErr  error

	mu        sync.Mutex // guards cl, counter and templates
	cl        *Cluster
	counter   int
	templates = map[string]*template{}
)

// template is a database that new ones are copied from.
type template struct {
	once sync.Once
	name string
	err  error
}

// Cluster is a running PostgreSQL server owned by this process, in a
// temporary directory, listening on 127.0.0.1.
type Cluster struct {
	root   string // temporary directory created by us
	data   string // data directory, also the unix socket directory
	port   int
	asUser bool       // run server binaries as the postgres system user
	mu     sync.Mutex // serializes admin statements
}

// Options say how to start a cluster.
type Options struct {
	// Durable keeps PostgreSQL's defaults for durability (fsync,
	// synchronous commit, full page writes), as in production, for
	// measures that must be honest. Tests run without them, for speed.
	Durable bool
	// Settings are more server settings, each "name=value".
	Settings []string
}

// Main runs the package's tests (call it from TestMain), stops the cluster
// if one was started, and exits with the tests' exit code.
func Main(m interface{ Run() int }) {
	code := m.Run()
	mu.Lock()
	if cl != nil {
		cl.Stop()
		cl = nil
	}
	mu.Unlock()
	os.Exit(code)
}

// Available reports whether the PostgreSQL server binaries are installed.
// It does not start anything.
func Available() bool {
	bindirOnce.Do(func() {
		out, err := exec.Command("pg_config", "--bindir").Output()
		if err != nil {
			return
		}
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			bindir = dir
		}
	})
	return bindir != ""
}

// Need skips the test when the PostgreSQL server binaries are not
// installed, or fails it if the CI environment variable is set: CI never
// passes by skipping.
func Need(t testing.TB) {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatal(notInstalled + " (CI is set, so this is an error)")
		}
		t.Skip(notInstalled)
	}
}

const noPGBackRest = "pgBackRest not installed (pgbackrest not found on the PATH): skipping; install the pgbackrest package"

// PGBackRest returns the path of the pgbackrest program. Without it, or
// without PostgreSQL, the test is skipped, or fails if CI is set.
func PGBackRest(t testing.TB) string {
	t.Helper()
	Need(t)
	p, err := exec.LookPath("pgbackrest")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(noPGBackRest + " (CI is set, so this is an error)")
		}
		t.Skip(noPGBackRest)
	}
	return p
}

// DSN returns the DSN of a new, empty database on the test cluster, starting
// the cluster on first use. The database is dropped when the test ends.
// Without PostgreSQL binaries the test is skipped, or fails if the CI
// environment variable is set.
func DSN(t testing.TB) string {
	t.Helper()
	return cluster(t).newDatabase(t, "")
}

// DSNFrom returns the DSN of a new database on the test cluster, a copy of
// the template called name, and drops it when the test ends. The first call
// with a name makes the template, once per test binary: fill gets the DSN of
// an empty database and fills it (migrates it, say), and must leave no
// connection open to it. A copy costs what an empty database does, so that
// tests needing the same starting point do not each build it again. Without
// PostgreSQL binaries the test is skipped, or fails if CI is set.
func DSNFrom(t testing.TB, name string, fill func(dsn string) error) string {
	t.Helper()
	c := cluster(t)
	mu.Lock()
	tpl := templates[name]
	if tpl == nil {
		tpl = &template{name: "template_" + name}
		templates[name] = tpl
	}
	mu.Unlock()
	tpl.once.Do(func() {
		dsn, err := c.CreateDatabase(tpl.name)
		if err == nil {
			err = fill(dsn)
		}
		if err != nil {
			tpl.err = fmt.Errorf("template %s: %w", name, err)
		}
	})
	if tpl.err != nil {
		t.Fatalf("testpg: %v", tpl.err)
	}
	return c.newDatabase(t, "TEMPLATE "+tpl.name)
}

// cluster returns the test cluster, starting it on first use.
func cluster(t testing.TB) *Cluster {
	t.Helper()
	Need(t)
	startOnce.Do(func() {
		c, err := Start(Options{})
		mu.Lock()
		cl, startErr = c, err
		mu.Unlock()
	})
	if startErr != nil {
		t.Fatalf("testpg: %v", startErr)
	}
	mu.Lock()
	defer mu.Unlock()
	return cl
}

// newDatabase creates a database of a fresh name, with the CREATE
// DATABASE options given, and drops it when the test ends.
func (c *Cluster) newDatabase(t testing.TB, options string) string {
	t.Helper()
	mu.Lock()
	counter++
	b := make([]byte, 4)
	rand.Read(b)
	name := fmt.Sprintf("t_%d_%s", counter, hex.EncodeToString(b))
	mu.Unlock()
	if err := c.admin("CREATE DATABASE " + name + " OWNER " + appRole + " " + options); err != nil {
		t.Fatalf("testpg: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := c.DropDatabase(name); err != nil {
			t.Errorf("testpg: drop database %s: %v", name, err)
		}
	})
	return c.dsn(name)
}

// CreateDatabase creates an empty database owned by the application role
// and returns its DSN. name is a plain SQL identifier.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	if err := c.admin("CREATE DATABASE " + name + " OWNER " + appRole); err != nil {
		return "", err
	}
	return c.dsn(name), nil
}

// DataDir is the cluster's data directory, also its socket directory.
func (c *Cluster) DataDir() string { return c.data }

// Port is the port the cluster listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// User is the system user the server runs as when it is not the test's
// own: postgres when the tests run as root, empty otherwise.
func (c *Cluster) User() string {
	if c.asUser {
		return "postgres"
	}
	return ""
}

// Bindir is the directory of the PostgreSQL server binaries.
func Bindir() string {
	Available()
	return bindir
}

// DropDatabase drops a database, closing its connections.
func (c *Cluster) DropDatabase(name string) error {
	return c.admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
}

// appRole is the role galenix connects as: it owns its database but is no
// superuser, as in production, so that row-level security binds it (a
// superuser bypasses every policy).
const appRole = "galenix"

// dsn returns the DSN of database db on the cluster, as the application role.
func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", appRole, c.port, db)
}

// superDSN returns the DSN of database db as the postgres superuser.
func (c *Cluster) superDSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// admin runs one statement on the postgres database, one at a time.
func (c *Cluster) admin(sql string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.superDSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// Start creates, initializes and starts a cluster in a new temporary
// directory, with a login role that owns the databases CreateDatabase makes
// but is no superuser. Stop it when done. The PostgreSQL server binaries
// must be installed (Available); as root, they run as the postgres user.
func Start(opts Options) (*Cluster, error) {
	if !Available() {
		return nil, errors.New(notInstalled)
	}
	root, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{root: root, data: filepath.Join(root, "data"), asUser: os.Geteuid() == 0}
	logPath := filepath.Join(c.data, "log")
	fail := func(format string, args ...any) (*Cluster, error) {
		err := fmt.Errorf(format, args...)
		if b, _ := os.ReadFile(logPath); len(b) > 0 {
			err = fmt.Errorf("%w\nserver log tail:\n%s", err, b[max(0, len(b)-4096):])
		}
		c.Stop()
		return nil, err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return fail("chmod %s: %v", root, err)
	}
	if err := os.Mkdir(c.data, 0o700); err != nil {
		return fail("mkdir %s: %v", c.data, err)
	}
	if c.asUser {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail("running as root needs the postgres system user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.data, uid, gid); err != nil {
			return fail("chown %s: %v", c.data, err)
		}
	}
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "-A", "trust",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return fail("initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return fail("pick port: %v", err)
	}
	server := fmt.Sprintf("-h 127.0.0.1 -p %d -k '%s' -c max_connections=200", c.port, c.data)
	if !opts.Durable {
		server += " -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for _, set := range opts.Settings {
		server += " -c " + set
	}
	if out, err := c.run("pg_ctl", "-D", c.data, "-l", logPath, "-w", "-o", server, "start"); err != nil {
		return fail("pg_ctl start: %v\n%s", err, out)
	}
	if err := c.admin("CREATE ROLE " + appRole + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"); err != nil {
		return fail("create role %s: %v", appRole, err)
	}
	return c, nil
}

// Stop stops the server, if running, and removes its temporary directory.
func (c *Cluster) Stop() {
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
		c.run("pg_ctl", "-D", c.data, "-m", "immediate", "stop")
	}
	os.RemoveAll(c.root)
}

// run runs a PostgreSQL binary, as the postgres user when we are root.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(bindir, name)
	var cmd *exec.Cmd
	if c.asUser {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.root // the postgres user must be able to enter the working directory
	return cmd.CombinedOutput()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
