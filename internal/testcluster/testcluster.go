// Package testcluster runs the whole galenix cluster of deploy/ha (3 etcd
// members, 2 PostgreSQL members under Patroni, HAProxy, galenix nodes) on
// loopback ports for tests and for bench/failover, by driving the very
// script the IT team uses: deploy/ha/cluster. What a test proves here is
// what that script starts.
package testcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Binaries are the programs the cluster needs, from Debian's packages.
var Binaries = []string{"etcd", "patroni", "patronictl", "haproxy", "curl", "pgbackrest"}

// Missing names the first program the cluster needs that is not
// installed, or "" when all are.
func Missing() string {
	for _, b := range Binaries {
		if _, err := exec.LookPath(b); err != nil {
			return b
		}
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(m) == 0 {
		return "postgres"
	}
	return ""
}

// Require skips the test when a program of the cluster is missing, and
// fails it instead when CI is set: CI installs them all (.ci/run).
func Require(t testing.TB) {
	t.Helper()
	if m := Missing(); m != "" {
		msg := "testcluster: " + m + " is not installed (apt-get install postgresql patroni etcd-server etcd-client haproxy curl pgbackrest)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this is an error)")
		}
		t.Skip(msg)
	}
}

// Options choose the cluster's size and ports.
type Options struct {
	// Dir is the cluster's own directory; a temporary one when empty.
	Dir string
	// BasePort is the first of the ~60 loopback ports the cluster uses
	// (deploy/ha/cluster lists them); when 0, one from 10000 to 31900 chosen by the process, below the ephemeral ports.
	BasePort int
	// Nodes is the number of galenix nodes (2 when 0).
	Nodes int
	// Demo loads the demo site.
	Demo bool
	// Log receives the script's output; discarded when nil.
	Log func(string)
}

// Cluster is a running cluster.
type Cluster struct {
	Dir    string
	Base   int
	Nodes  int
	script string
	log    func(string)
	temp   bool
}

// Root is the repository's root directory, found from this file.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start builds galenix and starts a cluster with deploy/ha/cluster up.
func Start(opts Options) (*Cluster, error) {
	if m := Missing(); m != "" {
		return nil, fmt.Errorf("%s is not installed", m)
	}
	c := &Cluster{Dir: opts.Dir, Base: opts.BasePort, Nodes: opts.Nodes, log: opts.Log,
		script: filepath.Join(Root(), "deploy", "ha", "cluster")}
	if c.Nodes == 0 {
		c.Nodes = 2
	}
	if c.Base == 0 {
		// Spread concurrent test binaries over the ports below Linux's
		// ephemeral range (32768 and up), where an outgoing connection
		// could already hold one of ours.
		c.Base = 10000 + (os.Getpid()%220)*100
	}
	if c.log == nil {
		c.log = func(string) {}
	}
	if c.Dir == "" {
		d, err := os.MkdirTemp("", "galenix-cluster-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.temp = d, true
	}
	bin := filepath.Join(c.Dir, "galenix-build")
	build := exec.Command("go", "build", "-o", bin, "./cmd/galenix")
	build.Dir = Root()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building galenix: %v: %s", err, out)
	}
	args := []string{"up", "--nodes", strconv.Itoa(c.Nodes)}
	if opts.Demo {
		args = append(args, "--demo")
	}
	if _, err := c.run(10*time.Minute, map[string]string{"GALENIX_BIN": bin}, args...); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
)

// Shared is one demo cluster for all the tests of a test binary (the
// cluster takes about 20 s to start); Main stops it.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	Require(t)
	sharedOnce.Do(func() {
		shared, sharedErr = Start(Options{Demo: true, Log: func(s string) { fmt.Fprint(os.Stderr, s) }})
	})
	if sharedErr != nil {
		t.Fatalf("testcluster: %v", sharedErr)
	}
	return shared
}

// Main runs the tests of a package and stops the shared cluster after.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

func (c *Cluster) run(timeout time.Duration, env map[string]string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.script, append(args, "--dir", c.Dir, "--base-port", strconv.Itoa(c.Base))...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// The script's daemons keep no descriptor of ours: their output goes
	// to the cluster's log directory.
	out, err := cmd.CombinedOutput()
	c.log(string(out))
	if err != nil {
		return string(out), fmt.Errorf("deploy/ha/cluster %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Stop stops and removes the whole cluster.
func (c *Cluster) Stop() {
	_, _ = c.run(2*time.Minute, nil, "down")
	if c.temp {
		_ = os.RemoveAll(c.Dir)
	}
}

// Kill kills a member at once (SIGKILL), as a crash would: etcd1..3,
// pg1..2 (Patroni and its PostgreSQL), galenix1..N, haproxy.
func (c *Cluster) Kill(member string) error {
	_, err := c.run(time.Minute, nil, "kill", member)
	return err
}

// StartMember starts a member that was killed.
func (c *Cluster) StartMember(member string) error {
	_, err := c.run(time.Minute, nil, "start", member)
	return err
}

// URL is galenix through HAProxy, the address the site's people use.
func (c *Cluster) URL() string { return "http://127.0.0.1:" + strconv.Itoa(c.Base+41) }

// NodeURL is galenix node i (1-based) directly.
func (c *Cluster) NodeURL(i int) string { return "http://127.0.0.1:" + strconv.Itoa(c.Base+50+i) }

// DSN is galenix's database through HAProxy (always the primary).
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://galenix:galenix-cluster-app@127.0.0.1:%d/galenix?sslmode=disable", c.Base+40)
}

// KeyFile is the site's audit key that every node shares.
func (c *Cluster) KeyFile() string { return filepath.Join(c.Dir, "site-audit-key.pem") }

// Galenix runs the cluster's galenix binary (audit verify, say) against
// the cluster's database.
func (c *Cluster) Galenix(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Dir, "galenix"), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Verify runs galenix audit verify on the cluster's database.
func (c *Cluster) Verify(ctx context.Context) (string, error) {
	return c.Galenix(ctx, "audit", "verify", "--db", c.DSN(), "--audit-key", c.KeyFile(), "--data", filepath.Join(c.Dir, "verify"))
}

// Primary names the PostgreSQL member that leads ("pg1" or "pg2"), as
// Patroni says.
func (c *Cluster) Primary() (string, error) {
	ms, err := c.members()
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.Role == "leader" && m.State == "running" {
			return m.Name, nil
		}
	}
	return "", errors.New("no PostgreSQL member leads")
}

// WaitSyncStandby waits until a member is the synchronous standby again.
func (c *Cluster) WaitSyncStandby(ctx context.Context) error {
	for {
		for i := 1; i <= 2; i++ {
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(c.Base+20+i) + "/sync")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no synchronous standby: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitReady waits until url/readyz answers 200.
func WaitReady(ctx context.Context, url string) error {
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", url, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Open opens the cluster's database (through HAProxy).
func (c *Cluster) Open() (*sql.DB, error) { return sql.Open("pgx", c.DSN()) }
