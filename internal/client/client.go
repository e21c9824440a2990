// Package client models the client laboratories, the tenants of galenix:
// every client-owned record belongs to exactly one of them.
package client

import (
	"context"
	"strings"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Client is a client laboratory.
type Client struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Validate checks a client's fields.
func (c *Client) Validate() error {
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	if c.Code == "" || utf8.RuneCountInString(c.Code) > 32 || strings.ContainsAny(c.Code, " \t") {
		return errs.Field("code", "client.code_1_32_characters")
	}
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 120 {
		return errs.Field("name", "client.name_1_120_characters")
	}
	return nil
}

// MayCreate says whether the actor may record a client laboratory: galenix
// itself (the installation, the demo); no role does yet.
func MayCreate(a identity.Actor) error { return a.RequireSystem() }

// AuditFields lists the client's fields for the audit trail.
func (c *Client) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", c.Code), audit.F("name", c.Name)}
}

// Service reads the client laboratories, scoped to the actor: a client's
// user sees only their own laboratory.
type Service interface {
	Clients(ctx context.Context) ([]Client, error)
	Client(ctx context.Context, id string) (*Client, error)
}
