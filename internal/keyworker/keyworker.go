// Package keyworker computes argon2id keys in worker processes: galenix's
// own binary started again, at a lower CPU priority than the server (nice
// 10). A signature's 64 MiB and its core for a tenth of a second then give
// way to the requests under way and to the database, and the server's heap
// never holds the 64 MiB. A check takes longer only when the machine is
// busy.
//
// A program that starts workers calls ServeIfWorker first thing in main
// (a test binary, in TestMain): started as a worker, the program serves
// keys there and exits, before anything else runs. internal/app starts a
// Pool and hands it to identity as its KeyDeriver. A worker is started
// when first needed; one that fails is replaced, and the key in question
// computed in the process instead: a check never fails because a worker
// did.
package keyworker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"golang.org/x/crypto/argon2"

	"galenix/internal/identity"
)

// workerEnv, set to "1", makes the process an argon2id worker.
const workerEnv = "GALENIX_ARGON2_WORKER"

// Nice is the workers' niceness: a nice-0 thread weighs about ten times as
// much for the kernel's scheduler.
const Nice = 10

// urgentEnv is workerEnv's value for a worker at the server's own
// priority: it computes the keys of checks that queued.
const urgentEnv = "urgent"

// served says ServeIfWorker ran in this process: only then may it start
// workers, for a program that does not serve keys when started as a
// worker would run its whole main again in each (a test binary, all its
// tests).
var served bool

// ServeIfWorker makes the process an argon2id worker, and exits, when it
// was started as one; otherwise it returns at once. Call it first thing in
// main (or TestMain) of a program that starts a Pool.
func ServeIfWorker() {
	switch os.Getenv(workerEnv) {
	case "1":
		lowerPriority()
		os.Exit(serveKeys(os.Stdin, os.Stdout))
	case urgentEnv:
		os.Exit(serveKeys(os.Stdin, os.Stdout))
	}
	served = true
}

// Pool is the worker processes of the running program: an identity.
// KeyDeriver. Up to size workers at low priority, and as many at the
// server's priority for checks that queued (identity asks no more than
// identity.HashSlots keys at once).
type Pool struct {
	path string
	// idle and idleUrgent hold the workers not computing a key; a worker
	// back when they are full is stopped.
	idle, idleUrgent chan *worker
	mu               sync.Mutex
	closed           bool
}

// Start returns a pool of up to size workers of each kind. It returns an
// error, and no pool, where workers are not supported or the program does
// not serve keys (ServeIfWorker): keys are then computed in the process.
func Start(size int) (*Pool, error) {
	if !supported {
		return nil, errors.New("argon2id worker processes are not supported on this system")
	}
	if !served {
		return nil, errors.New("argon2id worker processes need keyworker.ServeIfWorker at the program's start")
	}
	// The running program itself, even if its file has been replaced
	// since (an upgrade): a worker always speaks the server's protocol.
	exe := program
	if _, err := os.Stat(exe); err != nil {
		return nil, fmt.Errorf("finding the program to start argon2id workers: %w", err)
	}
	size = max(1, size)
	return &Pool{path: exe, idle: make(chan *worker, size), idleUrgent: make(chan *worker, size)}, nil
}

var _ identity.KeyDeriver = (*Pool)(nil)

// IDKey computes the key in a worker: at low priority, or at the server's
// when urgent, for on a machine busy with reads a worker at nice 10 gets a
// tenth of a core, and the line of signatures would only grow (identity's
// slots keep that to one core in two). A key the workers cannot compute
// (a password or salt beyond their bounds, a worker that fails, a closed
// pool) is computed in the process.
func (p *Pool) IDKey(urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if len(password) > maxKeyInput || len(salt) > maxKeyInput {
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	idle := p.idle
	if urgent {
		idle = p.idleUrgent
	}
	var w *worker
	select {
	case w = <-idle:
	default:
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return argon2.IDKey(password, salt, time, memory, threads, keyLen)
		}
		var err error
		if w, err = startWorker(p.path, urgent); err != nil {
			return argon2.IDKey(password, salt, time, memory, threads, keyLen)
		}
	}
	key, err := w.key(password, salt, time, memory, threads, keyLen)
	if err != nil {
		// Stopped, and replaced next time.
		w.stop()
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	p.put(idle, w)
	return key
}

// put gives a worker back to idle, or stops it if the pool is closed or
// idle full.
func (p *Pool) put(idle chan *worker, w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		select {
		case idle <- w:
			return
		default:
		}
	}
	w.stop()
}

// Close stops the idle workers; those computing a key stop when done, and
// keys are computed in the process from then on.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for _, idle := range []chan *worker{p.idle, p.idleUrgent} {
		for {
			select {
			case w := <-idle:
				w.stop()
				continue
			default:
			}
			break
		}
	}
}

// worker is one worker process, used by one computation at a time.
type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startWorker starts a worker of the program at path: at low priority, or
// at the server's when urgent.
func startWorker(path string, urgent bool) (*worker, error) {
	cmd := exec.Command(path)
	kind := "1"
	if urgent {
		kind = urgentEnv
	}
	cmd.Env = []string{workerEnv + "=" + kind} // nothing of the server's environment
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
	return &worker{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// key asks the worker for a key.
func (w *worker) key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
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
func (w *worker) stop() {
	w.in.Close()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}
