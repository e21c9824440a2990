package app_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"galenix/internal/app"
)

// argon2Workers returns the pids of this process's children started as
// argon2id workers (keyworker).
func argon2Workers(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The parent's pid is the second field after the command, which
		// may hold spaces and parentheses.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && bytes.Contains(env, []byte("GALENIX_ARGON2_WORKER=")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestPasswordsInWorkers: the server's password checks run in argon2id
// worker processes (the test binary started again: TestMain serves keys),
// which app.Open hands to the store; Close stops them.
func TestPasswordsInWorkers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("argon2id workers run on Linux only")
	}
	before := argon2Workers(t)
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
		m.Close()
	})
	defer stop()

	// An unknown account is checked against a dummy hash all the same.
	if code, body := post(t, m.URL()+"/api/v1/login", `{"username":"nobody","password":"not a password"}`); code != http.StatusUnauthorized {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	var started []int
	for _, pid := range argon2Workers(t) {
		if !slices.Contains(before, pid) {
			started = append(started, pid)
		}
	}
	if len(started) != 1 {
		t.Fatalf("%d argon2id workers started by a sign-in, want 1", len(started))
	}
	stop()
	if slices.Contains(argon2Workers(t), started[0]) {
		t.Error("the worker still runs after Close")
	}
}
