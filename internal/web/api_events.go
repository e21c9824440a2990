package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/production"
)

// The live stream of batches (server-sent events): GET
// /api/v1/batches/events sends the batches in the caller's scope at once,
// then again whenever they change. A stream learns of a change in three
// ways: the outbox's events of its clients, appended by a write on any node
// of the cluster, reach it through the node's dispatcher (Server.Live); the
// production writes of this node, through the API or a page's form, wake
// it at once through the notifier, without waiting for the dispatcher; and
// it polls the service's change mark, in case both were missed.

const (
	// eventsPoll is how often a stream reads the change mark
	// (Server.eventsPoll): a safety net, the outbox wakes it first.
	eventsPoll = 2 * time.Second
	// eventsPing is how often a stream sends a comment to keep proxies
	// from closing it.
	eventsPing = 15 * time.Second
	// eventsGap is the shortest time between two reads of the mark by one
	// stream, however many writes wake it: a burst of steps recorded on
	// fifty lines costs each stream one read, not fifty.
	eventsGap = 500 * time.Millisecond
	// eventsWriteTimeout bounds the write of one event to a client that
	// no longer reads.
	eventsWriteTimeout = 30 * time.Second
)

// notifier wakes the live streams of one server after a write. signal is
// a broadcast, for this node's own writes: wait returns a channel that the
// next signal closes. event is the outbox's, for a write of any node: it
// wakes only the streams watching the client whose record changed.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
	// watchers are the streams, with their client scope.
	watchers map[*watcher]struct{}
	// stops holds, per HTTP server serving the streams, a channel closed
	// when that server shuts down: the streams end, so that a graceful
	// stop does not wait for them.
	stops map[*http.Server]chan struct{}
}

func newNotifier() *notifier {
	return &notifier{ch: make(chan struct{}), watchers: map[*watcher]struct{}{}, stops: map[*http.Server]chan struct{}{}}
}

// watcher is one stream following the outbox's events of its scope.
type watcher struct {
	scope identity.Scope
	// ch holds at most one wake: a burst of events is one read.
	ch chan struct{}
}

// watch registers a stream for the events of the clients in scope; the
// function returned ends it.
func (n *notifier) watch(scope identity.Scope) (<-chan struct{}, func()) {
	w := &watcher{scope: scope, ch: make(chan struct{}, 1)}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.watchers[w] = struct{}{}
	return w.ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.watchers, w)
	}
}

// event wakes the streams whose scope holds the client; an event of no
// client (the site's own) wakes every stream. A stream never learns of a
// change of a client outside its scope, not even that one happened.
func (n *notifier) event(clientID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for w := range n.watchers {
		if clientID != "" && !w.scope.Has(clientID) {
			continue
		}
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// Live is the outbox's subscriber for this node's live streams
// (internal/app registers it with the dispatcher, node-local): an event of
// a write, on this node or another, wakes the streams of its client.
func (s *Server) Live(_ context.Context, ev outbox.Event) error {
	s.live.event(ev.ClientID)
	return nil
}

// wait returns a channel closed at the next signal.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// signal wakes every stream waiting.
func (n *notifier) signal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}

// stopping returns a channel closed when the HTTP server serving r shuts
// down (nil, never closed, outside an http.Server). http.Server.Shutdown
// waits for active requests but does not cancel them; a stream never ends
// by itself, so it must be told.
func (n *notifier) stopping(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok || srv == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.stops[srv]
	if !ok {
		ch = make(chan struct{})
		n.stops[srv] = ch
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// after wraps a write handler: once it has answered with success (a 2xx
// of the API, a page's redirect after its form), the streams wake.
func (n *notifier) after(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		if sw.status < http.StatusBadRequest {
			n.signal()
		}
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// batchSummary is a batch as the live stream sends it: its progress, and
// never a person's name.
type batchSummary struct {
	ID         string                `json:"id"`
	Lot        string                `json:"lot"`
	ClientID   string                `json:"client_id"`
	Product    string                `json:"product"`
	State      production.BatchState `json:"state"`
	StepsDone  int                   `json:"steps_done"`
	StepsTotal int                   `json:"steps_total"`
	Exceptions int                   `json:"exceptions"`
	LineCode   string                `json:"line_code,omitempty"`
	Start      *time.Time            `json:"start,omitempty"`
	End        *time.Time            `json:"end,omitempty"`
}

// startStream answers 200 as a server-sent event stream and returns the
// function that writes one event and flushes it, false once the client no
// longer reads. net/http lifts the read deadline once the request is read;
// each write of the stream has its own deadline.
func startStream(w http.ResponseWriter) (send func([]byte) bool) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	return func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(eventsWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
}

// serveStream sends a stream's first event, then its next ones: next reads
// the state anew and returns its event and the key naming it when the
// state's key is no longer key (nil when unchanged). A stream wakes on the
// outbox's events of the caller's clients (watched), on this node's writes
// (wake, read at most once per eventsGap) and on the poll, in case both
// were missed; a comment every eventsPing keeps proxies from closing it.
// The caller takes watched and wake before reading the first event: a
// write after that read wakes the stream again. The stream ends with the
// request, when the server stops, or when a read fails; the browser's
// EventSource then comes back by itself.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, n *notifier, watched, wake <-chan struct{}, first []byte, key string,
	next func(ctx context.Context, key string) ([]byte, string, error)) {
	ctx := r.Context()
	stop := n.stopping(r)
	send := startStream(w)
	if !send(append([]byte("retry: 3000\n\n"), first...)) {
		return
	}
	poll := time.NewTicker(s.eventsPoll)
	defer poll.Stop()
	ping := time.NewTicker(eventsPing)
	defer ping.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-ping.C:
			if !send([]byte(": ping\n\n")) {
				return
			}
			continue
		case <-poll.C:
		case <-watched:
		case <-wake:
			if d := time.Until(last.Add(eventsGap)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-stop:
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		wake = n.wait()
		last = time.Now()
		event, k, err := next(ctx, key)
		if err != nil {
			if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
				s.logIfInternal(r, err)
			}
			return
		}
		key = k
		if event != nil && !send(event) {
			return
		}
	}
}

// batchesEvent reads the batches and writes them as one event "batches".
func (s *Server) batchesEvent(ctx context.Context, f production.BatchFilter) ([]byte, error) {
	bs, err := s.Production.Batches(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]batchSummary, len(bs))
	for i, b := range bs {
		items[i] = batchSummary{ID: b.ID, Lot: b.Lot, ClientID: b.ClientID, Product: b.Product, State: b.State,
			StepsDone: b.StepsDone, StepsTotal: b.StepsTotal, Exceptions: b.Exceptions, LineCode: b.LineCode, Start: b.Start, End: b.End}
	}
	return sseEvent("batches", itemsBody[batchSummary]{Items: items})
}

// sseEvent writes v as the data of one server-sent event of that name.
func sseEvent(name string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, errs.Wrap(err, "encoding the "+name+" event")
	}
	out := make([]byte, 0, len(data)+len(name)+16)
	out = append(out, "event: "+name+"\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...), nil
}

// batchEvents serves the live stream of batches, with the filters of the
// list of batches.
func (s *Server) batchEvents(n *notifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f, err := s.batchFilter(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		// The wake channels are taken before the mark is read: a write
		// after the read wakes the stream again.
		actor, _ := identity.ActorFrom(ctx)
		watched, unwatch := n.watch(actor.ClientScope())
		defer unwatch()
		wake := n.wait()
		mark, err := s.Production.Changed(ctx)
		var event []byte
		if err == nil {
			event, err = s.batchesEvent(ctx, f)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		s.serveStream(w, r, n, watched, wake, event, mark, func(ctx context.Context, mark string) ([]byte, string, error) {
			m, err := s.Production.Changed(ctx)
			if err != nil || m == mark {
				return nil, mark, err
			}
			event, err := s.batchesEvent(ctx, f)
			return event, m, err
		})
	}
}
