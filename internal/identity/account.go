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
		return errs.Field("username", "A username of 1 to 64 characters is required.", "Un identifiant de 1 à 64 caractères est requis.")
	}
	if a.Name == "" {
		return errs.Field("name", "The person's printed name is required.", "Le nom de la personne est requis.")
	}
	if len(a.Roles) == 0 {
		return errs.Field("roles", "An account needs at least one role.", "Un compte doit avoir au moins un rôle.")
	}
	clientRoles := 0
	for _, r := range a.Roles {
		if !r.Valid() {
			return errs.Field("roles", "Unknown role \""+string(r)+"\".", "Rôle inconnu « "+string(r)+" ».")
		}
		if r.Client() {
			clientRoles++
		}
	}
	switch {
	case clientRoles > 0 && clientRoles < len(a.Roles):
		return errs.Field("roles", "A client laboratory's account cannot also hold a site staff role.",
			"Un compte de laboratoire client ne peut pas avoir aussi un rôle du personnel du site.")
	case clientRoles > 0 && a.ClientID == "":
		return errs.Field("client_id", "A client user's account must name its client laboratory.",
			"Le compte d'un utilisateur client doit indiquer son laboratoire client.")
	case clientRoles == 0 && a.ClientID != "":
		return errs.Field("client_id", "Only a client laboratory's account belongs to a client; staff are assigned to clients instead.",
			"Seul un compte de laboratoire client appartient à un client ; le personnel est affecté aux clients.")
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
