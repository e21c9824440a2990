package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ReadyCheck is one thing a balancer must know holds before it sends work
// to this node: the database reachable, writable, migrated; the disk not
// full; this node's audit key the site's.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// RetryAfter is what a 503 tells a client to wait before it sends the same
// request again (with the same Idempotency-Key).
const RetryAfter = 5 * time.Second

// Drain turns /readyz to 503, so that the balancer sends no new work here,
// while the requests under way and those still arriving are served: the
// first step of a graceful stop.
func (s *Server) Drain() { s.draining.Store(true) }

// ready answers /readyz: 200 only when every check holds and the node is
// not draining; the body names each check. Details go to the log only.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	checks := s.Checks
	if checks == nil {
		checks = []ReadyCheck{{"database", s.DB.Ping}}
	}
	status, results := http.StatusOK, map[string]string{}
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		err := c.Check(ctx)
		cancel()
		if err != nil {
			s.log.WarnContext(r.Context(), "not ready", "check", c.Name, "err", err)
			status, results[c.Name] = http.StatusServiceUnavailable, "failing"
			continue
		}
		results[c.Name] = "ok"
	}
	word := "ready"
	if status != http.StatusOK {
		word = "not ready"
	}
	writeJSON(w, status, map[string]any{"status": word, "checks": results})
}

// bounded gives each request at most RequestTimeout: past it, the database
// calls under way are cut and the request answers 503, rather than hang as
// long as a frozen database does. Live streams are not bounded.
func (s *Server) bounded(next http.Handler) http.Handler {
	if s.RequestTimeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// retryAfterOn503 adds Retry-After to every 503 answer, API or page.
func retryAfterOn503(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryWriter{ResponseWriter: w}, r)
	})
}

type retryWriter struct{ http.ResponseWriter }

func (w *retryWriter) WriteHeader(status int) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	}
	w.ResponseWriter.WriteHeader(status)
}

// Flush lets server-sent events through.
func (w *retryWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *retryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
