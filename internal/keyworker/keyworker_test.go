package keyworker

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"galenix/internal/identity"
)

// TestMain: the test binary is the program the workers run.
func TestMain(m *testing.M) {
	ServeIfWorker()
	os.Exit(m.Run())
}

// idle takes every idle worker of c, returns them and gives them back.
func idle(t *testing.T, c chan *worker) []*worker {
	t.Helper()
	var all []*worker
	for {
		select {
		case w := <-c:
			all = append(all, w)
			continue
		default:
		}
		break
	}
	for _, w := range all {
		c <- w
	}
	return all
}

// niceness reads a process's nice value from /proc.
func niceness(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[16] // field 19 of proc(5), counted after the command
}

// start starts a pool of identity.HashSlots workers, closed at the test's
// end.
func start(t *testing.T) *Pool {
	t.Helper()
	if !supported {
		t.Skip("argon2id workers run on Linux only")
	}
	p, err := Start(identity.HashSlots())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestKeyWorkers: with workers, a key is the one computed in the process;
// the workers run at nice 10; a worker killed is replaced, and the check
// that found it dead still answers right.
func TestKeyWorkers(t *testing.T) {
	p := start(t)
	password, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	want := argon2.IDKey(password, salt, 1, 1024, 1, 32)
	if got := p.IDKey(false, password, salt, 1, 1024, 1, 32); !bytes.Equal(got, want) {
		t.Fatalf("worker's key %x, want %x", got, want)
	}
	ws := idle(t, p.idle)
	if len(ws) != 1 {
		t.Fatalf("%d workers after one computation, want 1", len(ws))
	}
	first := ws[0].cmd.Process.Pid
	if first == os.Getpid() {
		t.Fatal("the key was computed in the test's process")
	}
	if n := niceness(t, first); n != "10" {
		t.Errorf("worker's nice value %s, want 10", n)
	}

	// identity's checks go through the pool.
	passwords := identity.Passwords{Keys: p}
	hash, err := passwords.Hash(string(password))
	if err != nil {
		t.Fatal(err)
	}
	if !passwords.Check(hash, string(password)) || passwords.Check(hash, "wrong horse battery staple") {
		t.Fatal("a worker's hash does not check as it should")
	}
	if ws := idle(t, p.idle); len(ws) != 1 || ws[0].cmd.Process.Pid != first {
		t.Fatalf("identity's checks did not use the pool's worker: %d idle", len(ws))
	}

	// A worker that dies: the check in flight answers from the process,
	// the next one starts a new worker.
	for _, w := range idle(t, p.idle) {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
	}
	if !passwords.Check(hash, string(password)) {
		t.Fatal("the check that found its worker dead failed")
	}
	if got := p.IDKey(false, password, salt, 1, 1024, 1, 32); !bytes.Equal(got, want) {
		t.Fatalf("key after a worker died %x, want %x", got, want)
	}
	ws = idle(t, p.idle)
	if len(ws) != 1 || ws[0].cmd.Process.Pid == first {
		t.Errorf("the dead worker was not replaced: %d workers", len(ws))
	}

	// A password beyond what a worker accepts is hashed in the process.
	long := bytes.Repeat([]byte("x"), maxKeyInput+1)
	if got := p.IDKey(false, long, salt, 1, 1024, 1, 32); !bytes.Equal(got, argon2.IDKey(long, salt, 1, 1024, 1, 32)) {
		t.Error("a long password's key differs")
	}
	if ws2 := idle(t, p.idle); len(ws2) != 1 || ws2[0] != ws[0] {
		t.Error("a long password cost a worker")
	}

	// A closed pool stops its workers and computes in the process.
	p.Close()
	if ws := idle(t, p.idle); len(ws) != 0 {
		t.Errorf("%d workers left after Close", len(ws))
	}
	if got := p.IDKey(false, password, salt, 1, 1024, 1, 32); !bytes.Equal(got, want) {
		t.Fatalf("closed pool's key %x, want %x", got, want)
	}
	if ws := idle(t, p.idle); len(ws) != 0 {
		t.Error("a closed pool started a worker")
	}
}

// request builds a worker's request.
func request(time, memory uint32, threads uint8, keyLen uint32, password, salt []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, time)
	b = binary.LittleEndian.AppendUint32(b, memory)
	b = append(b, threads)
	b = binary.LittleEndian.AppendUint32(b, keyLen)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(password)))
	b = append(b, password...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(salt)))
	return append(b, salt...)
}

// TestServeKeys: a worker answers each request with its key, stops at the
// end of its input, and refuses (exit status 2, nothing written) a request
// beyond the bounds of identity.CheckPassword or cut short.
func TestServeKeys(t *testing.T) {
	pw, salt := []byte("pw"), []byte("saltsaltsalt")
	in := append(request(1, 64, 1, 16, pw, salt), request(2, 128, 2, 32, pw, salt)...)
	var out bytes.Buffer
	if code := serveKeys(bytes.NewReader(in), &out); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	want := append(argon2.IDKey(pw, salt, 1, 64, 1, 16), argon2.IDKey(pw, salt, 2, 128, 2, 32)...)
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("keys %x, want %x", out.Bytes(), want)
	}
	for name, req := range map[string][]byte{
		"no passes":         request(0, 64, 1, 16, pw, salt),
		"too much memory":   request(1, maxKeyMemory+1, 1, 16, pw, salt),
		"no lane":           request(1, 64, 0, 16, pw, salt),
		"key too long":      request(1, 64, 1, maxKeyLen+1, pw, salt),
		"empty key":         request(1, 64, 1, 0, pw, salt),
		"password too long": request(1, 64, 1, 16, bytes.Repeat([]byte("x"), maxKeyInput+1), salt),
		"cut short":         request(1, 64, 1, 16, pw, salt)[:20],
	} {
		var out bytes.Buffer
		if code := serveKeys(bytes.NewReader(req), &out); code != 2 || out.Len() != 0 {
			t.Errorf("%s: exit status %d with %d bytes written, want 2 and none", name, code, out.Len())
		}
	}
}

// TestUrgentKeyWorker: a key asked as urgent (its check queued) is
// computed in a worker at the server's own priority, not the low-priority
// one, and is the same key.
func TestUrgentKeyWorker(t *testing.T) {
	p := start(t)
	password, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	want := argon2.IDKey(password, salt, 1, 1024, 1, 32)
	if got := p.IDKey(true, password, salt, 1, 1024, 1, 32); !bytes.Equal(got, want) {
		t.Fatalf("urgent worker's key %x, want %x", got, want)
	}
	if len(idle(t, p.idle)) != 0 {
		t.Error("an urgent check started a low-priority worker")
	}
	urgent := idle(t, p.idleUrgent)
	if len(urgent) != 1 {
		t.Fatalf("%d urgent workers after one urgent computation, want 1", len(urgent))
	}
	if got, own := niceness(t, urgent[0].cmd.Process.Pid), niceness(t, os.Getpid()); got != own {
		t.Errorf("urgent worker's nice value %s, want the server's %s", got, own)
	}
}

// TestStartNeedsServeIfWorker: a program that would not serve keys when
// started as a worker gets no pool, for each worker would run its main.
func TestStartNeedsServeIfWorker(t *testing.T) {
	if !supported {
		t.Skip("argon2id workers run on Linux only")
	}
	served = false
	defer func() { served = true }()
	if p, err := Start(1); err == nil {
		p.Close()
		t.Fatal("Start without ServeIfWorker gave a pool")
	}
}
