package app

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestJobStopsWithTheNode: a periodic job runs within the leading node's
// life: when the node stops (or gives up the lead), the job's context ends
// with it, so a long job (the roll-ups of a big backlog, chunk after
// chunk) never holds the node's stop; a final job runs on its own time.
func TestJobStopsWithTheNode(t *testing.T) {
	m := &Main{Log: slog.New(slog.DiscardHandler)}
	ctx, stop := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	j := &job{name: "long", run: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	go func() {
		m.runJob(ctx, j)
		done <- nil
	}()
	<-started
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job went on after the node stopped")
	}
	// A final job, run as the node stops, has its own time.
	ran := false
	m.runJob(context.Background(), &job{name: "final", final: true, run: func(ctx context.Context) error {
		ran = ctx.Err() == nil
		return nil
	}})
	if !ran {
		t.Error("the final job ran with its context ended")
	}
}
