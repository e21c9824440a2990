package portal

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"

	"galenix/internal/mail"
	"galenix/internal/outbox"
	"galenix/internal/testsmtp"
)

// TestMail: a deviation's notification to a client is e-mailed through a
// real SMTP conversation to the addresses of that client's agreement
// alone, in French then English, with the link to its page and nothing of
// the record beyond its code and lot; a batch's move, the site's own
// events and a client without addresses send nothing; the addresses not
// read and a relay refusing are errors (the dispatcher sends it again).
func TestMail(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Options{})
	relay := &mail.Relay{Addr: srv.Addr, From: "galenix@site.example", Security: mail.Plain}
	book := map[string][]string{"alpha": {"qa@alpha.example", "qp@alpha.example"}, "beta": nil}
	var readErr error
	m := &Mail{Send: relay.Send, BaseURL: "https://galenix.site.example/", Recipients: func(_ context.Context, client string) ([]string, error) {
		return book[client], readErr
	}}
	payload, _ := json.Marshal(map[string]any{"deviation": "DEV-2026-0007", "deviation_id": "0190-d7", "kind": "notify", "lot": "L2611-0042",
		"message": "Sas ouvert pendant le remplissage"})
	ev := outbox.Event{Seq: 41, Topic: outbox.ClientNotified, ClientID: "alpha", Entity: "quality_obligation", EntityID: "0190-o1", Payload: payload}
	ctx := context.Background()
	moved, _ := json.Marshal(map[string]any{"lot": "L2611-0042", "to": "in_progress"})
	for _, other := range []outbox.Event{
		{Seq: 1, Topic: outbox.BatchMoved, ClientID: "alpha", EntityID: "b1", Payload: moved},
		{Seq: 2, Topic: outbox.ClientNotified, Payload: payload},
		{Seq: 3, Topic: outbox.ClientNotified, ClientID: "beta", Payload: payload},
	} {
		if err := m.Deliver(ctx, other); err != nil {
			t.Fatal(err)
		}
	}
	readErr = errors.New("database unavailable")
	if err := m.Deliver(ctx, ev); err == nil {
		t.Error("the addresses not read is not an error")
	}
	readErr = nil
	srv.Refuse(true)
	if err := m.Deliver(ctx, ev); err == nil {
		t.Error("a relay's refusal is not an error")
	}
	srv.Refuse(false)
	if err := m.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || strings.Join(got[0].To, " ") != "qa@alpha.example qp@alpha.example" {
		t.Fatalf("messages: %+v", got)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	body := string(b)
	for _, want := range []string{"Notification de la déviation DEV-2026-0007 (lot L2611-0042) reçue", "Notification of deviation DEV-2026-0007 (batch L2611-0042) received"} {
		if !strings.Contains(subject, want) || !strings.Contains(body, want) {
			t.Errorf("subject %q or body lacks %q:\n%s", subject, want, body)
		}
	}
	if !strings.Contains(body, "https://galenix.site.example/deviations/0190-d7") || strings.Contains(body, "Sas ouvert") {
		t.Errorf("the body links the deviation and says nothing of it:\n%s", body)
	}
	if fr, en := strings.Index(body, "espace client"), strings.Index(body, "client space"); fr < 0 || en < fr {
		t.Errorf("French first, then English:\n%s", body)
	}
	if msg.Header.Get("Message-Id") != "<galenix-event-41-quality_obligation-0190-o1@site.example>" {
		t.Errorf("Message-ID %q", msg.Header.Get("Message-Id"))
	}
}
