package store_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// guard is a member of the security role, who sees security events.
var guard = identity.Actor{UserID: "0195f1a2-0000-7000-8000-000000009a4d", Username: "guard", Name: "Gaston Garde",
	Roles: []identity.Role{identity.RoleSecurity}}

// clock is a test database's clock, moved by hand. The database reads it
// from its own goroutines too (the writer of the times sessions were
// seen), hence the lock.
type clock struct {
	mu sync.Mutex
	at time.Time
}

// newClock fixes the database's clock at now and returns it.
func newClock(db *store.DB) *clock {
	c := &clock{at: now}
	db.Now = c.now
	return c
}

// now is the clock's time.
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// set moves the clock to the time.
func (c *clock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// add moves the clock by d.
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// setPolicy stores the sign-in policy, as galenix setting up a site does.
func setPolicy(t *testing.T, db *store.DB, p identity.Policy) {
	t.Helper()
	must(t, db.Write(as(identity.System), "test.policy", "", func(tx *store.Tx) error { return tx.SetPolicy(p) }))
}

// signIn signs in and returns the token and the session's actor.
func signIn(t *testing.T, ids *store.IdentityStore, c identity.Credentials) (string, identity.Actor) {
	t.Helper()
	token, _, err := ids.SignIn(context.Background(), c)
	if err != nil {
		t.Fatalf("sign in %s: %v", c.Username, err)
	}
	a, err := ids.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("session of %s: %v", c.Username, err)
	}
	return token, a
}

// events lists the security events, as the security role sees them.
func events(t *testing.T, ids *store.IdentityStore) []identity.SecurityEvent {
	t.Helper()
	evs, err := ids.SecurityEvents(as(guard), identity.EventFilter{})
	must(t, err)
	return evs
}

func kinds(evs []identity.SecurityEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// TestLockout checks that five failed sign-ins in a row lock the account
// for fifteen minutes, each failure and the lock audited and raised as
// security events with the address; that a locked account answers as a
// wrong password does; and that a sign-in ends the run of failures.
func TestLockout(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		ctx := context.Background()
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		newAccount(t, db, &acc)
		// Claire's session on a tablet, open before the failures.
		token, _, err := ids.Login(ctx, "claire", password, "10.0.0.7")
		must(t, err)
		if _, err := ids.Authenticate(ctx, token); err != nil {
			t.Fatalf("claire's session: %v", err)
		}
		seq := lastSeq(t, db)

		var wrong error
		for i := 1; i <= 5; i++ {
			_, _, err := ids.Login(ctx, "claire", "not the password "+strconv.Itoa(i), "10.0.0.66")
			wantErr(t, err, errs.Unauthorized, "")
			wrong = err
		}

		t.Run("the lock ends the sessions", func(t *testing.T) {
			if _, err := ids.Authenticate(ctx, token); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("claire's session after the lock: %v, want ended", err)
			}
		})

		t.Run("audited", func(t *testing.T) {
			var got []string
			for _, e := range entries(t, db, "account", acc.ID, seq) {
				got = append(got, e.Command+" "+e.Field+" "+e.Old+"→"+e.New)
				if e.Address != "10.0.0.66" || e.ActorID != identity.System.UserID {
					t.Errorf("entry %d: actor %s address %q, want galenix itself from 10.0.0.66", e.Seq, e.ActorID, e.Address)
				}
			}
			var want []string
			for i := 1; i <= 5; i++ {
				want = append(want, "session.login_failed sign_in →wrong password",
					"session.login_failed failed_logins "+strconv.Itoa(i-1)+"→"+strconv.Itoa(i))
			}
			want = append(want, "account.locked locked_until →"+now.Add(15*time.Minute).Format(time.RFC3339),
				"account.locked failed_logins 5→0")
			if !slices.Equal(got, want) {
				t.Errorf("audit entries:\n got %q\nwant %q", got, want)
			}
		})

		t.Run("raised", func(t *testing.T) {
			evs := events(t, ids)
			if got, want := kinds(evs), []string{"account_locked", "login_failed", "login_failed", "login_failed", "login_failed", "login_failed"}; !slices.Equal(got, want) {
				t.Fatalf("security events %v, want %v", got, want)
			}
			for _, e := range evs {
				if e.Username != "claire" || e.AccountID != acc.ID || e.Address != "10.0.0.66" || e.AcknowledgedAt != nil {
					t.Errorf("event %+v: want claire's, from 10.0.0.66, not acknowledged", e)
				}
			}
			if !strings.Contains(evs[0].Detail, "after 5 failures") || evs[len(evs)-1].Detail != "1/5" {
				t.Errorf("details %q and %q", evs[0].Detail, evs[len(evs)-1].Detail)
			}
		})

		t.Run("locked answers as a wrong password", func(t *testing.T) {
			before := counts(t, db)
			c.add(15*time.Minute - time.Second)
			_, _, err := ids.Login(ctx, "claire", password, "10.0.0.9")
			wantErr(t, err, errs.Unauthorized, "")
			for _, lang := range []string{"en", "fr"} {
				if errs.MessageOf(err, lang) != errs.MessageOf(wrong, lang) {
					t.Errorf("locked: %q, want a wrong password's %q: the lock must not tell", errs.MessageOf(err, lang), errs.MessageOf(wrong, lang))
				}
			}
			if got := counts(t, db)["sessions"]; got != before["sessions"] {
				t.Errorf("a locked account opened a session")
			}
			if e := events(t, ids)[0]; e.Kind != identity.EventLoginLocked || !strings.Contains(e.Detail, "locked") || e.Address != "10.0.0.9" {
				t.Errorf("newest event %+v, want the attempt on the locked account", e)
			}
			es := entries(t, db, "account", acc.ID, lastSeq(t, db)-1)
			if len(es) != 1 || es[0].Command != "session.login_failed" || es[0].New != "account locked" {
				t.Errorf("the attempt is audited as %+v", es)
			}
		})

		t.Run("the lock as an administrator sees it", func(t *testing.T) {
			adm := db.Identity().Admin()
			l, err := adm.LockOf(as(alice), acc.ID)
			must(t, err)
			if l.Until == nil || !l.Until.Equal(now.Add(15*time.Minute)) {
				t.Errorf("lock %+v, want until %s", l, now.Add(15*time.Minute))
			}
			_, err = adm.LockOf(as(bruno), acc.ID)
			if err == nil {
				t.Error("the operator read an account's lock")
			}
			// Unlocking needs who asked and how they were recognised.
			before := counts(t, db)
			wantErr(t, adm.Unlock(as(alice), acc.ID, "  "), errs.Invalid, "reason")
			sameCounts(t, db, before)
			if l, _ := adm.LockOf(as(alice), acc.ID); l.Until == nil {
				t.Error("a refused unlock ended the lock")
			}
		})

		t.Run("unlocked after the lock", func(t *testing.T) {
			c.set(now.Add(15 * time.Minute))
			s := lastSeq(t, db)
			if _, _, err := ids.Login(ctx, "claire", password, "10.0.0.9"); err != nil {
				t.Fatalf("after 15 minutes: %v", err)
			}
			es := entries(t, db, "account", acc.ID, s)
			if len(es) != 1 || es[0].Field != "locked_until" || es[0].New != "" || es[0].Command != "session.open" {
				t.Errorf("the end of the lock is audited as %+v", es)
			}
		})

		t.Run("a sign-in ends the run of failures", func(t *testing.T) {
			for round := 0; round < 2; round++ {
				for i := 0; i < 4; i++ {
					_, _, err := ids.Login(ctx, "claire", "wrong", "10.0.0.66")
					wantErr(t, err, errs.Unauthorized, "")
				}
				if _, _, err := ids.Login(ctx, "claire", password, "10.0.0.9"); err != nil {
					t.Fatalf("round %d: four failures then the right password: %v", round, err)
				}
			}
		})

		t.Run("configurable", func(t *testing.T) {
			p := identity.DefaultPolicy()
			p.LockAfter, p.LockFor = 3, time.Hour
			setPolicy(t, db, p)
			for i := 0; i < 3; i++ {
				_, _, _ = ids.Login(ctx, "claire", "wrong", "10.0.0.66")
			}
			c.add(59 * time.Minute)
			_, _, err := ids.Login(ctx, "claire", password, "10.0.0.9")
			wantErr(t, err, errs.Unauthorized, "")
			c.add(time.Minute)
			if _, _, err := ids.Login(ctx, "claire", password, "10.0.0.9"); err != nil {
				t.Fatalf("after the hour: %v", err)
			}
		})
	})
}

// TestUnknownUser checks that a username no account has raises a security
// event without an account, and that the audit trail keeps no such name.
func TestUnknownUser(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ids := db.Identity()
		seq := lastSeq(t, db)
		for _, u := range []string{"nobody", "\x00bad\xff", strings.Repeat("x", 300)} {
			_, _, err := ids.Login(context.Background(), u, password, "10.0.0.66")
			wantErr(t, err, errs.Unauthorized, "")
		}
		evs := events(t, ids)
		if got := kinds(evs); !slices.Equal(got, []string{"unknown_user", "unknown_user", "unknown_user"}) {
			t.Fatalf("events %v", got)
		}
		var names []string
		for _, e := range evs {
			names = append(names, e.Username)
			if e.AccountID != "" || e.Address != "10.0.0.66" {
				t.Errorf("event %+v: want no account, address 10.0.0.66", e)
			}
		}
		if !slices.Contains(names, "nobody") || !slices.Contains(names, "\uFFFDbad\uFFFD") {
			t.Errorf("usernames %q: want them as given, made printable", names)
		}
		es, err := db.Audit().Entries(as(alice), audit.Filter{AfterSeq: seq})
		must(t, err)
		if len(es) != 3 {
			t.Fatalf("%d audit entries, want one per attempt", len(es))
		}
		for _, e := range es {
			if e.Command != "session.login_failed" || e.EntityID != "" || strings.Contains(e.New, "nobody") {
				t.Errorf("entry %+v", e)
			}
		}
	})
}

// TestSetPassword checks the password policy as the store applies it:
// length, common passwords, the username, and the last five passwords, the
// sixth-oldest being allowed again; and that a refused password writes
// nothing.
func TestSetPassword(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		hash := newAccount(t, db, &acc)
		pol := identity.DefaultPolicy()
		set := func(pw string) error {
			c.add(time.Minute)
			return db.Write(as(alice), "account.password.reset", "forgotten", func(tx *store.Tx) error { return tx.SetPassword(acc.ID, pw, pol) })
		}
		history := func() int {
			n, err := db.CountRows("password_history")
			must(t, err)
			return n
		}

		for _, tt := range []struct{ name, password string }{
			{"too short", "Tr0mbone!"},
			{"eleven characters", "abcdefgh-jk"},
			{"common", "motdepasse123"},
			{"common, other case", "AZERTYUIOP123"},
			{"common French word with a year", "Soleil2024!!!"},
			{"common with digits", "marseille13000"},
			{"repeated", "chatchatchat"},
			{"sequence", "123456789012"},
			{"contains the username", "le-mot-de-Claire-2026"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before, h := counts(t, db), history()
				wantErr(t, set(tt.password), errs.Invalid, "password")
				sameCounts(t, db, before)
				if history() != h {
					t.Error("a refused password entered the history")
				}
			})
		}

		t.Run("history", func(t *testing.T) {
			pws := []string{"velo-rouge-sur-le-pont", "nuage-gris-et-tortue", "piano-bleu-du-grenier", "orage-sur-la-colline", "carafe-de-lait-froid"}
			for _, pw := range pws {
				must(t, set(pw))
			}
			// The last five passwords used are refused, the current one
			// too; the sixth-oldest (the first) is allowed again.
			for _, pw := range pws {
				before := counts(t, db)
				wantErr(t, set(pw), errs.Invalid, "password")
				sameCounts(t, db, before)
			}
			must(t, set(password))
		})

		t.Run("audited without the password", func(t *testing.T) {
			var n int
			for _, e := range entries(t, db, "account", acc.ID, 0) {
				if e.Field == "password" {
					n++
					if e.Old != "***" || e.New != "***" || e.Command != "account.password.reset" || e.Reason != "forgotten" {
						t.Errorf("entry %+v", e)
					}
				}
				if strings.Contains(e.New+e.Old, "argon2") || strings.Contains(e.New+e.Old, hash) {
					t.Errorf("entry %d holds a hash", e.Seq)
				}
			}
			if n != 6 {
				t.Errorf("%d password changes audited, want 6", n)
			}
		})

		t.Run("other sessions end", func(t *testing.T) {
			tok, _ := signIn(t, db.Identity(), identity.Credentials{Username: "claire", Password: password})
			must(t, set("une-toute-autre-phrase"))
			_, err := db.Identity().Authenticate(context.Background(), tok)
			wantErr(t, err, errs.Unauthorized, "")
		})

		t.Run("directory account", func(t *testing.T) {
			dir := identity.Account{Username: "dora", Name: "Dora Annuaire", Roles: []identity.Role{identity.RoleLab}, Source: store.SourceLDAP}
			newAccount(t, db, &dir)
			err := db.Write(as(alice), "account.password.reset", "x", func(tx *store.Tx) error { return tx.SetPassword(dir.ID, "une-phrase-assez-longue", pol) })
			wantErr(t, err, errs.Invalid, "password")
		})

		t.Run("no such account", func(t *testing.T) {
			for _, id := range []string{"not-a-uuid", "0195f1a2-0000-7000-8000-0000000000ff"} {
				err := db.Write(as(alice), "account.password.reset", "x", func(tx *store.Tx) error { return tx.SetPassword(id, "une-phrase-assez-longue", pol) })
				wantErr(t, err, errs.NotFound, "")
			}
		})
	})
}

// TestChangePassword checks the self-service change: the current password
// is asked for, a wrong one counts as a failed sign-in, the new one meets
// the policy, and the person's other sessions end while this one goes on.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newClock(db)
		ids := db.Identity()
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		newAccount(t, db, &acc)
		creds := identity.Credentials{Username: "claire", Password: password, Address: "10.0.0.9"}
		tok, me := signIn(t, ids, creds)
		other, _ := signIn(t, ids, creds)
		ctx := identity.WithActor(context.Background(), me)

		wantErr(t, ids.ChangePassword(ctx, "wrong", "une-phrase-assez-longue"), errs.Invalid, "current")
		if e := events(t, ids)[0]; e.Kind != identity.EventLoginFailed || e.Detail != "1/5" {
			t.Errorf("a wrong current password raised %+v, want a counted failure", e)
		}
		wantErr(t, ids.ChangePassword(ctx, password, "court"), errs.Invalid, "new")
		wantErr(t, ids.ChangePassword(ctx, password, password), errs.Invalid, "new")
		wantErr(t, ids.ChangePassword(context.Background(), password, "une-phrase-assez-longue"), errs.Unauthorized, "")

		must(t, ids.ChangePassword(ctx, password, "une-phrase-assez-longue"))
		if _, err := ids.Authenticate(context.Background(), tok); err != nil {
			t.Errorf("the session that changed the password ended: %v", err)
		}
		_, err := ids.Authenticate(context.Background(), other)
		wantErr(t, err, errs.Unauthorized, "")
		_, _, err = ids.Login(context.Background(), "claire", password, "10.0.0.9")
		wantErr(t, err, errs.Unauthorized, "")
		signIn(t, ids, identity.Credentials{Username: "claire", Password: "une-phrase-assez-longue"})
	})
}

// TestPasswordExpiry checks that an expired password still signs in, to a
// session good only for changing it, and that changing it ends that.
func TestPasswordExpiry(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		p := identity.DefaultPolicy()
		p.MaxAge = 90 * 24 * time.Hour
		setPolicy(t, db, p)
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		newAccount(t, db, &acc)
		dir := identity.Account{Username: "dora", Name: "Dora Annuaire", Roles: []identity.Role{identity.RoleLab}, Source: store.SourceLDAP}
		newAccount(t, db, &dir)

		c.add(90*24*time.Hour - time.Minute)
		if _, a := signIn(t, ids, identity.Credentials{Username: "claire", Password: password}); a.Pending != "" {
			t.Errorf("a day before expiry: pending %q", a.Pending)
		}
		c.add(time.Minute)
		tok, a := signIn(t, ids, identity.Credentials{Username: "claire", Password: password})
		if a.Pending != identity.PendingPassword {
			t.Fatalf("expired: pending %q, want %q", a.Pending, identity.PendingPassword)
		}
		if _, d := signIn(t, ids, identity.Credentials{Username: "dora", Password: password}); d.Pending != "" {
			t.Errorf("a directory account's password expires with the directory, not here: pending %q", d.Pending)
		}
		must(t, ids.ChangePassword(identity.WithActor(context.Background(), a), password, "une-phrase-assez-longue"))
		a, err := ids.Authenticate(context.Background(), tok)
		must(t, err)
		if a.Pending != "" {
			t.Errorf("after the change: pending %q", a.Pending)
		}
		my, err := ids.MyAccount(identity.WithActor(context.Background(), a))
		must(t, err)
		if !my.PasswordChangedAt.Equal(c.now()) || !my.PasswordExpiresAt.Equal(c.now().Add(p.MaxAge)) {
			t.Errorf("my account: changed %v expires %v", my.PasswordChangedAt, my.PasswordExpiresAt)
		}
	})
}

// TestDummyHashParameters: the hash an unknown username is checked against
// has the parameters of the hashes galenix makes, so that it costs what a
// wrong password costs and the time of an answer does not tell whether a
// username exists.
func TestDummyHashParameters(t *testing.T) {
	h, err := identity.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if got, want := params(store.DummyHash), params(h); got != want {
		t.Errorf("the unknown username's hash has parameters %q, the hashes galenix makes %q", got, want)
	}
	if identity.CheckPassword(store.DummyHash, password) {
		t.Error("the unknown username's hash matches a password an account may have")
	}
}
