package main

import (
	"os"
	"os/exec"
	"testing"

	"galenix/internal/testpg"
)

// TestServeDemoOnPostgres runs the demo on PostgreSQL: the same binary, the
// same behaviour, chosen by --db.
func TestServeDemoOnPostgres(t *testing.T) {
	dsn := testpg.DSN(t)
	s := startServer(t, t.TempDir(), "--demo", "--db", dsn)
	s.waitReady(t)
	code, tok := s.login(t, "admin", "galenix-demo")
	if code != 200 {
		t.Fatalf("login: %d; log:\n%s", code, s.logText())
	}
	for path, want := range map[string]int{"/api/v1/buildings": 7, "/api/v1/lines": 50} {
		if got := s.count(t, tok, path); got != want {
			t.Errorf("%s: got %d items, want %d", path, got, want)
		}
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		var ee *exec.ExitError
		t.Fatalf("SIGINT: %v %v; log:\n%s", err, ee, s.logText())
	}
}
