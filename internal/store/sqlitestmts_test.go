package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// TestKeptStatements: SQLite's connections prepare each query text once and
// run it again; the same text run again while its rows are still open gets
// a statement of its own, and every answer stays right.
func TestKeptStatements(t *testing.T) {
	ctx := context.Background()
	c, err := newKeepingConnector("file:" + t.TempDir() + "/kept.db")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE n (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if _, err := db.Exec(`INSERT INTO n (v) VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT v FROM n WHERE v >= ? ORDER BY v`
	read := func(from int) []int {
		rows, err := db.QueryContext(ctx, q, from)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for range 3 {
		if got := read(2); !slices.Equal(got, []int{2, 3}) {
			t.Errorf("rows from 2: %v, want [2 3]", got)
		}
	}

	// On one connection: the statement is kept, and another run of the
	// same text while its rows are open is not disturbed.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outerRows, innerRows []int
	// A statement shared by mistake would restart the outer rows: the
	// loop stops after more rows than there are.
	for len(outerRows) < 10 && rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		outerRows = append(outerRows, v)
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+q+`)`, v).Scan(&n); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, q, 3)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var w int
			if err := inner.Scan(&w); err != nil {
				t.Fatal(err)
			}
			innerRows = append(innerRows, w)
		}
		inner.Close()
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(outerRows, []int{1, 2, 3}) || !slices.Equal(innerRows, []int{3, 3, 3}) {
		t.Errorf("outer rows %v (want [1 2 3]), inner rows %v (want [3 3 3])", outerRows, innerRows)
	}
	err = conn.Raw(func(dc any) error {
		k, ok := dc.(*keepingConn)
		if !ok {
			t.Fatalf("the connection is a %T, not one that keeps its statements", dc)
		}
		if s := k.kept[q]; s == nil || s.busy {
			t.Errorf("the query's statement is not kept, or still marked in use: %+v", s)
		}
		// CREATE, INSERT, the query and its count: each text once.
		if len(k.kept) != 4 {
			t.Errorf("%d statements kept for 4 texts", len(k.kept))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
