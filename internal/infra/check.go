package infra

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// EntityCheck is the audit trail's name of a supervision check.
const EntityCheck = "infra_check"

// CheckKind is how a check asks an asset whether it is up, without ping
// (no raw sockets): a TCP connection, an HTTP request, a TLS handshake
// that also reads the certificate's end.
type CheckKind string

// The kinds of check.
const (
	CheckTCP  CheckKind = "tcp"
	CheckHTTP CheckKind = "http"
	CheckTLS  CheckKind = "tls"
)

// CheckKinds lists the kinds of check.
var CheckKinds = []CheckKind{CheckTCP, CheckHTTP, CheckTLS}

// Check is one supervision check of an asset, run by the leading node
// every Every seconds.
type Check struct {
	ID      string    `json:"id"`
	Version int       `json:"version,omitempty"`
	AssetID string    `json:"asset_id"`
	Asset   string    `json:"asset,omitempty"`
	Kind    CheckKind `json:"kind"`
	// Target is host:port (tcp, tls) or an http(s) URL.
	Target string `json:"target"`
	Every  int    `json:"every_seconds"`
	// WarnDays: a TLS certificate ending within so many days is degraded.
	WarnDays int `json:"warn_days,omitempty"`
	// State, Since, LastAt and Detail are its last result (read only).
	State  State      `json:"state"`
	Since  *time.Time `json:"since,omitempty"`
	LastAt *time.Time `json:"last_at,omitempty"`
	Detail text.Coded `json:"-"`
}

// VersionRef gives the check's version (site.Versioned).
func (c *Check) VersionRef() *int { return &c.Version }

// DefaultEvery is a check's interval when none is given.
const DefaultEvery = 30

// Validate checks a check's fields.
func (c *Check) Validate() error {
	c.Target = strings.TrimSpace(c.Target)
	if c.AssetID == "" {
		return errs.Field("asset_id", "infra.check_asset")
	}
	if !slices.Contains(CheckKinds, c.Kind) {
		return errs.Field("kind", "infra.check_kind", string(c.Kind))
	}
	switch c.Kind {
	case CheckHTTP:
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(c.Target) > 500 {
			return errs.Field("target", "infra.check_url")
		}
	default:
		host, port, err := net.SplitHostPort(c.Target)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 || !Address(host) {
			return errs.Field("target", "infra.check_hostport")
		}
	}
	if c.Every == 0 {
		c.Every = DefaultEvery
	}
	if c.Every < 5 || c.Every > 3600 {
		return errs.Field("every_seconds", "infra.check_every")
	}
	if c.Kind != CheckTLS {
		c.WarnDays = 0
	} else if c.WarnDays == 0 {
		c.WarnDays = 21
	}
	if c.WarnDays < 0 || c.WarnDays > 365 {
		return errs.Field("warn_days", "infra.check_warn")
	}
	return nil
}

// Timeout is how long one run of the check waits: a third of its
// interval, at most 5 s.
func (c *Check) Timeout() time.Duration {
	return min(time.Duration(c.Every)*time.Second/3, 5*time.Second)
}

// Due reports whether the check is to run at now.
func (c *Check) Due(now time.Time) bool {
	return c.LastAt == nil || !now.Before(c.LastAt.Add(time.Duration(c.Every)*time.Second))
}

// AuditFields lists the check's settings for the audit trail (its results
// are its events').
func (c *Check) AuditFields() []audit.Field {
	return []audit.Field{audit.F("asset_id", c.AssetID), audit.F("kind", string(c.Kind)), audit.F("check_target", c.Target),
		audit.F("every_seconds", strconv.Itoa(c.Every)), audit.F("warn_days", strconv.Itoa(c.WarnDays))}
}

// Result is what one run of a check found.
type Result struct {
	State  State
	Detail text.Coded
}

// Event is a change of a check's state: the asset went down, came back,
// or its certificate nears its end.
type Event struct {
	ID      string     `json:"id"`
	At      time.Time  `json:"at"`
	CheckID string     `json:"check_id"`
	AssetID string     `json:"asset_id"`
	Asset   string     `json:"asset,omitempty"`
	From    State      `json:"from"`
	To      State      `json:"to"`
	Detail  text.Coded `json:"-"`
}

// AssetState is an asset's state from its checks' states: down if one is
// down, else degraded if one is, else up if one is, else unknown.
func AssetState(checks []State) State {
	worst := StateUnknown
	for _, s := range checks {
		if slices.Index(States, s) > slices.Index(States, worst) {
			worst = s
		}
	}
	return worst
}
