package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"galenix/internal/app"
	"galenix/internal/backup"
	"galenix/internal/bounds"
	"galenix/internal/pgbackrest"
	"galenix/internal/store"
)

// pgbackrestFlags say how galenix drives pgBackRest on PostgreSQL.
type pgbackrestFlags struct {
	cfg pgbackrest.Config
}

func (f *pgbackrestFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cfg.Stanza, "pgbackrest-stanza", envOr("GALENIX_PGBACKREST_STANZA", "galenix"), "PostgreSQL: pgBackRest's `STANZA` for the site's database (env GALENIX_PGBACKREST_STANZA)")
	fs.StringVar(&f.cfg.ConfigFile, "pgbackrest-config", os.Getenv("GALENIX_PGBACKREST_CONFIG"), "PostgreSQL: pgBackRest's configuration `FILE`; its default /etc/pgbackrest/pgbackrest.conf when empty (env GALENIX_PGBACKREST_CONFIG)")
	fs.StringVar(&f.cfg.User, "pgbackrest-user", os.Getenv("GALENIX_PGBACKREST_USER"), "PostgreSQL: the system `USER` pgBackRest and PostgreSQL run as (usually postgres); galenix run as root switches to it (env GALENIX_PGBACKREST_USER)")
	fs.StringVar(&f.cfg.Bin, "pgbackrest", envOr("GALENIX_PGBACKREST", "pgbackrest"), "PostgreSQL: the pgBackRest `PROGRAM` (env GALENIX_PGBACKREST)")
}

const backupUsage = `Usage: galenix backup [flags]
       galenix backup list [flags]
       galenix backup prune [flags]
       galenix backup drill [flags]

Commands:
  (none)    back the site's database up while galenix serves it: on SQLite an
            online copy into a new directory of --out, with its manifest
            (SHA-256, schema version, head of the audit chain, counts); on
            PostgreSQL (--db) a pgBackRest backup of the stanza, full by default.
            --keep N then removes the backups beyond the newest N.
  list      the backups there are: type, start and stop, size, and the points
            in time each restores to (PostgreSQL: the archived log's range).
  prune     remove the backups beyond a retention (--keep N), or one backup
            (--backup ID); never the only one.
  drill     the restore drill: back up (or take --from), keep serving, restore
            into a fresh place (SQLite: to the backup's point; PostgreSQL: to
            a point in time after the backup), open galenix on the restore,
            verify its audit trail and compare its counts with the point's.
            The drill is recorded in the live database, ok or failed with why.

Run galenix backup CMD --help for a command's flags.
`

func backupCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "drill":
			return drillCmd(args[1:], stdout, stderr)
		case "list":
			return listCmd(args[1:], stdout, stderr)
		case "prune":
			return pruneCmd(args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && args[0] == "help" {
		fmt.Fprint(stdout, backupUsage)
		return nil
	}
	fs := newFlagSet("backup", "Backs the site's database up, while galenix serves it.\n"+
		"SQLite: a consistent online copy (VACUUM INTO) in a new directory of --out, named by its time,\n"+
		"with the site's audit key when it is the data directory's, and a manifest (JSON: created_at,\n"+
		"schema version, head of the audit chain, counts, SHA-256 of each file).\n"+
		"PostgreSQL (--db): a pgBackRest backup of the stanza (created if needed), full by default;\n"+
		"PostgreSQL archives its write-ahead log to pgBackRest (docs/operations.md, \"Backup and restore\").\n"+
		"With --keep N, the backups beyond the newest N are removed once the new one is whole (as\n"+
		"galenix backup prune --keep N does).\n\n"+
		"galenix backup list lists the backups; galenix backup drill tests a restore and records it.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	out := backupDirFlag(fs, "backups go in, one new directory each")
	typ := fs.String("type", envOr("GALENIX_BACKUP_TYPE", "full"), "PostgreSQL: the backup's `TYPE`: full, diff, incr, or auto (full when no full backup ended within --full-every, diff otherwise) (env GALENIX_BACKUP_TYPE)")
	fullEvery := fs.Duration("full-every", envDuration("GALENIX_BACKUP_FULL_EVERY", 7*24*time.Hour), "PostgreSQL, --type auto: how old the newest full backup may be before another is made (env GALENIX_BACKUP_FULL_EVERY)")
	var rf retentionFlags
	rf.register(fs, "after the backup, keep this `NUMBER` of backups, the newest, and remove the others: SQLite backups, or PostgreSQL full backups; 0: remove none (PostgreSQL: pgBackRest's configured retention applies)")
	var pgf pgbackrestFlags
	pgf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := rf.fromEnv(fs); err != nil {
		fmt.Fprintln(stderr, "galenix backup:", err)
		return usageError{err}
	}
	switch *typ {
	case backup.Full, backup.Diff, backup.Incr, backup.Auto:
	default:
		fmt.Fprintf(stderr, "galenix backup: --type %q: say full, diff, incr or auto\n", *typ)
		return usageError{fmt.Errorf("--type %q", *typ)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := app.RunBackup(ctx, app.BackupConfig{DataDir: dbf.data, DSN: dbf.dsn, AuditKey: dbf.keyPath(), Out: *out,
		PG: pgf.cfg, Type: *typ, FullEvery: *fullEvery, Keep: rf.keep, KeepDiff: rf.keepDiff, Version: versionString(), Log: logger(stderr)})
	if err != nil {
		if b != nil {
			// The backup is made; the retention after it failed.
			fmt.Fprintf(stdout, "OK: backup %s made\n", b.ID)
			writeRemoved(stdout, b.Removed)
		}
		return problemOr(err, stdout)
	}
	if m := b.Manifest; m != nil {
		fmt.Fprintf(stdout, "OK: backup %s in %s\n    %d audit entries (last %d), schema version %d, %d bytes, SHA-256 %s\n",
			m.ID, b.Dir, m.Figures["audit_entries"], m.Audit.Seq, m.Schema, m.Size, m.SHA256)
		if m.KeyFile == "" {
			fmt.Fprintln(stdout, "    the site's audit key is not in the data directory: keep it safe apart, a restore needs it")
		}
	} else {
		fmt.Fprintf(stdout, "OK: pgBackRest backup %s (%s), ended %s\n", b.Set.Label, b.Set.Type, b.Set.Stop.Format(time.RFC3339))
	}
	if len(b.Removed) > 0 {
		fmt.Fprintf(stdout, "    retention: removed %s\n", strings.Join(b.Removed, ", "))
	}
	return nil
}

// backupDirFlag registers --out, the directory of the SQLite backups; what
// says what the command does with it.
func backupDirFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("out", envOr("GALENIX_BACKUP_DIR", "./galenix-backups"), "SQLite: the `DIRECTORY` "+what+" (env GALENIX_BACKUP_DIR)")
}

// problemOr says a refusal in one line (FAILED: ...) and fails silently;
// another error goes up as it is.
func problemOr(err error, stdout io.Writer) error {
	var p *backup.Problem
	var pe *pgbackrest.Error
	switch {
	case errors.As(err, &p):
		fmt.Fprintln(stdout, "FAILED:", p.Msg)
		return errSilent
	case errors.As(err, &pe):
		fmt.Fprintln(stdout, "FAILED:", pe.Error())
		return errSilent
	}
	return err
}

func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", "Restores a backup into a fresh place: never over existing data.\n\n"+
		"SQLite: galenix restore --from BACKUP --data DIR copies the backup's database (and the site's\n"+
		"audit key, when the backup has it) into DIR, which must be missing or empty, after checking\n"+
		"each file's SHA-256 against the manifest; then verifies the restored audit trail, as galenix\n"+
		"audit verify does. A damaged backup, or a failed verification, leaves nothing behind.\n\n"+
		"PostgreSQL: galenix restore --pg-data DIR [--from LABEL] [--to-time TIME] has pgBackRest\n"+
		"restore into DIR, missing or empty, the backup named (or the newest that reaches TIME), to\n"+
		"the point in time TIME (RFC 3339, e.g. 2026-03-02T09:30:00+01:00), or to the end of the\n"+
		"archived log. Start PostgreSQL on DIR: it replays the log to the point and opens; then run\n"+
		"galenix audit verify on it (docs/operations.md, \"Restore runbook\").", stderr)
	from := fs.String("from", "", "the backup: a SQLite backup's `DIRECTORY`, or a pgBackRest label")
	data := fs.String("data", "", "SQLite: the new data `DIRECTORY` (missing or empty)")
	pgdata := fs.String("pg-data", "", "PostgreSQL: the new PostgreSQL data `DIRECTORY` (missing or empty)")
	var toTime string
	fs.StringVar(&toTime, "to-time", "", "PostgreSQL: the point in `TIME` to restore to (RFC 3339); the end of the archived log when empty")
	fs.StringVar(&toTime, "target-time", "", "the same as --to-time")
	key := fs.String("audit-key", os.Getenv("GALENIX_AUDIT_KEY"), "SQLite: the site's audit key (PEM `file`) to verify the restore with; the backup's copy when empty (env GALENIX_AUDIT_KEY)")
	var pgf pgbackrestFlags
	pgf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *data != "" && *pgdata != "":
		fmt.Fprintln(stderr, "galenix restore: --data (SQLite) or --pg-data (PostgreSQL), not both")
		return usageError{errors.New("both --data and --pg-data")}
	case *pgdata != "":
		target, err := parseTime(toTime)
		if err != nil {
			fmt.Fprintln(stderr, "galenix restore:", err)
			return usageError{err}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		set, err := app.RestorePostgres(ctx, app.RestorePGConfig{PG: pgf.cfg, PGData: *pgdata, From: *from, Target: target})
		if err != nil {
			return problemOr(err, stdout)
		}
		to := "the end of the archived log"
		if !target.IsZero() {
			to = target.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(stdout, "OK: backup %s restored into %s, to %s\n    start PostgreSQL on it: it replays the archived log to that point and opens; then run galenix audit verify\n",
			set.Label, *pgdata, to)
		return nil
	case *data == "" || *from == "":
		fmt.Fprintln(stderr, "galenix restore: give --from BACKUP and --data DIR (SQLite), or --pg-data DIR (PostgreSQL)")
		fs.Usage()
		return usageError{errors.New("restore needs --from and --data, or --pg-data")}
	case toTime != "":
		fmt.Fprintln(stderr, "galenix restore: a SQLite backup restores to its own point; --to-time is for PostgreSQL (--pg-data)")
		return usageError{errors.New("--to-time with SQLite")}
	}
	m, err := app.RestoreSQLite(*from, *data)
	if err != nil {
		return problemOr(err, stdout)
	}
	keyPath := *key
	if keyPath == "" {
		keyPath = (&dbFlags{data: *data}).keyPath()
	}
	var vout strings.Builder
	if verr := auditVerify([]string{"--data", *data, "--db", "", "--audit-key", keyPath}, &vout, stderr); verr != nil {
		fmt.Fprint(stdout, vout.String())
		fmt.Fprintf(stdout, "FAILED: the restore of %s does not pass audit verify; %s is left as restored, for investigation: do not serve it\n", m.ID, *data)
		return errSilent
	}
	fmt.Fprintf(stdout, "OK: backup %s (made %s) restored into %s; SHA-256 checked\n    %s",
		m.ID, m.CreatedAt.Format(time.RFC3339), *data, vout.String())
	// No backup holds the master key of documents: the node serving the
	// restore is given the site's.
	fmt.Fprintf(stdout, "The master key of documents is not in backups: copy the site's %s into %s, or name it with --document-key, before serving.\n",
		store.MasterKeyFile, *data)
	return nil
}

// parseTime reads a point in time: RFC 3339, with its zone.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--to-time %q: write the point in time as RFC 3339 with its zone, e.g. 2026-03-02T09:30:00+01:00", s)
	}
	if !bounds.InRange(t) {
		return time.Time{}, fmt.Errorf("--to-time %q: a point in time in the years %d to %d", s, bounds.MinYear, bounds.MaxYear)
	}
	return t, nil
}

func drillCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup drill", "The restore drill (EU GMP Annex 11 §7.2), run while galenix serves and writes go on:\n"+
		"  1. back up (or take the backup --from names; --from latest: the newest there is);\n"+
		"  2. record the drill in the live database, with its target point: SQLite, the backup's\n"+
		"     point; PostgreSQL, the present instant, after the backup (the audit chain's head is\n"+
		"     locked for the instant the counts are read);\n"+
		"  3. restore into a new directory of --work (PostgreSQL: pgBackRest to the point in time,\n"+
		"     then a PostgreSQL of its own on 127.0.0.1, archiving nothing);\n"+
		"  4. open galenix on the restore, verify its whole audit trail with the site's key, and\n"+
		"     compare the head of its chain and its counts with the point's;\n"+
		"  5. complete the drill's record: ok, or failed with the reason; remove the restore.\n"+
		"Exits 0 when the drill is ok, 1 otherwise. The drills are listed at /admin/backup-drills\n"+
		"and GET /api/v1/backup-drills.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	out := backupDirFlag(fs, "the drill's backup goes in, or --from latest takes the newest of")
	from := fs.String("from", "", "restore this backup instead of making one: a SQLite backup's `DIRECTORY`, a pgBackRest label, or latest (the newest backup of --out, or of the repository)")
	work := fs.String("work", os.Getenv("GALENIX_DRILL_DIR"), "the `DIRECTORY` the restore goes in, in a new directory removed after; the system's temporary directory when empty (env GALENIX_DRILL_DIR)")
	by := fs.String("by", os.Getenv("GALENIX_DRILL_BY"), "`NAME` of who runs the drill, recorded with it; the system user and host when empty (env GALENIX_DRILL_BY)")
	typ := fs.String("type", "full", "PostgreSQL: the type of the drill's backup: full, diff or incr")
	bindir := fs.String("pg-bindir", os.Getenv("GALENIX_PG_BINDIR"), "PostgreSQL: the `DIRECTORY` of PostgreSQL's server programs (pg_ctl); found when empty (env GALENIX_PG_BINDIR)")
	var pgf pgbackrestFlags
	pgf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := app.RunDrill(ctx, app.DrillConfig{
		BackupConfig: app.BackupConfig{DataDir: dbf.data, DSN: dbf.dsn, AuditKey: dbf.keyPath(), Out: *out, PG: pgf.cfg,
			Type: *typ, Version: versionString(), Log: logger(stderr)},
		From: *from, Work: *work, By: *by, PGBindir: *bindir})
	if d == nil {
		return problemOr(err, stdout)
	}
	writeDrill(stdout, d)
	if err != nil {
		return err
	}
	if d.Result != backup.OK {
		return errSilent
	}
	return nil
}

// writeDrill says how a drill went.
func writeDrill(w io.Writer, d *backup.Drill) {
	verdict := "OK"
	if d.Result != backup.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s: restore drill %s of backup %s (%s), to %s (audit entry %d)\n", verdict, d.ID, d.BackupID, d.Database,
		d.Target.Time.Format(time.RFC3339Nano), d.Target.AuditSeq)
	if d.Failure != nil {
		fmt.Fprintf(w, "    failure %s", d.Failure.Code)
		for _, p := range backup.FailureCodes[d.Failure.Code] {
			fmt.Fprintf(w, " %s=%q", p, d.Failure.Params[p])
		}
		fmt.Fprintln(w)
	}
	for _, n := range d.Expected.Names() {
		fmt.Fprintf(w, "    %-14s expected %8d  restored %8d\n", n, d.Expected[n], d.Restored[n])
	}
	fmt.Fprintf(w, "    restored in %s; the drill is recorded in the live database\n", (time.Duration(d.RestoreMillis) * time.Millisecond).String())
}
