package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/ldap"
	"galenix/internal/store"
	"galenix/internal/testldap"
)

const (
	alicePassword  = "Sarbacane-Thermostat-42"
	bobPassword    = "Pelican-Vanille-7"
	claireDirectPW = "Directory-Claire-Only-1"
)

// directoryStore returns the identity service of db signing in against a
// fresh slapd holding alice (galenix-qa, galenix-operators), bob (canteen:
// no role) and claire (galenix-qa), whose username is also a local account's.
func directoryStore(t *testing.T, db *store.DB) (*store.IdentityStore, *testldap.Server) {
	t.Helper()
	s := testldap.Start(t)
	alice := s.AddUser(t, "alice", "Alice Martin", alicePassword)
	bob := s.AddUser(t, "bob", "Bob Petit", bobPassword)
	claire := s.AddUser(t, "claire", "Claire of the Directory", claireDirectPW)
	s.AddGroup(t, "galenix-qa", alice, claire)
	s.AddGroup(t, "galenix-operators", alice)
	s.AddGroup(t, "canteen", bob)
	d, err := ldap.New(ldap.Config{
		URL: s.URL, BindDN: testldap.BindDN, BindPassword: ldap.Secret(s.BindPassword),
		UserBase: testldap.UserBase, GroupBase: testldap.GroupBase,
		GroupRoles: "galenix-qa=qa;cn=galenix-operators," + testldap.GroupBase + "=operator",
		Timeout:    5 * time.Second,
	}, nil)
	must(t, err)
	ids := db.Identity()
	ids.Directory = d
	return ids, s
}

func TestDirectoryLogin(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ids, dir := directoryStore(t, db)
		ctx := context.Background()
		claire := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleLab}}
		newAccount(t, db, &claire)

		before := lastSeq(t, db)
		token, a, err := ids.Login(ctx, "alice", alicePassword, "10.0.0.7")
		must(t, err)
		want := identity.Account{ID: a.ID, Username: "alice", Name: "Alice Martin", Source: store.SourceLDAP, Active: true,
			Roles: []identity.Role{identity.RoleOperator, identity.RoleQA}, CreatedAt: now, Version: 1}
		if !reflect.DeepEqual(*a, want) {
			t.Fatalf("first sign-in:\n got %+v\nwant %+v", *a, want)
		}
		actor, err := ids.Authenticate(ctx, token)
		must(t, err)
		if actor.UserID != a.ID || !reflect.DeepEqual(actor.Roles, want.Roles) {
			t.Errorf("session actor: %+v", actor)
		}
		created := entries(t, db, "account", a.ID, before)
		if len(created) == 0 {
			t.Fatal("the account's creation is not in the audit trail")
		}
		for _, e := range created {
			if e.Command != "account.directory_sync" || e.ActorID != identity.System.UserID || e.Address != "10.0.0.7" {
				t.Errorf("creation entry: %+v", e)
			}
		}
		if got := fieldsOf(created); got["roles"] != "operator,qa" || got["name"] != "Alice Martin" || got["username"] != "alice" {
			t.Errorf("creation audited as %v", got)
		}

		t.Run("no local password", func(t *testing.T) {
			// Without the directory, the account's local password is one
			// no one knows: the directory's password does not open it.
			_, _, err := db.Identity().Login(ctx, "alice", alicePassword, "10.0.0.7")
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("refused", func(t *testing.T) {
			_, _, local := ids.Login(ctx, "claire", "wrong", "10.0.0.7")
			wantErr(t, local, errs.Unauthorized, "")
			// Refusals may be audited and raised as security events;
			// they create no account and open no session.
			rows := func() [2]int {
				a, err := db.CountRows("accounts")
				must(t, err)
				s, err := db.CountRows("sessions")
				must(t, err)
				return [2]int{a, s}
			}
			before := rows()
			for _, c := range []struct{ name, user, password string }{
				{"wrong password", "alice", "Sarbacane-Thermostat-43"},
				{"unknown user", "zoe", alicePassword},
				{"empty password", "alice", ""},
				{"no mapped group", "bob", bobPassword},
				{"filter injection", "*)(uid=*", alicePassword},
				{"filter injection, prefix", "ali*", alicePassword},
				// claire's username is a local account's: her directory
				// password does not open it, however spelt.
				{"local account, directory password", "claire", claireDirectPW},
				{"local account, other spelling", "CLAIRE", claireDirectPW},
			} {
				t.Run(c.name, func(t *testing.T) {
					tok, acc, err := ids.Login(ctx, c.user, c.password, "10.0.0.7")
					if tok != "" || acc != nil {
						t.Errorf("signed in: %q %+v", tok, acc)
					}
					wantErr(t, err, errs.Unauthorized, "")
					if errs.MessageOf(err, "en") != errs.MessageOf(local, "en") || errs.MessageOf(err, "fr") != errs.MessageOf(local, "fr") {
						t.Errorf("message %q differs from a wrong local password's %q", errs.MessageOf(err, "en"), errs.MessageOf(local, "en"))
					}
				})
			}
			if after := rows(); after != before {
				t.Errorf("accounts and sessions: got %v, want %v", after, before)
			}
			if _, _, err := ids.Login(ctx, "claire", password, "10.0.0.7"); err != nil {
				t.Errorf("the local account claire no longer signs in with its own password: %v", err)
			}
		})

		t.Run("directory changes reach the account", func(t *testing.T) {
			dir.SetMembers(t, testldap.GroupDN("galenix-operators"))
			mod := goldap.NewModifyRequest(testldap.UserDN("alice"), nil)
			mod.Replace("displayName", []string{"Alice Martin-Roux"})
			must(t, dir.Conn(t).Modify(mod))

			before := lastSeq(t, db)
			_, a2, err := ids.Login(ctx, "Alice", alicePassword, "10.0.0.8")
			must(t, err)
			if a2.ID != a.ID || a2.Name != "Alice Martin-Roux" || !reflect.DeepEqual(a2.Roles, []identity.Role{identity.RoleQA}) {
				t.Errorf("after the change: %+v", a2)
			}
			got := map[string][2]string{}
			for _, e := range entries(t, db, "account", a.ID, before) {
				if e.Command != "account.directory_sync" {
					continue // the session's opening, say
				}
				if e.Reason == "" || e.ActorID != identity.System.UserID || e.Address != "10.0.0.8" {
					t.Errorf("change entry: %+v", e)
				}
				got[e.Field] = [2]string{e.Old, e.New}
			}
			if want := map[string][2]string{"roles": {"operator,qa", "qa"}, "name": {"Alice Martin", "Alice Martin-Roux"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("audited changes: got %v, want %v", got, want)
			}
			// The session opened before the change holds the new roles.
			actor, err := ids.Authenticate(ctx, token)
			must(t, err)
			if !reflect.DeepEqual(actor.Roles, []identity.Role{identity.RoleQA}) {
				t.Errorf("roles of the older session: %v", actor.Roles)
			}

			// Nothing changed: nothing audited.
			before = lastSeq(t, db)
			_, _, err = ids.Login(ctx, "alice", alicePassword, "10.0.0.8")
			must(t, err)
			for _, e := range entries(t, db, "account", a.ID, before) {
				if e.Command == "account.directory_sync" {
					t.Errorf("a sign-in without change audited %+v", e)
				}
			}

			// Out of every mapped group: refused, and the account keeps
			// what it had.
			dir.SetMembers(t, testldap.GroupDN("galenix-qa"), testldap.UserDN("claire"))
			_, _, err = ids.Login(ctx, "alice", alicePassword, "10.0.0.8")
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("withdrawn account", func(t *testing.T) {
			dir.SetMembers(t, testldap.GroupDN("galenix-qa"), testldap.UserDN("alice"))
			must(t, db.ExecRaw(`UPDATE accounts SET active = ? WHERE id = ?`, false, a.ID))
			_, _, err := ids.Login(ctx, "alice", alicePassword, "10.0.0.8")
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("directory down", func(t *testing.T) {
			before := counts(t, db)
			down := db.Identity()
			d, err := ldap.New(ldap.Config{URL: "ldap://127.0.0.1:1", UserBase: testldap.UserBase, GroupRoles: "galenix-qa=qa",
				Timeout: time.Second}, nil)
			must(t, err)
			down.Directory = d
			_, _, err = down.Login(ctx, "zoe", alicePassword, "10.0.0.8")
			if errs.CodeOf(err) != errs.Internal {
				t.Errorf("got %v, want an internal error", err)
			}
			sameCounts(t, db, before)
			// A local account still signs in: the way in when the
			// directory is down.
			if _, _, err := down.Login(ctx, "claire", password, "10.0.0.8"); err != nil {
				t.Errorf("local sign-in with the directory down: %v", err)
			}
		})
	})
}

// fieldsOf returns the new value of each field of the entries.
func fieldsOf(es []audit.Entry) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		out[e.Field] = e.New
	}
	return out
}
