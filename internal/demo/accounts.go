package demo

import (
	"fmt"

	"galenix/internal/client"
	"galenix/internal/identity"
)

// clients are the three client laboratories of the demo.
var clients = []client.Client{
	{Code: "ALPHA", Name: "Laboratoires Alpha Pharma"},
	{Code: "BETA", Name: "Beta Biotech"},
	{Code: "GAMMA", Name: "Gamma Santé"},
}

// account is a demo account; client is the code of the client laboratory
// its user works for, if any.
type account struct {
	username, name string
	role           identity.Role
	client         string
}

// accounts are the demo accounts of CONTRACT.md, one per role.
var accounts = []account{
	{"admin", "Julien Moreau", identity.RoleAdmin, ""},
	{"operator", "Camille Lefèvre", identity.RoleOperator, ""},
	{"supervisor", "Karim Benali", identity.RoleSupervisor, ""},
	{"qa", "Isabelle Fontaine", identity.RoleQA, ""},
	{"qp", "Hélène Rousseau", identity.RoleQP, ""},
	{"lab", "Sébastien Nguyen", identity.RoleLab, ""},
	{"security", "Franck Dumont", identity.RoleSecurity, ""},
	{"client-alpha", "Sophie Marchand", identity.RoleClient, "ALPHA"},
	{"client-beta", "Thomas Weber", identity.RoleClient, "BETA"},
}

// clients writes the client laboratories.
func (l *loader) clients() error {
	for _, c := range clients {
		if err := l.tx.CreateClient(&c); err != nil {
			return fmt.Errorf("client %s: %w", c.Code, err)
		}
		if err := l.record(c.Code, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// accounts writes the demo accounts, all with the same password hash.
func (l *loader) accounts(hash string) error {
	for _, a := range accounts {
		rec := &identity.Account{Username: a.username, Name: a.name, Roles: []identity.Role{a.role}}
		if a.client != "" {
			var err error
			if rec.ClientID, err = l.id(a.client); err != nil {
				return err
			}
		}
		if err := l.tx.CreateAccount(rec, hash); err != nil {
			return fmt.Errorf("account %s: %w", a.username, err)
		}
	}
	return nil
}
