package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// newPassword meets the default policy; the administration tests give it
// to the accounts they create.
const newPassword = "Blue-Heron-Lantern-42"

// seedHash is the hash of password for the fixture's accounts: argon2id
// in galenix's format at the least cost its check accepts (cheapHash).
// The suite signs in and signs thousands of times and a real key takes a
// second under the race detector; the cost itself is identity's to test,
// and every password the store sets (SetPassword, the administrator's
// reset) is still hashed at the real cost here.
var seedHash = sync.OnceValues(func() (string, error) { return cheapHash(password), nil })

// adminTables are the tables a refused administration command must leave
// as they were.
var adminTables = append(slices.Clone(tables), "client_assignments", "api_tokens", "password_history")

func adminCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range adminTables {
		n, err := db.CountRows(tb)
		must(t, err)
		out[tb] = n
	}
	return out
}

func adminUnchanged(t *testing.T, db *store.DB, before map[string]int) {
	t.Helper()
	after := adminCounts(t, db)
	for _, tb := range adminTables {
		if before[tb] != after[tb] {
			t.Errorf("rows in %s: got %d, want %d (a refused command wrote)", tb, after[tb], before[tb])
		}
	}
}

// adminFixture is two client laboratories and an account of each kind,
// written by galenix itself.
type adminFixture struct {
	alpha, beta client.Client
	// Accounts by username: admin, admin2, qa, security, operator,
	// manager-alpha, user-alpha, user-beta.
	acc map[string]*identity.Account
}

func newAdminFixture(t *testing.T, db *store.DB) *adminFixture {
	t.Helper()
	hash, err := seedHash()
	must(t, err)
	f := &adminFixture{alpha: client.Client{Code: "ALPHA", Name: "Alpha Laboratories"}, beta: client.Client{Code: "BETA", Name: "Beta Pharma"},
		acc: map[string]*identity.Account{}}
	must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
		for _, c := range []*client.Client{&f.alpha, &f.beta} {
			if err := tx.CreateClient(c); err != nil {
				return err
			}
		}
		for _, a := range []identity.Account{
			{Username: "admin", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}},
			{Username: "admin2", Name: "Adam Second", Roles: []identity.Role{identity.RoleAdmin}},
			{Username: "qa", Name: "Quentin Quality", Roles: []identity.Role{identity.RoleQA}},
			{Username: "security", Name: "Serge Security", Roles: []identity.Role{identity.RoleSecurity}},
			{Username: "operator", Name: "Otto Operator", Roles: []identity.Role{identity.RoleOperator}},
			{Username: "manager-alpha", Name: "Mia Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: f.alpha.ID},
			{Username: "user-alpha", Name: "Ulla Alpha", Roles: []identity.Role{identity.RoleClientUser}, ClientID: f.alpha.ID},
			{Username: "user-beta", Name: "Ugo Beta", Roles: []identity.Role{identity.RoleClientUser}, ClientID: f.beta.ID},
		} {
			if err := tx.CreateAccount(&a, hash); err != nil {
				return err
			}
			f.acc[a.Username] = &a
		}
		return nil
	}))
	return f
}

// ctx is the context of the fixture's account username.
func (f *adminFixture) ctx(username string) context.Context {
	a := f.acc[username].Actor()
	a.SessionID, a.Address = "session-"+username, "10.0.0.7"
	return as(a)
}

// trail returns every audit entry about the entity after seq, as galenix
// sees them.
func trail(t *testing.T, db *store.DB, entity, id string, after int64) []audit.Entry {
	t.Helper()
	es, err := db.Audit().Entries(as(identity.System), audit.Filter{Entity: entity, EntityID: id, AfterSeq: after})
	must(t, err)
	return es
}

// lastSeqAll is the newest audit entry's sequence, seen by galenix.
func lastSeqAll(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var last int64
	for {
		es, err := db.Audit().Entries(as(identity.System), audit.Filter{AfterSeq: last})
		must(t, err)
		if len(es) == 0 {
			return last
		}
		last = es[len(es)-1].Seq
	}
}

// fieldsOf writes the entries as command field old→new [reason] client.
func entryLines(es []audit.Entry) []string {
	var out []string
	for _, e := range es {
		s := e.Command + " " + e.Field + " " + e.Old + "→" + e.New
		if e.Reason != "" {
			s += " [" + e.Reason + "]"
		}
		if e.ClientID != "" {
			s += " client=" + e.ClientID
		}
		out = append(out, s)
	}
	return out
}

func wantFields(t *testing.T, got []audit.Entry, want ...string) {
	t.Helper()
	if g := entryLines(got); !slices.Equal(g, want) {
		t.Errorf("audit entries:\n got %q\nwant %q", g, want)
	}
}

func TestAdminCreateAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()

		t.Run("by an administrator", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			a := identity.Account{Username: " bruno ", Name: "Bruno Petit", Roles: []identity.Role{identity.RoleOperator}}
			must(t, adm.CreateAccount(f.ctx("admin"), &a, newPassword, "new operator, line 3"))
			if a.ID == "" || a.Username != "bruno" || !a.Active || a.Source != store.SourceLocal || !a.CreatedAt.Equal(now) {
				t.Errorf("created %+v", a)
			}
			es := trail(t, db, "account", a.ID, seq)
			for _, e := range es {
				if e.ActorID != f.acc["admin"].ID || e.ActorName != "Ada Admin" || !e.At.Equal(now) || e.SessionID != "session-admin" || e.Command != "account.create" {
					t.Errorf("entry %+v: want the admin's account.create, now, in their session", e)
				}
				if strings.Contains(e.New, newPassword) || strings.Contains(e.New, "argon2") {
					t.Errorf("entry %s holds the password or its hash", e.Field)
				}
			}
			var names []string
			for _, e := range es {
				names = append(names, e.Field+"="+e.New+" ["+e.Reason+"]")
			}
			for _, w := range []string{"username=bruno [new operator, line 3]", "name=Bruno Petit [new operator, line 3]",
				"roles=operator [new operator, line 3]", "active=true [new operator, line 3]"} {
				if !slices.Contains(names, w) {
					t.Errorf("no entry %q among %q", w, names)
				}
			}
			if _, _, err := db.Identity().Login(context.Background(), "bruno", newPassword, "10.0.0.8"); err != nil {
				t.Errorf("the new account cannot sign in with its first password: %v", err)
			}
		})

		t.Run("a client user by an administrator", func(t *testing.T) {
			a := identity.Account{Username: "carla", Name: "Carla Client", Roles: []identity.Role{identity.RoleClientUser}, ClientID: f.beta.ID}
			must(t, adm.CreateAccount(f.ctx("admin"), &a, newPassword, ""))
			for _, e := range trail(t, db, "account", a.ID, 0) {
				if e.ClientID != f.beta.ID {
					t.Errorf("entry %s of a client's account carries client %q, want %q", e.Field, e.ClientID, f.beta.ID)
				}
			}
		})

		t.Run("a client manager creates their own laboratory's user", func(t *testing.T) {
			a := identity.Account{Username: "ulrich", Name: "Ulrich Alpha", Roles: []identity.Role{identity.RoleClientUser}}
			must(t, adm.CreateAccount(f.ctx("manager-alpha"), &a, newPassword, ""))
			if a.ClientID != f.alpha.ID {
				t.Errorf("the manager's new user belongs to %q, want their laboratory %q", a.ClientID, f.alpha.ID)
			}
		})

		for _, tt := range []struct {
			name, who   string
			acc         identity.Account
			password    string
			code        errs.Code
			field       string
			messagePart string
		}{
			{"short password", "admin", identity.Account{Username: "x1", Name: "X", Roles: []identity.Role{identity.RoleLab}}, "short", errs.Invalid, "password", ""},
			{"username taken", "admin", identity.Account{Username: "operator", Name: "X", Roles: []identity.Role{identity.RoleLab}}, newPassword, errs.Conflict, "username", ""},
			{"client role without client", "admin", identity.Account{Username: "x2", Name: "X", Roles: []identity.Role{identity.RoleClientUser}}, newPassword, errs.Invalid, "client_id", ""},
			{"staff with a client", "admin", identity.Account{Username: "x3", Name: "X", Roles: []identity.Role{identity.RoleLab}, ClientID: f.alpha.ID}, newPassword, errs.Invalid, "client_id", ""},
			{"unknown client", "admin", identity.Account{Username: "x4", Name: "X", Roles: []identity.Role{identity.RoleClientUser}, ClientID: store.NewID()}, newPassword, errs.Invalid, "client_id", ""},
			{"unknown role", "admin", identity.Account{Username: "x5", Name: "X", Roles: []identity.Role{"root"}}, newPassword, errs.Invalid, "roles", ""},
			{"by an operator", "operator", identity.Account{Username: "x6", Name: "X", Roles: []identity.Role{identity.RoleLab}}, newPassword, errs.Forbidden, "", ""},
			{"by quality (may see, not change)", "qa", identity.Account{Username: "x7", Name: "X", Roles: []identity.Role{identity.RoleLab}}, newPassword, errs.Forbidden, "", ""},
			{"by a client user", "user-alpha", identity.Account{Username: "x8", Name: "X", Roles: []identity.Role{identity.RoleClientUser}}, newPassword, errs.Forbidden, "", ""},
			{"manager, another client's user", "manager-alpha", identity.Account{Username: "x9", Name: "X", Roles: []identity.Role{identity.RoleClientUser}, ClientID: f.beta.ID}, newPassword, errs.Forbidden, "", ""},
			{"manager, a staff role", "manager-alpha", identity.Account{Username: "x10", Name: "X", Roles: []identity.Role{identity.RoleAdmin}}, newPassword, errs.Forbidden, "", ""},
			{"manager, another manager", "manager-alpha", identity.Account{Username: "x11", Name: "X", Roles: []identity.Role{identity.RoleClientManager}}, newPassword, errs.Forbidden, "", ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := adminCounts(t, db)
				err := adm.CreateAccount(f.ctx(tt.who), &tt.acc, tt.password, "")
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			})
		}
	})
}

func TestAdminListAndGetAccounts(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		usernames := func(as []identity.Account) []string {
			var out []string
			for _, a := range as {
				out = append(out, a.Username)
			}
			return out
		}
		all := []string{"admin", "admin2", "manager-alpha", "operator", "qa", "security", "user-alpha", "user-beta"}
		for _, tt := range []struct {
			who    string
			filter string
			want   []string
		}{
			{"admin", "", all},
			{"qa", "", all},
			{"security", "", all},
			{"admin", f.beta.ID, []string{"user-beta"}},
			{"manager-alpha", "", []string{"manager-alpha", "user-alpha"}},
			{"manager-alpha", f.beta.ID, nil},
		} {
			got, err := adm.Accounts(f.ctx(tt.who), identity.AccountFilter{ClientID: tt.filter})
			must(t, err)
			if g := usernames(got); !slices.Equal(g, tt.want) {
				t.Errorf("%s (filter %q) lists %v, want %v", tt.who, tt.filter, g, tt.want)
			}
		}
		for _, who := range []string{"operator", "user-alpha"} {
			_, err := adm.Accounts(f.ctx(who), identity.AccountFilter{})
			wantErr(t, err, errs.Forbidden, "")
		}

		got, err := adm.Account(f.ctx("qa"), f.acc["user-beta"].ID)
		must(t, err)
		if got.Username != "user-beta" || got.ClientID != f.beta.ID {
			t.Errorf("account %+v", got)
		}
		// Outside one's sight an account is not found, like one that does
		// not exist.
		for _, c := range []struct{ who, target string }{
			{"manager-alpha", "user-beta"}, {"manager-alpha", "operator"}, {"operator", "operator"},
			{"user-alpha", "user-alpha"}, {"user-beta", "user-alpha"},
		} {
			_, err := adm.Account(f.ctx(c.who), f.acc[c.target].ID)
			wantErr(t, err, errs.NotFound, "")
		}
		for _, id := range []string{store.NewID(), "not-an-id", ""} {
			_, err := adm.Account(f.ctx("admin"), id)
			wantErr(t, err, errs.NotFound, "")
		}
	})
}

func TestAdminChangeAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		op := f.acc["operator"]

		t.Run("roles and name, with a reason", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			a := identity.Account{ID: op.ID, Name: "Otto Opérateur", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleOperator}, Active: true}
			must(t, adm.UpdateAccount(f.ctx("admin"), &a, "promoted to supervisor"))
			if a.Username != "operator" || a.Source != store.SourceLocal {
				t.Errorf("updated %+v: the username or source changed", a)
			}
			es := trail(t, db, "account", op.ID, seq)
			wantFields(t, es,
				"account.update name Otto Operator→Otto Opérateur [promoted to supervisor]",
				"account.update roles operator→supervisor,operator [promoted to supervisor]")
			for _, e := range es {
				if e.ActorID != f.acc["admin"].ID || !e.At.Equal(now) {
					t.Errorf("entry %+v: want the admin, now", e)
				}
			}
			got, err := adm.Account(f.ctx("admin"), op.ID)
			must(t, err)
			if got.Name != "Otto Opérateur" || !slices.Equal(got.Roles, a.Roles) {
				t.Errorf("stored %+v", got)
			}
		})

		t.Run("nothing changes, nothing is written, no reason needed", func(t *testing.T) {
			cur, err := adm.Account(f.ctx("admin"), op.ID)
			must(t, err)
			before := adminCounts(t, db)
			must(t, adm.UpdateAccount(f.ctx("admin"), cur, ""))
			adminUnchanged(t, db, before)
		})

		for _, tt := range []struct {
			name, who, reason string
			acc               identity.Account
			code              errs.Code
			field             string
		}{
			{"no reason", "admin", "", identity.Account{ID: op.ID, Name: "X", Roles: []identity.Role{identity.RoleLab}, Active: true}, errs.Invalid, "reason"},
			{"by quality", "qa", "why", identity.Account{ID: op.ID, Name: "X", Roles: []identity.Role{identity.RoleLab}, Active: true}, errs.Forbidden, ""},
			{"by a client manager", "manager-alpha", "why", identity.Account{ID: f.acc["user-alpha"].ID, Name: "X", Roles: []identity.Role{identity.RoleClientUser}, Active: true}, errs.Forbidden, ""},
			{"own admin role removed", "admin", "why", identity.Account{ID: f.acc["admin"].ID, Name: "Ada Admin", Roles: []identity.Role{identity.RoleQA}, Active: true}, errs.Forbidden, ""},
			{"own account deactivated", "admin", "why", identity.Account{ID: f.acc["admin"].ID, Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}, Active: false}, errs.Forbidden, ""},
			{"username changed", "admin", "why", identity.Account{ID: op.ID, Username: "otto", Name: "X", Roles: []identity.Role{identity.RoleLab}, Active: true}, errs.Invalid, "username"},
			{"laboratory changed", "admin", "why", identity.Account{ID: f.acc["user-alpha"].ID, Name: "X", Roles: []identity.Role{identity.RoleClientUser}, ClientID: f.beta.ID, Active: true}, errs.Invalid, "client_id"},
			{"client user made staff", "admin", "why", identity.Account{ID: f.acc["user-alpha"].ID, Name: "X", Roles: []identity.Role{identity.RoleQA}, Active: true}, errs.Invalid, "client_id"},
			{"staff given a client role", "admin", "why", identity.Account{ID: op.ID, Name: "X", Roles: []identity.Role{identity.RoleClientUser}, Active: true}, errs.Invalid, "client_id"},
			{"no such account", "admin", "why", identity.Account{ID: store.NewID(), Name: "X", Roles: []identity.Role{identity.RoleLab}, Active: true}, errs.NotFound, ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := adminCounts(t, db)
				err := adm.UpdateAccount(f.ctx(tt.who), &tt.acc, tt.reason)
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			})
		}

		t.Run("another administrator may remove an admin role", func(t *testing.T) {
			a := identity.Account{ID: f.acc["admin2"].ID, Name: "Adam Second", Roles: []identity.Role{identity.RoleQA}, Active: true}
			must(t, adm.UpdateAccount(f.ctx("admin"), &a, "moved to quality"))
			wantFields(t, trail(t, db, "account", a.ID, lastSeqAll(t, db)-1), "account.update roles admin→qa [moved to quality]")
		})
	})
}
