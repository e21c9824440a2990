// Package app wires galenix together in one place: configuration, the
// database, the services and the HTTP server, with a clean start and a
// graceful stop.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"galenix/docs"
	"galenix/internal/audit"
	"galenix/internal/demo"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/keyworker"
	"galenix/internal/ldap"
	"galenix/internal/mail"
	"galenix/internal/outbox"
	"galenix/internal/store"
	"galenix/internal/web"
)

// Config is galenix's configuration, read from flags and GALENIX_*
// environment variables by the command line.
type Config struct {
	// Addr is the HOST:PORT the server listens on.
	Addr string
	// DataDir holds the SQLite database and the site's keys.
	DataDir string
	// DSN is a postgres:// URL; when empty, SQLite in DataDir is used.
	DSN string
	// Demo loads the demo site into an empty database.
	Demo bool
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish once a stop is asked.
	ShutdownTimeout time.Duration
	// TLSCert and TLSKey are PEM files: when set, the server answers
	// HTTPS only (TLS 1.2 or later), and cookies are Secure.
	TLSCert string
	TLSKey  string
	// LDAP, when its URL is set, signs people in against the site's
	// Active Directory or LDAP directory.
	LDAP ldap.Config
	// AuditKey is the PEM file of the site's Ed25519 key that signs the
	// audit trail's checkpoints; made at first start when missing. Empty
	// means audit-signing-key.pem in DataDir.
	AuditKey string
	// TOTPKey is the file of the key that encrypts the second-factor
	// secrets in the database (store.SecretKeyFile); made (mode 0600) at
	// first start when missing. Empty means totp-secret.key in DataDir.
	// Every node of a site holds the same file.
	TOTPKey string
	// DocumentKey is the file of the site's master key of documents
	// (store.MasterKeyFile), which wraps each client's key; made (mode
	// 0600) at first start when missing. Empty means document-master.key
	// in DataDir. Every node of a site holds the same file; it is never in
	// the database nor in its backups.
	DocumentKey string
	// CheckpointEvery is how often the head of the audit chain is signed.
	CheckpointEvery time.Duration
	// RequestTimeout bounds each request (live streams excepted): past it
	// the request answers 503 instead of hanging on a frozen database.
	// 0 means 15 s.
	RequestTimeout time.Duration
	// Admission bounds the requests served at once and the lines of those
	// waiting, the shop floor's first; zero fields take their defaults.
	Admission web.AdmissionLimits
	// TrustedProxies are the balancers whose X-Forwarded-For gives the
	// client's address.
	TrustedProxies []netip.Prefix
	// DrainTimeout is how long a stopping node keeps serving with /readyz
	// at 503, so that the balancer moves traffic away before connections
	// close. 0 means 5 s; a negative value, no drain.
	DrainTimeout time.Duration
	// MQTT, when its URL is set, subscribes this node to the sensors'
	// readings on the site's broker (shared with the other nodes).
	MQTT ingest.MQTTConfig
	// Alarms: how long an environmental alarm may stay unacknowledged
	// before it is escalated (0: never), and the webhook told of each
	// escalation (none when the URL is empty), its bodies signed with
	// HMAC-SHA256 under the secret.
	AlarmAckWithin     time.Duration
	AlarmWebhookURL    string
	AlarmWebhookSecret []byte
	// SMTP is the site's relay, when its address is set; AlarmMailTo
	// are the addresses an escalated alarm is e-mailed to, PublicURL the
	// address people reach galenix at, for the links in e-mails.
	SMTP        mail.Relay
	AlarmMailTo []string
	PublicURL   string
	// ReadingsCompactAfter is how long after their reception raw
	// readings are compacted into blocks (0: never).
	ReadingsCompactAfter time.Duration
	// ReadingsRetention is how long compacted readings are kept (0: for
	// ever; else at least environment.MinRetention).
	ReadingsRetention time.Duration
	// RegisterCopy is the directory, on another disk than the
	// database's, where the controlled-substance register is copied as
	// it is written (R.5132-36: two separate media); "" means
	// "register-copy" in DataDir.
	RegisterCopy string
}

// registerCopyDir is where the register is copied.
func (c *Config) registerCopyDir() string {
	if c.RegisterCopy != "" {
		return c.RegisterCopy
	}
	return filepath.Join(c.DataDir, "register-copy")
}

// Main is a running galenix: its database and its HTTP server. The
// end-to-end tests start and stop it exactly as the binary does.
type Main struct {
	Config Config
	Log    *slog.Logger

	DB     *store.DB
	Web    *web.Server
	ln     net.Listener
	server *http.Server
	// siteKey holds the key that signs the audit trail's checkpoints.
	siteKey *siteKeyHolder
	// leading: this node holds the lead and runs the once-only work.
	leading atomic.Bool
	// infraRound is held while a round of the infrastructure's checks runs
	// (infra.go).
	infraRound sync.Mutex
	// tls: the server answers HTTPS. (The server's own TLSConfig says
	// nothing: serving plain HTTP fills it in for HTTP/2.)
	tls bool
	// keys: the argon2id worker processes, nil if keys are computed in
	// the process.
	keys *keyworker.Pool
	// outbox delivers what the commands did to the subscribers after
	// their commit (subscribe, in outbox.go).
	outbox *outbox.Dispatcher
	// mqtt takes the sensors' readings in from the broker; nil when no
	// broker is configured.
	mqtt *ingest.MQTT
	// readings is the intake's pipeline (ingest.Pipeline).
	readings *ingest.Pipeline
}

// New returns a galenix not yet started.
func New(cfg Config, log *slog.Logger) *Main {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = time.Minute
	}
	if cfg.AuditKey == "" {
		cfg.AuditKey = filepath.Join(cfg.DataDir, audit.KeyFile)
	}
	if cfg.TOTPKey == "" {
		cfg.TOTPKey = filepath.Join(cfg.DataDir, store.SecretKeyFile)
	}
	if cfg.DocumentKey == "" {
		cfg.DocumentKey = filepath.Join(cfg.DataDir, store.MasterKeyFile)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	return &Main{Config: cfg, Log: log}
}

// baseProcs is the runtime's own GOMAXPROCS, read once at start: the cores
// the process may use (a container's CPU limit included).
var baseProcs = runtime.GOMAXPROCS(0)

// serveProcs gives a serving process one scheduler thread more than its
// cores, unless GOMAXPROCS is set. With one per core, a request the
// network wakes waits for a core that Go's scheduler hands over only when
// the goroutine on it blocks or has run 10 ms; with one more, the kernel's
// scheduler, whose slices are shorter and which runs a thread that just
// woke soon, interleaves it. Measured on two busy cores past capacity
// (bench/ebr, SQLite, at 1,088 requests/s): the shop floor's p99 fell from
// 40-70 ms to about 20 ms at the same throughput.
func serveProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(baseProcs + 1)
	}
}

// Open opens and migrates the database, loads the demo if asked, and
// starts listening. It does not serve yet: Run does.
func (m *Main) Open(ctx context.Context) error {
	// A configuration that cannot work is refused before any database work.
	tlsConfig, err := m.tlsConfig()
	if err != nil {
		return err
	}
	if m.Config.MQTT.URL != "" {
		if _, err := ingest.BrokerURL(m.Config.MQTT.URL); err != nil {
			return err
		}
	}
	// Passwords are checked in worker processes at a lower priority, so
	// that a burst of signatures gives way to the requests under way. The
	// program serves keys when started as a worker (keyworker.ServeIfWorker
	// in main); the store's password checks compute every key with the
	// pool.
	var keys identity.KeyDeriver // nil, not a nil *Pool: in the process
	if pool, err := keyworker.Start(identity.HashSlots()); err != nil {
		m.Log.Warn("passwords are checked in the server's process", "err", err)
	} else {
		m.keys, keys = pool, pool
	}
	serveProcs()
	var dir *ldap.Directory
	if m.Config.LDAP.URL != "" {
		if dir, err = ldap.New(m.Config.LDAP, m.Log); err != nil {
			return err
		}
	}
	if m.Config.DataDir == "" && m.Config.TOTPKey == store.SecretKeyFile {
		return errors.New("a data directory is needed for the key of second-factor secrets, or name the key file (--totp-key)")
	}
	secretKey, madeKey, err := loadSecretKey(m.Config.TOTPKey)
	if err != nil {
		return err
	}
	if m.Config.DataDir == "" && m.Config.DocumentKey == store.MasterKeyFile {
		return errors.New("a data directory is needed for the master key of documents, or name the key file (--document-key)")
	}
	_, statErr := os.Stat(m.Config.DocumentKey)
	madeMaster := errors.Is(statErr, os.ErrNotExist)
	masterKey, err := store.LoadOrCreateMasterKey(m.Config.DocumentKey)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DSN: m.Config.DSN, DataDir: m.Config.DataDir, Logger: m.Log, Serve: true, Keys: keys,
		SecretKey: secretKey, MasterKey: masterKey})
	if err != nil {
		if madeKey {
			os.Remove(m.Config.TOTPKey) // never used: the next start decides again
		}
		return err
	}
	m.DB = db
	if err := checkSecretKey(ctx, db, m.Config.TOTPKey, madeKey); err != nil {
		return err
	}
	if err := checkMasterKey(ctx, db, m.Config.DocumentKey, madeMaster); err != nil {
		return err
	}
	wireQuality(db)
	if m.Config.DataDir == "" && m.Config.AuditKey == audit.KeyFile {
		return errors.New("a data directory is needed for the audit signing key, or name the key file")
	}
	key, err := siteKey(ctx, db, m.Config.AuditKey)
	if err != nil {
		return err
	}
	m.siteKey = newSiteKeyHolder(m.Config.AuditKey, key, m.Log)
	hashKey, err := db.RequestHashKey(ctx, key)
	if err != nil {
		return fmt.Errorf("the idempotency hash key: %w", err)
	}
	m.Log.Info("database open", "database", db.Describe())
	if m.Config.Demo {
		start := time.Now()
		loaded, err := demo.Load(ctx, db, func(stage string) {
			m.Log.Info("loading the demo site", "written", stage)
		})
		if err != nil {
			return fmt.Errorf("loading the demo site: %w", err)
		}
		if loaded {
			m.Log.Info("demo site loaded", "took", time.Since(start).Round(time.Millisecond))
		}
		m.Log.Info("demo mode: demo accounts exist (admin, operator, supervisor, qa, qp, lab, lab2, maintenance, security, it, client-alpha, client-beta, client-gamma)", "password", demo.Password)
		if p, err := db.Identity().SignInPolicy(ctx); err == nil && !p.AdminTOTP {
			m.Log.Info("demo mode: administrators sign in without a second factor (sign-in policy admin_totp=false); a real site requires one")
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "galenix"))
	if db.Dialect() == store.SQLite {
		// SQLite's single writing connection: its waits are the writers'.
		reg.MustRegister(collectors.NewDBStatsCollector(db.WriteSQL(), "galenix_write"))
	}
	reg.MustRegister(m.leaderMetrics()...)
	reg.MustRegister(newQualityMetrics(db.Release().Metrics, m.Log))
	// One pipeline takes the readings in, from the broker and from the
	// gateways' bulk requests: it commits them and evaluates their alarms.
	m.readings = ingest.NewPipeline(db.Environment(), m.Log)
	if m.Config.MQTT.URL != "" {
		if m.mqtt, err = ingest.NewMQTT(m.Config.MQTT, m.readings, m.Log); err != nil {
			return err
		}
		// The badge readers publish their events to the same broker.
		m.mqtt.WithAccess(db.Access())
		reg.MustRegister(m.mqtt.Collectors()...)
	}
	ids := db.Identity()
	if dir != nil {
		m.checkDirectory(ctx, dir)
		ids.Directory = dir
	}
	zone := siteZone(ctx, db, m.Log)
	// Every service the server uses is named here, none found by a type
	// assertion on another.
	m.Web = web.New(web.Deps{
		Site: db.Site(), Clients: db.Clients(), Identity: ids, Admin: ids.Admin(), Signatures: ids.Signatures(),
		Audit: db.Audit(), AuditBundles: db.Audit(), Drills: db, DB: db, EnvironmentViews: db.Environment(),
		Log: m.Log, Registry: reg, OpenAPI: docs.OpenAPI, Secure: tlsConfig != nil, AuditKey: m.siteKey.get, RequestHashKey: hashKey,
		Production: db.Production(), Release: db.Release(), Lab: db.Lab(), Deviations: db.Deviations(), Agreements: db.Agreements(), Qualifications: db.Qualifications(), Access: db.Access(), Controlled: db.Controlled(), Infra: db.Infra(), RegisterCopyDir: m.Config.registerCopyDir(), Documents: db.Documents(), Projects: db.Projects(), Notices: db.Outbox(), Checks: m.readyChecks(), RequestTimeout: m.Config.RequestTimeout, Admission: m.Config.Admission,
		Idempotency:    db.Idempotency(),
		Environment:    db.Environment(),
		Readings:       m.readings,
		Zone:           zone,
		TrustedProxies: m.Config.TrustedProxies,
	})
	m.subscribe(zone)
	m.ln, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", m.Config.Addr, err)
	}
	if m.Config.Demo {
		// The demo's galenix node is this server: its supervision checks
		// it for real.
		if err := demo.SuperviseSelf(ctx, db, m.ln.Addr().String(), tlsConfig != nil); err != nil {
			m.Log.Warn("demo mode: the node's own supervision check", "err", err)
		}
	}
	m.tls = tlsConfig != nil
	m.server = &http.Server{
		Handler:           m.Web.Handler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	return nil
}

// siteKey loads the site's audit signing key and checks that it is the key
// that signed the database's latest checkpoint. A key is made only for a
// database that has no checkpoint yet: a node given no key, or another key,
// beside a signed trail would sign checkpoints that break it for good.
func siteKey(ctx context.Context, db *store.DB, path string) (ed25519.PrivateKey, error) {
	last, err := db.LastCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail's last checkpoint: %w", err)
	}
	key, err := audit.LoadKey(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && last == nil:
		return audit.CreateKey(path)
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("the audit trail of this database is signed with the site's key, and this node has none at %s: "+
			"copy the site's key file there (docs/operations.md, \"The site's audit key\") or name it with --audit-key; "+
			"a new key would break the trail", path)
	case err != nil:
		return nil, fmt.Errorf("the audit signing key: %w", err)
	}
	if last != nil && last.SignsNext(key.Public().(ed25519.PublicKey)) != nil {
		return nil, fmt.Errorf("the audit signing key %s is not the key that signed this database's audit trail last "+
			"(its last checkpoint, at entry %d, is signed by another key, or hands the signing over to another after a rotation): "+
			"give this node the site's key with --audit-key", path, last.Seq)
	}
	return key, nil
}

// loadSecretKey reads the key of the second-factor secrets, or makes it
// (mode 0600) when the file does not exist yet; made says it was made now.
func loadSecretKey(path string) (key []byte, made bool, err error) {
	key, err = store.LoadSecretKey(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = store.CreateSecretKey(path)
		made = err == nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("the key of second-factor secrets: %w", err)
	}
	return key, made, nil
}

// checkSecretKey refuses to serve with a key that does not open the
// database's second-factor secrets: nobody with a second factor could sign
// in. A key made at this start for such a database is removed again, so
// that the site's key can be copied in its place.
func checkSecretKey(ctx context.Context, db *store.DB, path string, made bool) error {
	sealed, err := db.SecretKeyState(ctx)
	if err == nil {
		return nil
	}
	if !sealed {
		return fmt.Errorf("reading the second-factor secrets: %w", err)
	}
	if made {
		os.Remove(path)
		return fmt.Errorf("the second-factor secrets of this database are encrypted with the site's key, and this node has none at %s: "+
			"copy the site's key file there (docs/operations.md, \"The key of second-factor secrets\") or name it with --totp-key", path)
	}
	return fmt.Errorf("the key of second-factor secrets %s does not open this database's secrets (another site's key, or a damaged file): "+
		"give this node the site's key with --totp-key: %w", path, err)
}

// readyChecks are what /readyz checks before a balancer sends work here.
func (m *Main) readyChecks() []web.ReadyCheck {
	return []web.ReadyCheck{
		{Name: "database", Check: m.DB.Ping},
		{Name: "writable", Check: m.DB.Writable},
		{Name: "migrations", Check: m.DB.SchemaCurrent},
		{Name: "audit_key", Check: func(ctx context.Context) error {
			// The site's key may have been rotated since this node
			// started: it then takes the new key from its key file, or
			// is not ready, for it would sign checkpoints the trail
			// refuses.
			_, err := m.siteKey.current(ctx, m.DB)
			return err
		}},
	}
}

// checkDirectory says in the log that directory sign-in is on, and whether
// the directory answers. One that cannot be reached at start is only a
// warning: it may come back, and local accounts still sign in.
func (m *Main) checkDirectory(ctx context.Context, d *ldap.Directory) {
	cfg := m.Config.LDAP
	m.Log.Info("LDAP sign-in on", "url", cfg.URL, "user_base", cfg.UserBase, "group_base", cfg.GroupBase,
		"starttls", cfg.StartTLS, "bind_dn", cfg.BindDN)
	if !d.Encrypted() {
		m.Log.Warn("LDAP without TLS: passwords cross the network in clear; use ldaps:// or --ldap-starttls")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := d.Check(cctx); err != nil {
		m.Log.Warn("LDAP directory not reachable at start; directory sign-in fails until it is", "error", err)
	}
}

// tlsConfig loads the certificate and its key, or returns nil when TLS is
// off.
func (m *Main) tlsConfig() (*tls.Config, error) {
	cert, key := m.Config.TLSCert, m.Config.TLSKey
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, errors.New("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: AEADSuites, Certificates: []tls.Certificate{pair}}, nil
}

// AEADSuites are the only TLS 1.2 cipher suites offered: ECDHE key
// exchange (forward secrecy) with an AEAD cipher. Go's defaults also keep
// two ECDHE suites in CBC mode (AES-CBC with HMAC-SHA1), which an outside
// test reported; they are left out. TLS 1.3 suites are not configurable
// and all AEAD.
var AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// URL is the address the server answers on.
func (m *Main) URL() string {
	if m.tls {
		return "https://" + m.ln.Addr().String()
	}
	return "http://" + m.ln.Addr().String()
}

// Run serves until ctx is done, then stops gracefully: it stops accepting,
// lets in-flight requests finish (up to ShutdownTimeout), and returns.
func (m *Main) Run(ctx context.Context) error {
	// The outbox's consumers start at its tail before the first request.
	if err := m.outbox.Start(identity.WithActor(context.Background(), identity.System)); err != nil {
		return fmt.Errorf("starting the outbox's dispatcher: %w", err)
	}
	defer m.outbox.Stop()
	if m.mqtt != nil {
		// Every node subscribes (the broker shares the readings among
		// them); on stop, the batch under way commits and the rest waits
		// at the broker, unacknowledged, for the next start.
		if err := m.mqtt.Start(); err != nil {
			return fmt.Errorf("starting the MQTT intake: %w", err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := m.mqtt.Stop(ctx); err != nil {
				m.Log.Warn("stopping the MQTT intake", "err", err)
			}
		}()
	}
	m.Log.Info("galenix listening", "url", m.URL())
	errc := make(chan error, 1)
	go func() {
		if m.tls {
			errc <- m.server.ServeTLS(m.ln, "", "")
			return
		}
		errc <- m.server.Serve(m.ln)
	}()
	leadDone := make(chan struct{})
	leadCtx, stopLeading := context.WithCancel(context.Background())
	go func() {
		defer close(leadDone)
		m.lead(leadCtx)
	}()
	defer func() {
		stopLeading()
		<-leadDone
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if d := m.Config.DrainTimeout; d > 0 {
		m.Log.Info("stopping: draining, /readyz answers 503 while requests are still served", "for", d)
		m.Web.Drain()
		select {
		case <-time.After(d):
		case err := <-errc:
			return err
		}
	}
	m.Log.Info("stopping: letting in-flight requests finish")
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	err := m.server.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Close closes the database cleanly.
func (m *Main) Close() error {
	if m.ln != nil && m.server == nil {
		m.ln.Close()
	}
	if m.keys != nil {
		// A check still under way finishes; any later one (the database
		// is closed next) is computed in the process.
		m.keys.Close()
	}
	if m.DB != nil {
		return m.DB.Close()
	}
	return nil
}

// checkMasterKey refuses to serve with a master key of documents that does
// not open the database's clients' keys: its uploads would wrap new
// clients' keys under another key than the site's. A key made at this
// start for such a database is removed again, so that the site's key can
// be copied in its place.
func checkMasterKey(ctx context.Context, db *store.DB, path string, made bool) error {
	wrapped, err := db.MasterKeyState(ctx)
	if err == nil {
		return nil
	}
	if !wrapped {
		return fmt.Errorf("reading the clients' keys of documents: %w", err)
	}
	if made {
		os.Remove(path)
		return fmt.Errorf("the documents of this database are encrypted under the site's master key, and this node has none at %s: "+
			"copy the site's key file there (docs/operations.md, \"The master key of documents\") or name it with --document-key", path)
	}
	return fmt.Errorf("the master key of documents %s does not open this database's clients' keys (another site's key, or a damaged file): "+
		"give this node the site's key with --document-key: %w", path, err)
}
