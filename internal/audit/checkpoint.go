package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
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
	// A key handover (the site's key rotated) names the key that signs
	// it, Key, and the key that signs every checkpoint after it, NextKey;
	// NextSignature is NextKey's signature of the same statement, so that
	// each key vouches for the other.
	Key           []byte `json:"key,omitempty"`
	NextKey       []byte `json:"next_key,omitempty"`
	NextSignature []byte `json:"next_signature,omitempty"`
}

// Handover reports whether the checkpoint hands the site's signing over to
// another key.
func (c *Checkpoint) Handover() bool { return len(c.NextKey) > 0 }

// signed returns the bytes a checkpoint's signatures cover.
func (c *Checkpoint) signed() []byte {
	s := strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" + c.At.UTC().Format(TimeLayout) + "\n"
	if !c.Handover() {
		return []byte("galenix audit checkpoint v1\n" + s)
	}
	b64 := base64.StdEncoding
	return []byte("galenix audit key handover v1\n" + s + b64.EncodeToString(c.Key) + "\n" + b64.EncodeToString(c.NextKey) + "\n")
}

// Sign signs the checkpoint with the site's key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Signature = ed25519.Sign(key, c.signed())
}

// SignHandover makes the checkpoint the handover of the site's signing
// from key to next, signed by both.
func (c *Checkpoint) SignHandover(key, next ed25519.PrivateKey) {
	c.Key, c.NextKey = key.Public().(ed25519.PublicKey), next.Public().(ed25519.PublicKey)
	c.Signature = ed25519.Sign(key, c.signed())
	c.NextSignature = ed25519.Sign(next, c.signed())
}

// Verify checks that pub signed the checkpoint. A handover verifies with
// either of its two keys, and only if each key signed it.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) error {
	if c.Handover() {
		if len(c.Key) != ed25519.PublicKeySize || len(c.NextKey) != ed25519.PublicKeySize ||
			len(c.Signature) != ed25519.SignatureSize || len(c.NextSignature) != ed25519.SignatureSize ||
			!ed25519.Verify(c.Key, c.signed(), c.Signature) || !ed25519.Verify(c.NextKey, c.signed(), c.NextSignature) {
			return &Broken{c.Seq, "the key handover at this entry is not signed by both of its keys"}
		}
		if !pub.Equal(ed25519.PublicKey(c.Key)) && !pub.Equal(ed25519.PublicKey(c.NextKey)) {
			return &Broken{c.Seq, "the key handover at this entry names neither this key nor hands over to it"}
		}
		return nil
	}
	if len(c.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, c.signed(), c.Signature) {
		return &Broken{c.Seq, "the checkpoint at this entry does not carry the site's signature"}
	}
	return nil
}

// SignsNext reports, as nil, that pub is the key that signs the checkpoints
// after this one: the key that signed it, or the key a handover hands over
// to. A node whose key is not refuses to sign.
func (c *Checkpoint) SignsNext(pub ed25519.PublicKey) error {
	if c.Handover() && !pub.Equal(ed25519.PublicKey(c.NextKey)) {
		return &Broken{c.Seq, "the site's key was handed over to another key at this entry"}
	}
	return c.Verify(pub)
}

// VerifyCheckpoints checks the signed checkpoints, oldest first, against
// the site's key of today, trusted, following the key handovers back: the
// checkpoints after the last handover must be signed by trusted, which must
// have co-signed that handover; the handover names the key before it,
// which must have signed it and every checkpoint back to the handover
// before; and so on to the first key. A checkpoint signed by a key no
// handover introduced, a handover not signed by the key of its time, or a
// checkpoint signed by a key after it was handed over, is named as the
// break.
func VerifyCheckpoints(cps []Checkpoint, trusted ed25519.PublicKey) error {
	cur := trusted
	for i := len(cps) - 1; i >= 0; i-- {
		c := &cps[i]
		if c.Handover() {
			if !cur.Equal(ed25519.PublicKey(c.NextKey)) {
				return &Broken{c.Seq, "the key handover at this entry hands over to another key than the one that signs after it"}
			}
			if err := c.Verify(cur); err != nil {
				return err
			}
			cur = ed25519.PublicKey(c.Key)
			continue
		}
		if err := c.Verify(cur); err != nil {
			return &Broken{c.Seq, "the checkpoint at this entry is not signed by the site's key of its time"}
		}
	}
	return nil
}

// KeyFingerprintOf is KeyFingerprint of a private key's public key.
func KeyFingerprintOf(key ed25519.PrivateKey) string {
	return KeyFingerprint(key.Public().(ed25519.PublicKey))
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
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
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
