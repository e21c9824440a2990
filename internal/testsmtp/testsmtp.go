// Package testsmtp is an SMTP relay on the loopback for tests: it speaks
// enough SMTP (EHLO, STARTTLS with a certificate of its own, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client's conversation,
// and keeps the messages it accepted. It can be told to refuse messages
// for a while (451), as a relay in trouble does.
package testsmtp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options say how the relay behaves.
type Options struct {
	// StartTLS offers STARTTLS.
	StartTLS bool
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
}

// Message is a message the relay accepted.
type Message struct {
	From string
	To   []string
	Data string // as received, dot-unstuffed, CRLF line ends
}

// Server is a running relay.
type Server struct {
	Addr string
	// Pool trusts the relay's certificate.
	Pool *x509.CertPool

	opt  Options
	ln   net.Listener
	cert tls.Certificate

	mu       sync.Mutex
	messages []Message
	refuse   bool
	wg       sync.WaitGroup
}

// Start starts a relay on the loopback, stopped when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), opt: opt, ln: ln}
	s.cert, s.Pool = selfSigned(t)
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Refuse makes the relay answer 451 to every message until told otherwise.
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = on
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) {
		w.WriteString(line + "\r\n")
		w.Flush()
	}
	say("220 testsmtp ready")
	secure, authed := false, s.opt.Username == ""
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			w.WriteString("250-testsmtp\r\n")
			if s.opt.StartTLS && !secure {
				w.WriteString("250-STARTTLS\r\n")
			}
			if s.opt.Username != "" {
				w.WriteString("250-AUTH PLAIN\r\n")
			}
			say("250 8BITMIME")
		case "STARTTLS":
			if !s.opt.StartTLS || secure {
				say("502 not offered")
				continue
			}
			say("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12})
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 || parts[1] != s.opt.Username || parts[2] != s.opt.Password {
				say("535 authentication failed")
				continue
			}
			authed = true
			say("235 authenticated")
		case "MAIL":
			if !authed {
				say("530 authentication required")
				continue
			}
			cur = Message{From: between(arg)}
			say("250 ok")
		case "RCPT":
			cur.To = append(cur.To, between(arg))
			say("250 ok")
		case "DATA":
			say("354 end with a dot")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = data.String()
			s.mu.Lock()
			refuse := s.refuse
			if !refuse {
				s.messages = append(s.messages, cur)
			}
			s.mu.Unlock()
			if refuse {
				say("451 try again later")
			} else {
				say("250 queued")
			}
			cur = Message{}
		case "RSET":
			cur = Message{}
			say("250 ok")
		case "NOOP":
			say("250 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("500 unknown command")
		}
	}
}

// between is the address of a MAIL FROM:<a> or RCPT TO:<a> argument.
func between(arg string) string {
	_, a, _ := strings.Cut(arg, "<")
	a, _, _ = strings.Cut(a, ">")
	return a
}

// selfSigned makes the relay's certificate, for 127.0.0.1, and a pool
// that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "testsmtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
