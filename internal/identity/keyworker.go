package identity

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id keys can be computed in worker processes, galenix's own binary
// started again, at a lower CPU priority than the server (nice 10): a
// signature's 64 MiB and its core for a tenth of a second then give way to
// the requests under way and to the database, and the server's heap never
// holds the 64 MiB. A check takes longer only when the machine is busy.
//
// The workers are this package's: any program that imports it and calls
// UseKeyWorkers becomes a worker when started with keyWorkerEnv set (see
// init), before its main runs. One worker per slot of hashSlots, started
// when first needed; a worker that fails is replaced, and the key in
// question computed in the process instead: a check never fails because a
// worker did.

// keyWorkerEnv, set to "1", makes the process an argon2id worker.
const keyWorkerEnv = "GALENIX_ARGON2_WORKER"

// KeyWorkerNice is the workers' niceness: a nice-0 thread weighs about ten
// times as much for the kernel's scheduler.
const KeyWorkerNice = 10

// urgentWorkerEnv is keyWorkerEnv's value for a worker at the server's own
// priority: it computes the keys of checks that queue (takeSlot).
const urgentWorkerEnv = "urgent"

func init() {
	switch os.Getenv(keyWorkerEnv) {
	case "1":
		keyWorkerLowerPriority()
		os.Exit(serveKeys(os.Stdin, os.Stdout))
	case urgentWorkerEnv:
		os.Exit(serveKeys(os.Stdin, os.Stdout))
	}
}

// urgentWorkers hold a worker at the server's priority for each slot of
// hashSlots: only a computation holding a slot takes one, so that it never
// waits. nil until one is needed.
var urgentWorkers = func() chan *keyWorker {
	c := make(chan *keyWorker, cap(hashSlots))
	for range cap(c) {
		c <- nil
	}
	return c
}()

// keyWorkerPath is the program started as a worker; empty, keys are
// computed in the process.
var keyWorkerPath atomic.Pointer[string]

// UseKeyWorkers makes the argon2id computations run in worker processes of
// the running program, at low priority. It returns an error, and the
// computations stay in the process, where workers are not supported.
func UseKeyWorkers() error {
	if !keyWorkersSupported {
		return errors.New("argon2id worker processes are not supported on this system")
	}
	// The running program itself, even if its file has been replaced
	// since (an upgrade): a worker always speaks the server's protocol.
	exe := keyWorkerProgram
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("finding the program to start argon2id workers: %w", err)
	}
	keyWorkerPath.Store(&exe)
	return nil
}

// stopKeyWorkers stops the workers and computes keys in the process again.
func stopKeyWorkers() {
	keyWorkerPath.Store(nil)
	for _, pool := range []chan *keyWorker{hashSlots, urgentWorkers} {
		var all []*keyWorker
		for range cap(pool) {
			all = append(all, <-pool)
		}
		for _, w := range all {
			if w != nil {
				w.stop()
			}
			pool <- nil
		}
	}
}

// keyWorker is one worker process, used by one computation at a time.
type keyWorker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startKeyWorker starts a worker of the program at path: at low priority,
// or at the server's when urgent.
func startKeyWorker(path string, urgent bool) (*keyWorker, error) {
	cmd := exec.Command(path)
	kind := "1"
	if urgent {
		kind = urgentWorkerEnv
	}
	cmd.Env = []string{keyWorkerEnv + "=" + kind} // nothing of the server's environment
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting an argon2id worker: %w", err)
	}
	return &keyWorker{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// key asks the worker for a key.
func (w *keyWorker) key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	req := make([]byte, 0, 21+len(password)+len(salt))
	req = binary.LittleEndian.AppendUint32(req, time)
	req = binary.LittleEndian.AppendUint32(req, memory)
	req = append(req, threads)
	req = binary.LittleEndian.AppendUint32(req, keyLen)
	req = binary.LittleEndian.AppendUint32(req, uint32(len(password)))
	req = append(req, password...)
	req = binary.LittleEndian.AppendUint32(req, uint32(len(salt)))
	req = append(req, salt...)
	_, err := w.in.Write(req)
	clear(req)
	if err != nil {
		return nil, err
	}
	key := make([]byte, keyLen)
	if _, err := io.ReadFull(w.out, key); err != nil {
		return nil, err
	}
	return key, nil
}

// stop ends the worker: it exits when its input closes; killed, if it is
// stuck.
func (w *keyWorker) stop() {
	w.in.Close()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

// Bounds of a request a worker accepts: the parameters those of
// CheckPassword; a longer password is hashed in the process.
const (
	maxKeyMemory = 1 << 20
	maxKeyTime   = 16
	maxKeyLanes  = 64
	maxKeyInput  = 1 << 12
	maxKeyLen    = 64
)

// serveKeys is a worker's loop: it reads requests from in and writes each
// key to out until in closes. It returns the exit status.
func serveKeys(in io.Reader, out io.Writer) int {
	r := bufio.NewReader(in)
	var head [13]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			return 2
		}
		time := binary.LittleEndian.Uint32(head[0:])
		memory := binary.LittleEndian.Uint32(head[4:])
		threads := head[8]
		keyLen := binary.LittleEndian.Uint32(head[9:])
		password, err := readField(r)
		if err != nil {
			return 2
		}
		salt, err := readField(r)
		if err != nil {
			return 2
		}
		if time == 0 || time > maxKeyTime || memory == 0 || memory > maxKeyMemory || threads == 0 || threads > maxKeyLanes ||
			keyLen == 0 || keyLen > maxKeyLen {
			return 2
		}
		key := argon2.IDKey(password, salt, time, memory, threads, keyLen)
		clear(password)
		if _, err := out.Write(key); err != nil {
			return 2
		}
	}
}

// readField reads a length-prefixed field of at most maxKeyInput bytes.
func readField(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxKeyInput {
		return nil, errors.New("field too long")
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}
