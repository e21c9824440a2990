package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/identity"
)

// requestIDPattern is what a request id taken from a client or a balancer
// may look like: short, and nothing a log reader could mistake.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

type requestIDKey struct{}
type clientAddrKey struct{}

// RequestID returns the id of the request of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// observe is the outermost layer of each request: it takes the request's
// id (X-Request-Id, when well formed) or makes one and echoes it; finds the
// client's address (trusting X-Forwarded-For only from the configured
// proxies); and, once answered, counts and times the request under its
// method and route and writes one access log line. Live streams stay out
// of the latency histogram: their duration is the stream's life.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-Id", id)
		addr := s.forwardedFor(r)
		rec := &statusRecorder{ResponseWriter: w}
		ctx := context.WithValue(r.Context(), recorderKey{}, rec)
		ctx = context.WithValue(ctx, requestIDKey{}, id)
		ctx = context.WithValue(ctx, clientAddrKey{}, addr)
		next.ServeHTTP(rec, r.WithContext(ctx))

		method, route := r.Method, "unmatched"
		if rec.route != "" {
			method, route, _ = strings.Cut(rec.route, " ")
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(rec.status)).Inc()
		if !rec.stream {
			s.metrics.latency.WithLabelValues(method, route).Observe(took.Seconds())
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000), slog.Int64("bytes", rec.bytes),
			slog.String("address", addr), slog.String("request_id", id),
		}
		if rec.actor != "" {
			attrs = append(attrs, slog.String("actor", rec.actor))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		if rec.failure != nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "answer not encoded", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("request_id", id), slog.Any("err", rec.failure))
		}
	})
}

// noteActor tells the access log who the request acts for: the account's
// id, never a name or a token.
func noteActor(r *http.Request, a identity.Actor) {
	if rec, ok := r.Context().Value(recorderKey{}).(*statusRecorder); ok {
		rec.actor = a.UserID
	}
}

// forwardedFor is the client's address: the peer's, or, when the peer is
// one of the trusted proxies (HAProxy in front of the nodes), the nearest
// address of X-Forwarded-For that is not itself a trusted proxy. Anyone
// else's X-Forwarded-For is ignored: it would let a client choose the
// address the sign-in limit and the audit trail see.
func (s *Server) forwardedFor(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if len(s.TrustedProxies) == 0 || !s.trusted(peer) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, a := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(a))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return peer // garbage: the proxies' own address is all we know
		}
		if !s.trusted(a.String()) {
			return a.Unmap().String()
		}
	}
	return peer
}

func (s *Server) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// LogHandler wraps a log handler so that every line logged with a
// request's context (slog's ...Context functions, LogAttrs) carries that
// request's id.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
