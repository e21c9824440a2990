package identity

import "golang.org/x/crypto/argon2"

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

// Passwords hashes and checks passwords, computing the argon2id keys with
// Keys, or in the process when Keys is nil. The bound on computations
// (hashSlots, HashQueue, HashWait) is the process's whatever the deriver:
// it bounds the memory and cores the process gives to argon2id. The
// program's wiring (internal/app) builds the server's with the keyworker
// pool and hands it to the store.
type Passwords struct {
	Keys KeyDeriver
}

func (p Passwords) keys() KeyDeriver {
	if p.Keys == nil {
		return InProcess{}
	}
	return p.Keys
}
