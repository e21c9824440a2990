package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// sqlArg is the placeholder of the database's n-th argument.
func sqlArg(db *store.DB, n int) string {
	if db.Dialect() == store.Postgres {
		return "$" + string(rune('0'+n))
	}
	return "?"
}

// storedSecret is an account's totp_secret column as the database holds it.
func storedSecret(t *testing.T, db *store.DB, accountID string) string {
	t.Helper()
	var s string
	if err := db.SQL().QueryRow(`SELECT totp_secret FROM accounts WHERE id = `+sqlArg(db, 1), accountID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// setStoredSecret writes an account's second factor behind the store's
// back, as an older galenix (or someone with the database) would.
func setStoredSecret(t *testing.T, db *store.DB, accountID, stored string) {
	t.Helper()
	if _, err := db.WriteSQL().Exec(`UPDATE accounts SET totp_secret = `+sqlArg(db, 1)+`, totp_enabled = true WHERE id = `+sqlArg(db, 2), stored, accountID); err != nil {
		t.Fatal(err)
	}
}

// enrolled makes an account with a confirmed second factor and returns it,
// its credentials and its secret; the clock then stands a step past the
// confirmation's code.
func enrolled(t *testing.T, db *store.DB, c *clock, username string) (identity.Account, identity.Credentials, string) {
	t.Helper()
	ids := db.Identity()
	acc := identity.Account{Username: username, Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
	newAccount(t, db, &acc)
	creds := identity.Credentials{Username: username, Password: password, Address: "10.0.0.9"}
	_, me := signIn(t, ids, creds)
	ctx := identity.WithActor(context.Background(), me)
	en, err := ids.EnrollTOTP(ctx)
	must(t, err)
	code, err := identity.TOTPCode(en.Secret, c.now())
	must(t, err)
	must(t, ids.ConfirmTOTP(ctx, code))
	c.add(30 * time.Second)
	return acc, creds, en.Secret
}

// withCode is the credentials with the secret's code at the time.
func withCode(t *testing.T, creds identity.Credentials, secret string, at time.Time) identity.Credentials {
	t.Helper()
	code, err := identity.TOTPCode(secret, at)
	must(t, err)
	creds.TOTP = code
	return creds
}

// wantKeyError checks that err is the refusal of a secret that does not
// open: the server cannot check, and says that its key is missing or wrong.
func wantKeyError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want the key of second-factor secrets refused")
	}
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(errs.MessageOf(err, "en"), "key for second-factor secrets") {
		t.Errorf("got %v (%q), want the key error", err, errs.MessageOf(err, "en"))
	}
}

// TestTOTPSecretEncrypted checks that the database holds the second-factor
// secret encrypted ("v1:", AES-256-GCM under a key kept outside it, bound
// to the account): never the secret; that a database opened with another
// key, or with none, fails closed with an error that says so and accepts no
// code; and that a sealed secret copied onto another account's row does
// not open.
func TestTOTPSecretEncrypted(t *testing.T) {
	t.Parallel()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			db := openDB(t, cfg)
			c := newClock(db)
			acc, creds, secret := enrolled(t, db, c, "claire")
			stored := storedSecret(t, db, acc.ID)
			if !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, secret) || strings.Contains(strings.ToUpper(stored), secret[:16]) {
				t.Fatalf("stored %q for the secret %q: want it encrypted", stored, secret)
			}
			if sealed, err := db.SecretKeyState(context.Background()); !sealed || err != nil {
				t.Errorf("key state: sealed %v, %v; want sealed and opened", sealed, err)
			}
			signIn(t, db.Identity(), withCode(t, creds, secret, c.now()))

			// Another account's row given claire's sealed secret: it does
			// not open there, so claire's codes do not sign its owner in.
			other := identity.Account{Username: "bruno", Name: "Bruno Petit", Roles: []identity.Role{identity.RoleOperator}}
			newAccount(t, db, &other)
			setStoredSecret(t, db, other.ID, stored)
			c.add(30 * time.Second)
			_, _, err := db.Identity().SignIn(context.Background(), withCode(t, identity.Credentials{Username: "bruno", Password: password}, secret, c.now()))
			wantKeyError(t, err)

			for name, key := range map[string][]byte{"another key": []byte("fedcba9876543210fedcba9876543210"), "no key": nil} {
				t.Run(name, func(t *testing.T) {
					other := cfg
					other.SecretKey = key
					odb := openDB(t, other)
					odb.Now = c.now
					if sealed, err := odb.SecretKeyState(context.Background()); !sealed || err == nil {
						t.Errorf("key state: sealed %v, %v; want the key refused", sealed, err)
					}
					before := counts(t, odb)
					for _, at := range []time.Time{c.now(), c.now().Add(30 * time.Second)} {
						tok, _, err := odb.Identity().SignIn(context.Background(), withCode(t, creds, secret, at))
						if tok != "" {
							t.Fatal("signed in with a secret that did not open")
						}
						wantKeyError(t, err)
					}
					sameCounts(t, odb, before)
					// The stored secret is left as it was: the right key
					// still opens it.
					if got := storedSecret(t, odb, acc.ID); got != stored {
						t.Errorf("stored secret changed to %q", got)
					}
				})
			}
			c.add(time.Minute)
			signIn(t, db.Identity(), withCode(t, creds, secret, c.now()))
		})
	}
}

// TestTOTPClearSecretSealed checks the secrets an older galenix kept in
// clear: without a key they still check codes; opened with a key, the
// database seals them in one audited step ("account.totp.seal") and the
// codes still sign in.
func TestTOTPClearSecretSealed(t *testing.T) {
	t.Parallel()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			keyed := cfg
			cfg.SecretKey = nil
			db := openDB(t, cfg)
			c := newClock(db)
			acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
			newAccount(t, db, &acc)
			en, err := identity.NewTOTP("claire")
			must(t, err)
			setStoredSecret(t, db, acc.ID, en.Secret)
			creds := identity.Credentials{Username: "claire", Password: password}
			_, _, err = db.Identity().SignIn(context.Background(), creds)
			wantErr(t, err, errs.Unauthorized, "totp")
			signIn(t, db.Identity(), withCode(t, creds, en.Secret, c.now()))
			seq := lastSeqAll(t, db)

			sealedDB := openDB(t, keyed)
			sealedDB.Now = c.now
			stored := storedSecret(t, sealedDB, acc.ID)
			if !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, en.Secret) {
				t.Fatalf("after opening with a key the row holds %q, want it sealed", stored)
			}
			es := entries(t, sealedDB, "account", acc.ID, seq)
			if len(es) != 1 || es[0].Command != "account.totp.seal" || es[0].Field != "totp_secret" || strings.Contains(es[0].Old+es[0].New, en.Secret) {
				t.Errorf("sealing audited as %+v", es)
			}
			// Opening again seals nothing more.
			openDB(t, keyed)
			if es := entries(t, sealedDB, "account", acc.ID, seq); len(es) != 1 {
				t.Errorf("%d entries after a second opening, want 1", len(es))
			}
			c.add(30 * time.Second)
			signIn(t, sealedDB.Identity(), withCode(t, creds, en.Secret, c.now()))
		})
	}
}

// TestTOTPCodeUsedOnce checks that a second-factor code is accepted once
// (RFC 6238 §5.2): the code of the confirmation, a code that signed in, and
// the code of an earlier step still within the clock drift are refused
// with an error that says so, counted as a failure; the next step's code
// signs in. A reset of the second factor starts again from no code used.
func TestTOTPCodeUsedOnce(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		acc, creds, secret := enrolled(t, db, c, "claire")
		used := func(at time.Time) {
			t.Helper()
			tok, _, err := ids.SignIn(context.Background(), withCode(t, creds, secret, at))
			if tok != "" {
				t.Fatal("a code used already signed in")
			}
			wantErr(t, err, errs.Unauthorized, "totp")
			if msg := errs.MessageOf(err, "fr"); !strings.Contains(msg, "Ce code a déjà été utilisé") {
				t.Errorf("message %q", msg)
			}
		}
		used(c.now().Add(-30 * time.Second)) // the confirmation's
		signIn(t, ids, withCode(t, creds, secret, c.now()))
		used(c.now())
		if e := events(t, ids)[0]; e.Kind != identity.EventTOTPFailed || e.Detail != "1/5" {
			t.Errorf("newest event %+v, want a second-factor failure, the first in a row", e)
		}
		c.add(30 * time.Second)
		used(c.now().Add(-30 * time.Second))
		signIn(t, ids, withCode(t, creds, secret, c.now().Add(30*time.Second))) // the next step, within the drift
		used(c.now())                                                           // an earlier step than the last used

		// The confirmation of a new second factor after a reset is not
		// refused by the old one's last step.
		must(t, db.Write(as(alice), "account.totp.reset", "lost phone", func(tx *store.Tx) error { return tx.ResetTOTP(acc.ID) }))
		_, me := signIn(t, ids, identity.Credentials{Username: "claire", Password: password})
		ctx := identity.WithActor(context.Background(), me)
		en, err := ids.EnrollTOTP(ctx)
		must(t, err)
		code, err := identity.TOTPCode(en.Secret, c.now().Add(-30*time.Second))
		must(t, err)
		must(t, ids.ConfirmTOTP(ctx, code))
		wantErr(t, ids.ConfirmTOTP(ctx, code), errs.Conflict, "")
		used2 := withCode(t, creds, en.Secret, c.now().Add(-30*time.Second))
		_, _, err = ids.SignIn(context.Background(), used2)
		wantErr(t, err, errs.Unauthorized, "totp")
		signIn(t, ids, withCode(t, creds, en.Secret, c.now()))
	})
}

// TestTOTPConcurrentSignIns: two sign-ins at once with the same code, its
// first use: one opens a session, the other is refused as a code used
// already, on both databases (the check and its record are one statement
// of the transaction that opens the session).
func TestTOTPConcurrentSignIns(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		_, creds, secret := enrolled(t, db, c, "claire")
		for round := range 2 { // 2 refusals a round: under the lock after 5
			with := withCode(t, creds, secret, c.now())
			var wg sync.WaitGroup
			toks := make([]string, 3)
			errv := make([]error, len(toks))
			for i := range toks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					toks[i], _, errv[i] = ids.SignIn(context.Background(), with)
				}()
			}
			wg.Wait()
			won := 0
			for i, tok := range toks {
				switch {
				case tok != "":
					won++
				case errs.CodeOf(errv[i]) != errs.Unauthorized || errs.FieldOf(errv[i]) != "totp" ||
					!strings.Contains(errs.MessageOf(errv[i], "en"), "used already"):
					t.Errorf("round %d: sign-in %d: %v, want a code used already", round, i, errv[i])
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d sign-ins with one code, want 1", round, won)
			}
			c.add(30 * time.Second)
		}
	})
}

// TestTOTPResetLostKey: for a site whose key of second-factor secrets is
// lost, the second factors sealed with it are removed, in one audited
// transaction with its reason; the people sign in without a code and set
// theirs up again; a factor the key opens is kept. No reason, no change.
func TestTOTPResetLostKey(t *testing.T) {
	t.Parallel()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.cfg(t)
			db := openDB(t, cfg)
			c := newClock(db)
			lost, creds, _ := enrolled(t, db, c, "claire")

			newKey := cfg
			newKey.SecretKey = []byte("fedcba9876543210fedcba9876543210")
			ndb := openDB(t, newKey)
			ndb.Now = c.now
			kept, keptCreds, keptSecret := enrolled(t, ndb, c, "bruno")

			before := counts(t, ndb)
			_, err := ndb.ResetLostTOTP(as(alice), " ")
			wantErr(t, err, errs.Invalid, "reason")
			sameCounts(t, ndb, before)

			seq := lastSeqAll(t, ndb)
			n, err := ndb.ResetLostTOTP(as(alice), "key of second-factor secrets lost")
			must(t, err)
			if n != 1 {
				t.Errorf("%d second factors removed, want 1", n)
			}
			es := entries(t, ndb, "account", lost.ID, seq)
			if len(es) != 2 || es[0].Command != "account.totp.reset" || es[0].Reason != "key of second-factor secrets lost" {
				t.Errorf("removal audited as %+v", es)
			}
			if es := entries(t, ndb, "account", kept.ID, seq); len(es) != 0 {
				t.Errorf("the factor the key opens was touched: %+v", es)
			}
			if sealed, err := ndb.SecretKeyState(context.Background()); err != nil || !sealed {
				t.Errorf("key state after the removal: %v %v", sealed, err)
			}
			if _, a := signIn(t, ndb.Identity(), creds); a.UserID != lost.ID {
				t.Errorf("signed in as %+v", a)
			}
			_, _, err = ndb.Identity().SignIn(context.Background(), keptCreds)
			wantErr(t, err, errs.Unauthorized, "totp")
			signIn(t, ndb.Identity(), withCode(t, keptCreds, keptSecret, c.now()))
		})
	}
}
