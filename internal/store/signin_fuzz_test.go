package store_test

import (
	"context"
	"encoding/base64"
	"flag"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

// fuzzing reports whether the test runs under go test -fuzz, rather than
// running the seed corpus in the normal suite.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

// fuzzDBs opens the databases a fuzz target runs on: SQLite always, and
// PostgreSQL too when the seed corpus runs in the normal suite (while
// fuzzing, each worker process would start its own cluster).
func fuzzDBs(f *testing.F) []*store.DB {
	f.Helper()
	cfgs := []store.Config{{DataDir: f.TempDir()}}
	if !fuzzing() {
		cfgs = append(cfgs, store.Config{DSN: testpg.DSN(f)})
	}
	var dbs []*store.DB
	for _, cfg := range cfgs {
		db, err := store.Open(context.Background(), cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { db.Close() })
		hash, err := identity.HashPassword(password)
		if err != nil {
			f.Fatal(err)
		}
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
		if err := db.Write(as(identity.System), "account.create", "", func(tx *store.Tx) error { return tx.CreateAccount(&acc, hash) }); err != nil {
			f.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// cheapHash is an argon2id hash of password with the least parameters: a
// well-formed hash that a fuzzer can afford to check thousands of times
// (coverage instrumentation makes argon2 many times slower).
func cheapHash(password string) string {
	salt := []byte("saltsalt")
	key := argon2.IDKey([]byte(password), salt, 1, 8, 1, 16)
	b64 := base64.RawStdEncoding
	return "$argon2id$v=19$m=8,t=1,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

// FuzzSignIn feeds the sign-in path arbitrary passwords and stored password
// hashes (so the hash parser sees anything a database could hold), and
// usernames: it never fails with an internal error, and it opens a session
// only for claire's username with a password her hash matches.
func FuzzSignIn(f *testing.F) {
	good, err := identity.HashPassword(password)
	if err != nil {
		f.Fatal(err)
	}
	cheap := cheapHash(password)
	for _, seed := range []struct{ user, pw, hash string }{
		{"claire", password, good},
		{"claire", password, cheap},
		{" claire ", password, cheap},
		{"claire", "wrong", cheap},
		{"CLAIRE", password, cheap},
		{"claire", "", ""},
		{"claire", password, "plaintext"},
		{"claire", password, "$argon2id$v=19$m=65536,t=3,p=2$$"},
		{"claire", password, "$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAA$AAAA"},
		{"nobody", password, cheap},
		{"", "", cheap},
		{"\x00", "\xff", cheap},
		{strings.Repeat("é", 300), password, cheap},
	} {
		f.Add(seed.user, seed.pw, seed.hash)
	}
	dbs := fuzzDBs(f)
	f.Fuzz(func(t *testing.T, username, pw, hash string) {
		// While fuzzing, a username other than claire's costs the check
		// of the dummy hash (64 MiB of argon2id) and teaches nothing new:
		// FuzzAPILogin feeds usernames.
		if fuzzing() && strings.TrimSpace(username) != "claire" {
			username = "claire"
		}
		stored := strings.ToValidUTF8(strings.ReplaceAll(hash, "\x00", ""), "")
		for _, db := range dbs {
			// The hash and the run of failures are set afresh, so that
			// earlier inputs neither lock the account nor change its hash.
			if err := db.ExecRaw(`UPDATE accounts SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE username = 'claire'`, stored); err != nil {
				t.Fatal(err)
			}
			tok, acc, err := db.Identity().Login(context.Background(), username, pw, "10.0.0.1")
			if err != nil {
				if code := errs.CodeOf(err); code != errs.Unauthorized {
					t.Fatalf("%s: Login(%q, %q) with hash %q: %v, want unauthorized", db.Dialect(), username, pw, stored, err)
				}
				if tok != "" || acc != nil {
					t.Fatalf("a refused sign-in returned a token or an account")
				}
				continue
			}
			if strings.TrimSpace(username) != "claire" || acc == nil || acc.Username != "claire" || tok == "" {
				t.Fatalf("%s: Login(%q) signed in as %+v", db.Dialect(), username, acc)
			}
			if !identity.CheckPassword(stored, pw) {
				t.Fatalf("%s: Login(%q, %q) opened a session with a password the hash %q does not match", db.Dialect(), username, pw, stored)
			}
		}
	})
}

// FuzzAuthenticate feeds the session lookup arbitrary tokens, session and
// machine ("gxm_") alike: none but the real one is a session, and none
// fails with an internal error.
func FuzzAuthenticate(f *testing.F) {
	dbs := fuzzDBs(f)
	var real []string
	for _, db := range dbs {
		tok, _, err := db.Identity().Login(context.Background(), "claire", password, "10.0.0.1")
		if err != nil {
			f.Fatal(err)
		}
		real = append(real, tok)
	}
	for _, seed := range append([]string{"", " ", "gxm_", "gxm_" + real[0], "gxm_\x00\xff", "Bearer " + real[0], real[0] + "x",
		strings.ToUpper(real[0]), strings.Repeat("A", 300), "\xff\xfe", "'; DROP TABLE sessions; --"}, real...) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for i, db := range dbs {
			a, err := db.Identity().Authenticate(context.Background(), token)
			if token == real[i] {
				if err != nil || a.Username != "claire" {
					t.Fatalf("%s: the real token: %+v, %v", db.Dialect(), a, err)
				}
				continue
			}
			if err == nil {
				t.Fatalf("%s: token %q authenticated as %+v", db.Dialect(), token, a)
			}
			if code := errs.CodeOf(err); code != errs.Unauthorized {
				t.Fatalf("%s: token %q: %v, want unauthorized", db.Dialect(), token, err)
			}
		}
	})
}
