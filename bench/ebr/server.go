package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"galenix/internal/app"
	"galenix/internal/testpg"
	"galenix/internal/web"
)

// server is galenix running in this process on a fresh database with the
// demo loaded, as `galenix serve --demo` runs it.
type server struct {
	m       *app.Main
	stop    context.CancelFunc
	done    chan error
	logPath string
	logFile *os.File
}

// startServer opens a fresh database (SQLite in dir, or PostgreSQL when dsn
// is set), loads the demo and serves on a free loopback port. Its log goes
// to a file in dir, warnings and errors only.
func startServer(dir, dsn string, limits web.AdmissionLimits) (*server, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	s := &server{logPath: filepath.Join(dir, "galenix.log")}
	var err error
	if s.logFile, err = os.Create(s.logPath); err != nil {
		return nil, 0, err
	}
	log := slog.New(slog.NewTextHandler(s.logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, DSN: dsn, Demo: true, Admission: limits}, log)
	t0 := time.Now()
	if err := s.m.Open(context.Background()); err != nil {
		s.m.Close()
		s.logFile.Close()
		return nil, 0, fmt.Errorf("starting galenix with the demo: %w", err)
	}
	loaded := time.Since(t0)
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan error, 1)
	go func() { s.done <- s.m.Run(ctx) }()
	return s, loaded, nil
}

// URL is where the server answers.
func (s *server) URL() string { return s.m.URL() }

// close stops the server gracefully and closes its database.
func (s *server) close() error {
	s.stop()
	err := <-s.done
	err = errors.Join(err, s.m.Close())
	s.logFile.Close()
	return err
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
