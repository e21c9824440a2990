package store_test

import (
	"context"
	"slices"
	"testing"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestAdminSetPasswordMustChange: a password an administrator set (a reset,
// or a new account's first password) is known to them, so its owner must
// change it before anything else: the session is pending that change, and
// no signature is given, even with a challenge taken before the reset.
// The owner's own change clears the mark; both changes of the mark are
// audited. Accounts seeded by galenix itself, and an administrator's reset
// of their own password, are not marked (21 CFR 11.300, Annex 11 §14).
func TestAdminSetPasswordMustChange(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		ids := db.Identity()
		adm := ids.Admin()
		olga, line := e.acc["olga"], e.f.line
		const given, own = "Granite-Otter-Falls-77", "Velvet-Canyon-Mosaic-19"

		// Seeded accounts sign in with nothing pending.
		if _, a := signIn(t, ids, identity.Credentials{Username: "olga", Password: password}); a.Pending != "" {
			t.Fatalf("a seeded account is pending %q", a.Pending)
		}

		// A challenge taken before the reset is no way around it.
		early := e.challenge(t, e.ctx("olga"), "line", line.ID, esign.Performed)
		seq := lastSeqAll(t, db)
		must(t, adm.ResetPassword(as(alice), olga.ID, given, "forgotten"))
		es := trail(t, db, "account", olga.ID, seq)
		if got := entryLines(es); !slices.Contains(got, "account.password_reset password_must_change false→true [forgotten]") {
			t.Errorf("the mark is not audited with the reset: %q", got)
		}

		// Sign-in works, but the session is pending the change.
		_, a := signIn(t, ids, identity.Credentials{Username: "olga", Password: given})
		if a.Pending != identity.PendingPasswordAdminSet {
			t.Fatalf("after an administrator's reset: pending %q, want %q", a.Pending, identity.PendingPasswordAdminSet)
		}
		if err := a.Pending.Refusal(); errs.CodeOf(err) != errs.PasswordChangeRequired {
			t.Errorf("refusal while pending: %v", err)
		}

		// No signature, whatever the session.
		for _, ctx := range []context.Context{e.ctx("olga"), as(a)} {
			_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed",
				Username: "olga", Password: given, Challenge: early})
			wantErr(t, err, errs.PasswordChangeRequired, "")
			_, err = e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed"})
			wantErr(t, err, errs.PasswordChangeRequired, "")
		}
		if n := signatureCount(t, db); n != 0 {
			t.Fatalf("%d signatures by an account whose password an administrator set", n)
		}

		// The owner's own change clears the mark, audited.
		seq = lastSeqAll(t, db)
		must(t, ids.ChangePassword(as(a), given, own))
		if got := entryLines(trail(t, db, "account", olga.ID, seq)); !slices.Contains(got, "account.password.change password_must_change true→false") {
			t.Errorf("the mark's end is not audited with the change: %q", got)
		}
		_, a = signIn(t, ids, identity.Credentials{Username: "olga", Password: own})
		if a.Pending != "" {
			t.Fatalf("after the owner's change: pending %q", a.Pending)
		}
		ctx := e.ctx("olga")
		ch := e.challenge(t, ctx, "line", line.ID, esign.Performed)
		if _, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed",
			Username: "olga", Password: own, Challenge: ch}); err != nil {
			t.Fatalf("signing after the owner's change: %v", err)
		}

		t.Run("a new account's first password", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			acc := identity.Account{Username: "nadia", Name: "Nadia Nouvelle", Roles: []identity.Role{identity.RoleOperator}}
			must(t, adm.CreateAccount(as(alice), &acc, given, "new operator"))
			if got := entryLines(trail(t, db, "account", acc.ID, seq)); !slices.Contains(got, "account.create password_must_change false→true [new operator]") {
				t.Errorf("the mark is not audited with the creation: %q", got)
			}
			if _, a := signIn(t, ids, identity.Credentials{Username: "nadia", Password: given}); a.Pending != identity.PendingPasswordAdminSet {
				t.Errorf("a new account's first sign-in: pending %q", a.Pending)
			}
		})

		t.Run("an administrator's own password", func(t *testing.T) {
			ada := identity.Account{Username: "ada", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}}
			hash, err := seedHash()
			must(t, err)
			must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error { return tx.CreateAccount(&ada, hash) }))
			self := ada.Actor()
			self.SessionID = "session-ada"
			must(t, adm.ResetPassword(as(self), ada.ID, given, "rotated"))
			for _, e := range trail(t, db, "account", ada.ID, 0) {
				if e.Field == "password_must_change" {
					t.Errorf("an administrator's own reset marked their password: %+v", e)
				}
			}
		})
	})
}
