package store_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/testpg"
)

// TestMain runs the suite against its own PostgreSQL. The suite signs
// with real argon2id keys from many parallel tests: under the race detector
// on a small machine one key takes seconds, and the process's hash queue
// (identity.HashWait, bounded at a few seconds for people) would answer
// "busy" to a test that checks something else. The queue's bounds are
// tested in identity.
func TestMain(m *testing.M) {
	identity.HashWait = 5 * time.Minute
	testpg.Main(m)
}

// now is the fixed clock of every test database.
var now = time.Date(2026, 3, 2, 7, 30, 15, 123456000, time.UTC)

// The actors of the tests.
var (
	alice = identity.Actor{UserID: "0195f1a2-0000-7000-8000-00000000a11c", Username: "alice", Name: "Alice Martin",
		Roles: []identity.Role{identity.RoleAdmin}, SessionID: "session-1", Address: "10.0.0.5"}
	bruno = identity.Actor{UserID: "0195f1a2-0000-7000-8000-0000000b2040", Username: "bruno", Name: "Bruno Petit",
		Roles: []identity.Role{identity.RoleOperator}}
	sofia = identity.Actor{UserID: "0195f1a2-0000-7000-8000-00000005011a", Username: "sofia", Name: "Sofia Roux",
		Roles: []identity.Role{identity.RoleSupervisor}}
)

// as returns a context carrying the actor.
func as(a identity.Actor) context.Context { return identity.WithActor(context.Background(), a) }

// database is one of the two databases the suite runs on.
type database struct {
	name string
	cfg  func(t *testing.T) store.Config
}

// Their databases are copies of one migrated database (storetest): the
// tests of migrating itself start from an empty one (empty).
var databases = []database{
	{"sqlite", func(t *testing.T) store.Config {
		return store.Config{DataDir: storetest.DataDir(t), SecretKey: testSecretKey, MasterKey: testMasterKey}
	}},
	{"postgres", func(t *testing.T) store.Config {
		return store.Config{DSN: storetest.DSN(t), SecretKey: testSecretKey, MasterKey: testMasterKey}
	}},
}

// empty returns the configuration of a database of d's kind with no schema
// yet, for the tests of migrating.
func (d database) empty(t *testing.T) store.Config {
	if d.name == "postgres" {
		return store.Config{DSN: testpg.DSN(t), SecretKey: testSecretKey}
	}
	return store.Config{DataDir: t.TempDir(), SecretKey: testSecretKey}
}

// testSecretKey is the key of the second-factor secrets of the test
// databases.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef")

// testMasterKey is the master key of documents of the test databases.
var testMasterKey = []byte("documents-master-key-0123456789a")

// forEachDB runs fn, in parallel, on a fresh SQLite database and on a fresh
// PostgreSQL database, each with its clock fixed at now.
func forEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, openDB(t, d.cfg(t)))
		})
	}
}

// openDB opens the database of cfg, fixes its clock at now and closes it
// when the test ends.
func openDB(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	db.Now = func() time.Time { return now }
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

// tables are the tables whose row counts a refused write must leave as they were.
var tables = []string{"sites", "buildings", "rooms", "lines", "equipment", "shifts", "teams", "people",
	"clients", "accounts", "sessions", "audit_log"}

// counts returns the number of rows of each table.
func counts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := make(map[string]int, len(tables))
	for _, tb := range tables {
		n, err := db.CountRows(tb)
		if err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

// sameCounts fails the test if a table's row count changed since before.
func sameCounts(t *testing.T, db *store.DB, before map[string]int) {
	t.Helper()
	after := counts(t, db)
	if maps.Equal(before, after) {
		return
	}
	for _, tb := range tables {
		if before[tb] != after[tb] {
			t.Errorf("rows in %s: got %d, want %d (a refused write changed the database)", tb, after[tb], before[tb])
		}
	}
}

// entries returns the audit entries of one entity after seq.
func entries(t *testing.T, db *store.DB, entity, id string, after int64) []audit.Entry {
	t.Helper()
	es, err := db.Audit().Entries(as(alice), audit.Filter{Entity: entity, EntityID: id, AfterSeq: after})
	if err != nil {
		t.Fatalf("audit entries of %s %s: %v", entity, id, err)
	}
	return es
}

// lastSeq returns the sequence of the newest audit entry, 0 if none.
func lastSeq(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var last int64
	for {
		es, err := db.Audit().Entries(as(alice), audit.Filter{AfterSeq: last})
		if err != nil {
			t.Fatalf("audit entries: %v", err)
		}
		if len(es) == 0 {
			return last
		}
		last = es[len(es)-1].Seq
	}
}

// leaks are words that betray an internal error in a message meant for a person.
var leaks = []string{"sql", "SQL", "constraint", "UNIQUE", "pgx", "SQLSTATE", "violates", "uuid", "<nil>", "%!"}

// wantErr checks err has the code and field wanted, and messages a person
// can read in English and in French.
func wantErr(t *testing.T, err error, code errs.Code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := errs.CodeOf(err); got != code {
		t.Errorf("code: got %s, want %s (%v)", got, code, err)
	}
	if got := errs.FieldOf(err); got != field {
		t.Errorf("field: got %q, want %q (%v)", got, field, err)
	}
	for _, lang := range []string{"en", "fr"} {
		msg := errs.MessageOf(err, lang)
		if msg == "" || !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
			t.Errorf("%s message %q: want a sentence", lang, msg)
		}
		for _, w := range leaks {
			if strings.Contains(msg, w) {
				t.Errorf("%s message %q leaks %q", lang, msg, w)
			}
		}
	}
	if errs.MessageOf(err, "fr") == errs.MessageOf(err, "en") {
		t.Errorf("French message is the English one: %q", errs.MessageOf(err, "en"))
	}
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
