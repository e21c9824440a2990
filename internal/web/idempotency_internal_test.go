package web

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"

	"galenix/internal/idem"
)

// TestRequestHashIsKeyed: the hash kept with an idempotency key is an HMAC
// under the site's hash key (kept wrapped under the site's audit key),
// never the bare SHA-256 of the request, whose body may hold a password:
// reading the database does not let one guess it. Nodes sharing the key
// agree on it.
func TestRequestHashIsKeyed(t *testing.T) {
	body := `{"username":"operator","password":"correct horse battery staple"}`
	hash := func(s *Server) string {
		t.Helper()
		r := httptest.NewRequest("POST", "/api/v1/signatures", strings.NewReader(body))
		r.Header.Set(IdempotencyHeader, "k1")
		_, h, err := s.requestKey(httptest.NewRecorder(), r, true)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	_, site, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	siteHash, _ := idem.FirstHashKey(site)
	otherHash, _ := idem.FirstHashKey(other)
	a, b, c := &Server{idemHashKey: siteHash}, &Server{idemHashKey: siteHash}, &Server{idemHashKey: otherHash}
	bare := sha256.Sum256([]byte("POST /api/v1/signatures\n" + body))
	switch {
	case hash(a) != hash(b):
		t.Error("two nodes with the site's key disagree on a request's hash")
	case hash(a) == hash(c):
		t.Error("another site key gives the same hash")
	case hash(a) == hex.EncodeToString(bare[:]):
		t.Error("the hash is the bare SHA-256 of the request")
	}
}
