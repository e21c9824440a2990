package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// makeCert runs galenix cert into a new directory and returns it.
func makeCert(t *testing.T, hosts string, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	var out, errOut bytes.Buffer
	if code := run(append([]string{"cert", "--host", hosts, "--out", dir}, extra...), &out, &errOut); code != 0 {
		t.Fatalf("cert: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "--tls-cert "+filepath.Join(dir, certFile)) {
		t.Errorf("cert does not say how to use the files:\n%s", out.String())
	}
	return dir
}

func TestCertCommand(t *testing.T) {
	dir := makeCert(t, "127.0.0.1, galenix.example.com", "--days", "30")
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatalf("the files are not a usable pair: %v", err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !slices.Equal(c.DNSNames, []string{"galenix.example.com"}) {
		t.Errorf("names: IPs %v DNS %v", c.IPAddresses, c.DNSNames)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA || c.IsCA {
		t.Errorf("key %v, CA %v: want an ECDSA server certificate", c.PublicKeyAlgorithm, c.IsCA)
	}
	if days := time.Until(c.NotAfter).Hours() / 24; days < 29 || days > 30 {
		t.Errorf("valid for %.1f more days, want 30", days)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "galenix.example.com", Roots: pool}); err != nil {
		t.Errorf("a client trusting the certificate does not accept it for its name: %v", err)
	}
	keyMode := func() os.FileMode {
		fi, err := os.Stat(filepath.Join(dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := keyMode(); m != 0o600 {
		t.Errorf("key file mode %v, want 0600", m)
	}

	// Existing files are kept unless --force; forced, the key stays 0600
	// even if the old file was wider.
	var out, errOut bytes.Buffer
	if code := run([]string{"cert", "--host", "127.0.0.1", "--out", dir}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--force") {
		t.Errorf("second cert without --force: exit %d: %s", code, errOut.String())
	}
	if err := os.Chmod(filepath.Join(dir, keyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"cert", "--host", "127.0.0.1", "--out", dir, "--force"}, &out, &errOut); code != 0 {
		t.Fatalf("cert --force: exit %d: %s", code, errOut.String())
	}
	if m := keyMode(); m != 0o600 {
		t.Errorf("key file mode after --force %v, want 0600", m)
	}
}

// TestServeTLS serves the demo over HTTPS with a certificate from galenix
// cert: answers carry HSTS, the login page's session cookie is Secure,
// HttpOnly and SameSite=Strict, plain HTTP and TLS below 1.2 are refused.
func TestServeTLS(t *testing.T) {
	dir := makeCert(t, "127.0.0.1")
	certPath := filepath.Join(dir, certFile)
	pem, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s := startServerEnv(t, t.TempDir(), []string{"GALENIX_TLS_KEY=" + filepath.Join(dir, keyFile)}, "--demo", "--tls-cert", certPath)
	base := "https://" + s.addr

	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready over HTTPS: %v; log:\n%s", err, s.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !s.logSays(base) {
		t.Errorf("the log does not say %s:\n%s", base, s.logText())
	}

	resp, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); resp.StatusCode != 200 || !strings.Contains(hsts, "max-age=") {
		t.Errorf("GET /login: %d, HSTS %q", resp.StatusCode, hsts)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v", resp.TLS)
	}

	resp, err = client.PostForm(base+"/login", url.Values{"username": {"qa"}, "password": {"galenix-demo"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "galenix_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("POST /login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict", session)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("the login answer has no HSTS header")
	}

	// Plain HTTP to the TLS port gets nothing served.
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + s.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP to the TLS port answered 200")
		}
	}
	// Nor does TLS 1.1.
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("TLS 1.1 is accepted")
	}
	// TLS 1.2 offers AEAD suites alone: a client knowing only CBC suites
	// gets no handshake, one knowing an AEAD suite does.
	tls12 := func(suites ...uint16) error {
		c, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1",
			MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA); err == nil {
		t.Error("TLS 1.2 with CBC suites alone is accepted")
	}
	if err := tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("TLS 1.2 with ECDHE-ECDSA-AES128-GCM: %v", err)
	}
}
