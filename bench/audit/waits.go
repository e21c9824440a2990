package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// waitSampler samples, while the appends run, what PostgreSQL's backends of
// the database are doing (pg_stat_activity's wait events): a profile of
// where the write commands spend their time on the server's side.
type waitSampler struct {
	counts  map[string]int
	samples int
	stop    chan struct{}
	done    chan error
}

func sampleWaits(dsn string, every time.Duration) (*waitSampler, error) {
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	w := &waitSampler{counts: map[string]int{}, stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		defer conn.Close(context.Background())
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.done <- nil
				return
			case <-t.C:
			}
			rows, err := conn.Query(context.Background(), `SELECT COALESCE(wait_event_type || ':' || wait_event, 'on CPU'), COALESCE(state, '')
				FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
			if err != nil {
				w.done <- err
				return
			}
			for rows.Next() {
				var ev, state string
				if err := rows.Scan(&ev, &state); err != nil {
					rows.Close()
					w.done <- err
					return
				}
				if state == "idle" { // waiting for the client: a Go writer between commands
					ev = "idle (client side)"
				}
				w.counts[ev]++
				w.samples++
			}
			rows.Close()
		}
	}()
	return w, nil
}

// finish stops the sampling.
func (w *waitSampler) finish() error {
	close(w.stop)
	return <-w.done
}

// report prints the share of each wait.
func (w *waitSampler) report() {
	if w.samples == 0 {
		return
	}
	keys := slices.SortedFunc(maps.Keys(w.counts), func(a, b string) int { return w.counts[b] - w.counts[a] })
	var parts []string
	for _, k := range keys[:min(6, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(w.counts[k])/float64(w.samples)))
	}
	fmt.Printf("  server backends during the durable run (pg_stat_activity, %d samples): %s\n", w.samples, strings.Join(parts, ", "))
	fmt.Printf("    (Lock:transactionid and Lock:tuple: waiting for the head of the chain; IO:WALSync: the one holding it, flushing)\n")
}

// walSyncs reads how many times PostgreSQL has flushed its WAL to disk, and
// the time it spent doing so (pg_stat_wal; track_wal_io_timing is on).
func walSyncs(dsn string) (n int64, spent time.Duration, err error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	var ms float64
	err = conn.QueryRow(ctx, `SELECT wal_sync, wal_sync_time FROM pg_stat_wal`).Scan(&n, &ms)
	return n, time.Duration(ms * float64(time.Millisecond)), err
}
