package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/simulate"
	"galenix/internal/store"
)

// simulateCmd runs "galenix simulate sensors".
func simulateCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sensors" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "-help") {
			fmt.Fprint(stdout, simulateUsage)
			return flag.ErrHelp
		}
		fmt.Fprint(stderr, simulateUsage)
		return usageError{errors.New("simulate: say what to simulate")}
	}
	return simulateSensors(args[1:], stderr)
}

const simulateUsage = `Usage: galenix simulate sensors [flags]

Publishes realistic readings of environmental sensors, as a site's sensors
and gateways would: through an MQTT broker (--broker), or in bulk to
galenix's HTTP API (--http, --token). Run galenix simulate sensors --help
for the flags.
`

// simulateFlags are the flags of "simulate sensors".
type simulateFlags struct {
	broker, http, token string
	data, dsn           string
	sensors             int
	rate                float64
	duration            time.Duration
	seed                uint64
}

func simulateSensors(args []string, stderr io.Writer) error {
	fs := newFlagSet("simulate sensors", "Publishes the simulator's readings (daily cycles, door openings, particle bursts in\noperation, one excursion a day, a sensor going silent) for the sensors galenix knows\n(--data or --db), completed by synthesized ones up to --sensors.", stderr)
	var f simulateFlags
	fs.StringVar(&f.broker, "broker", os.Getenv("GALENIX_MQTT_BROKER"), "MQTT broker `URL` to publish to at QoS 1, as tcp://127.0.0.1:1883 (env GALENIX_MQTT_BROKER)")
	fs.StringVar(&f.http, "http", "", "galenix's `URL`: send the readings in bulk to POST /api/v1/readings instead of a broker")
	fs.StringVar(&f.token, "token", os.Getenv("GALENIX_SIMULATE_TOKEN"), "machine `TOKEN` with the telemetry scope, for --http (env GALENIX_SIMULATE_TOKEN)")
	fs.StringVar(&f.data, "data", "", "data `directory` of a galenix SQLite database whose sensors to simulate")
	fs.StringVar(&f.dsn, "db", "", "PostgreSQL `DSN` of a galenix database whose sensors to simulate")
	fs.IntVar(&f.sensors, "sensors", 0, "`N` sensors: the database's first N, completed by synthesized ones (SIM-R0001-T1...); 0: the database's, or 2000 without one")
	fs.Float64Var(&f.rate, "rate", 6, "readings a minute from each sensor, 0.1 to 600")
	fs.DurationVar(&f.duration, "duration", 0, "how long to run; 0: until interrupted")
	fs.Uint64Var(&f.seed, "seed", 1, "the model's seed: the same seed, the same readings")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		fmt.Fprintln(stderr, "galenix simulate sensors:", err)
		return usageError{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logger(stderr)
	step := time.Duration(float64(time.Minute) / f.rate)
	now := time.Now().UTC().Truncate(step)

	k, err := f.known(ctx)
	if err != nil {
		return err
	}
	want := f.sensors
	if want == 0 && f.data == "" && f.dsn == "" {
		want = 2000
	}
	m, base := simulate.Site(k.Specs, k.Base, want, f.seed, now, step)
	if len(m.Specs) == 0 {
		return errors.New("no sensor to simulate: the database has none; say how many with --sensors")
	}
	m.InOperation = k.Operation()
	specs := m.Specs

	var s simulate.Sender
	if f.http != "" {
		if s, err = simulate.NewHTTP(f.http, f.token); err != nil {
			fmt.Fprintln(stderr, "galenix simulate sensors:", err)
			return usageError{err}
		}
		log.Info("simulating sensors", "sensors", len(specs), "every", step, "to", f.http)
	} else {
		if s, err = simulate.DialMQTT(ctx, f.broker, 10*time.Second, log); err != nil {
			return err
		}
		log.Info("simulating sensors", "sensors", len(specs), "every", step, "to", f.broker)
	}
	defer s.Close()
	return simulate.Run(ctx, m, base, s, f.duration, log)
}

// check refuses flags that do not go together, saying why.
func (f *simulateFlags) check() error {
	switch {
	case f.broker == "" && f.http == "":
		return errors.New("say where to send the readings: --broker tcp://HOST:1883, or --http URL --token TOKEN")
	case f.broker != "" && f.http != "":
		return errors.New("--broker and --http both given: the readings go to one of them")
	case f.http != "" && f.token == "":
		return errors.New("--http needs --token: a machine token with the telemetry scope")
	case f.data != "" && f.dsn != "":
		return errors.New("--data and --db both given: the sensors are read from one database")
	case f.sensors < 0 || f.sensors > 100000:
		return errors.New("--sensors: from 1 to 100000 (0: the database's)")
	case !(f.rate >= 0.1 && f.rate <= 600):
		return errors.New("--rate: from 0.1 to 600 readings a minute from each sensor")
	case f.duration < 0:
		return errors.New("--duration cannot be negative")
	}
	if f.broker != "" {
		u, err := url.Parse(f.broker)
		if err != nil || u.Host == "" || !slices.Contains([]string{"tcp", "mqtt", "tls", "ssl", "mqtts", "ws", "wss"}, u.Scheme) {
			return fmt.Errorf("--broker %q: give the broker's URL, as tcp://127.0.0.1:1883", f.broker)
		}
	}
	return nil
}

// known reads the sensors of the database given, if any.
func (f *simulateFlags) known(ctx context.Context) (*simulate.Known, error) {
	if f.data == "" && f.dsn == "" {
		return &simulate.Known{}, nil
	}
	if f.data != "" {
		if _, err := os.Stat(f.data); err != nil {
			return nil, fmt.Errorf("--data %s: %w", f.data, err)
		}
	}
	db, err := store.Open(ctx, store.Config{DataDir: f.data, DSN: f.dsn})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return simulate.FromStore(ctx, db, f.sensors)
}

// checkSimulate checks serve's --simulate: simulated readings go into the
// demo's database only, never a site's.
func checkSimulate(broker string, demo bool) error {
	if broker == "" {
		return nil
	}
	if !demo {
		return errors.New("--simulate needs --demo: simulated readings never go into a site's own records")
	}
	f := simulateFlags{broker: broker, rate: 6}
	return f.check()
}

// intakeBroker is the broker serve subscribes to: --mqtt's, or without
// it the one the demo's simulator publishes to, so that its readings
// arrive.
func intakeBroker(mqtt, simulate string) string {
	if mqtt != "" {
		return mqtt
	}
	return simulate
}

// simulateDemo publishes the demo's sensors' readings, one every ten
// seconds each, until ctx is done; a failure is logged, the server runs on.
func simulateDemo(ctx context.Context, db *store.DB, broker string, log *slog.Logger) {
	if ok, err := demoDatabase(ctx, db); err != nil || !ok {
		log.Error("no sensor simulation: the database holds a site of its own, not the demo", "err", err)
		return
	}
	log.Info("simulating the demo's sensors", "broker", broker)
	if err := simulate.Serve(ctx, db, broker, 10*time.Second, log); err != nil && ctx.Err() == nil {
		log.Error("the sensor simulator stopped", "err", err)
	}
}

// demoDatabase reports whether the database holds the demo: its first
// audit entry is the demo's load ("serve --demo" on a site's own database
// loads nothing, and the simulator must not feed that site's records).
func demoDatabase(ctx context.Context, db *store.DB) (bool, error) {
	es, err := db.Audit().Entries(identity.WithActor(ctx, identity.System), audit.Filter{Limit: 1})
	if err != nil || len(es) == 0 {
		return false, err
	}
	return es[0].Command == "demo.load", nil
}
