package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// SignatureHeader carries a webhook body's HMAC-SHA256 under the shared
// secret, as "sha256=" and its hex: the receiver recomputes it over the
// bytes it received and compares in constant time.
const SignatureHeader = "X-Galenix-Signature"

// Webhook posts the events of its topics, as JSON, to a URL the site
// configured, each signed with HMAC-SHA256 (SignatureHeader). Deliver is a
// durable subscriber's: an answer other than 2xx, or none, is an error,
// and the dispatcher delivers the event again after its backoff
// (at-least-once: the receiver deduplicates on the event's seq, sent in
// X-Galenix-Delivery and in the body).
type Webhook struct {
	URL    string
	Secret []byte
	Topics []string
	// Client posts; nil: one with a 10-second timeout.
	Client *http.Client
}

// WebhookBody is what a webhook posts.
type WebhookBody struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Topic    string          `json:"topic"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Payload  json.RawMessage `json:"payload"`
}

// Sign is the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver posts ev if its topic is one of the webhook's and it is the
// site's own (a client's record is never sent to the site's receiver).
func (w *Webhook) Deliver(ctx context.Context, ev Event) error {
	if !slices.Contains(w.Topics, ev.Topic) || ev.ClientID != "" {
		return nil
	}
	payload := ev.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	body, err := json.Marshal(WebhookBody{Seq: ev.Seq, At: ev.At.UTC(), Topic: ev.Topic, Entity: ev.Entity, EntityID: ev.EntityID, Payload: payload})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Galenix-Event", ev.Topic)
	req.Header.Set("X-Galenix-Delivery", fmt.Sprint(ev.Seq))
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", ev.Topic, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s: the receiver answered %s", ev.Topic, resp.Status)
	}
	return nil
}
