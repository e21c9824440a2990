package store_test

import (
	"reflect"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

func TestClientScope(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		sys := as(identity.System)
		acme := client.Client{Code: "ACME", Name: "Acme Pharma"}
		beta := client.Client{Code: "BETA", Name: "Beta Labs"}
		for _, c := range []*client.Client{&beta, &acme} {
			must(t, db.Write(sys, "client.create", "", func(tx *store.Tx) error { return tx.CreateClient(c) }))
		}
		t.Run("duplicate code", func(t *testing.T) {
			before := counts(t, db)
			err := db.Write(sys, "client.create", "", func(tx *store.Tx) error {
				return tx.CreateClient(&client.Client{Code: "ACME", Name: "Acme again"})
			})
			wantErr(t, err, errs.Conflict, "code")
			sameCounts(t, db, before)
		})
		// An account of each client: their audit entries belong to it.
		for _, c := range []client.Client{acme, beta} {
			newAccount(t, db, &identity.Account{Username: "qa-" + c.Code, Name: "QA of " + c.Name,
				Roles: []identity.Role{identity.RoleClientUser}, ClientID: c.ID})
		}

		ofAcme := as(identity.Actor{UserID: store.NewID(), Username: "qa-ACME", Name: "QA of Acme",
			Roles: []identity.Role{identity.RoleClientUser}, ClientID: acme.ID})
		tests := []struct {
			name  string
			actor identity.Actor
			want  []client.Client
		}{
			{"the site sees every client", alice, []client.Client{acme, beta}},
			{"a client sees only itself", identity.Actor{UserID: "u", ClientID: acme.ID, Roles: []identity.Role{identity.RoleClientUser}}, []client.Client{acme}},
			{"other client", identity.Actor{UserID: "v", ClientID: beta.ID, Roles: []identity.Role{identity.RoleClientUser}}, []client.Client{beta}},
		}
		for _, tt := range tests {
			got, err := db.Clients().Clients(as(tt.actor))
			must(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
			}
		}

		got, err := db.Clients().Client(ofAcme, acme.ID)
		if err != nil || *got != acme {
			t.Errorf("own client: got %+v, %v; want %+v", got, err, acme)
		}
		_, err = db.Clients().Client(ofAcme, beta.ID)
		wantErr(t, err, errs.NotFound, "")
		if got, err := db.Clients().Client(as(alice), beta.ID); err != nil || *got != beta {
			t.Errorf("the site reading a client: got %+v, %v; want %+v", got, err, beta)
		}

		es, err := db.Audit().Entries(ofAcme, audit.Filter{})
		must(t, err)
		if len(es) == 0 {
			t.Error("a client sees none of its own audit entries")
		}
		for _, e := range es {
			if e.ClientID != acme.ID {
				t.Errorf("a client of %s sees entry %d of client %q", acme.Code, e.Seq, e.ClientID)
			}
		}
		var accountEntries, clientEntries int
		for _, e := range es {
			switch e.Entity {
			case "account":
				accountEntries++
			case "client":
				clientEntries++
			}
		}
		if clientEntries == 0 {
			t.Error("a client does not see the trail of its own client record")
		}
		// Staff see a client's trail only when assigned to it; the trail
		// of access rights is for those who may see accounts (alice).
		unassigned, err := db.Audit().Entries(as(bruno), audit.Filter{})
		must(t, err)
		for _, e := range unassigned {
			if e.ClientID != "" {
				t.Errorf("unassigned staff see entry %d of client %q", e.Seq, e.ClientID)
			}
		}
		all, err := db.Audit().Entries(as(alice), audit.Filter{Entity: "account"})
		must(t, err)
		if len(all) != 2*accountEntries {
			t.Errorf("account entries seen by the site: got %d, want %d", len(all), 2*accountEntries)
		}
	})
}

// TestSetUpBySystemOnly: the site and the client laboratories are recorded
// by galenix itself (an installation, the demo), through their services;
// no role records them, and a database holds one site.
func TestSetUpBySystemOnly(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		sys := as(identity.System)
		ada := as(identity.Actor{UserID: store.NewID(), Username: "ada", Name: "Ada Admin",
			Roles: []identity.Role{identity.RoleAdmin, identity.RoleSupervisor, identity.RoleQA}})
		st := site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}
		wantErr(t, db.Site().CreateSite(ada, &st), errs.Forbidden, "")
		must(t, db.Site().CreateSite(sys, &st))
		wantErr(t, db.Site().CreateSite(sys, &site.Site{Code: "MRS", Name: "Marseille", Timezone: "Europe/Paris"}), errs.Conflict, "")
		wantErr(t, db.Clients().CreateClient(ada, &client.Client{Code: "ACME", Name: "Acme Pharma"}), errs.Forbidden, "")
		acme := client.Client{Code: "ACME", Name: "Acme Pharma"}
		must(t, db.Clients().CreateClient(sys, &acme))
		wantErr(t, db.Clients().CreateClient(sys, &client.Client{Code: "ACME", Name: "Acme again"}), errs.Conflict, "code")
		got, err := db.Clients().Client(sys, acme.ID)
		must(t, err)
		if got.Code != "ACME" {
			t.Errorf("client %+v", got)
		}
	})
}
