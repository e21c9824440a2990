package store_test

import (
	"context"
	"strings"
	"testing"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

func TestAdminWithdrawAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		ids := db.Identity()
		op := f.acc["operator"]
		token, _, err := ids.Login(context.Background(), "operator", password, "10.0.0.9")
		must(t, err)

		for _, tt := range []struct {
			name, who, target, reason string
			code                      errs.Code
			field                     string
		}{
			{"no reason", "admin", "operator", "", errs.Invalid, "reason"},
			{"themselves", "admin", "admin", "leaving", errs.Forbidden, ""},
			{"by quality", "qa", "operator", "why", errs.Forbidden, ""},
			{"by an operator", "operator", "qa", "why", errs.Forbidden, ""},
			{"manager, staff (out of sight)", "manager-alpha", "operator", "why", errs.NotFound, ""},
			{"manager, another client's user", "manager-alpha", "user-beta", "why", errs.NotFound, ""},
			{"manager, themselves", "manager-alpha", "manager-alpha", "why", errs.Forbidden, ""},
			{"client user", "user-alpha", "user-alpha", "why", errs.Forbidden, ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := adminCounts(t, db)
				_, err := adm.WithdrawAccount(f.ctx(tt.who), f.acc[tt.target].ID, tt.reason)
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			})
		}

		t.Run("by an administrator", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			a, err := adm.WithdrawAccount(f.ctx("admin"), op.ID, "left the company")
			must(t, err)
			if a.Active {
				t.Errorf("withdrawn account still active: %+v", a)
			}
			wantFields(t, trail(t, db, "account", op.ID, seq), "account.withdraw active true→false [left the company]")
			if _, err := ids.Authenticate(context.Background(), token); errs.CodeOf(err) != errs.Unauthorized {
				t.Errorf("the withdrawn account's session still works: %v", err)
			}
			if _, _, err := ids.Login(context.Background(), "operator", password, "10.0.0.9"); errs.CodeOf(err) != errs.Unauthorized {
				t.Errorf("the withdrawn account signs in: %v", err)
			}
			before := adminCounts(t, db)
			_, err = adm.WithdrawAccount(f.ctx("admin"), op.ID, "again")
			wantErr(t, err, errs.Conflict, "")
			adminUnchanged(t, db, before)
		})

		t.Run("a client manager, their own laboratory's user", func(t *testing.T) {
			ua := f.acc["user-alpha"]
			seq := lastSeqAll(t, db)
			_, err := adm.WithdrawAccount(f.ctx("manager-alpha"), ua.ID, "left Alpha")
			must(t, err)
			wantFields(t, trail(t, db, "account", ua.ID, seq), "account.withdraw active true→false [left Alpha] client="+f.alpha.ID)
		})

		t.Run("reactivated by an administrator", func(t *testing.T) {
			a := identity.Account{ID: op.ID, Name: op.Name, Roles: op.Roles, Active: true}
			must(t, adm.UpdateAccount(f.ctx("admin"), &a, "back from leave"))
			if _, _, err := ids.Login(context.Background(), "operator", password, "10.0.0.9"); err != nil {
				t.Errorf("the reactivated account cannot sign in: %v", err)
			}
		})
	})
}

func TestAdminResetPassword(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		op := f.acc["operator"]
		for _, tt := range []struct {
			name, who, target, password, reason string
			code                                errs.Code
			field                               string
		}{
			{"no reason", "admin", "operator", newPassword, "", errs.Invalid, "reason"},
			{"too short", "admin", "operator", "short", "forgotten", errs.Invalid, "password"},
			{"by quality", "qa", "operator", newPassword, "forgotten", errs.Forbidden, ""},
			{"by a client manager", "manager-alpha", "user-alpha", newPassword, "forgotten", errs.Forbidden, ""},
			{"no such account", "admin", "", newPassword, "forgotten", errs.NotFound, ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				id := store.NewID()
				if tt.target != "" {
					id = f.acc[tt.target].ID
				}
				before := adminCounts(t, db)
				wantErr(t, adm.ResetPassword(f.ctx(tt.who), id, tt.password, tt.reason), tt.code, tt.field)
				adminUnchanged(t, db, before)
			})
		}
		seq := lastSeqAll(t, db)
		must(t, adm.ResetPassword(f.ctx("admin"), op.ID, newPassword, "forgotten"))
		es := trail(t, db, "account", op.ID, seq)
		if len(es) == 0 || es[0].Command != "account.password_reset" || es[0].Reason != "forgotten" || es[0].ActorID != f.acc["admin"].ID {
			t.Errorf("reset trail %+v", es)
		}
		for _, e := range es {
			if strings.Contains(e.New, newPassword) || strings.Contains(e.Old, newPassword) || strings.Contains(e.New, "argon2") {
				t.Errorf("entry %s holds the password or its hash", e.Field)
			}
		}
		if _, _, err := db.Identity().Login(context.Background(), "operator", newPassword, "10.0.0.9"); err != nil {
			t.Errorf("sign-in with the new password: %v", err)
		}
	})
}
