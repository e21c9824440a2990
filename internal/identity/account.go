package identity

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
)

// Account is a local sign-in account.
type Account struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Roles     []Role    `json:"roles"`
	ClientID  string    `json:"client_id,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

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
	for _, r := range a.Roles {
		if !r.Valid() {
			return errs.Field("roles", "Unknown role \""+string(r)+"\".", "Rôle inconnu « "+string(r)+" ».")
		}
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
