// Package mail sends e-mail through the site's SMTP relay: the
// notifications galenix owes people outside its pages (an environmental
// alarm escalated; later a client laboratory's notices). It speaks SMTP
// with the standard library's net/smtp, TLS required unless the site says
// otherwise, and writes plain-text UTF-8 messages (RFC 5322, quoted-
// printable), refusing a header that could smuggle another in.
package mail

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// The ways a relay is reached.
const (
	// StartTLS: plain TCP, then STARTTLS, required (the default).
	StartTLS = "starttls"
	// TLS: TLS from the first byte (port 465).
	TLS = "tls"
	// Plain: no TLS; for a relay on the same host or a trusted segment.
	Plain = "none"
)

// Relay is the site's SMTP relay and how galenix sends through it.
type Relay struct {
	// Addr is HOST:PORT.
	Addr string
	// From is the sender's address.
	From string
	// Security is StartTLS (when empty), TLS or Plain.
	Security string
	// Username and Password, when set, authenticate with AUTH PLAIN
	// (only over TLS, or to a relay on the loopback).
	Username string
	Password []byte
	// TLSConfig, when set, checks the relay's certificate (its RootCAs);
	// nil: the system's roots, for the relay's host name.
	TLSConfig *tls.Config
	// Timeout bounds a whole delivery; 0: 30 s.
	Timeout time.Duration
	// Hello is the name galenix greets with; "galenix" when empty.
	Hello string
}

// Message is a plain-text message.
type Message struct {
	To      []string
	Subject string
	Text    string
	// ID makes the Message-ID, so that a message sent again (delivered
	// at least once) is recognised by the receiver: "<ID@domain>", the
	// sender's domain. Letters, digits and -._ only.
	ID string
}

// LogValue is the relay as logged: never its password.
func (r Relay) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", r.Addr), slog.String("from", r.From), slog.String("security", cmp.Or(r.Security, StartTLS)),
		slog.String("user", r.Username), slog.Bool("password", len(r.Password) > 0))
}

// Check refuses a relay galenix could not send through.
func (r *Relay) Check() error {
	host, port, err := net.SplitHostPort(r.Addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("the SMTP relay %q: give HOST:PORT", r.Addr)
	}
	if _, err := mail.ParseAddress(r.From); err != nil || strings.ContainsAny(r.From, "\r\n") {
		return fmt.Errorf("the sender %q is not an e-mail address", r.From)
	}
	switch r.Security {
	case "", StartTLS, TLS, Plain:
	default:
		return fmt.Errorf("SMTP security %q: say starttls, tls or none", r.Security)
	}
	if r.Username != "" && r.Security == Plain && !loopback(host) {
		return errors.New("SMTP authentication over a connection without TLS: only to a relay on this host")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseAddresses reads a comma-separated list of addresses.
func ParseAddresses(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		p, err := mail.ParseAddress(a)
		if err != nil || strings.ContainsAny(a, "\r\n") {
			return nil, fmt.Errorf("%q is not an e-mail address", a)
		}
		out = append(out, p.Address)
	}
	return out, nil
}

// Compose writes m from from, dated now, as the bytes SMTP's DATA sends
// (CRLF line ends, before dot-stuffing, which net/smtp does). Display
// names are encoded (RFC 2047) as the subject is; the Message-ID is m.ID
// at the sender's domain.
func Compose(from string, m Message, now time.Time) ([]byte, error) {
	if len(m.To) == 0 {
		return nil, errors.New("a message without a recipient")
	}
	for _, h := range append([]string{from, m.Subject, m.ID}, m.To...) {
		if strings.ContainsAny(h, "\r\n") {
			return nil, errors.New("a header holds a line break")
		}
	}
	if strings.ContainsFunc(m.ID, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._", r))
	}) {
		return nil, fmt.Errorf("the message id %q: letters, digits and -._ only", m.ID)
	}
	var addrs []string
	for _, a := range append([]string{from}, m.To...) {
		p, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("%q is not an e-mail address", a)
		}
		addrs = append(addrs, p.String())
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("Date", now.Format(time.RFC1123Z))
	header("From", addrs[0])
	header("To", strings.Join(addrs[1:], ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	if m.ID != "" {
		f, _ := mail.ParseAddress(from)
		header("Message-ID", "<"+m.ID+"@"+f.Address[strings.LastIndexByte(f.Address, '@')+1:]+">")
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := w.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// Send delivers m through the relay. An error means the relay did not take
// it (the caller retries: a durable outbox subscriber does).
func (r *Relay) Send(ctx context.Context, m Message) error {
	if err := r.Check(); err != nil {
		return err
	}
	body, err := Compose(r.From, m, time.Now())
	if err != nil {
		return err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(r.Addr)
	cfg := r.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return fmt.Errorf("SMTP relay %s: %w", r.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if r.Security == TLS {
		conn = tls.Client(conn, cfg)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP relay %s: %w", r.Addr, err)
	}
	defer c.Close()
	if err := r.deliver(c, cfg, m, body); err != nil {
		return fmt.Errorf("SMTP relay %s: %w", r.Addr, err)
	}
	return nil
}

func (r *Relay) deliver(c *smtp.Client, cfg *tls.Config, m Message, body []byte) error {
	if err := c.Hello(cmp.Or(r.Hello, "galenix")); err != nil {
		return err
	}
	if r.Security == "" || r.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the relay does not offer STARTTLS, which is required (--smtp-tls none to send without)")
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if r.Username != "" {
		host, _, _ := net.SplitHostPort(r.Addr)
		if err := c.Auth(smtp.PlainAuth("", r.Username, string(r.Password), host)); err != nil {
			return err
		}
	}
	from, _ := mail.ParseAddress(r.From) // Check parsed it
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	for _, to := range m.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return err
		}
		if err := c.Rcpt(a.Address); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
