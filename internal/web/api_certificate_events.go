package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/quality"
)

// The live stream of certificates (server-sent events): GET
// /api/v1/certificates/events sends the certificates of analysis published
// in the caller's scope at once (event "certificates"), then again when
// one is published: the qualified person's certification appends the
// outbox's event certificate.published of the batch's client, which wakes
// only the streams of that client (notifier.event). The stream reads the
// register in the caller's scope: a client's user learns only of its own
// certificates, never that another client's exists. Like the batches'
// stream, it also wakes on this node's writes and polls, in case both were
// missed.

// certificateSummary is a certificate as the stream sends it: never the
// qualified person's name.
type certificateSummary struct {
	BatchID     string    `json:"batch_id"`
	Lot         string    `json:"lot"`
	ProductCode string    `json:"product_code"`
	Product     string    `json:"product"`
	Certificate string    `json:"certificate"`
	SignedAt    time.Time `json:"signed_at"`
}

// certificatesEvent reads the certificates in the caller's scope and writes
// them as one event "certificates"; key names the set, to send it again
// only when it changed.
func (s *Server) certificatesEvent(ctx context.Context) (event []byte, key string, err error) {
	lines, err := s.Release.Register(ctx, quality.RegisterFilter{})
	if err != nil {
		return nil, "", err
	}
	items := []certificateSummary{}
	var k strings.Builder
	for _, l := range lines {
		if l.Decision != quality.DecisionCertified || l.Certificate == "" {
			continue
		}
		items = append(items, certificateSummary{BatchID: l.BatchID, Lot: l.Lot, ProductCode: l.ProductCode, Product: l.ProductName,
			Certificate: l.Certificate, SignedAt: l.SignedAt})
		k.WriteString(l.Certificate + " ")
	}
	data, err := json.Marshal(itemsBody[certificateSummary]{Items: items})
	if err != nil {
		return nil, "", errs.Wrap(err, "encoding the certificates event")
	}
	out := make([]byte, 0, len(data)+40)
	out = append(out, "event: certificates\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...), k.String(), nil
}

// certificateEvents serves the live stream of certificates.
func (s *Server) certificateEvents(n *notifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		actor, _ := identity.ActorFrom(ctx)
		watched, unwatch := n.watch(actor.ClientScope())
		defer unwatch()
		wake := n.wait()
		event, key, err := s.certificatesEvent(ctx)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		stop := n.stopping(r)
		send := startStream(w)
		if !send(append([]byte("retry: 3000\n\n"), event...)) {
			return
		}
		poll := time.NewTicker(s.eventsPoll)
		defer poll.Stop()
		ping := time.NewTicker(eventsPing)
		defer ping.Stop()
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
			}
			wake = n.wait()
			ev, k, err := s.certificatesEvent(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
					s.logIfInternal(r, err)
				}
				return
			}
			if k != key {
				key = k
				if !send(ev) {
					return
				}
			}
		}
	}
}
