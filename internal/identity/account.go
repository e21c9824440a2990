package identity

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
)

// Account is a local sign-in account.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Roles    []Role `json:"roles"`
	ClientID string `json:"client_id,omitempty"`
	Active   bool   `json:"active"`
	// Source is where the account signs in: "local" (a password kept
	// here) or "ldap" (the site's directory).
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	// Version counts the account's changes (name, roles, active): an
	// update names the version it edited (If-Match) and applies only to it.
	Version int `json:"version"`
}

// VersionRef returns the address of the account's version.
func (a *Account) VersionRef() *int { return &a.Version }

// Actor returns the actor that acts for this account.
func (a *Account) Actor() Actor {
	return Actor{UserID: a.ID, Username: a.Username, Name: a.Name, Roles: a.Roles, ClientID: a.ClientID}
}

// Validate checks an account's fields.
func (a *Account) Validate() error {
	a.Username = strings.TrimSpace(a.Username)
	a.Name = strings.TrimSpace(a.Name)
	if a.Username == "" || utf8.RuneCountInString(a.Username) > 64 {
		return errs.Field("username", "identity.username_1_64_characters")
	}
	if a.Name == "" {
		return errs.Field("name", "identity.person_printed_name_required")
	}
	if len(a.Roles) == 0 {
		return errs.Field("roles", "identity.account_needs_least_role")
	}
	clientRoles := 0
	for _, r := range a.Roles {
		if !r.Valid() {
			return errs.Field("roles", "identity.unknown_role", string(r))
		}
		if r.Client() {
			clientRoles++
		}
	}
	switch {
	case clientRoles > 0 && clientRoles < len(a.Roles):
		return errs.Field("roles", "identity.client_laboratory_account_cannot")
	case clientRoles > 0 && a.ClientID == "":
		return errs.Field("client_id", "identity.client_user_account_must")
	case clientRoles == 0 && a.ClientID != "":
		return errs.Field("client_id", "identity.only_client_laboratory_account")
	}
	return nil
}

// Session is a signed-in session; only the SHA-256 of its token is stored.
type Session struct {
	ID        string
	AccountID string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}
