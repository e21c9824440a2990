// Package web is galenix's HTTP face: the JSON API under /api/v1, the
// server-rendered pages, health and metrics. Handlers parse the request,
// call one domain service method and render; rules live in the services.
package web

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"galenix/internal/document"
	"galenix/internal/project"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/ingest"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/quality"
	"galenix/internal/site"
)

// AuditReader reads the audit trail.
type AuditReader interface {
	Entries(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// Pinger says whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the services the web layer calls.
type Deps struct {
	Site     site.Service
	Clients  client.Service
	Identity identity.Service
	// Admin administers accounts, client assignments and machine tokens.
	Admin identity.Admin
	// Signatures signs records; nil: the signature routes answer an
	// internal error.
	Signatures esign.Service
	Audit      AuditReader
	// AuditBundles builds the proof bundles of the audit entries; nil: the
	// bundle export answers an internal error.
	AuditBundles AuditBundler
	// Production is the production context: products, masters, orders,
	// batches, the schedule and the electronic batch record.
	Production production.Service
	// Release is the disposition of batches: QA's review, the qualified
	// person's view and register, the certificates of analysis.
	Release quality.Release
	// Lab is the QC laboratory: specifications, samples, results, OOS
	// investigations; nil: its routes answer an internal error.
	Lab quality.Lab
	// Deviations is quality's deviations and CAPA; nil: their routes
	// answer an internal error.
	Deviations quality.DeviationService
	// Agreements is the clients' quality agreements and the obligations
	// they set; nil: their routes answer an internal error.
	Agreements quality.AgreementService
	// Qualifications is people's qualifications and training.
	Qualifications qualification.Service
	// Access is site access: zones, readers, their policy and events.
	Access access.Service
	// Controlled is the controlled-substance register; nil: its routes
	// answer an internal error. RegisterCopyDir is where its copy on a
	// second medium is written (the leading node's periodic work).
	Controlled      controlled.Service
	RegisterCopyDir string
	// Infra is the site's IT and OT infrastructure: assets, dependencies,
	// supervision; nil: its routes answer an internal error.
	Infra infra.Service
	// Notices reads the last events of the reader's clients, which the
	// client's space lists; nil: it lists none.
	Notices NoticeSource
	// Documents is a client's confidential documents and the end of its
	// contract; nil: their routes answer an internal error.
	Documents document.Service
	// Projects is the clients' partnership projects; nil: their routes
	// answer an internal error.
	Projects project.Service
	Zone     *time.Location // the site's time zone (app reads it from the site); nil: site.DefaultTimezone
	DB       Pinger
	Log      *slog.Logger
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry
	// Secure marks cookies Secure (when served over TLS).
	Secure bool
	// OpenAPI is the API description served at /api/v1/openapi.yaml.
	OpenAPI []byte
	// Checks are what /readyz checks; nil: only that the database answers.
	Checks []ReadyCheck
	// TrustedProxies are the balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RequestTimeout bounds each request (live streams excepted); 0: none.
	RequestTimeout time.Duration
	// Admission bounds the requests served at once and the lines of those
	// waiting (admission.go); zero fields take their defaults.
	Admission AdmissionLimits
	// AuditKey gives the site's Ed25519 key that signs the audit trail's
	// checkpoints, as the node holds it now (a rotation changes it while
	// the node runs): an audit bundle export signs one when none covers
	// the record's last entry yet.
	AuditKey func() ed25519.PrivateKey
	// RequestHashKey keys the hashes that recognize a request sent again
	// with its idempotency key (the store keeps it, wrapped under the
	// site's key); nil, a fixed key (tests): hashes still match across
	// nodes, but protect nothing.
	RequestHashKey []byte
	// Idempotency keeps the first answers of writes sent with a key; nil:
	// keys are ignored.
	Idempotency IdempotencyKeeper
	// Drills lists the restore drills of the site's backups; nil: their
	// list answers an internal error.
	Drills DrillReader
	// Environment is environmental monitoring: sensors, limits, readings,
	// alarms; nil: its routes answer an internal error.
	Environment EnvironmentService
	// Readings commits the readings of the bulk intake (and evaluates
	// their alarms); nil: the intake answers an internal error.
	Readings ingest.Sink
	// EnvironmentViews reads what the environmental monitoring pages and
	// the series API show; nil: their routes answer an internal error.
	EnvironmentViews EnvironmentViews
}

// required names the dependencies every server needs: their handlers call
// them without looking, so New refuses to build a server without them
// rather than one whose first request panics.
func (d Deps) required() error {
	var missing []string
	for _, dep := range []struct {
		name string
		nil  bool
	}{
		{"Site", d.Site == nil},
		{"Clients", d.Clients == nil},
		{"Identity", d.Identity == nil},
		{"Admin", d.Admin == nil},
		{"Audit", d.Audit == nil},
		{"Production", d.Production == nil},
		{"Release", d.Release == nil},
		{"DB", d.DB == nil},
	} {
		if dep.nil {
			missing = append(missing, dep.name)
		}
	}
	if missing != nil {
		return fmt.Errorf("web.New: missing dependencies %s", strings.Join(missing, ", "))
	}
	return nil
}

// Server holds the handlers and their dependencies.
type Server struct {
	Deps
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []Route
	metrics *httpMetrics
	pages   *pages
	// loginLimit bounds sign-in attempts per client address (ratelimit.go).
	loginLimit *rateLimiter
	// live wakes the live streams of batches after a production write,
	// through the API or a page (api_events.go).
	live *notifier
	// eventsPoll is how often a live stream reads the change mark.
	eventsPoll time.Duration
	// draining: the node is stopping; /readyz answers 503.
	draining atomic.Bool
	// admission bounds the requests served at once (admission.go).
	admission *admission
	// idemHashKey keys the hashes of requests sent with an idempotency
	// key (idempotency.go).
	idemHashKey []byte
}

// Route is one registered pattern, for documentation and tests.
type Route struct {
	Method string
	Path   string
	// Public routes need no signed-in actor.
	Public bool
}

// New builds the server and registers every route. It panics if a
// required dependency is missing (Deps.required): a wiring error, found
// at start, never by a request.
func New(d Deps) *Server {
	if err := d.required(); err != nil {
		panic(err)
	}
	s := &Server{Deps: d, log: d.Log, mux: http.NewServeMux(), live: newNotifier(), eventsPoll: eventsPoll}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = slog.New(LogHandler(s.log.Handler()))
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.idemHashKey = d.RequestHashKey
	if s.idemHashKey == nil {
		s.idemHashKey = []byte("galenix idempotency request hash, no site key")
	}
	s.metrics = newHTTPMetrics(s.Registry)
	s.admission = newAdmission(d.Admission, runtime.NumCPU(), s.Registry)
	s.pages = newPages(s.zone())
	s.routesAPI()
	s.routesAuth()
	s.routesAdmin()
	s.routesAuditExtras()
	s.routesSignatures()
	s.routesProduction()
	s.routesRelease()
	s.routesLab()
	s.routesPages()
	s.routesProductionPages()
	s.routesReleasePages()
	s.routesLabPages()
	s.routesDeviations()
	s.routesAgreements()
	s.routesQualifications()
	s.routesAccess()
	s.routesMusters()
	s.routesVisits()
	s.routesControlled()
	s.routesControlledPages()
	s.routesInfra()
	s.routesInfraPages()
	s.routesJournal()
	s.routesZonePages()
	s.routesPortal()
	s.routesDossier()
	s.routesDeviationPages()
	s.routesDocuments()
	s.routesProjects()
	s.routesProjectPages()
	s.routesDocumentPages()
	s.routesBackup()
	s.routesEquipmentWork()
	s.routesEnvironment()
	s.routesEnvironmentPages()
	s.routesAlarmPages()
	return s
}

// Routes lists the registered routes, sorted by path then method.
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Handler returns the whole HTTP handler: security headers, metrics,
// recovery, admission, the request's time bound, cross-origin write
// refusal, authentication and the router.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = s.cleanText(h)
	h = s.authenticate(h)
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOriginRefused))
	h = csrf.Handler(h)
	h = s.bounded(h)
	h = s.admit(h)
	h = s.recover(h)
	h = retryAfterOn503(h)
	h = s.observe(h)
	return securityHeaders(h)
}

// crossOriginRefused answers a write that a browser sent from another site:
// it is refused, whatever session cookie came with it (CSRF).
func (s *Server) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	err := errs.E(errs.Forbidden, "web.cross_origin_refused")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.apiError(w, r, err)
		return
	}
	s.pageError(w, r, err)
}

// handle registers a route. Routes that are not public refuse a request
// without a signed-in actor.
func (s *Server) handle(method, path string, public bool, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Public: public})
	pattern := method + " " + path
	var inner http.Handler = h
	if !public {
		if method != http.MethodGet {
			h = s.idempotent(h)
		}
		inner = s.requireActor(pattern, h)
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, pattern)
		inner.ServeHTTP(w, r)
	})
}
