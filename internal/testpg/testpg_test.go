package testpg_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"galenix/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestDSN(t *testing.T) {
	start := time.Now()
	dsn := testpg.DSN(t)
	t.Logf("first DSN took %v: %s", time.Since(start), dsn)

	ctx := context.Background()
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "CREATE TABLE items (id int PRIMARY KEY, name text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO items VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM items WHERE id = 1").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "one" {
		t.Fatalf("got %q, want %q", name, "one")
	}
}

func TestDSNDistinct(t *testing.T) {
	a, b := testpg.DSN(t), testpg.DSN(t)
	if a == b {
		t.Fatalf("two DSN calls gave the same DSN %s", a)
	}
	ctx := context.Background()
	ca, cb := connect(t, a), connect(t, b)
	var da, db string
	if err := ca.QueryRow(ctx, "SELECT current_database()").Scan(&da); err != nil {
		t.Fatal(err)
	}
	if err := cb.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if da == db {
		t.Fatalf("both DSNs point at database %s", da)
	}
	// A fresh database is empty: the table from another test must not exist.
	var n int
	if err := ca.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
}

func TestParallel(t *testing.T) {
	for i := 0; i < 8; i++ {
		t.Run("p", func(t *testing.T) {
			t.Parallel()
			conn := connect(t, testpg.DSN(t))
			if _, err := conn.Exec(context.Background(), "CREATE TABLE x (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDSNFrom: the template is filled once, each copy holds what the
// template held, is owned by the application role, and changes to one
// copy reach neither the other nor later copies.
func TestDSNFrom(t *testing.T) {
	ctx := context.Background()
	fills := 0
	fill := func(dsn string) error {
		fills++
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1)")
		return err
	}
	count := func(conn *pgx.Conn) (n int) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := connect(t, testpg.DSNFrom(t, "items", fill))
	if _, err := a.Exec(ctx, "INSERT INTO items VALUES (2)"); err != nil {
		t.Fatalf("the application role writes to its copy: %v", err)
	}
	b := connect(t, testpg.DSNFrom(t, "items", fill))
	if fills != 1 {
		t.Errorf("the template was filled %d times, want once", fills)
	}
	if got := count(a); got != 2 {
		t.Errorf("first copy: %d rows, want 2", got)
	}
	if got := count(b); got != 1 {
		t.Errorf("second copy: %d rows, want the template's 1 (a copy saw another's write)", got)
	}
	var owner string
	if err := b.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != "galenix" {
		t.Errorf("copy owned by %q, want galenix", owner)
	}
}
