package store

import (
	"slices"
	"strings"
	"time"
)

// The lists people search (batches, lots, people, products, orders) read
// one page of the rows matching their filters and how many rows match in
// all, in the same read: the database pages, never the caller.

// maxPageSize is the most rows one page of a searched list holds.
const maxPageSize = 1000

// andSearch adds to q the condition that one of cols holds the words of
// text, case aside (ASCII case on SQLite), as they are written: "%" and
// "_" match themselves. Blank text adds nothing.
func andSearch(q string, args []any, text string, cols ...string) (string, []any) {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" || len(cols) == 0 {
		return q, args
	}
	like := "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(text) + "%"
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "LOWER(" + c + ") LIKE ? ESCAPE '!'"
		args = append(args, like)
	}
	return q + " AND (" + strings.Join(parts, " OR ") + ")", args
}

// andPeriod adds to q the condition that col is at or after from and
// before to, as the audit trail's period does; a zero bound leaves that
// end open.
func andPeriod(q string, args []any, col string, from, to time.Time) (string, []any) {
	if !from.IsZero() {
		q += " AND " + col + " >= ?"
		args = append(args, from.UTC())
	}
	if !to.IsZero() {
		q += " AND " + col + " < ?"
		args = append(args, to.UTC())
	}
	return q, args
}

// paged reads, in this transaction, how many rows query q (without its
// order) answers and the page of them order sorts: at most limit rows
// (clamped to 1..maxPageSize) after offset rows (none when negative).
func paged[T any](tx *Tx, q string, args []any, order string, limit, offset int, scan func(scanner, *T) error) ([]T, int, error) {
	var total int
	if err := tx.queryRow(`SELECT COUNT(*) FROM (`+q+`) AS counted`, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit = min(max(limit, 1), maxPageSize)
	out, err := collect(tx, q+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(slices.Clip(args), limit, max(offset, 0)), scan)
	return out, total, err
}
