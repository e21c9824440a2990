package web

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics counts requests by route and status and times them.
type httpMetrics struct {
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	signinFailures *prometheus.CounterVec
	replays        prometheus.Counter
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "galenix_http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "galenix_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern; live streams (server-sent events) are left out.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		signinFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "galenix_signin_failures_total", Help: "Sign-ins refused or failed, by reason (the error code: unauthorized, forbidden, invalid, rate_limited, unavailable, internal).",
		}, []string{"reason"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "galenix_idempotent_replays_total", Help: "Writes sent again with an Idempotency-Key already answered: the first answer was given again and nothing was applied twice.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.signinFailures, m.replays)
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// route is set by the route that serves the request (see Server.handle).
	route string
	// actor is the id of the account the request acts for.
	actor string
	// stream: a live stream (server-sent events), kept out of the latency
	// histogram.
	stream bool
	// failure is why the answer could not be encoded (writeJSON), logged
	// as an error with the request.
	failure error
}

type recorderKey struct{}

// setRoute tells the metrics which route pattern serves the request.
func setRoute(r *http.Request, pattern string) {
	if rec, ok := r.Context().Value(recorderKey{}).(*statusRecorder); ok {
		rec.route = pattern
	}
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream") {
		r.stream = true
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// metricsHandler serves the registry in Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}
