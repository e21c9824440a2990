// Package demotest hands tests copies of a database holding the demo site,
// on SQLite and on PostgreSQL.
//
// The demo is these tests' fixture, not what they test (internal/demo's
// tests load it under the race detector): the galenix binary, built as a
// site runs it (without the race detector: seconds, where a test binary
// under it takes minutes), serves it once per test binary and kind of
// database with serve --demo, and every test gets a copy. The demo is
// dated from the moment it was loaded, which within one run of a suite is
// minutes at most.
package demotest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"galenix/internal/store"
	"galenix/internal/testpg"
)

// DataDir returns a new data directory, removed when the test ends,
// holding the demo on SQLite (the database and the keys beside it).
func DataDir(t testing.TB) string {
	t.Helper()
	files, err := sqliteImage()
	if err != nil {
		t.Fatalf("demotest: the demo on SQLite: %v", err)
	}
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("demotest: %v", err)
		}
	}
	return dir
}

var (
	imageOnce  sync.Once
	imageFiles map[string][]byte
	imageErr   error
)

// sqliteImage is the data directory's files of a loaded demo, closed (its
// write-ahead log checkpointed into the database), made once per binary.
func sqliteImage() (map[string][]byte, error) {
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "demotest-")
		if err != nil {
			imageErr = err
			return
		}
		defer os.RemoveAll(dir)
		if err := Serve(dir, ""); err != nil {
			imageErr = err
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			imageErr = err
			return
		}
		imageFiles = map[string][]byte{}
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == store.LockFile {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				imageErr = err
				return
			}
			imageFiles[e.Name()] = b
		}
	})
	return imageFiles, imageErr
}

// DSN returns the DSN of a new PostgreSQL database holding the demo,
// dropped when the test ends. Without PostgreSQL the test is skipped, or
// fails if CI is set (testpg.Need).
func DSN(t testing.TB) string {
	t.Helper()
	return testpg.DSNFrom(t, "demo", func(dsn string) error {
		dir, err := os.MkdirTemp("", "demotest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		return Serve(dir, dsn)
	})
}

// Serve builds galenix and serves the demo with it from the data
// directory dir (its database on PostgreSQL when dsn is set), with
// MasterKey as its master key of documents, until it is ready; then stops
// it. dir then holds what a site's first start with --demo leaves there.
func Serve(dir, dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, store.MasterKeyFile), []byte(base64.StdEncoding.EncodeToString(MasterKey)+"\n"), 0o600); err != nil {
		return err
	}
	bindir, err := os.MkdirTemp("", "demotest-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bindir)
	bin := filepath.Join(bindir, "galenix")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "galenix/cmd/galenix").CombinedOutput(); err != nil {
		return fmt.Errorf("go build galenix: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "serve", "--demo", "--data", dir, "--db", dsn, "--addr", addr)
	cmd.Env = append(os.Environ(), "GALENIX_DRAIN_TIMEOUT=0")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for ready := false; !ready; {
		select {
		case err := <-exited:
			return fmt.Errorf("galenix serve --demo stopped before it was ready: %v\n%s", err, log.String())
		case <-ctx.Done():
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("galenix serve --demo was not ready in time\n%s", log.String())
		case <-time.After(50 * time.Millisecond): // polling its readiness
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := <-exited; err != nil {
		return fmt.Errorf("galenix serve --demo did not stop cleanly: %v\n%s", err, log.String())
	}
	return nil
}

// MasterKey is the master key of documents the demo databases are loaded
// with: a test opens one with it to read the demo's documents.
var MasterKey = []byte("demo-test-master-key-of-document")
