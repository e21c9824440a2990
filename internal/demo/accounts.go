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
// its user works for, if any; assigned lists the clients a member of staff
// is assigned to (need to know).
type account struct {
	username, name string
	role           identity.Role
	client         string
	assigned       []string
}

// accounts are the demo accounts of CONTRACT.md, one per role, and a few
// more. Some staff are assigned to clients and some to none.
var accounts = []account{
	{"admin", "Julien Moreau", identity.RoleAdmin, "", nil},
	{"operator", "Camille Lefèvre", identity.RoleOperator, "", []string{"ALPHA"}},
	{"supervisor", "Karim Benali", identity.RoleSupervisor, "", []string{"ALPHA", "BETA"}},
	// The second team of the floor, for the clients the first is not
	// assigned to: the demo's batches of every client are performed and
	// verified by people assigned to it.
	{"operator2", "Mathieu Roux", identity.RoleOperator, "", []string{"BETA", "GAMMA"}},
	// An operator of Alpha's whose gowning lapsed: the floor and
	// the doors refuse them a clean area (qualifications.go).
	{"operator3", "Lucas Martin", identity.RoleOperator, "", []string{"ALPHA"}},
	{"supervisor2", "Claire Dubois", identity.RoleSupervisor, "", []string{"GAMMA"}},
	{"maintenance", "Nicolas Garnier", identity.RoleMaintenance, "", nil},
	{"qa", "Isabelle Fontaine", identity.RoleQA, "", []string{"ALPHA", "BETA", "GAMMA"}},
	{"qp", "Hélène Rousseau", identity.RoleQP, "", []string{"ALPHA", "BETA", "GAMMA"}},
	{"lab", "Sébastien Nguyen", identity.RoleLab, "", []string{"ALPHA", "GAMMA"}},
	// A second analyst reviews the first's results (never their own).
	{"lab2", "Amina Haddad", identity.RoleLab, "", []string{"ALPHA", "BETA", "GAMMA"}},
	{"security", "Franck Dumont", identity.RoleSecurity, "", nil},
	{"it", "Antoine Lambert", identity.RoleIT, "", nil},
	{"client-alpha", "Sophie Marchand", identity.RoleClientUser, "ALPHA", nil},
	{"client-beta", "Thomas Weber", identity.RoleClientUser, "BETA", nil},
	{"client-gamma", "Laura Schmitt", identity.RoleClientManager, "GAMMA", nil},
}

// clientLabs writes the client laboratories.
func (l *loader) clientLabs() error {
	for _, c := range clients {
		if err := l.clients.CreateClient(l.ctx, &c); err != nil {
			return fmt.Errorf("client %s: %w", c.Code, err)
		}
		if err := l.record(c.Code, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// accounts writes the demo accounts, all with the same password hash,
// hashed before the load (store.History.CreateAccount).
func (l *loader) accounts(hash string) error {
	for _, a := range accounts {
		rec := &identity.Account{Username: a.username, Name: a.name, Roles: []identity.Role{a.role}}
		if a.client != "" {
			var err error
			if rec.ClientID, err = l.id(a.client); err != nil {
				return err
			}
		}
		if err := l.h.CreateAccount(rec, hash); err != nil {
			return fmt.Errorf("account %s: %w", a.username, err)
		}
		if err := l.record("account:"+a.username, rec.ID); err != nil {
			return err
		}
		for _, c := range a.assigned {
			id, err := l.id(c)
			if err != nil {
				return err
			}
			if err := l.ids.Admin().Assign(l.ctx, &identity.Assignment{AccountID: rec.ID, ClientID: id}, ""); err != nil {
				return fmt.Errorf("account %s assigned to %s: %w", a.username, c, err)
			}
		}
	}
	return nil
}
