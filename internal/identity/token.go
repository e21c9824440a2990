package identity

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// TokenScope names what a machine (a sensor gateway, a badge reader) signed
// in with an API token may do. A token holds a few narrow scopes and no role:
// the web layer lets it reach only the routes its scopes name.
type TokenScope string

// The scopes of machine tokens.
const (
	// ScopeSiteRead: read the site model (buildings, rooms, lines,
	// equipment), to know where the sensors and readers stand.
	ScopeSiteRead TokenScope = "site:read"
	// ScopeTelemetryWrite: send sensor readings (the telemetry intake).
	ScopeTelemetryWrite TokenScope = "telemetry:write"
	// ScopeAccessWrite: send badge events (the access-control intake).
	ScopeAccessWrite TokenScope = "access:write"
)

// TokenScopes lists every scope, in display order.
var TokenScopes = []TokenScope{ScopeSiteRead, ScopeTelemetryWrite, ScopeAccessWrite}

// Valid reports whether s is a known scope.
func (s TokenScope) Valid() bool { return slices.Contains(TokenScopes, s) }

// Token is a machine (API) token as administrators see it: never its
// secret, which is shown once at creation and only its SHA-256 kept.
type Token struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Scopes []TokenScope `json:"scopes"`
	// CreatedBy is the id of the account that created the token, and
	// CreatedByName its printed name.
	CreatedBy     string    `json:"created_by"`
	CreatedByName string    `json:"created_by_name,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt, when set, is when an administrator withdrew it.
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Validate checks a new token's fields at the time now: a name, at least
// one known scope (each once), and an expiry, if any, in the future.
func (t *Token) Validate(now time.Time) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || utf8.RuneCountInString(t.Name) > 120 {
		return errs.Field("name", "identity.name_1_120_characters")
	}
	if len(t.Scopes) == 0 {
		return errs.Field("scopes", "identity.token_needs_least_scope")
	}
	for i, s := range t.Scopes {
		if !s.Valid() {
			return errs.Field("scopes", "identity.unknown_scope", string(s))
		}
		if slices.Contains(t.Scopes[:i], s) {
			return errs.Field("scopes", "identity.scope_named_twice", string(s))
		}
	}
	if !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now) {
		return errs.Field("expires_at", "identity.expiry_must_future")
	}
	if !t.ExpiresAt.IsZero() {
		if err := bounds.Time("expires_at", t.ExpiresAt); err != nil {
			return err
		}
	}
	return nil
}

// Live reports whether the token works at the time now: not revoked and
// not expired.
func (t *Token) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// ScopesText writes the scopes the way they are stored and audited.
func ScopesText(scopes []TokenScope) string {
	s := make([]string, len(scopes))
	for i, v := range scopes {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// ParseScopes reads scopes written by ScopesText.
func ParseScopes(s string) []TokenScope {
	var out []TokenScope
	for _, v := range strings.Split(s, ",") {
		if v != "" {
			out = append(out, TokenScope(v))
		}
	}
	return out
}

// AuditFields lists the token's fields for the audit trail: never its
// secret nor its hash.
func (t *Token) AuditFields() []audit.Field {
	return []audit.Field{audit.F("name", t.Name), audit.F("scopes", ScopesText(t.Scopes)),
		audit.F("expires_at", auditTime(t.ExpiresAt)), audit.F("revoked_at", auditTime(t.RevokedAt))}
}

// auditTime writes a time for the audit trail, UTC, empty when unset.
func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// MachineActor is the actor of a machine signed in with the token: no role,
// only the token's scopes.
func (t *Token) MachineActor() Actor {
	scopes := make([]string, len(t.Scopes))
	for i, s := range t.Scopes {
		scopes[i] = string(s)
	}
	return Actor{UserID: "token:" + t.ID, Username: t.Name, Name: t.Name, Scopes: scopes}
}

// HasScope reports whether a machine actor holds the scope.
func (a Actor) HasScope(s TokenScope) bool { return slices.Contains(a.Scopes, string(s)) }
