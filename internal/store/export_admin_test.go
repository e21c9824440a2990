package store

import "fmt"

// RawRow returns every column of the rows of table where col = val, each
// written as text, as the database holds them: for tests that check what is
// stored and what is not (a token's secret in clear, say). It reads as
// galenix itself, past row-level security.
func (db *DB) RawRow(table, col, val string) ([]map[string]string, error) {
	tx, err := db.read.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		if _, err := tx.Exec(`SELECT set_config('galenix.all', 'on', true)`); err != nil {
			return nil, err
		}
	}
	if !tableName.MatchString(table) || !tableName.MatchString(col) {
		return nil, errBadName
	}
	rows, err := tx.Query(db.rebind(`SELECT * FROM `+table+` WHERE CAST(`+col+` AS TEXT) = ?`), val)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = asText(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

type nameError string

func (e nameError) Error() string { return string(e) }

const errBadName = nameError("not a table or column name")

func asText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
