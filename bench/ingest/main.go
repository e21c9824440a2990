// Command ingest measures the intake of sensor readings: the peer's
// synthetic series (2,000 sensors × N steps, 10 s apart, 20 ± 2 with 2
// decimals) into galenix, beside VictoriaMetrics fed the same readings in
// the same run, and beside PostgreSQL's own COPY of the same rows. It
// prints readings per second (galenix's acknowledged only once durable),
// bytes per reading on disk, and ends with one RESULT line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/testmqtt"
	"galenix/internal/testpg"

	"github.com/jackc/pgx/v5"
)

type options struct {
	sensors, steps, batch, writers int
	gateways, inflight, alarms     int
	db                             string
}

func main() {
	var o options
	flag.IntVar(&o.sensors, "sensors", 2000, "sensors")
	flag.IntVar(&o.steps, "steps", 60, "readings per sensor, 10 s apart")
	flag.IntVar(&o.batch, "batch", 2000, "readings per batch (a gateway's bulk request, a COPY, an import)")
	flag.IntVar(&o.writers, "writers", 2, "batches sent at once to VictoriaMetrics")
	flag.IntVar(&o.gateways, "gateways", 4, "MQTT connections publishing, as site gateways")
	flag.IntVar(&o.inflight, "inflight", 32, "QoS 1 publishes awaiting the broker's acknowledgement at once, per gateway")
	flag.IntVar(&o.alarms, "alarms", 100, "alarms timed, one per sensor, each from the publish of a reading over the action limit")
	flag.StringVar(&o.db, "db", "both", "galenix's database: sqlite, postgres or both")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this `file` (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/ingest:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	cleanup()
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench/ingest:", err)
		os.Exit(1)
	}
}

// cleanups stop what the benchmark started.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "bench-ingest-")
	if err != nil {
		return err
	}
	atCleanup(func() { os.RemoveAll(tmp) })
	rs := generate(o.sensors, o.steps)
	fmt.Printf("bench/ingest: %d readings (%d sensors × %d steps, 10 s apart, 20 ± 2, 2 decimals), batches of %d; %d CPUs, load average %s\n",
		len(rs), o.sensors, o.steps, o.batch, runtime.NumCPU(), machine.LoadAvg())

	vm, err := runVictoriaMetrics(ctx, rs, o.batch, o.writers, tmp)
	if err != nil {
		return err
	}
	fmt.Printf("VictoriaMetrics %s: %.0f readings/s acknowledged (in memory), %.0f/s counted by a query after a flush; %.2f bytes/reading on disk after a forced merge\n",
		vm.Version, vm.AckPerS, vm.VisiblePerS, vm.BytesPerReading)

	if !testpg.Available() {
		return fmt.Errorf("PostgreSQL is not installed (Debian package postgresql)")
	}
	pg, err := testpg.Start(testpg.Options{Durable: true})
	if err != nil {
		return fmt.Errorf("starting PostgreSQL: %w", err)
	}
	atCleanup(pg.Stop)
	dsn, err := pg.CreateDatabase("bench_copy")
	if err != nil {
		return err
	}
	copyPerS, copyBytes, err := runCopy(ctx, dsn, rs, o.batch)
	if err != nil {
		return err
	}
	fmt.Printf("PostgreSQL COPY (durable, one transaction per batch): %.0f readings/s, %.1f bytes/reading (table and key)\n", copyPerS, copyBytes)

	var worst float64
	var alarmP99 time.Duration
	var bytesPer float64 // the larger of the databases', once compacted
	for _, db := range []string{"sqlite", "postgres"} {
		if o.db != "both" && o.db != db {
			continue
		}
		dsn := ""
		if db == "postgres" {
			if dsn, err = pg.CreateDatabase("bench_galenix"); err != nil {
				return err
			}
		}
		g, err := runGalenix(ctx, db, dsn, filepath.Join(tmp, "galenix-"+db), rs, o)
		if err != nil {
			return fmt.Errorf("galenix on %s: %w", db, err)
		}
		fmt.Printf("galenix on %s, alarms evaluated, acknowledged once committed: through mosquitto (QoS 1) %.0f readings/s, %.0f%% of VictoriaMetrics'; "+
			"through the bulk endpoint %.0f readings/s, %.0f%%; %.1f bytes/reading stored raw, %.2f once compacted; alarm from publish to recorded p50 %s p99 %s\n",
			db, g.mqttPerS, 100*g.mqttPerS/vm.VisiblePerS, g.httpPerS, 100*g.httpPerS/vm.VisiblePerS, g.bytesPerReading, g.compactedBytes,
			g.alarmP50.Round(time.Millisecond), g.alarmP99.Round(time.Millisecond))
		for _, v := range []float64{g.mqttPerS, g.httpPerS} {
			if worst == 0 || v < worst {
				worst = v
			}
		}
		if g.alarmP99 > alarmP99 {
			alarmP99 = g.alarmP99
		}
		bytesPer = max(bytesPer, g.compactedBytes)
	}
	fmt.Printf("RESULT ingest_per_s=%.0f vs_victoriametrics=%.2f copy_ratio=%.2f bytes_per_reading=%.2f bytes_vs_victoriametrics=%.2f alarm_p99_ms=%d vm_per_s=%.0f vm_bytes_per_reading=%.2f copy_per_s=%.0f copy_bytes_per_reading=%.1f\n",
		worst, worst/vm.VisiblePerS, worst/copyPerS, bytesPer, bytesPer/vm.BytesPerReading, alarmP99.Milliseconds(), vm.VisiblePerS, vm.BytesPerReading, copyPerS, copyBytes)
	return nil
}

// galenixFigures are galenix's figures on one database.
type galenixFigures struct {
	mqttPerS, httpPerS float64
	bytesPerReading    float64
	compactedBytes     float64
	alarmP50, alarmP99 time.Duration
}

// runGalenix starts a broker and a galenix node on the database, and
// sends rs through the broker.
func runGalenix(ctx context.Context, db, dsn, dir string, rs []reading, o options) (*galenixFigures, error) {
	b, err := testmqtt.Start(testmqtt.Options{Settings: []string{"max_queued_messages 0", "max_inflight_messages 0"}})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	n, err := startNode(dir, dsn, b.URL(), o.sensors)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	before, err := storedBytes(ctx, db, dsn, dir)
	if err != nil {
		return nil, err
	}
	f := &galenixFigures{}
	// The first half of the steps through the broker, the second through
	// the bulk endpoint.
	half := len(rs) / 2 / o.sensors * o.sensors
	if f.mqttPerS, err = viaMQTT(n, b, rs[:half], o.gateways, o.inflight); err != nil {
		return nil, err
	}
	if f.httpPerS, err = viaHTTP(n, rs[half:], o.batch, o.writers); err != nil {
		return nil, err
	}
	after, err := storedBytes(ctx, db, dsn, dir)
	if err != nil {
		return nil, err
	}
	f.bytesPerReading = float64(after-before) / float64(len(rs))
	if f.alarmP50, f.alarmP99, err = alarmLatency(n, b, o.alarms, uint64(o.steps+1)); err != nil {
		return nil, err
	}
	if err := n.stop(); err != nil {
		return nil, err
	}
	if f.compactedBytes, err = compacted(ctx, db, dsn, dir); err != nil {
		return nil, fmt.Errorf("compaction: %w", err)
	}
	return f, nil
}

// storedBytes is the size of the readings: on PostgreSQL their table's
// partitions with their indexes, on SQLite the database's files.
func storedBytes(ctx context.Context, db, dsn, dir string) (int64, error) {
	if db == "sqlite" {
		return dirSize(dir), nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits
		WHERE inhparent = 'environment_readings'::regclass`).Scan(&n)
	return n, err
}
