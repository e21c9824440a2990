package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"galenix/internal/audit"
)

// TestAuditRotateKey runs the demo, rotates the site's audit key with
// `galenix audit rotate-key`, and checks what follows: bad input is refused
// with nothing changed; the trail verifies with the new key and no longer
// with the old; a node given the old key refuses to start; a node given the
// new key starts, writes and signs, and the trail still verifies.
func TestAuditRotateKey(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	stop := func(s *server) {
		t.Helper()
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := s.cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	stop(s)
	oldKey := filepath.Join(data, "audit-signing-key.pem")
	newKey := filepath.Join(t.TempDir(), "next.pem")
	cmd := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	verify := func(key string) (int, string) { return cmd("audit", "verify", "--data", data, "--audit-key", key) }
	code, before := verify(oldKey)
	if code != 0 {
		t.Fatalf("verify before the rotation: %d %s", code, before)
	}

	// Refused, nothing changed.
	for name, args := range map[string][]string{
		"no reason":       {"--new-key", newKey},
		"no new key":      {"--reason", "yearly"},
		"the same key":    {"--new-key", oldKey, "--reason", "yearly"},
		"a readable key":  {"--new-key", writeReadable(t), "--reason", "yearly"},
		"not the site's":  {"--new-key", newKey, "--reason", "yearly", "--audit-key", makeKey(t)},
		"no key of today": {"--new-key", newKey, "--reason", "yearly", "--audit-key", filepath.Join(data, "nope.pem")},
	} {
		code, out := cmd(append([]string{"audit", "rotate-key", "--data", data}, args...)...)
		if code == 0 {
			t.Errorf("%s: rotated: %s", name, out)
		}
		if _, err := os.Stat(newKey); err == nil {
			t.Fatalf("%s: the new key file was left behind", name)
		}
	}
	if _, after := verify(oldKey); after != before {
		t.Errorf("refused rotations changed the trail: %s, then %s", before, after)
	}

	code, out := cmd("audit", "rotate-key", "--data", data, "--new-key", newKey, "--reason", "Yearly rotation CR-7", "--by", "j.martin")
	if code != 0 || !strings.Contains(out, "OK: from audit entry") {
		t.Fatalf("rotate-key: %d %s", code, out)
	}
	if fi, err := os.Stat(newKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new key file: %v %v", fi, err)
	}
	if code, out := verify(newKey); code != 0 || !strings.Contains(out, "OK:") {
		t.Fatalf("verify with the new key: %d %s", code, out)
	}
	if code, out := verify(oldKey); code != 1 || !strings.Contains(out, "FAILED") {
		t.Fatalf("verify with the old key after the rotation: %d %s", code, out)
	}
	if code, out := cmd("audit", "rotate-key", "--data", data, "--new-key", makeKey(t), "--reason", "again, with the old key"); code == 0 {
		t.Fatalf("a rotation with the old key went through: %s", out)
	}

	// A node given the old key refuses to start and says why.
	old := startServer(t, data)
	done := make(chan error, 1)
	go func() { done <- old.cmd.Wait() }()
	select {
	case err := <-done:
		said := func() bool {
			return strings.Contains(old.logText(), "hands the signing over to another after a rotation")
		}
		for deadline := time.Now().Add(5 * time.Second); !said() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if err == nil || !said() {
			t.Fatalf("a node with the old key: %v\n%s", err, old.logText())
		}
	case <-time.After(time.Minute):
		t.Fatal("a node with the old key started")
	}

	// With the new key: ready, a write, a checkpoint, and the trail holds.
	s = startServer(t, data, "--audit-key", newKey)
	s.waitReady(t)
	if code, _ := s.login(t, "admin", "galenix-demo"); code != 200 {
		t.Fatalf("sign-in on the node with the new key: %d", code)
	}
	stop(s)
	if code, out := verify(newKey); code != 0 {
		t.Fatalf("verify after the new node wrote: %d %s", code, out)
	}
}

// makeKey makes a new key file and returns its path.
func makeKey(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.pem")
	if _, _, err := loadOrMakeKey(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeReadable makes a key file others may read.
func writeReadable(t *testing.T) string {
	t.Helper()
	path := makeKey(t)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAuditNewKey: audit new-key makes a key file only the owner reads,
// which rotate-key then takes as the new key; it never overwrites a file
// and wants the file named.
func TestAuditNewKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "next.pem")
	out := runOK(t, "audit", "new-key", path)
	key, err := audit.LoadKey(path)
	if err != nil || !strings.Contains(out, "OK: new audit key "+audit.KeyFingerprintOf(key)) {
		t.Fatalf("new-key says %q; the key: %v", out, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", fi, err)
	}
	before, _ := os.ReadFile(path)
	for _, args := range [][]string{{"audit", "new-key", path}, {"audit", "new-key"}, {"audit", "new-key", path, "extra"}} {
		var o, e bytes.Buffer
		if code := run(args, &o, &e); code == 0 {
			t.Errorf("galenix %s: exit 0\n%s", strings.Join(args, " "), o.String())
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("an existing key file was overwritten")
	}
}
