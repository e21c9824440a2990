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
// others (WithYield). urgent says that checks queue: the key is then
// computed by a worker at the server's own priority, not the low-priority
// one, for on a machine busy with reads a worker at nice 10 gets a tenth of
// a core, and the line of signatures would only grow. The slots keep that
// to one core in two.
func takeSlot(ctx context.Context) (w *keyWorker, resume func(), urgent bool, err error) {
	if int(hashWaiting.Add(1)) > HashQueue {
		hashWaiting.Add(-1)
		return nil, nil, false, ErrBusy
	}
	select {
	case w = <-hashSlots:
		// A slot free at once: no line.
		hashWaiting.Add(-1)
		return w, Yield(ctx), false, nil
	default:
	}
	resume = Yield(ctx)
	timer := time.NewTimer(HashWait)
	defer timer.Stop()
	select {
	case w = <-hashSlots:
	case <-timer.C:
		err = ErrBusy
	case <-ctx.Done():
		err = errs.Wrap(ctx.Err(), "waiting to check a password")
	}
	hashWaiting.Add(-1)
	if err != nil {
		resume()
		return nil, nil, false, err
	}
	return w, resume, true, nil
}

// idKey computes an argon2id key within the bound of hashSlots, waiting
// as long as it takes.
func idKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return computeKey(<-hashSlots, false, password, salt, time, memory, threads, keyLen)
}

// computeKey computes an argon2id key on the slot's worker w, or on the
// slot's worker at the server's priority when urgent (in the process when
// there are no workers), then gives the slot back.
func computeKey(w *keyWorker, urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
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
	if urgent {
		u := <-urgentWorkers // never waits: this computation holds a slot
		defer func() { urgentWorkers <- u }()
		return workerKey(&u, *path, true, password, salt, time, memory, threads, keyLen)
	}
	return workerKey(&w, *path, false, password, salt, time, memory, threads, keyLen)
}

// workerKey computes a key on the worker *w, started first if nil; a
// worker that fails is stopped (*w nil: replaced next time) and the key
// computed in the process.
func workerKey(w **keyWorker, path string, urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if *w == nil {
		var err error
		if *w, err = startKeyWorker(path, urgent); err != nil {
			*w = nil
			return argon2.IDKey(password, salt, time, memory, threads, keyLen)
		}
	}
	key, err := (*w).key(password, salt, time, memory, threads, keyLen)
	if err != nil {
		(*w).stop()
		*w = nil
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
	ok, _ := checkPassword(context.Background(), hash, password, false)
	return ok
}

// VerifyPassword is CheckPassword for a request: it waits for its turn
// within the bounds of HashQueue and HashWait, and answers ErrBusy past
// them (nothing is known of the password then), or the context's error.
func VerifyPassword(ctx context.Context, hash, password string) (bool, error) {
	return checkPassword(ctx, hash, password, true)
}

func checkPassword(ctx context.Context, hash, password string, bounded bool) (bool, error) {
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
		w, resume, urgent, err := takeSlot(ctx)
		if err != nil {
			return false, err
		}
		got = computeKey(w, urgent, []byte(password), salt, time, memory, threads, uint32(len(want)))
		resume()
	} else {
		got = idKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
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
