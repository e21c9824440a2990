package store_test

import (
	"testing"

	"galenix/internal/audit"

	"galenix/internal/client"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestRowLevelSecurity: on PostgreSQL a query written without the client
// filter still sees only the actor's clients — the second wall behind the
// query filters. On SQLite, which has no such policies, the same raw query
// sees every row: there the filters stand alone, and the other tests prove
// them.
func TestRowLevelSecurity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var acme, beta, gamma client.Client
		var staff identity.Account
		err := db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
			for _, c := range []*client.Client{{Code: "ACME", Name: "Acme"}, {Code: "BETA", Name: "Beta"}, {Code: "GAMMA", Name: "Gamma"}} {
				if err := tx.CreateClient(c); err != nil {
					return err
				}
			}
			return nil
		})
		must(t, err)
		cs, err := db.Clients().Clients(as(identity.System))
		must(t, err)
		acme, beta, gamma = cs[0], cs[1], cs[2]
		staff = identity.Account{Username: "lea", Name: "Léa Girard", Roles: []identity.Role{identity.RoleLab}}
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
			if err := tx.CreateAccount(&staff, "x"); err != nil {
				return err
			}
			return tx.AssignClient(staff.ID, gamma.ID)
		}))

		ofAcme := identity.Actor{UserID: store.NewID(), Username: "u", Roles: []identity.Role{identity.RoleClientUser}, ClientID: acme.ID}
		lab := identity.Actor{UserID: staff.ID, Username: "lea", Roles: []identity.Role{identity.RoleLab}, Assigned: []string{gamma.ID}}
		nobody := identity.Actor{}
		all := map[string]int{}
		for _, tb := range []string{"clients", "audit_log", "client_assignments"} {
			n, err := db.CountUnfiltered(as(identity.System), tb)
			must(t, err)
			all[tb] = n
		}
		auditOf := func(clientID string) int {
			n := 0
			es, err := db.Audit().Entries(as(identity.System), audit.Filter{})
			must(t, err)
			for _, e := range es {
				if e.ClientID == clientID {
					n++
				}
			}
			return n
		}
		siteEntries := auditOf("")
		for _, tt := range []struct {
			name  string
			actor identity.Actor
			want  map[string]int // on PostgreSQL
		}{
			{"a client's user", ofAcme, map[string]int{"clients": 1, "audit_log": auditOf(acme.ID), "client_assignments": 0}},
			{"staff assigned to one client", lab, map[string]int{"clients": 1, "audit_log": auditOf(gamma.ID) + siteEntries, "client_assignments": 1}},
			{"no actor", nobody, map[string]int{"clients": 0, "audit_log": 0, "client_assignments": 0}},
		} {
			for tb, want := range tt.want {
				got, err := db.CountUnfiltered(as(tt.actor), tb)
				must(t, err)
				if db.Dialect() == store.SQLite {
					want = all[tb]
				}
				if got != want {
					t.Errorf("%s, unfiltered SELECT on %s: %d rows, want %d", tt.name, tb, got, want)
				}
			}
		}
		if beta.ID == "" {
			t.Fatal("seed failed")
		}
	})
}

// TestReadCannotWrite: a read transaction cannot write, so no write escapes
// the single write path and its audit trail.
func TestReadCannotWrite(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		err := db.ReadExec(as(identity.System), `INSERT INTO settings (key, value) VALUES ('x', 'y')`)
		if err == nil {
			t.Fatal("a read transaction wrote a row")
		}
		if n, err := db.CountRows("settings"); err != nil || n != 0 {
			t.Errorf("settings: %d rows, %v", n, err)
		}
	})
}
