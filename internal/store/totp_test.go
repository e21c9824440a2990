package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestTOTP checks the second factor: enrollment, its confirmation by a
// code, then a sign-in that asks for a code and accepts only a valid one.
func TestTOTP(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		newAccount(t, db, &acc)
		creds := identity.Credentials{Username: "claire", Password: password, Address: "10.0.0.9"}
		_, me := signIn(t, ids, creds)
		ctx := identity.WithActor(context.Background(), me)
		code := func(secret string, at time.Time) string {
			t.Helper()
			s, err := identity.TOTPCode(secret, at)
			must(t, err)
			return s
		}

		seq := lastSeq(t, db)
		en, err := ids.EnrollTOTP(ctx)
		must(t, err)
		if len(en.Secret) < 32 || !strings.HasPrefix(en.URL, "otpauth://totp/galenix:claire?") || !strings.Contains(en.URL, "secret="+en.Secret) {
			t.Fatalf("enrollment %+v", en)
		}
		again, err := ids.EnrollTOTP(ctx)
		must(t, err)
		if again != en {
			t.Errorf("enrolling again before confirming gave another secret")
		}
		es := entries(t, db, "account", acc.ID, seq)
		if len(es) != 1 || es[0].Field != "totp_secret" || es[0].New != "***" || strings.Contains(es[0].New+es[0].Old, en.Secret) {
			t.Errorf("enrollment audited as %+v", es)
		}

		// Until confirmed, the factor is not asked for.
		signIn(t, ids, creds)

		for _, bad := range []string{"", "12345", "abcdef", "1234567", code(en.Secret, c.now().Add(-90*time.Second))} {
			before := counts(t, db)
			wantErr(t, ids.ConfirmTOTP(ctx, bad), errs.Invalid, "code")
			sameCounts(t, db, before)
		}
		seq = lastSeq(t, db)
		must(t, ids.ConfirmTOTP(ctx, code(en.Secret, c.now())))
		if es := entries(t, db, "account", acc.ID, seq); len(es) != 1 || es[0].Field != "totp_enabled" || es[0].New != "true" {
			t.Errorf("confirmation audited as %+v", es)
		}
		wantErr(t, ids.ConfirmTOTP(ctx, code(en.Secret, c.now())), errs.Conflict, "")
		_, err = ids.EnrollTOTP(ctx)
		wantErr(t, err, errs.Conflict, "")

		t.Run("sign-in asks for the code", func(t *testing.T) {
			_, _, err := ids.SignIn(context.Background(), creds)
			wantErr(t, err, errs.Unauthorized, "totp")
			// A wrong password says nothing of a code.
			_, _, err = ids.SignIn(context.Background(), identity.Credentials{Username: "claire", Password: "wrong", TOTP: code(en.Secret, c.now())})
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("a wrong code is refused and counted", func(t *testing.T) {
			for _, bad := range []string{"000000", "12 34", code(en.Secret, c.now().Add(2*time.Minute))} {
				with := creds
				with.TOTP = bad
				_, _, err := ids.SignIn(context.Background(), with)
				wantErr(t, err, errs.Unauthorized, "totp")
			}
			if e := events(t, ids)[0]; e.Kind != identity.EventTOTPFailed || e.Detail != "4/5" {
				t.Errorf("newest event %+v, want the fourth failure in a row (a wrong password, three wrong codes)", e)
			}
		})

		t.Run("a valid code signs in", func(t *testing.T) {
			// The confirmation used the code of now: the next codes are
			// those of later steps, each accepted once.
			c.add(time.Minute)
			for _, at := range []time.Time{c.now().Add(-30 * time.Second), c.now(), c.now().Add(30 * time.Second)} {
				with := creds
				with.TOTP = code(en.Secret, at)
				if _, a := signIn(t, ids, with); a.UserID != acc.ID || a.Pending != "" {
					t.Errorf("signed in as %+v", a)
				}
			}
			c.add(2 * time.Minute)
			with := creds
			with.TOTP = " " + code(en.Secret, c.now())[:3] + " " + code(en.Secret, c.now())[3:] + " "
			signIn(t, ids, with)
		})

		t.Run("reset by an administrator", func(t *testing.T) {
			must(t, db.Write(as(alice), "account.totp.reset", "lost phone", func(tx *store.Tx) error { return tx.ResetTOTP(acc.ID) }))
			signIn(t, ids, creds)
		})
	})
}

// TestAdminTOTP checks that the policy requires a second factor of an
// administrator: until they set one up, their session is good only for
// that; with AdminTOTP off, nothing is asked.
func TestAdminTOTP(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		for _, a := range []identity.Account{
			{Username: "ada", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}},
			{Username: "bruno", Name: "Bruno Petit", Roles: []identity.Role{identity.RoleOperator}},
		} {
			newAccount(t, db, &a)
		}
		creds := identity.Credentials{Username: "ada", Password: password}
		_, a := signIn(t, ids, creds)
		if a.Pending != identity.PendingTOTP {
			t.Fatalf("an administrator without a second factor: pending %q, want %q", a.Pending, identity.PendingTOTP)
		}
		if _, b := signIn(t, ids, identity.Credentials{Username: "bruno", Password: password}); b.Pending != "" {
			t.Errorf("an operator: pending %q", b.Pending)
		}
		my, err := ids.MyAccount(identity.WithActor(context.Background(), a))
		must(t, err)
		if !my.TOTPRequired || my.TOTPEnabled {
			t.Errorf("my account: %+v", my)
		}

		p := identity.DefaultPolicy()
		p.AdminTOTP = false
		setPolicy(t, db, p)
		if _, a := signIn(t, ids, creds); a.Pending != "" {
			t.Errorf("AdminTOTP off: pending %q", a.Pending)
		}
		setPolicy(t, db, identity.DefaultPolicy())

		ctx := identity.WithActor(context.Background(), a)
		en, err := ids.EnrollTOTP(ctx)
		must(t, err)
		code, err := identity.TOTPCode(en.Secret, c.now())
		must(t, err)
		must(t, ids.ConfirmTOTP(ctx, code))
		c.add(30 * time.Second) // the confirmation's code is used
		code, err = identity.TOTPCode(en.Secret, c.now())
		must(t, err)
		creds.TOTP = code
		if _, a := signIn(t, ids, creds); a.Pending != "" {
			t.Errorf("with a second factor: pending %q", a.Pending)
		}
	})
}

// TestSignInPolicy checks the policy in the settings: defaults, a change by
// an administrator only, with a reason, within bounds, audited.
func TestSignInPolicy(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ids := db.Identity()
		got, err := ids.SignInPolicy(as(bruno))
		must(t, err)
		fresh := identity.DefaultPolicy()
		fresh.Version = 1 // never changed
		if got != fresh {
			t.Errorf("policy of a new site: %+v", got)
		}
		p := identity.DefaultPolicy()
		p.MinLength, p.LockAfter, p.MaxAge, p.AdminTOTP = 14, 4, 60*24*time.Hour, false

		for _, tt := range []struct {
			name   string
			actor  identity.Actor
			reason string
			p      func(identity.Policy) identity.Policy
			code   errs.Code
			field  string
		}{
			{"not an administrator", sofia, "why not", func(p identity.Policy) identity.Policy { return p }, errs.Forbidden, ""},
			{"no reason", alice, " ", func(p identity.Policy) identity.Policy { return p }, errs.Invalid, "reason"},
			{"short passwords", alice, "x", func(p identity.Policy) identity.Policy { p.MinLength = 8; return p }, errs.Invalid, "min_length"},
			{"no lock", alice, "x", func(p identity.Policy) identity.Policy { p.LockAfter = 0; return p }, errs.Invalid, "lock_after"},
			{"expiry of an hour", alice, "x", func(p identity.Policy) identity.Policy { p.MaxAge = time.Hour; return p }, errs.Invalid, "max_age_days"},
			{"shop floor longer than browsers", alice, "x", func(p identity.Policy) identity.Policy { p.ShopfloorIdle = time.Hour; return p }, errs.Invalid, "shopfloor_idle_minutes"},
			{"absolute under idle", alice, "x", func(p identity.Policy) identity.Policy { p.Absolute = time.Minute; return p }, errs.Invalid, "absolute_minutes"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := counts(t, db)
				_, err := ids.SetSignInPolicy(as(tt.actor), tt.p(p), tt.reason)
				wantErr(t, err, tt.code, tt.field)
				sameCounts(t, db, before)
			})
		}

		seq := lastSeq(t, db)
		got, err = ids.SetSignInPolicy(as(alice), p, "ANSSI audit of 2026")
		must(t, err)
		stored := p
		stored.Version = 2 // the policy's first change
		if got != stored {
			t.Errorf("stored %+v, want %+v", got, stored)
		}
		var fields []string
		for _, e := range entries(t, db, "policy", "sign-in", seq) {
			fields = append(fields, e.Field+"="+e.Old+"→"+e.New)
			if e.Reason != "ANSSI audit of 2026" || e.Command != "policy.update" || e.ActorID != alice.UserID {
				t.Errorf("entry %+v", e)
			}
		}
		want := "min_length=12→14 max_age=0s→1440h0m0s lock_after=5→4 admin_totp=true→false"
		if strings.Join(fields, " ") != want {
			t.Errorf("audited %q, want %q", strings.Join(fields, " "), want)
		}
		// The same policy again changes nothing and needs no reason.
		before := counts(t, db)
		_, err = ids.SetSignInPolicy(as(alice), p, "")
		must(t, err)
		sameCounts(t, db, before)

		// The policy is in force: a 13-character password is now short.
		err = db.Write(as(alice), "account.password.reset", "x", func(tx *store.Tx) error {
			pol, err := tx.Policy()
			if err != nil {
				return err
			}
			acc := identity.Account{Username: "zoe", Name: "Zoé", Roles: []identity.Role{identity.RoleLab}}
			if err := tx.CreateAccount(&acc, "!"); err != nil {
				return err
			}
			return tx.SetPassword(acc.ID, "treize-lettr", pol)
		})
		wantErr(t, err, errs.Invalid, "password")
	})
}

// TestSecurityEvents checks who sees the security events, their order
// (those nobody acknowledged first), and their acknowledgement, audited.
func TestSecurityEvents(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		for _, u := range []string{"anna", "boris", "carl"} {
			_, _, _ = ids.Login(context.Background(), u, "x", "10.0.0.66")
			c.add(time.Minute)
		}
		for _, a := range []identity.Actor{bruno, sofia, {}} {
			_, err := ids.SecurityEvents(as(a), identity.EventFilter{})
			wantErr(t, err, errs.Forbidden, "")
		}
		evs, err := ids.SecurityEvents(as(alice), identity.EventFilter{})
		must(t, err)
		if len(evs) != 3 || evs[0].Username != "carl" || evs[2].Username != "anna" {
			t.Fatalf("events %+v, want the three, newest first", evs)
		}

		seq := lastSeq(t, db)
		got, err := ids.AcknowledgeEvent(as(guard), evs[0].ID, "")
		must(t, err)
		if got.AcknowledgedBy != "guard" || got.AcknowledgedAt == nil || !got.AcknowledgedAt.Equal(c.now()) {
			t.Errorf("acknowledged %+v", got)
		}
		es := entries(t, db, "security_event", evs[0].ID, seq)
		if len(es) != 1 || es[0].Command != "security.event.acknowledge" || es[0].New != "guard" {
			t.Errorf("acknowledgement audited as %+v", es)
		}
		evs = events(t, ids)
		if evs[0].Username != "boris" || evs[2].Username != "carl" || evs[2].AcknowledgedAt == nil {
			t.Errorf("order %q %q %q: those nobody acknowledged first", evs[0].Username, evs[1].Username, evs[2].Username)
		}
		open, err := ids.SecurityEvents(as(guard), identity.EventFilter{Open: true})
		must(t, err)
		if len(open) != 2 {
			t.Errorf("%d open events, want 2", len(open))
		}

		before := counts(t, db)
		_, err = ids.AcknowledgeEvent(as(guard), evs[2].ID, "")
		wantErr(t, err, errs.Conflict, "")
		for _, id := range []string{"nope", "0195f1a2-0000-7000-8000-0000000000ff"} {
			_, err = ids.AcknowledgeEvent(as(guard), id, "")
			wantErr(t, err, errs.NotFound, "")
		}
		_, err = ids.AcknowledgeEvent(as(bruno), evs[0].ID, "")
		wantErr(t, err, errs.Forbidden, "")
		sameCounts(t, db, before)

		// A wrong password for an account is an event of another kind; the
		// filter by kind keeps only the kind asked for.
		acc := identity.Account{Username: "dora", Name: "Dora Petit", Roles: []identity.Role{identity.RoleQA}}
		newAccount(t, db, &acc)
		c.add(time.Minute)
		_, _, _ = ids.Login(context.Background(), "dora", "not the password", "10.0.0.66")
		failed, err := ids.SecurityEvents(as(guard), identity.EventFilter{Kind: identity.EventLoginFailed})
		must(t, err)
		if len(failed) != 1 || failed[0].Username != "dora" {
			t.Errorf("wrong passwords %+v, want dora's only", failed)
		}
		unknown, err := ids.SecurityEvents(as(guard), identity.EventFilter{Kind: identity.EventUnknownUser, Open: true})
		must(t, err)
		if got := kinds(unknown); len(got) != 2 || got[0] != identity.EventUnknownUser || got[1] != identity.EventUnknownUser {
			t.Errorf("open unknown usernames %v, want the two not acknowledged", got)
		}
		// By time: from the second attempt (boris, a minute after anna's),
		// before dora's.
		from := failed[0].At.Add(-3 * time.Minute)
		within, err := ids.SecurityEvents(as(guard), identity.EventFilter{From: from, To: failed[0].At})
		must(t, err)
		var names []string
		for _, e := range within {
			names = append(names, e.Username)
		}
		if len(names) != 2 || !sameStrings(names, []string{"boris", "carl"}) {
			t.Errorf("events from %s to dora's: %v, want boris and carl", from, names)
		}
	})
}
