package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files the cert command writes in its output directory.
const (
	certFile = "cert.pem"
	keyFile  = "key.pem"
)

// cert makes a self-signed certificate and its key, for a first install
// before the site's own certificate authority issues one.
func cert(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cert", "Makes a self-signed TLS certificate (ECDSA P-256) and its private key for a first install:\n"+
		"DIR/"+certFile+" and DIR/"+keyFile+" (readable by its owner only), to use with\n"+
		"galenix serve --tls-cert DIR/"+certFile+" --tls-key DIR/"+keyFile+". Browsers warn about a self-signed\n"+
		"certificate until it is trusted; replace it with one from the site's certificate authority.", stderr)
	hosts := fs.String("host", "", "`NAME[,NAME...]`: the host names and IP addresses the certificate is for (required)")
	out := fs.String("out", "", "`DIR`ectory to write "+certFile+" and "+keyFile+" into (required; created if missing)")
	days := fs.Int("days", 365, "how many `DAYS` the certificate is valid")
	force := fs.Bool("force", false, "replace the files if they exist")
	if err := parse(fs, args); err != nil {
		return err
	}
	var names []string
	for h := range strings.SplitSeq(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			names = append(names, h)
		}
	}
	switch {
	case len(names) == 0 || *out == "":
		fmt.Fprintln(stderr, "galenix cert: --host and --out are required")
		fs.Usage()
		return usageError{errors.New("missing flag")}
	case *days < 1 || *days > 3650:
		fmt.Fprintln(stderr, "galenix cert: --days must be between 1 and 3650")
		return usageError{errors.New("bad days")}
	}
	certPEM, keyPEM, fingerprint, err := selfSigned(names, time.Now(), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	certPath, keyPath := filepath.Join(*out, certFile), filepath.Join(*out, keyFile)
	if !*force {
		for _, p := range []string{certPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists; give --force to replace it", p)
			}
		}
	}
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "certificate: %s\nprivate key: %s\nfor: %s\nvalid until: %s\nSHA-256 fingerprint: %s\n\nnext: galenix serve --tls-cert %s --tls-key %s\n",
		certPath, keyPath, strings.Join(names, ", "), time.Now().Add(time.Duration(*days)*24*time.Hour).UTC().Format(time.DateOnly),
		fingerprint, certPath, keyPath)
	return nil
}

// selfSigned makes a server certificate for the names (host names or IP
// addresses) signed by its own ECDSA P-256 key.
func selfSigned(names []string, now time.Time, valid time.Duration) (certPEM, keyPEM []byte, fingerprint string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"galenix (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(valid),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256(der)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		strings.Join(hexes, ":"), nil
}

// writeNew writes a file with exactly the mode given, replacing any file
// there: a key must never inherit an older file's wider mode.
func writeNew(path string, data []byte, mode os.FileMode) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
