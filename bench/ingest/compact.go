package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the SQLite file's dbstat, read only

	"galenix/internal/store"
)

// compacted runs, on the database galenix left, what its leader's jobs do
// once the readings are old enough: the roll-ups, then the compaction of
// every window into blocks (store.Compact), its clock moved three hours
// on. It returns the bytes the readings take after it (blocks, raw rows
// left, their indexes) per reading stored.
func compacted(ctx context.Context, db, dsn, dir string) (perReading float64, err error) {
	s, err := store.Open(ctx, store.Config{DataDir: dir, DSN: dsn})
	if err != nil {
		return 0, err
	}
	later := time.Now().Add(3 * time.Hour)
	s.Now = func() time.Time { return later }
	if _, err := s.Environment().RollUp(system); err != nil {
		s.Close()
		return 0, err
	}
	for {
		run, err := s.Environment().Compact(system, later, 100)
		if err != nil {
			s.Close()
			return 0, err
		}
		if run.Windows == 0 {
			break
		}
	}
	if err := s.Close(); err != nil {
		return 0, err
	}
	var size, count int64
	if db == "sqlite" {
		c, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.SQLiteFile)+"?mode=ro")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		err = c.QueryRowContext(ctx, `SELECT (SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name IN ('environment_blocks', 'environment_readings'))),
			(SELECT COALESCE(SUM(count), 0) FROM environment_blocks) + (SELECT COUNT(*) FROM environment_readings)`).Scan(&size, &count)
		if err != nil {
			return 0, err
		}
	} else {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return 0, err
		}
		defer conn.Close(ctx)
		// What autovacuum does: the raw rows' space is given back (the
		// heap's empty tail) or kept for the next readings.
		if _, err := conn.Exec(ctx, `VACUUM environment_blocks, environment_readings`); err != nil {
			return 0, err
		}
		err = conn.QueryRow(ctx, `SELECT pg_total_relation_size('environment_blocks') +
			(SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'environment_readings'::regclass),
			(SELECT COALESCE(SUM(count), 0) FROM environment_blocks) + (SELECT COUNT(*) FROM environment_readings)`).Scan(&size, &count)
		if err != nil {
			return 0, err
		}
	}
	if count == 0 {
		return 0, fmt.Errorf("no reading stored")
	}
	return float64(size) / float64(count), nil
}
