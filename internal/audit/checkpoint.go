package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Checkpoint is a signed statement of the site that the chain, up to entry
// Seq, ends in Hash. Rewriting the chain after a checkpoint, even with every
// hash recomputed, no longer matches the signature.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	Signature []byte    `json:"signature"`
}

// signed returns the bytes a checkpoint's signature covers.
func (c *Checkpoint) signed() []byte {
	return []byte("galenix audit checkpoint v1\n" + strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" + c.At.UTC().Format(TimeLayout) + "\n")
}

// Sign signs the checkpoint with the site's key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Signature = ed25519.Sign(key, c.signed())
}

// Verify checks the checkpoint's signature with the site's public key.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) error {
	if len(c.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, c.signed(), c.Signature) {
		return &Broken{c.Seq, "the checkpoint at this entry does not carry the site's signature"}
	}
	return nil
}

// KeyFile is the name of the site's signing key in the data directory.
const KeyFile = "audit-signing-key.pem"

// LoadOrCreateKey reads the site's Ed25519 signing key from path, creating
// it (mode 0600) when there is none yet. A node of a running site uses
// LoadKey instead: a new key beside existing checkpoints breaks the trail.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := LoadKey(path)
	if errors.Is(err, os.ErrNotExist) {
		return CreateKey(path)
	}
	return key, err
}

// LoadKey reads the site's Ed25519 signing key from path; the error wraps
// os.ErrNotExist when there is no such file.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s holds no PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 key", path)
	}
	return key, nil
}

// CreateKey makes a new signing key and writes it to path (mode 0600); it
// never replaces an existing file.
func CreateKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// PublicKeyPEM encodes a public key in PEM, as bundles carry it.
func PublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeyPEM reads a public key written by PublicKeyPEM.
func ParsePublicKeyPEM(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("no PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("not an Ed25519 public key")
	}
	return pub, nil
}
