package document

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
)

// Envelope encryption, three keys deep, all AES-256-GCM from Go's standard
// library with a random 96-bit nonce:
//
//   - each version's content is sealed with a fresh random data key, its
//     additional data binding the document, the version's number and the
//     client (a ciphertext moved onto another row does not open);
//   - the data key is wrapped by the client's key;
//   - the client's key is wrapped by the site's master key, a file in the
//     data directory that never enters the database.
//
// The database holds only wrapped keys: destroying a client's wrapped key
// leaves its documents' data keys, and so their contents, unreadable for
// ever, in the database and in every backup of it.

// KeySize is the size of every key: AES-256.
const KeySize = 32

// ErrUnreadable is the error of a content, or a key, that does not open:
// another key than the one that sealed it, another row, or altered bytes.
var ErrUnreadable = errors.New("document: the content does not open with this key (another key, another record, or altered bytes)")

// NewKey returns a fresh random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, errors.New("document: a key must be " + strconv.Itoa(KeySize) + " bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain under key with a random nonce, which leads the
// result.
func seal(key, plain, ad []byte) ([]byte, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, ad), nil
}

// open decrypts what seal made; any other key, additional data or byte
// gives ErrUnreadable.
func open(key, sealed, ad []byte) ([]byte, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, ErrUnreadable
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], ad)
	if err != nil {
		return nil, ErrUnreadable
	}
	return plain, nil
}

// clientKeyAD binds a wrapped client key to its client.
func clientKeyAD(clientID string) []byte { return []byte("galenix client key v1\x00" + clientID) }

// dataKeyAD binds a wrapped data key to its version.
func dataKeyAD(documentID string, number int, clientID string) []byte {
	return []byte("galenix data key v1\x00" + documentID + "\x00" + strconv.Itoa(number) + "\x00" + clientID)
}

// contentAD binds a content to its version.
func contentAD(documentID string, number int, clientID string) []byte {
	return []byte("galenix document v1\x00" + documentID + "\x00" + strconv.Itoa(number) + "\x00" + clientID)
}

// WrapClientKey wraps a client's key by the site's master key.
func WrapClientKey(master, clientKey []byte, clientID string) ([]byte, error) {
	if len(clientKey) != KeySize {
		return nil, errors.New("document: a client key must be 32 bytes")
	}
	return seal(master, clientKey, clientKeyAD(clientID))
}

// UnwrapClientKey unwraps a client's key by the site's master key.
func UnwrapClientKey(master, wrapped []byte, clientID string) ([]byte, error) {
	return open(master, wrapped, clientKeyAD(clientID))
}

// Fingerprint names a client's key without revealing it: the first 16
// bytes of the SHA-256 of its wrapped form, in hexadecimal. The audit
// trail's certificate of destruction names the key by it.
func Fingerprint(wrapped []byte) string {
	h := sha256.Sum256(wrapped)
	return hex.EncodeToString(h[:16])
}

// Sealed is a version's content as kept: the ciphertext and its data key
// wrapped by the client's key.
type Sealed struct {
	Ciphertext []byte
	DataKey    []byte
}

// Seal encrypts a version's content under a fresh data key, wrapped by the
// client's key, and returns it with the SHA-256 of the plaintext.
func Seal(clientKey []byte, documentID string, number int, clientID string, plain []byte) (*Sealed, string, error) {
	dk, err := NewKey()
	if err != nil {
		return nil, "", err
	}
	ct, err := seal(dk, plain, contentAD(documentID, number, clientID))
	if err != nil {
		return nil, "", err
	}
	wrapped, err := seal(clientKey, dk, dataKeyAD(documentID, number, clientID))
	if err != nil {
		return nil, "", err
	}
	return &Sealed{Ciphertext: ct, DataKey: wrapped}, Hash(plain), nil
}

// Open decrypts a version's content with the client's key and checks it
// against the SHA-256 recorded at upload.
func Open(clientKey []byte, documentID string, number int, clientID string, s Sealed, sha string) ([]byte, error) {
	dk, err := open(clientKey, s.DataKey, dataKeyAD(documentID, number, clientID))
	if err != nil {
		return nil, err
	}
	plain, err := open(dk, s.Ciphertext, contentAD(documentID, number, clientID))
	if err != nil {
		return nil, err
	}
	if Hash(plain) != sha {
		return nil, ErrUnreadable
	}
	return plain, nil
}

// Hash is the SHA-256 of a content, in hexadecimal.
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
