package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// runCopy is the floor of PostgreSQL's own cost: the same rows sent by
// COPY, batch after batch, into a plain table keyed like galenix's
// (sensor, sequence), each batch one committed transaction, durable.
// It returns readings per second and the table's bytes per reading.
func runCopy(ctx context.Context, dsn string, rs []reading, batch int) (perS, bytesPer float64, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE raw_readings (sensor TEXT NOT NULL, seq BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL,
		value DOUBLE PRECISION NOT NULL, PRIMARY KEY (sensor, seq))`); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	for _, b := range batches(rs, batch) {
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"raw_readings"}, []string{"sensor", "seq", "at", "value"},
			pgx.CopyFromSlice(len(b), func(i int) ([]any, error) {
				r := b[i]
				return []any{code(r.sensor), int64(r.seq), r.at, r.value}, nil
			}))
		if err != nil {
			return 0, 0, err
		}
		if int(n) != len(b) {
			return 0, 0, fmt.Errorf("COPY wrote %d rows of %d", n, len(b))
		}
	}
	perS = float64(len(rs)) / time.Since(t0).Seconds()
	var size int64
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('raw_readings')`).Scan(&size); err != nil {
		return 0, 0, err
	}
	return perS, float64(size) / float64(len(rs)), nil
}
