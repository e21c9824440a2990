package mail_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	galmail "galenix/internal/mail"
	"galenix/internal/testsmtp"
)

// TestSend sends a French message through a relay with STARTTLS and
// authentication: the relay gets it from and to the right addresses, its
// headers parse, its subject and body decode to the accents sent, its
// lines starting with a dot as they were.
func TestSend(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Options{StartTLS: true, Username: "galenix", Password: "s3cret"})
	r := &galmail.Relay{Addr: srv.Addr, From: "Galénix Qualité <galenix@site.example>", Username: "galenix", Password: []byte("s3cret"),
		TLSConfig: &tls.Config{RootCAs: srv.Pool}}
	m := galmail.Message{To: []string{"qa@site.example", "Astreinte sécurité <astreinte@site.example>"}, Subject: "Alarme non acquittée : capteur B30-T1",
		Text: "Température élevée, ≥ 25 °C.\nSecond line, with a very long tail that quoted-printable folds at seventy-six characters or fewer.\n.\n..a line of dots, stuffed and unstuffed", ID: "event-42"}
	if err := r.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].From != "galenix@site.example" || strings.Join(got[0].To, ",") != "qa@site.example,astreinte@site.example" {
		t.Fatalf("received: %+v", got)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, m.Subject)
	}
	// Display names travel encoded, and decode to what was configured.
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Galénix Qualité" || from[0].Address != "galenix@site.example" || strings.Contains(msg.Header.Get("From"), "é") {
		t.Errorf("From %q: %v, %v", msg.Header.Get("From"), from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Astreinte sécurité" || to[1].Address != "astreinte@site.example" {
		t.Errorf("To %q: %v, %v", msg.Header.Get("To"), to, err)
	}
	if msg.Header.Get("Message-Id") != "<event-42@site.example>" || msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("headers: %v", msg.Header)
	}
	if d, err := msg.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("date %v, %v", d, err)
	}
	// net/mail's reader leaves the transfer encoding to its reader.
	body, _ := io.ReadAll(msg.Body)
	if strings.Contains(string(body), "é") {
		t.Errorf("the body is not quoted-printable: %q", body)
	}
	text, err := io.ReadAll(qpReader(string(body)))
	if err != nil || strings.ReplaceAll(string(text), "\r\n", "\n") != m.Text+"\n" {
		t.Errorf("body %q (%v), want %q", text, err, m.Text)
	}
	for _, line := range strings.Split(string(body), "\r\n") {
		if len(line) > 76 {
			t.Errorf("a body line of %d characters", len(line))
		}
	}
}

// TestSendRefused: what the relay or the message does not allow fails,
// sending nothing.
func TestSendRefused(t *testing.T) {
	plain := testsmtp.Start(t, testsmtp.Options{})
	tlsOnly := testsmtp.Start(t, testsmtp.Options{StartTLS: true, Username: "galenix", Password: "s3cret"})
	ctx := context.Background()
	ok := galmail.Message{To: []string{"qa@site.example"}, Subject: "x", Text: "y"}
	for _, c := range []struct {
		name string
		r    galmail.Relay
		m    galmail.Message
		want string
	}{
		{"STARTTLS required", galmail.Relay{Addr: plain.Addr, From: "g@site.example"}, ok, "does not offer STARTTLS"},
		{"untrusted certificate", galmail.Relay{Addr: tlsOnly.Addr, From: "g@site.example", Username: "galenix", Password: []byte("s3cret")}, ok, "certificate"},
		{"wrong password", galmail.Relay{Addr: tlsOnly.Addr, From: "g@site.example", Username: "galenix", Password: []byte("nope"),
			TLSConfig: &tls.Config{RootCAs: tlsOnly.Pool}}, ok, "535"},
		{"a header injected", galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: galmail.Plain},
			galmail.Message{To: []string{"qa@site.example"}, Subject: "x\r\nBcc: all@example.com", Text: "y"}, "line break"},
		{"a message id that is not one", galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: galmail.Plain},
			galmail.Message{To: []string{"qa@site.example"}, Subject: "x", ID: "a>b@c"}, "message id"},
		{"no recipient", galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: galmail.Plain}, galmail.Message{Subject: "x"}, "recipient"},
		{"a bad recipient", galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: galmail.Plain},
			galmail.Message{To: []string{"not an address"}, Subject: "x"}, "not an e-mail address"},
		{"a bad sender", galmail.Relay{Addr: plain.Addr, From: "galenix"}, ok, "not an e-mail address"},
		{"no port", galmail.Relay{Addr: "127.0.0.1", From: "g@site.example"}, ok, "HOST:PORT"},
		{"security unknown", galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: "ssl"}, ok, "starttls, tls or none"},
		{"a password in clear to a remote relay", galmail.Relay{Addr: "mail.example.com:25", From: "g@site.example", Security: galmail.Plain,
			Username: "u", Password: []byte("p")}, ok, "without TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.r.Send(ctx, c.m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	if n := len(plain.Messages()) + len(tlsOnly.Messages()); n != 0 {
		t.Errorf("%d messages went through", n)
	}
	// A relay in trouble answers 451: an error, so that it is sent again.
	plain.Refuse(true)
	r := galmail.Relay{Addr: plain.Addr, From: "g@site.example", Security: galmail.Plain}
	if err := r.Send(ctx, ok); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("a refused message: %v", err)
	}
	plain.Refuse(false)
	if err := r.Send(ctx, ok); err != nil || len(plain.Messages()) != 1 {
		t.Errorf("sent again: %v, %d messages", err, len(plain.Messages()))
	}
}

// TestRelayLogged: a relay logged shows where it sends, never its
// password.
func TestRelayLogged(t *testing.T) {
	var b strings.Builder
	r := galmail.Relay{Addr: "mail.site.example:587", From: "g@site.example", Username: "galenix", Password: []byte("s3cret")}
	slog.New(slog.NewTextHandler(&b, nil)).Info("mail", "relay", r, "ptr", &r)
	if out := b.String(); strings.Contains(out, "s3cret") || strings.Contains(out, "115 51 99") || !strings.Contains(out, "relay.addr=mail.site.example:587") ||
		!strings.Contains(out, "relay.password=true") {
		t.Errorf("logged: %s", out)
	}
}

func TestParseAddresses(t *testing.T) {
	got, err := galmail.ParseAddresses(" qa@site.example, Astreinte <astreinte@site.example>,")
	if err != nil || strings.Join(got, " ") != "qa@site.example astreinte@site.example" {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := galmail.ParseAddresses("qa@site.example, nobody"); err == nil || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("a bad address: %v", err)
	}
}

func qpReader(s string) io.Reader { return quotedprintable.NewReader(strings.NewReader(s)) }
