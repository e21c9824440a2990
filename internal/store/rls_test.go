package store_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/testpg"
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

// TestReadSeesOneSnapshot: the queries of one read see the database as it
// was at its first, whatever commits meanwhile: a batch record read in
// several queries never mixes two states of the batch.
func TestReadSeesOneSnapshot(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var before, during int
		err := db.Read(as(identity.System), func(tx *store.Tx) error {
			var err error
			if before, err = tx.Count("settings"); err != nil {
				return err
			}
			if err := db.ExecRaw(`INSERT INTO settings (key, value) VALUES ('test.snapshot', 'x')`); err != nil {
				return err
			}
			during, err = tx.Count("settings")
			return err
		})
		must(t, err)
		after, err := db.CountRows("settings")
		must(t, err)
		if during != before || after != before+1 {
			t.Errorf("settings: %d rows before, %d in the same read after a commit, %d after the read; want %d, %d, %d",
				before, during, after, before, before, before+1)
		}
	})
}

// TestReadsEndInTheBackground: on PostgreSQL a read returns before the
// round trip that ends its transaction; each connection still goes back to
// the pool out of its transaction, so the reads that follow reuse it
// instead of opening new ones, and the next read sees what was committed
// in between.
func TestReadsEndInTheBackground(t *testing.T) {
	t.Parallel()
	db := openDB(t, store.Config{DSN: testpg.DSN(t)})
	ctx := as(identity.System)
	before := db.NewConnections()
	for i := range 50 {
		n, err := db.Count(ctx, "settings")
		must(t, err)
		if n != i {
			t.Fatalf("read %d: %d settings, want %d", i, n, i)
		}
		must(t, db.ExecRaw(`INSERT INTO settings (key, value) VALUES (?, 'x')`, "test.read."+strconv.Itoa(i)))
	}
	if opened := db.NewConnections() - before; opened > 4 {
		t.Errorf("100 transactions opened %d connections: the reads left theirs unusable", opened)
	}
}

// TestProductionRowLevelSecurity: on PostgreSQL, a query of production data
// written without the client filter sees the actor's clients' rows only.
func TestProductionRowLevelSecurity(t *testing.T) {
	t.Parallel()
	db := openDB(t, store.Config{DSN: testpg.DSN(t)})
	e := newProdEnv(t, db)
	e.order(t, e.vial, 10000)
	e.order(t, e.vial, 10000)
	beta := identity.Actor{UserID: store.NewID(), Username: "bert", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID}
	unassigned := identity.Actor{UserID: store.NewID(), Username: "sacha", Roles: []identity.Role{identity.RoleSupervisor}}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want map[string]int
	}{
		{"alpha's user", e.ctx("carla"), map[string]int{"products": 2, "masters": 2, "orders": 2, "batches": 2}},
		{"staff assigned to alpha", e.ctx("victor"), map[string]int{"products": 2, "masters": 2, "orders": 2, "batches": 2}},
		{"beta's user", as(beta), map[string]int{"products": 1, "masters": 1, "orders": 0, "batches": 0}},
		{"unassigned staff", as(unassigned), map[string]int{"products": 0, "masters": 0, "orders": 0, "batches": 0}},
		{"galenix", as(identity.System), map[string]int{"products": 3, "masters": 3, "orders": 2, "batches": 2}},
		{"no actor", context.Background(), map[string]int{"products": 0, "masters": 0, "orders": 0, "batches": 0}},
	} {
		for tb, want := range tt.want {
			if got, err := db.CountUnfiltered(tt.ctx, tb); err != nil || got != want {
				t.Errorf("%s, unfiltered SELECT on %s: %d rows (%v), want %d", tt.name, tb, got, err, want)
			}
		}
	}
}

// TestPoliciesReadTheScopeOnce: every row-level security policy reads the
// actor's scope in a scalar subquery, which PostgreSQL runs once per
// statement; read in the condition itself, it was read again for every
// row, and the planner, misled, chose nested loops (migration 00009).
func TestPoliciesReadTheScopeOnce(t *testing.T) {
	t.Parallel()
	db := openDB(t, store.Config{DSN: testpg.DSN(t)})
	ps, err := db.Policies()
	must(t, err)
	if len(ps) < 20 {
		t.Fatalf("%d policies, want the 20 of the migrations at least: %v", len(ps), ps)
	}
	call := regexp.MustCompile(`(\w+\s+)?(galenix_on|galenix_clients|galenix_in_scope|current_setting)\(`)
	for name, cond := range ps {
		for _, m := range call.FindAllStringSubmatch(cond, -1) {
			if strings.TrimSpace(m[1]) != "SELECT" || m[2] == "galenix_in_scope" || m[2] == "current_setting" {
				t.Errorf("policy %s reads the scope row by row (%s): %s", name, strings.TrimSpace(m[0]), cond)
			}
		}
	}
}
