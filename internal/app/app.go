// Package app wires galenix together in one place: configuration, the
// database, the services and the HTTP server, with a clean start and a
// graceful stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"galenix/docs"
	"galenix/internal/demo"
	"galenix/internal/store"
	"galenix/internal/web"
)

// Config is galenix's configuration, read from flags and GALENIX_*
// environment variables by the command line.
type Config struct {
	// Addr is the HOST:PORT the server listens on.
	Addr string
	// DataDir holds the SQLite database and the site's keys.
	DataDir string
	// DSN is a postgres:// URL; when empty, SQLite in DataDir is used.
	DSN string
	// Demo loads the demo site into an empty database.
	Demo bool
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish once a stop is asked.
	ShutdownTimeout time.Duration
}

// Main is a running galenix: its database and its HTTP server. The
// end-to-end tests start and stop it exactly as the binary does.
type Main struct {
	Config Config
	Log    *slog.Logger

	DB     *store.DB
	Web    *web.Server
	ln     net.Listener
	server *http.Server
}

// New returns a galenix not yet started.
func New(cfg Config, log *slog.Logger) *Main {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	return &Main{Config: cfg, Log: log}
}

// Open opens and migrates the database, loads the demo if asked, and
// starts listening. It does not serve yet: Run does.
func (m *Main) Open(ctx context.Context) error {
	db, err := store.Open(ctx, store.Config{DSN: m.Config.DSN, DataDir: m.Config.DataDir, Logger: m.Log})
	if err != nil {
		return err
	}
	m.DB = db
	m.Log.Info("database open", "database", db.Describe())
	if m.Config.Demo {
		start := time.Now()
		loaded, err := demo.Load(ctx, db, func(stage string) {
			m.Log.Info("loading the demo site", "written", stage)
		})
		if err != nil {
			return fmt.Errorf("loading the demo site: %w", err)
		}
		if loaded {
			m.Log.Info("demo site loaded", "took", time.Since(start).Round(time.Millisecond))
		}
		m.Log.Info("demo mode: demo accounts exist (admin, operator, supervisor, qa, qp, lab, security, client-alpha, client-beta)", "password", demo.Password)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "galenix"))
	m.Web = web.New(web.Deps{
		Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Audit: db.Audit(), DB: db,
		Log: m.Log, Registry: reg, OpenAPI: docs.OpenAPI,
	})
	m.ln, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", m.Config.Addr, err)
	}
	m.server = &http.Server{
		Handler:           m.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	return nil
}

// URL is the address the server answers on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Run serves until ctx is done, then stops gracefully: it stops accepting,
// lets in-flight requests finish (up to ShutdownTimeout), and returns.
func (m *Main) Run(ctx context.Context) error {
	m.Log.Info("galenix listening", "url", m.URL())
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.Log.Info("stopping: letting in-flight requests finish")
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	err := m.server.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Close closes the database cleanly.
func (m *Main) Close() error {
	if m.ln != nil && m.server == nil {
		m.ln.Close()
	}
	if m.DB != nil {
		return m.DB.Close()
	}
	return nil
}
