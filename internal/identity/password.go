package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"galenix/internal/errs"
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
// half the machine. The bound is the process's, wherever the key is
// computed (the KeyDeriver's worker processes or the process itself).
var hashSlots = func() chan struct{} {
	c := make(chan struct{}, max(1, runtime.NumCPU()/2))
	for range cap(c) {
		c <- struct{}{}
	}
	return c
}()

// HashSlots is how many argon2id computations run at once: a KeyDeriver
// never has more than that many keys asked of it at a time.
func HashSlots() int { return cap(hashSlots) }

// hashing counts the computations under way, and hashingPeak the most seen
// at once (for tests).
var hashing, hashingPeak atomic.Int32

// The queue for hashSlots is bounded too: past HashQueue computations
// waiting, or HashWait spent waiting, a password check answers ErrBusy at
// once (503, to try again in a moment) rather than a late answer to
// everyone: a burst of sign-ins cannot hold the shop floor's signatures
// for minutes. A busy check is never a refused password: it counts toward
// no lock and no sign-in limit.
var (
	HashQueue = 8 * cap(hashSlots)
	HashWait  = 3 * time.Second
)

// hashWaiting counts the computations waiting for a slot.
var hashWaiting atomic.Int32

// ErrBusy is a password check given up because too many were waiting.
var ErrBusy = errs.E(errs.Unavailable, "identity.server_busy_checking_other")

// takeSlot waits for a slot of hashSlots within the queue's bounds and the
// context's; while it waits and computes, the request gives its place to
// others (WithYield). urgent says that checks queue: the KeyDeriver then
// computes the key at the server's own priority (keyworker: a worker at
// nice 0, not the low-priority one), for on a machine busy with reads a worker at nice 10 gets a tenth of
// a core, and the line of signatures would only grow. The slots keep that
// to one core in two.
func takeSlot(ctx context.Context) (resume func(), urgent bool, err error) {
	if int(hashWaiting.Add(1)) > HashQueue {
		hashWaiting.Add(-1)
		return nil, false, ErrBusy
	}
	select {
	case <-hashSlots:
		// A slot free at once: no line.
		hashWaiting.Add(-1)
		return Yield(ctx), false, nil
	default:
	}
	resume = Yield(ctx)
	timer := time.NewTimer(HashWait)
	defer timer.Stop()
	select {
	case <-hashSlots:
	case <-timer.C:
		err = ErrBusy
	case <-ctx.Done():
		err = errs.Wrap(ctx.Err(), "waiting to check a password")
	}
	hashWaiting.Add(-1)
	if err != nil {
		resume()
		return nil, false, err
	}
	return resume, true, nil
}

// idKey computes an argon2id key with d within the bound of hashSlots,
// waiting as long as it takes.
func idKey(d KeyDeriver, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	<-hashSlots
	return computeKey(d, false, password, salt, time, memory, threads, keyLen)
}

// computeKey computes an argon2id key with d, urgent if the check queued,
// then gives back the slot its caller holds.
func computeKey(d KeyDeriver, urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	defer func() { hashSlots <- struct{}{} }()
	n := hashing.Add(1)
	defer hashing.Add(-1)
	for {
		peak := hashingPeak.Load()
		if n <= peak || hashingPeak.CompareAndSwap(peak, n) {
			break
		}
	}
	return d.IDKey(urgent, password, salt, time, memory, threads, keyLen)
}

// HashPassword returns the argon2id hash of password in the PHC string
// format, with a fresh random salt, computed in the process (Passwords.Hash
// with no deriver).
func HashPassword(password string) (string, error) { return Passwords{}.Hash(password) }

// CheckPassword is Passwords.Check computed in the process.
func CheckPassword(hash, password string) bool { return Passwords{}.Check(hash, password) }

// VerifyPassword is Passwords.Verify computed in the process.
func VerifyPassword(ctx context.Context, hash, password string) (bool, error) {
	return Passwords{}.Verify(ctx, hash, password)
}

// Hash returns the argon2id hash of password in the PHC string format,
// with a fresh random salt.
func (p Passwords) Hash(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey(p.keys(), []byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches the PHC-format hash. A malformed
// hash never matches: the parameters must be written exactly as Hash
// writes them, and stay within bounds that keep one check from taking the
// machine's memory or minutes of its time.
func (p Passwords) Check(hash, password string) bool {
	ok, _ := p.check(context.Background(), hash, password, false)
	return ok
}

// Verify is Check for a request: it waits for its turn within the bounds
// of HashQueue and HashWait, and answers ErrBusy past them (nothing is
// known of the password then), or the context's error.
func (p Passwords) Verify(ctx context.Context, hash, password string) (bool, error) {
	return p.check(ctx, hash, password, true)
}

func (p Passwords) check(ctx context.Context, hash, password string, bounded bool) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, nil
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", memory, time, threads) {
		return false, nil
	}
	if memory == 0 || memory > 1<<20 || time == 0 || time > 16 || threads == 0 || threads > 64 {
		return false, nil
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return false, nil
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, nil
	}
	var got []byte
	if bounded {
		resume, urgent, err := takeSlot(ctx)
		if err != nil {
			return false, err
		}
		got = computeKey(p.keys(), urgent, []byte(password), salt, time, memory, threads, uint32(len(want)))
		resume()
	} else {
		got = idKey(p.keys(), []byte(password), salt, time, memory, threads, uint32(len(want)))
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

type yieldKey struct{}

// WithYield returns a context whose password checks call give before they
// wait for their turn and the computation, and the function give returns
// once it is done: the web layer gives the request's place among those
// served at once (admission) to others meanwhile, for a check spends its
// time waiting and in a low-priority worker, not on the server's cores.
func WithYield(ctx context.Context, give func() (resume func())) context.Context {
	return context.WithValue(ctx, yieldKey{}, give)
}

// Yield gives the request's place, if the context says how, and returns
// the function that takes it back.
func Yield(ctx context.Context) func() {
	if give, ok := ctx.Value(yieldKey{}).(func() func()); ok {
		return give()
	}
	return func() {}
}
