package identity

import (
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// KeyDeriver computes argon2id keys. The password checks of this package
// ask it for every key, within the bound of hashSlots: a KeyDeriver is
// never asked for more than HashSlots keys at once. internal/keyworker's
// pool computes them in worker processes at a lower priority; without one,
// they are computed in the process.
type KeyDeriver interface {
	// IDKey returns argon2.IDKey(password, salt, time, memory, threads,
	// keyLen). urgent says the check waited for its turn: its key should
	// not wait again behind the requests the server is serving. It never
	// fails: a deriver that cannot use its means computes the key itself.
	IDKey(urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// InProcess computes keys in the calling goroutine: the default.
type InProcess struct{}

// IDKey computes the key with argon2.IDKey.
func (InProcess) IDKey(_ bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

// deriver holds the KeyDeriver in use; nil, InProcess. The hashing bound
// (hashSlots) is the process's, and so is the deriver next to it: the
// program's wiring (internal/app) sets it once at start with
// UseKeyDeriver, and every password check of the process uses it.
var deriver atomic.Pointer[KeyDeriver]

// UseKeyDeriver makes the password checks compute their keys with d; nil
// puts back the in-process default. It returns the deriver used before,
// so that a test can put it back.
func UseKeyDeriver(d KeyDeriver) KeyDeriver {
	var old *KeyDeriver
	if d == nil {
		old = deriver.Swap(nil)
	} else {
		old = deriver.Swap(&d)
	}
	if old == nil {
		return nil
	}
	return *old
}

func keyDeriver() KeyDeriver {
	if d := deriver.Load(); d != nil {
		return *d
	}
	return InProcess{}
}
