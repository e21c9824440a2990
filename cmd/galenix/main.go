// Command galenix is the operations information system of a pharmaceutical
// production site: web UI, JSON API, command line and background work in one
// binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"galenix/internal/app"
	"galenix/internal/audit"
	"galenix/internal/keyworker"
	"galenix/internal/store"
	"galenix/internal/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `galenix — the operations information system of a pharmaceutical production site.

Usage:
  galenix <command> [flags]

Commands:
  serve     run the web UI, the JSON API and the background work
  migrate   apply pending database migrations, then exit
  audit     audit trail: "audit verify" checks the hash chain, the signed checkpoints
            and every signature, and names the first entry that does not hold
  backup    back the database up while galenix serves it (SQLite: an online copy
            with its manifest; PostgreSQL: pgBackRest); "backup drill" tests a
            restore under load and records it as a GMP event
  restore   restore a backup into a fresh place (PostgreSQL: to a point in time)
  cert      make a self-signed TLS certificate and key for a first install
  totp      "totp reset-lost": after the key of second-factor secrets is lost,
            remove the second factors it sealed (audited)
  documents "documents rotate-key": wrap every client's key again under a new
            master key of documents (audited)
  register  "register verify-copy": check the controlled-substance register's copy
            on its second medium against the database
  infra     the site's IT and OT infrastructure: "infra export" and "infra import" its
            inventory as CSV, "infra spof" its single points of failure
  simulate  "simulate sensors": publish realistic readings of environmental sensors
            through an MQTT broker, or in bulk over HTTP (demo and load tests)
  version   print the version
  help      show this help, or a command's help: galenix help <command>

Every command takes --help. Flags also read GALENIX_* environment variables
(a flag given on the command line wins).
`

func main() {
	// Started as an argon2id worker (internal/keyworker), the program
	// serves keys and exits here.
	keyworker.ServeIfWorker()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = serve(rest, stderr)
	case "migrate":
		err = migrate(rest, stderr)
	case "audit":
		err = auditCmd(rest, stdout, stderr)
	case "backup":
		err = backupCmd(rest, stdout, stderr)
	case "restore":
		err = restoreCmd(rest, stdout, stderr)
	case "cert":
		err = cert(rest, stdout, stderr)
	case "totp":
		err = totpCmd(rest, stdout, stderr)
	case "documents":
		err = documentsCmd(rest, stdout, stderr)
	case "simulate":
		err = simulateCmd(rest, stdout, stderr)
	case "register":
		err = registerCmd(rest, stdout, stderr)
	case "infra":
		err = infraCmd(rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "galenix", versionString())
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "galenix: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		if err != errSilent {
			fmt.Fprintln(stderr, "galenix:", err)
		}
		return 1
	}
	return 0
}

// usageError marks a command line that could not be parsed; the flag
// package has already explained it.
type usageError struct{ error }

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// dbFlags are the flags that say which database to use.
type dbFlags struct {
	data string
	dsn  string
	// key is the site's audit signing key; empty means the data directory's.
	key string
}

// keyPath is where the site's audit signing key is.
func (d *dbFlags) keyPath() string {
	if d.key != "" {
		return d.key
	}
	return filepath.Join(d.data, audit.KeyFile)
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", envOr("GALENIX_DATA", "./galenix-data"), "data `directory`: the SQLite database and the site's keys (env GALENIX_DATA)")
	fs.StringVar(&d.dsn, "db", os.Getenv("GALENIX_DB"), "PostgreSQL `DSN` (postgres://...); when empty, SQLite in the data directory (env GALENIX_DB)")
	fs.StringVar(&d.key, "audit-key", os.Getenv("GALENIX_AUDIT_KEY"), "the site's Ed25519 audit signing key (PEM `file`); default: "+audit.KeyFile+" in the data directory, made at first start (env GALENIX_AUDIT_KEY)")
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: galenix %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "galenix %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return usageError{errors.New("unexpected argument")}
	}
	return nil
}

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func serve(args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", "Runs the web UI, the JSON API and the background work until SIGINT or SIGTERM;\nthen lets in-flight requests finish and closes the database cleanly.", stderr)
	var db dbFlags
	db.register(fs)
	addr := fs.String("addr", envOr("GALENIX_ADDR", "127.0.0.1:8080"), "`HOST:PORT` to listen on (env GALENIX_ADDR)")
	demo := fs.Bool("demo", os.Getenv("GALENIX_DEMO") == "1" || os.Getenv("GALENIX_DEMO") == "true",
		"on an empty database, load the demo site and its demo accounts; on a non-empty one, do nothing (env GALENIX_DEMO=1)")
	requestTimeout := fs.Duration("request-timeout", envDuration("GALENIX_REQUEST_TIMEOUT", 15*time.Second),
		"bound on each request (live streams excepted): past it the request answers 503 rather than hang on a frozen database (env GALENIX_REQUEST_TIMEOUT)")
	maxActive := fs.Int("max-active", envInt("GALENIX_MAX_ACTIVE", 0),
		"requests served at once; more wait in line, the shop floor's writes and tablets first, and past the line's bound answer 503 at once; 0: four per core, at least 8; -1: no bound (env GALENIX_MAX_ACTIVE)")
	readWait := fs.Duration("read-wait", envDuration("GALENIX_READ_WAIT", 250*time.Millisecond),
		"at capacity, the longest a read waits for its turn before it answers 503 (env GALENIX_READ_WAIT)")
	drain := fs.Duration("drain-timeout", envDuration("GALENIX_DRAIN_TIMEOUT", 5*time.Second),
		"on SIGTERM, how long /readyz answers 503 while requests are still served, so that the balancer moves traffic away first; 0: no drain (env GALENIX_DRAIN_TIMEOUT)")
	simulateBroker := fs.String("simulate", os.Getenv("GALENIX_SIMULATE"),
		"with --demo: publish simulated readings of the demo's sensors through the MQTT broker at this `URL`, as tcp://127.0.0.1:1883, which galenix subscribes to unless --mqtt names another (env GALENIX_SIMULATE)")
	totpKey := totpKeyFlag(fs)
	documentKey := fs.String("document-key", os.Getenv("GALENIX_DOCUMENT_KEY"),
		"the site's master key of documents (`file`), which wraps each client's key; default: "+store.MasterKeyFile+
			" in the data directory, made at first start; every node of a site holds the same; never in the database nor its backups (env GALENIX_DOCUMENT_KEY)")
	var tlsf tlsFlags
	tlsf.register(fs)
	var ldapf ldapFlags
	ldapf.register(fs)
	var opsf opsFlags
	opsf.register(fs)
	var mqttf mqttFlags
	mqttf.register(fs)
	var alarmf alarmFlags
	alarmf.register(fs)
	var readingsf readingsFlags
	readingsf.register(fs)
	var mailf mailFlags
	mailf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	alarmSecret, err := alarmf.secret()
	if err != nil {
		return err
	}
	if err := readingsf.check(); err != nil {
		return err
	}
	relay, alarmTo, err := mailf.config()
	if err != nil {
		return err
	}
	log, err := opsf.logger(stderr)
	if err != nil {
		return usageError{err}
	}
	if err := checkSimulate(*simulateBroker, *demo); err != nil {
		fmt.Fprintln(stderr, "galenix serve:", err)
		return usageError{err}
	}
	proxies, err := opsf.proxies()
	if err != nil {
		return usageError{err}
	}
	if *drain == 0 {
		*drain = -1
	}
	ldapCfg, err := ldapf.config()
	if err != nil {
		return err
	}
	mqttf.url = intakeBroker(mqttf.url, *simulateBroker)
	mqttCfg, err := mqttf.config()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := app.New(app.Config{Addr: *addr, DataDir: db.data, DSN: db.dsn, Demo: *demo,
		TLSCert: tlsf.cert, TLSKey: tlsf.key, LDAP: ldapCfg, AuditKey: db.keyPath(), TOTPKey: *totpKey, DocumentKey: *documentKey,
		RequestTimeout: *requestTimeout, DrainTimeout: *drain, TrustedProxies: proxies,
		Admission: web.AdmissionLimits{Active: *maxActive, ReadWait: *readWait}, MQTT: mqttCfg,
		AlarmAckWithin: alarmf.ackWithin, AlarmWebhookURL: alarmf.webhook, AlarmWebhookSecret: alarmSecret,
		ReadingsCompactAfter: readingsf.compactAfter, ReadingsRetention: readingsf.retention, RegisterCopy: readingsf.registerCopy,
		SMTP: relay, AlarmMailTo: alarmTo, PublicURL: mailf.publicURL}, log)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	if *simulateBroker != "" {
		go simulateDemo(ctx, m.DB, *simulateBroker, log)
	}
	return m.Run(ctx)
}

func migrate(args []string, stderr io.Writer) error {
	fs := newFlagSet("migrate", "Applies the pending database migrations, each in one transaction, then exits.\n(serve applies them too, at start.)", stderr)
	var dbf dbFlags
	dbf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log := logger(stderr)
	db, err := store.Open(context.Background(), store.Config{DSN: dbf.dsn, DataDir: dbf.data, Logger: log})
	if err != nil {
		return err
	}
	log.Info("database up to date", "database", db.Describe())
	return db.Close()
}
