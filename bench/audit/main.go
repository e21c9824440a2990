// Command audit measures the audit trail: committed appends per second with
// concurrent writers on SQLite and on PostgreSQL (fsync on), and the speed
// of verification in entries per second beside openssl's SHA-256 over the
// same canonical bytes, measured in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

func main() {
	var o options
	flag.IntVar(&o.writers, "writers", 8, "concurrent writers in the append measure")
	flag.IntVar(&o.per, "per", 5, "audit entries per write command")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each append measure runs")
	flag.Int64Var(&o.trail, "trail", 200_000, "entries the databases' trails are grown to before VerifyAudit is timed")
	flag.IntVar(&o.entries, "entries", 2_000_000, "entries built in memory for the verification measure")
	flag.IntVar(&o.rounds, "rounds", 3, "runs of each verification measure; the best counts")
	flag.Parse()
	err := run(o)
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/audit:", err)
		os.Exit(1)
	}
}

type options struct {
	writers, per int
	duration     time.Duration
	trail        int64
	entries      int
	rounds       int
}

// cleanups stop what the benchmark started (the PostgreSQL cluster, the
// temporary directory), also on an interrupt.
var cleanups []func()

func cleanup() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func run(o options) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "bench/audit: interrupted; stopping PostgreSQL")
		cleanup()
		os.Exit(130)
	}()
	fmt.Printf("audit trail benchmark: %d CPUs, %s %s/%s, load average %s\n\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, machine.LoadAvg())
	dir, err := os.MkdirTemp("", "galenix-bench-audit-")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })

	fmt.Printf("committed appends: %d writers, %d entries per write command (db.Write + tx.Audit, one transaction each), %v each\n",
		o.writers, o.per, o.duration)
	lite, err := store.Open(context.Background(), store.Config{DataDir: filepath.Join(dir, "sqlite")})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { lite.Close() })
	liteApp, err := measureAppends(lite, o.writers, o.per, o.duration)
	if err != nil {
		return fmt.Errorf("SQLite appends: %w", err)
	}
	printAppends("SQLite (WAL, synchronous=FULL)", liteApp)

	pg, dsn, err := startPostgres()
	if err != nil {
		return err
	}
	pgApp, waits, err := postgresAppends(pg, dsn, o)
	if err != nil {
		return err
	}
	printAppends("PostgreSQL (fsync on, synchronous_commit on)", pgApp)
	fmt.Printf("  goal: >= 5000 committed entries/s on PostgreSQL: %s\n\n", machine.Goal(pgApp.perSecond() >= 5000))
	if err := diagnoseAppends(pg, dsn, pgApp, waits, o); err != nil {
		return err
	}

	fmt.Printf("store.DB.VerifyAudit over the databases' trails (grown to %d entries; rows read included):\n", o.trail)
	for _, d := range []struct {
		name string
		db   *store.DB
	}{{"SQLite", lite}, {"PostgreSQL", pg}} {
		if err := fillTrail(d.db, o.trail); err != nil {
			return fmt.Errorf("%s: growing the trail: %w", d.name, err)
		}
		r, err := measureVerifyAudit(d.db)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		fmt.Printf("  %-12s %9d entries in %6.2f s = %9.0f entries/s\n", d.name, r.entries, r.elapsed.Seconds(), r.perSecond())
	}
	fmt.Println()

	v, err := measureVerification(dir, o.entries, o.rounds)
	if err != nil {
		return err
	}
	fmt.Printf("load average at the end: %s\n", machine.LoadAvg())
	fmt.Printf("RESULT append_per_s=%.0f verify_per_s=%.0f verify_vs_openssl=%.2f\n", pgApp.perSecond(), v.perSecond, v.ratio)
	return nil
}

func printAppends(name string, r appendResult) {
	fmt.Printf("  %-46s %8.0f entries/s  (%d entries, %.0f commands/s, latency p50 %v p99 %v)\n", name, r.perSecond(), r.entries,
		float64(r.commands)/r.elapsed.Seconds(), r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
}

// startPostgres starts a throwaway PostgreSQL cluster with durability on,
// and opens galenix's database on it.
func startPostgres() (*store.DB, string, error) {
	if !testpg.Available() {
		return nil, "", fmt.Errorf("PostgreSQL is not installed (pg_config and initdb, Debian package postgresql): the append goal is on PostgreSQL")
	}
	c, err := testpg.Start(testpg.Options{Durable: true, Settings: []string{"track_wal_io_timing=on"}})
	if err != nil {
		return nil, "", fmt.Errorf("starting PostgreSQL: %w", err)
	}
	cleanups = append(cleanups, c.Stop)
	dsn, err := c.CreateDatabase("bench_audit")
	if err != nil {
		return nil, "", err
	}
	db, err := store.Open(context.Background(), store.Config{DSN: dsn})
	if err != nil {
		return nil, "", err
	}
	cleanups = append(cleanups, func() { db.Close() })
	return db, dsn, nil
}

// postgresAppends measures the appends on PostgreSQL, sampling the
// server's wait events and counting its WAL flushes meanwhile.
func postgresAppends(pg *store.DB, dsn string, o options) (appendResult, *waitSampler, error) {
	syncs0, spent0, err := walSyncs(dsn)
	if err != nil {
		return appendResult{}, nil, err
	}
	waits, err := sampleWaits(dsn, 3*time.Millisecond)
	if err != nil {
		return appendResult{}, nil, err
	}
	r, err := measureAppends(pg, o.writers, o.per, o.duration)
	if werr := waits.finish(); err == nil {
		err = werr
	}
	if err != nil {
		return r, nil, fmt.Errorf("PostgreSQL appends: %w", err)
	}
	syncs1, spent1, err := walSyncs(dsn)
	r.walSyncs, r.walSyncTime = syncs1-syncs0, spent1-spent0
	return r, waits, err
}

// diagnoseAppends says what bounds the appends on PostgreSQL: where the
// server's backends wait, the disk's flush time, the same load without
// waiting for the flush (not durable, for diagnosis only), and more entries
// per command.
func diagnoseAppends(pg *store.DB, dsn string, durable appendResult, waits *waitSampler, o options) error {
	perCommand := time.Duration(float64(durable.elapsed) / float64(durable.commands))
	fmt.Printf("what bounds the PostgreSQL appends:\n")
	fmt.Printf("  flushAudit locks the head of the chain (audit_head, SELECT ... FOR UPDATE) until the transaction ends,\n")
	fmt.Printf("  and PostgreSQL releases it only once the commit record is flushed: write commands join the chain one\n")
	fmt.Printf("  at a time, each waiting for its own WAL flush; no two commits share one (no group commit).\n")
	waits.report()
	if durable.walSyncs > 0 {
		flush := durable.walSyncTime / time.Duration(durable.walSyncs)
		fmt.Printf("  WAL flushes (pg_stat_wal): %d for %d commands, %v each on average: at most %.0f flushes/s on this disk\n",
			durable.walSyncs, durable.commands, flush.Round(10*time.Microsecond), 1/flush.Seconds())
	}
	fmt.Printf("  durable run: %.0f commands/s = %v per command, lock held, flush included\n",
		float64(durable.commands)/durable.elapsed.Seconds(), perCommand.Round(10*time.Microsecond))

	nosync, err := store.Open(context.Background(), store.Config{DSN: dsn + "&synchronous_commit=off"})
	if err != nil {
		return err
	}
	defer nosync.Close()
	r, err := measureAppends(nosync, o.writers, o.per, o.duration)
	if err != nil {
		return err
	}
	printAppends("same, synchronous_commit=off (NOT durable)", r)
	fmt.Printf("    %v per command without the flush: the statements under the lock, on this machine\n",
		time.Duration(float64(r.elapsed)/float64(r.commands)).Round(10*time.Microsecond))
	more := o.per * 4
	if r, err = measureAppends(pg, o.writers, more, o.duration); err != nil {
		return err
	}
	printAppends(fmt.Sprintf("durable, %d entries per command", more), r)
	fmt.Printf("  %d entries/s at %d entries per command needs a command every %v: flush and statements together\n\n",
		5000, o.per, (time.Second * time.Duration(o.per) / 5000))
	return nil
}
