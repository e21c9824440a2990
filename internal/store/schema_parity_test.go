package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"galenix/internal/store"
	"galenix/internal/testpg"
)

// schema is what the parity test compares of a database: the shape the
// store's queries rely on, in terms both dialects share.
type schema struct {
	// columns: table → column → "family, null|not null".
	columns map[string]map[string]string
	// keys: table → its primary key, foreign keys and indexes, each
	// written as one line ("pk (a, b)", "fk (a) → t (b) on delete
	// cascade", "unique index (a, b)", "index (a) partial").
	keys map[string][]string
}

// TestSchemaParity: the SQLite and PostgreSQL migrations, written by hand
// side by side, make the same tables, with the same columns (name,
// nullability, type family), primary keys, foreign keys and indexes
// (unique or not, partial or not). What differs on purpose between the
// dialects is listed below, each with why; and not compared at all:
//   - PostgreSQL's row-level security policies (and 00009, which only
//     rewrites them): SQLite has none, the query filter is its only wall;
//   - triggers and functions: each dialect refuses an audit UPDATE or
//     DELETE in its own language (SQLite's RAISE, PL/pgSQL), and the
//     store's tests check what they refuse on both databases;
//   - defaults and CHECK constraints, spelled differently in each dialect;
//   - PostgreSQL's partitions of a partitioned table (the readings of
//     environmental monitoring, by month): their parent is compared.
func TestSchemaParity(t *testing.T) {
	lite := openDB(t, store.Config{DataDir: t.TempDir()})
	pg := openDB(t, store.Config{DSN: testpg.DSN(t)})
	ctx := context.Background()
	ls, err := sqliteSchema(ctx, lite.SQL())
	if err != nil {
		t.Fatalf("sqlite: %v", err)
	}
	ps, err := postgresSchema(ctx, pg.SQL())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	for _, s := range []schema{ls, ps} {
		// goose's own table: each dialect's goose makes it its own way.
		delete(s.columns, "goose_db_version")
		delete(s.keys, "goose_db_version")
	}
	// The introspection itself: queries that read nothing would compare
	// empty with empty.
	for name, s := range map[string]schema{"SQLite": ls, "PostgreSQL": ps} {
		for _, want := range []string{"pk (id)", "unique index (lot)", "index (line_id, start_at)", "fk (line_id) → lines (id) on delete no action"} {
			if !slices.Contains(s.keys["batches"], want) {
				t.Fatalf("%s: batches' %q not found in %v", name, want, s.keys["batches"])
			}
		}
	}
	if len(ls.columns) == 0 {
		t.Fatal("no table found in the SQLite database")
	}
	for _, table := range sortedKeys(ls.columns, ps.columns) {
		lc, lok := ls.columns[table]
		pc, pok := ps.columns[table]
		switch {
		case !pok:
			t.Errorf("table %s is in SQLite only", table)
			continue
		case !lok:
			t.Errorf("table %s is in PostgreSQL only", table)
			continue
		}
		for _, col := range sortedKeys(lc, pc) {
			l, lok := lc[col]
			p, pok := pc[col]
			switch {
			case !pok:
				t.Errorf("%s.%s is in SQLite only", table, col)
			case !lok:
				t.Errorf("%s.%s is in PostgreSQL only", table, col)
			case l != p && !(sqliteIntegerBooleans[table+"."+col] &&
				strings.Replace(l, "integer", "boolean", 1) == p):
				t.Errorf("%s.%s: SQLite %s, PostgreSQL %s", table, col, l, p)
			}
		}
		lk, pk := ls.keys[table], ps.keys[table]
		for _, k := range lk {
			if !slices.Contains(pk, k) {
				t.Errorf("%s: %s is in SQLite only", table, k)
			}
		}
		for _, k := range pk {
			if !slices.Contains(lk, k) {
				t.Errorf("%s: %s is in PostgreSQL only", table, k)
			}
		}
	}
}

// sqliteIntegerBooleans are the boolean columns that released SQLite
// migrations declare INTEGER where PostgreSQL's declare BOOLEAN. SQLite has
// no boolean type: whatever the declaration, it stores 0 or 1 and the
// driver scans it into a bool, so these are the same column; a rebuild of
// their tables only to rename the declared type is not worth its risk.
// Later migrations declare BOOLEAN in SQLite too (products.sterile and
// batch_steps.exception, 00008), and this list is not to grow.
var sqliteIntegerBooleans = map[string]bool{
	"lines.sterile":             true, // 00001
	"accounts.active":           true, // 00001
	"accounts.totp_enabled":     true, // 00003
	"idempotency_keys.withheld": true, // 00013
}

// sortedKeys returns the keys of a and b, sorted, once each.
func sortedKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// typeFamily reduces a column type of either dialect to the family the
// store's code sees through database/sql.
func typeFamily(declared string) string {
	t := strings.ToLower(strings.TrimSpace(declared))
	switch {
	case t == "uuid": // PostgreSQL's uuid is SQLite's TEXT: the store reads and writes strings
		return "text"
	case t == "boolean":
		return "boolean"
	case t == "date":
		return "date"
	case strings.HasPrefix(t, "timestamp"), t == "datetime":
		return "timestamp"
	case strings.Contains(t, "json"):
		return "json"
	case strings.Contains(t, "int"):
		return "integer"
	case strings.Contains(t, "char"), strings.Contains(t, "text"), strings.Contains(t, "clob"):
		return "text"
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "floa"):
		return "real"
	case t == "numeric" || strings.HasPrefix(t, "decimal"):
		return "numeric"
	case t == "blob", t == "bytea", t == "":
		return "blob"
	}
	return "unknown " + t
}

// nullability writes a column's nullability.
func nullability(notNull bool) string {
	if notNull {
		return "not null"
	}
	return "null"
}

// identifier matches an index key that is a plain column, not an
// expression.
var identifier = regexp.MustCompile(`^"?[a-z_][a-z0-9_]*"?$`)

// indexLine writes an index as the parity test compares it. Names are left
// out: only what they enforce and serve matters. An expression key is
// written "expr": the dialects spell the same expression differently.
func indexLine(unique, partial bool, cols []string) string {
	for i, c := range cols {
		if !identifier.MatchString(c) {
			cols[i] = "expr"
		} else {
			cols[i] = strings.Trim(c, `"`)
		}
	}
	s := "index (" + strings.Join(cols, ", ") + ")"
	if unique {
		s = "unique " + s
	}
	if partial {
		s += " partial"
	}
	return s
}

// sqliteSchema reads the schema of a SQLite database.
func sqliteSchema(ctx context.Context, db *sql.DB) (schema, error) {
	s := schema{columns: map[string]map[string]string{}, keys: map[string][]string{}}
	tables, err := strings1(ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return s, err
	}
	for _, table := range tables {
		cols := map[string]string{}
		pk := map[int]string{}
		err := each(ctx, db, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, []any{table}, func(r *sql.Rows) error {
			var name, typ string
			var notNull bool
			var pos int
			if err := r.Scan(&name, &typ, &notNull, &pos); err != nil {
				return err
			}
			if pos > 0 {
				pk[pos] = name
				// SQLite lets a primary key column that is not an INTEGER
				// PRIMARY KEY hold NULL (a compatibility quirk it keeps);
				// PostgreSQL's are NOT NULL. The store never writes a
				// NULL key, so both count as not null.
				notNull = true
			}
			cols[name] = typeFamily(typ) + ", " + nullability(notNull)
			return nil
		})
		if err != nil {
			return s, fmt.Errorf("columns of %s: %w", table, err)
		}
		s.columns[table] = cols
		var keys []string
		if len(pk) > 0 {
			names := make([]string, len(pk))
			for i := range names {
				names[i] = pk[i+1]
			}
			keys = append(keys, "pk ("+strings.Join(names, ", ")+")")
		}

		// Foreign keys: one line per constraint (id), its columns in order.
		type fk struct {
			to, onDelete string
			from, cols   []string
		}
		fks := map[int]*fk{}
		err = each(ctx, db, `SELECT id, "table", "from", coalesce("to", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, []any{table},
			func(r *sql.Rows) error {
				var id int
				var to, from, col, onDelete string
				if err := r.Scan(&id, &to, &from, &col, &onDelete); err != nil {
					return err
				}
				f := fks[id]
				if f == nil {
					f = &fk{to: to, onDelete: strings.ToLower(onDelete)}
					fks[id] = f
				}
				f.from = append(f.from, from)
				f.cols = append(f.cols, col)
				return nil
			})
		if err != nil {
			return s, fmt.Errorf("foreign keys of %s: %w", table, err)
		}
		for _, f := range fks {
			if slices.Contains(f.cols, "") {
				// REFERENCES t without columns: t's primary key.
				refPK, err := strings1(ctx, db, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, f.to)
				if err != nil {
					return s, err
				}
				f.cols = refPK
			}
			keys = append(keys, fkLine(f.from, f.to, f.cols, f.onDelete))
		}

		// Indexes, but the primary key's (compared as the pk above).
		type index struct {
			name            string
			unique, partial bool
		}
		var indexes []index
		err = each(ctx, db, `SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin <> 'pk'`, []any{table}, func(r *sql.Rows) error {
			var ix index
			if err := r.Scan(&ix.name, &ix.unique, &ix.partial); err != nil {
				return err
			}
			indexes = append(indexes, ix)
			return nil
		})
		if err != nil {
			return s, fmt.Errorf("indexes of %s: %w", table, err)
		}
		for _, ix := range indexes {
			cols, err := strings1(ctx, db, `SELECT coalesce(name, '(expr)') FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, ix.name)
			if err != nil {
				return s, err
			}
			keys = append(keys, indexLine(ix.unique, ix.partial, cols))
		}
		slices.Sort(keys)
		s.keys[table] = keys
	}
	return s, nil
}

// fkLine writes a foreign key as the parity test compares it.
func fkLine(from []string, to string, cols []string, onDelete string) string {
	return "fk (" + strings.Join(from, ", ") + ") → " + to + " (" + strings.Join(cols, ", ") + ") on delete " + onDelete
}

// postgresSchema reads the schema of the PostgreSQL database's current
// schema.
func postgresSchema(ctx context.Context, db *sql.DB) (schema, error) {
	s := schema{columns: map[string]map[string]string{}, keys: map[string][]string{}}
	err := each(ctx, db, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO'
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			AND NOT EXISTS (SELECT 1 FROM pg_class p WHERE p.oid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
				AND p.relispartition)`, nil, func(r *sql.Rows) error {
		var table, name, typ string
		var notNull bool
		if err := r.Scan(&table, &name, &typ, &notNull); err != nil {
			return err
		}
		if s.columns[table] == nil {
			s.columns[table] = map[string]string{}
		}
		s.columns[table][name] = typeFamily(typ) + ", " + nullability(notNull)
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("columns: %w", err)
	}
	// Primary and foreign keys from the catalogue: columns in the
	// constraint's order, which information_schema does not give for the
	// referenced side.
	onDelete := map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
	err = each(ctx, db, `SELECT c.conrelid::regclass::text, c.contype,
			(SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
			coalesce(c.confrelid::regclass::text, ''),
			coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), ''),
			c.confdeltype
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f') AND c.conparentid = 0`, nil, func(r *sql.Rows) error {
		var table, kind, cols, to, toCols, del string
		if err := r.Scan(&table, &kind, &cols, &to, &toCols, &del); err != nil {
			return err
		}
		from := strings.Split(cols, ",")
		if kind == "p" {
			s.keys[table] = append(s.keys[table], "pk ("+strings.Join(from, ", ")+")")
		} else {
			s.keys[table] = append(s.keys[table], fkLine(from, to, strings.Split(toCols, ","), onDelete[del]))
		}
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("keys: %w", err)
	}
	// Indexes (unique constraints included: PostgreSQL enforces them with
	// one), but the primary keys'.
	err = each(ctx, db, `SELECT t.relname, ix.indisunique, ix.indpred IS NOT NULL,
			(SELECT string_agg(pg_get_indexdef(ix.indexrelid, k, true), '|' ORDER BY k)
				FROM generate_series(1, ix.indnkeyatts::int) k)
		FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND NOT ix.indisprimary AND t.relkind IN ('r', 'p') AND NOT t.relispartition`, nil, func(r *sql.Rows) error {
		var table, cols string
		var unique, partial bool
		if err := r.Scan(&table, &unique, &partial, &cols); err != nil {
			return err
		}
		s.keys[table] = append(s.keys[table], indexLine(unique, partial, strings.Split(cols, "|")))
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("indexes: %w", err)
	}
	for _, keys := range s.keys {
		slices.Sort(keys)
	}
	return s, nil
}

// each runs query and calls fn on each row.
func each(ctx context.Context, db *sql.DB, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// strings1 runs a query of one text column and returns its values.
func strings1(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	var out []string
	err := each(ctx, db, query, args, func(r *sql.Rows) error {
		var v string
		if err := r.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
