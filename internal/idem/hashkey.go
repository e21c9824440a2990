package idem

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// The hash that recognizes a request sent again is an HMAC, not a bare
// SHA-256: the body of a signature or of a password change holds a
// password, and its bare hash, kept a day, would let whoever reads the
// database guess the password far faster than argon2id allows. Its key
// must be the same on every node (a retry may reach another) and across a
// rotation of the site's audit key (a retry may straddle it), yet not be
// readable from the database alone. So it is kept in the database wrapped
// (AES-256-GCM) under a key derived from the site's audit key, and the
// rotation, which holds both audit keys, wraps it again under the new one.

// HashKeySize is the size of the requests' hash key.
const HashKeySize = 32

// wrappedPrefix marks the wrapping's version.
const wrappedPrefix = "v1:"

// FirstHashKey is the hash key a site starts with, derived from its audit
// key: the key nodes derived before it was kept wrapped, so that the hashes
// stored then still match.
func FirstHashKey(siteKey ed25519.PrivateKey) ([]byte, error) {
	if len(siteKey) != ed25519.PrivateKeySize {
		return nil, errors.New("the site's audit key is not an Ed25519 private key")
	}
	return hkdf.Key(sha256.New, siteKey.Seed(), nil, "galenix idempotency request hash", HashKeySize)
}

// wrapper is the AEAD that wraps the hash key under a site's audit key.
func wrapper(siteKey ed25519.PrivateKey) (cipher.AEAD, error) {
	if len(siteKey) != ed25519.PrivateKeySize {
		return nil, errors.New("the site's audit key is not an Ed25519 private key")
	}
	k, err := hkdf.Key(sha256.New, siteKey.Seed(), nil, "galenix idempotency hash key wrap", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// WrapHashKey wraps the hash key under the site's audit key, as text.
func WrapHashKey(siteKey ed25519.PrivateKey, hashKey []byte) (string, error) {
	if len(hashKey) != HashKeySize {
		return "", errors.New("an idempotency hash key is 32 bytes")
	}
	aead, err := wrapper(siteKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, hashKey, []byte(wrappedPrefix))
	return wrappedPrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// ErrWrongSiteKey is a wrapped hash key that the audit key given does not
// open: it was wrapped under another (a node with a key the site no longer
// uses, or a database of another site).
var ErrWrongSiteKey = errors.New("the idempotency hash key is wrapped under another audit key than this node's")

// UnwrapHashKey opens a hash key wrapped by WrapHashKey.
func UnwrapHashKey(siteKey ed25519.PrivateKey, wrapped string) ([]byte, error) {
	rest, ok := strings.CutPrefix(wrapped, wrappedPrefix)
	if !ok {
		return nil, errors.New("the idempotency hash key is stored in a form this version does not know")
	}
	sealed, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, errors.New("the stored idempotency hash key is damaged")
	}
	aead, err := wrapper(siteKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("the stored idempotency hash key is damaged")
	}
	key, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(wrappedPrefix))
	if err != nil {
		return nil, ErrWrongSiteKey
	}
	if len(key) != HashKeySize {
		return nil, errors.New("the stored idempotency hash key is damaged")
	}
	return key, nil
}
