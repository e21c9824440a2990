package web

import (
	"context"
	"net/http"
	"strings"
	"time"

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
	event, err = sseEvent("certificates", itemsBody[certificateSummary]{Items: items})
	return event, k.String(), err
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
		s.serveStream(w, r, n, watched, wake, event, key, func(ctx context.Context, key string) ([]byte, string, error) {
			ev, k, err := s.certificatesEvent(ctx)
			if err != nil || k == key {
				return nil, key, err
			}
			return ev, k, nil
		})
	}
}
