package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

const password = "correct horse battery staple"

// newAccount records an account with the password, written by the system.
func newAccount(t *testing.T, db *store.DB, a *identity.Account) (hash string) {
	t.Helper()
	hash, err := seedHash()
	must(t, err)
	must(t, db.Write(as(identity.System), "account.create", "", func(tx *store.Tx) error { return tx.CreateAccount(a, hash) }))
	return hash
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		ctx := context.Background()
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA, identity.RoleSupervisor}}
		hash := newAccount(t, db, &acc)

		t.Run("duplicate username", func(t *testing.T) {
			before := counts(t, db)
			err := db.Write(as(identity.System), "account.create", "", func(tx *store.Tx) error {
				return tx.CreateAccount(&identity.Account{Username: "claire", Name: "Another Claire", Roles: []identity.Role{identity.RoleLab}}, hash)
			})
			wantErr(t, err, errs.Conflict, "username")
			sameCounts(t, db, before)
		})

		t.Run("accounts", func(t *testing.T) {
			got, err := ids.Accounts(as(alice))
			must(t, err)
			want := acc
			want.CreatedAt = now
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("accounts:\n got %+v\nwant [%+v]", got, want)
			}
		})

		token, a, err := ids.Login(ctx, " claire ", password, "10.0.0.9")
		must(t, err)
		if token == "" || a.ID != acc.ID {
			t.Fatalf("login: got token %q account %+v, want a token for %s", token, a, acc.ID)
		}

		t.Run("wrong credentials", func(t *testing.T) {
			before := counts(t, db)
			seq := lastSeq(t, db)
			var msgs []string
			for _, c := range []struct{ user, pass string }{
				{"claire", "Correct horse battery staple"},
				{"nobody", password},
				{"", ""},
			} {
				_, _, err := ids.Login(ctx, c.user, c.pass, "10.0.0.9")
				wantErr(t, err, errs.Unauthorized, "")
				msgs = append(msgs, errs.MessageOf(err, "en")+"|"+errs.MessageOf(err, "fr"))
			}
			for _, m := range msgs[1:] {
				if m != msgs[0] {
					t.Errorf("messages differ, telling which part was wrong: %q and %q", msgs[0], m)
				}
			}
			// A refused sign-in opens nothing and changes no record; it
			// is only recorded, in the audit trail and as security events.
			after := counts(t, db)
			for tb, n := range before {
				if tb != "audit_log" && after[tb] != n {
					t.Errorf("rows in %s: got %d, want %d", tb, after[tb], n)
				}
			}
			es, err := db.Audit().Entries(as(alice), audit.Filter{AfterSeq: seq})
			must(t, err)
			for _, e := range es {
				if e.Command != "session.login_failed" || e.Entity != "account" {
					t.Errorf("a refused sign-in wrote %s %s.%s", e.Command, e.Entity, e.Field)
				}
			}
			if len(es) == 0 {
				t.Error("the refused sign-ins are not in the audit trail")
			}
		})

		var actor identity.Actor
		t.Run("authenticate", func(t *testing.T) {
			actor, err = ids.Authenticate(ctx, token)
			must(t, err)
			if _, err := uuid.Parse(actor.SessionID); err != nil {
				t.Errorf("session id %q: %v", actor.SessionID, err)
			}
			want := identity.Actor{UserID: acc.ID, Username: "claire", Name: "Claire Dubois", Roles: acc.Roles,
				SessionID: actor.SessionID, Address: "10.0.0.9", Device: identity.DeviceBrowser,
				// A desk's idle timeout by default; the session, just
				// opened on the fixed clock, has all of it left.
				Idle: 30 * time.Minute, SessionLeft: 30 * time.Minute}
			if !reflect.DeepEqual(actor, want) {
				t.Errorf("actor:\n got %+v\nwant %+v", actor, want)
			}
			for _, bad := range []string{"", "forged", token + "x", strings.ToUpper(token)} {
				_, err := ids.Authenticate(ctx, bad)
				wantErr(t, err, errs.Unauthorized, "")
			}
		})

		t.Run("logout", func(t *testing.T) {
			must(t, ids.Logout(identity.WithActor(ctx, actor), token))
			_, err := ids.Authenticate(ctx, token)
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("idle and absolute limits", func(t *testing.T) {
			start := c.now()
			token, _, err := ids.Login(ctx, "claire", password, "10.0.0.9")
			must(t, err)
			// A session used within the idle limit lives on, each use
			// moving the limit, until its absolute lifetime ends.
			step := identity.SessionIdle - time.Minute
			for {
				c.add(step)
				_, err := ids.Authenticate(ctx, token)
				if c.now().Sub(start) <= identity.SessionAbsolute {
					if err != nil {
						t.Fatalf("session used every %v refused after %v: %v", step, c.now().Sub(start), err)
					}
					continue
				}
				wantErr(t, err, errs.Unauthorized, "")
				break
			}

			c.set(start)
			token, _, err = ids.Login(ctx, "claire", password, "10.0.0.9")
			must(t, err)
			c.add(identity.SessionIdle + time.Second)
			_, err = ids.Authenticate(ctx, token)
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("password hash never audited", func(t *testing.T) {
			es, err := db.Audit().Entries(as(alice), audit.Filter{})
			must(t, err)
			var fields []string
			for _, e := range es {
				for _, v := range []string{e.Old, e.New, e.Reason} {
					if strings.Contains(v, hash) || strings.Contains(v, "argon2") || strings.Contains(v, password) {
						t.Errorf("entry %d (%s.%s) holds the password or its hash", e.Seq, e.Entity, e.Field)
					}
				}
				if e.Entity == "account" && e.EntityID == acc.ID && e.Command == "account.create" {
					fields = append(fields, e.Field+"="+e.New)
				}
			}
			want := []string{"username=claire", "name=Claire Dubois", "roles=qa,supervisor", "active=true"}
			if !reflect.DeepEqual(fields, want) {
				t.Errorf("account audit entries: got %v, want %v", fields, want)
			}
		})
	})
}
