package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"galenix/internal/app"
	"galenix/internal/testpg"
	"galenix/internal/web"
)

// galenix runs in a process of its own, this program started again with
// serverEnv set: the load generator's goroutines then never wait in the
// same scheduler's queue as the server's, as on a site, where the tablets
// are other machines. The two still share the machine's cores.

// serverEnv carries the child's configuration (serverConfig as JSON).
const serverEnv = "GALENIX_BENCH_EBR_SERVER"

// serverConfig is what the child needs to start galenix.
type serverConfig struct {
	Dir, DSN   string
	Limits     web.AdmissionLimits
	CPUProfile string // the server's CPU profile over its whole life
}

// server is the child process serving galenix on a fresh database with the
// demo loaded, as `galenix serve --demo` runs it.
type server struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	url     string
	logPath string
	done    chan error
}

// startServer starts the child: galenix opens a fresh database (SQLite in
// dir, or PostgreSQL when dsn is set), loads the demo and serves on a free
// loopback port. Its log goes to a file in dir, warnings and errors only.
func startServer(dir, dsn string, limits web.AdmissionLimits, cpuProfile string) (*server, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	cfg, err := json.Marshal(serverConfig{Dir: dir, DSN: dsn, Limits: limits, CPUProfile: cpuProfile})
	if err != nil {
		return nil, 0, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	s := &server{logPath: filepath.Join(dir, "galenix.log"), done: make(chan error, 1)}
	s.cmd = exec.Command(exe)
	s.cmd.Env = append(os.Environ(), serverEnv+"="+string(cfg))
	s.cmd.Stderr = os.Stderr
	in, err := s.cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	s.stdin = in
	if err := s.cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("starting galenix's process: %w", err)
	}
	// The child says "ready URL LOADED_NS" once it serves, or dies.
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "ready" {
		in.Close()
		werr := s.cmd.Wait()
		return nil, 0, fmt.Errorf("galenix's process did not start (%v): %s", errors.Join(err, werr), strings.TrimSpace(line))
	}
	go func() { io.Copy(io.Discard, out); s.done <- s.cmd.Wait() }()
	s.url = f[1]
	loaded, _ := strconv.ParseInt(f[2], 10, 64)
	return s, time.Duration(loaded), nil
}

// URL is where the server answers.
func (s *server) URL() string { return s.url }

// pid is the server's process, for its CPU time.
func (s *server) pid() int { return s.cmd.Process.Pid }

// close stops the server gracefully (its stdin closes) and waits for it.
func (s *server) close() error {
	s.stdin.Close()
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return errors.Join(errors.New("galenix's process did not stop within 30 s; killed"), <-s.done)
	}
}

// serveChild is the child's whole life: start galenix, say where it
// serves, stop when the parent closes stdin (or dies).
func serveChild(raw string) int {
	var cfg serverConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ebr server:", err)
		return 2
	}
	if cfg.CPUProfile != "" {
		if f, err := os.Create(cfg.CPUProfile); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	logFile, err := os.Create(filepath.Join(cfg.Dir, "galenix.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/ebr server:", err)
		return 1
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: cfg.Dir, DSN: cfg.DSN, Demo: true, Admission: cfg.Limits}, log)
	t0 := time.Now()
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		fmt.Printf("failed %v\n", err)
		return 1
	}
	loaded := time.Since(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	fmt.Printf("ready %s %d\n", m.URL(), loaded)
	io.Copy(io.Discard, os.Stdin) // until the parent closes it or dies
	cancel()
	err = errors.Join(<-done, m.Close())
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/ebr server:", err)
		return 1
	}
	return 0
}

// logErrors returns the first error lines of the server's log.
func (s *server) logErrors(n int) (lines []string, total int) {
	f, err := os.Open(s.logPath)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "level=ERROR") {
			total++
			if len(lines) < n {
				lines = append(lines, clip(sc.Text(), 400))
			}
		}
	}
	return lines, total
}

// startPostgres starts a throwaway PostgreSQL cluster with production's
// durability (fsync, synchronous commit) and makes an empty database. stop
// stops the cluster; an interrupt stops it too.
func startPostgres() (dsn string, stop func(), err error) {
	if !testpg.Available() {
		return "", nil, errors.New("PostgreSQL is not installed (pg_config and initdb, Debian package postgresql); run with -db sqlite")
	}
	c, err := testpg.Start(testpg.Options{Durable: true})
	if err != nil {
		return "", nil, fmt.Errorf("starting PostgreSQL: %w", err)
	}
	stop = sync.OnceFunc(c.Stop)
	cleanupMu.Lock()
	cleanups = append(cleanups, stop)
	cleanupMu.Unlock()
	dsn, err = c.CreateDatabase("bench_ebr")
	return dsn, stop, err
}
