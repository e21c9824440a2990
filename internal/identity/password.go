package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: RFC 9106's second recommended option (64 MiB, 3
// passes) on one lane. The lanes change the latency of a check, not the
// work a guess costs (memory × passes), so one lane keeps a check to one
// core: a signature on the shop floor leaves the other cores to the
// requests that read. Hashes made with other parameters (earlier ones had
// 2 lanes) still verify: a hash carries its parameters.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds how many argon2id computations run at once: each takes
// 64 MiB and a core per lane, so that a burst of sign-ins or signatures
// (every batch starts with a signed line clearance) queues here instead of
// taking every core from the requests that read, and the memory stays
// bounded. One computation per two cores: hashing never holds more than
// half the machine. Each slot holds its worker process (keyworker.go), nil
// until one is needed.
var hashSlots = func() chan *keyWorker {
	c := make(chan *keyWorker, max(1, runtime.NumCPU()/2))
	for range cap(c) {
		c <- nil // a slot's worker starts when first needed
	}
	return c
}()

// hashing counts the computations under way, and hashingPeak the most seen
// at once (for tests).
var hashing, hashingPeak atomic.Int32

// idKey computes an argon2id key within the bound of hashSlots.
func idKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	w := <-hashSlots
	defer func() { hashSlots <- w }()
	n := hashing.Add(1)
	defer hashing.Add(-1)
	for {
		peak := hashingPeak.Load()
		if n <= peak || hashingPeak.CompareAndSwap(peak, n) {
			break
		}
	}
	path := keyWorkerPath.Load()
	if path == nil || len(password) > maxKeyInput || len(salt) > maxKeyInput {
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	if w == nil {
		var err error
		if w, err = startKeyWorker(*path); err != nil {
			return argon2.IDKey(password, salt, time, memory, threads, keyLen)
		}
	}
	key, err := w.key(password, salt, time, memory, threads, keyLen)
	if err != nil {
		// The worker failed: it is replaced at the next computation.
		w.stop()
		w = nil
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	return key
}

// HashPassword returns the argon2id hash of password in the PHC string
// format, with a fresh random salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-format hash. A
// malformed hash never matches: the parameters must be written exactly as
// HashPassword writes them, and stay within bounds that keep one check
// from taking the machine's memory or minutes of its time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", memory, time, threads) {
		return false
	}
	if memory == 0 || memory > 1<<20 || time == 0 || time > 16 || threads == 0 || threads > 64 {
		return false
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := idKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
