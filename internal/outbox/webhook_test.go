package outbox

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWebhook: an event of the webhook's topics is posted as JSON with
// its HMAC-SHA256 signature; a refusal by the receiver is an error (the
// dispatcher retries); other topics and a client's events are not sent.
func TestWebhook(t *testing.T) {
	secret := []byte("s3cret")
	var got []WebhookBody
	status := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte(Sign(secret, body))) || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("signature %q over %s", r.Header.Get(SignatureHeader), body)
		}
		var b WebhookBody
		if err := json.Unmarshal(body, &b); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		got = append(got, b)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	w := &Webhook{URL: srv.URL, Secret: secret, Topics: []string{AlarmEscalated}}
	ev := Event{Seq: 7, At: time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), Topic: AlarmEscalated, Entity: "environment_alarm", EntityID: "a1",
		Payload: json.RawMessage(`{"sensor":"T-1"}`)}
	if err := w.Deliver(context.Background(), ev); err == nil {
		t.Error("a refusal by the receiver is not an error")
	}
	status = http.StatusNoContent
	if err := w.Deliver(context.Background(), ev); err != nil {
		t.Fatalf("delivered: %v", err)
	}
	if len(got) != 2 || got[1].Seq != 7 || got[1].EntityID != "a1" || string(got[1].Payload) != `{"sensor":"T-1"}` {
		t.Errorf("received %+v", got)
	}
	other := ev
	other.Topic = SignatureGiven
	client := ev
	client.ClientID = "alpha"
	for _, e := range []Event{other, client} {
		if err := w.Deliver(context.Background(), e); err != nil {
			t.Error(err)
		}
	}
	if len(got) != 2 {
		t.Errorf("sent what it should not: %+v", got[2:])
	}
	// A wrong secret does not verify.
	if Sign([]byte("other"), []byte("{}")) == Sign(secret, []byte("{}")) {
		t.Error("the signature does not depend on the secret")
	}
}
