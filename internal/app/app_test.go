package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"galenix/internal/app"
)

// TestGracefulStopFinishesInFlight: a stop asked while a request is in
// flight lets that request finish and answer before Run returns.
func TestGracefulStopFinishesInFlight(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	// A login whose body arrives in two parts: the handler is reading it
	// when the stop is asked.
	pr, pw := io.Pipe()
	answer := make(chan int, 1)
	go func() {
		resp, err := http.Post(m.URL()+"/api/v1/login", "application/json", pr)
		if err != nil {
			t.Error(err)
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"username": "nobody",`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a request was in flight", err)
	default:
	}
	if _, err := pw.Write([]byte(`"password": "wrong"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-answer; got != http.StatusUnauthorized {
		t.Errorf("the in-flight login answered %d, want 401", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the last request finished")
	}
	// New connections are refused once stopped.
	if _, err := http.Get(m.URL() + "/healthz"); err == nil {
		t.Error("the server still answers after the stop")
	}
}
