package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"galenix/internal/app"
	"galenix/internal/backup"
)

// retentionFlags say how many backups to keep.
type retentionFlags struct {
	keep, keepDiff int
	// given: which of them the command line or the environment set.
	given map[string]bool
}

func (f *retentionFlags) register(fs *flag.FlagSet, keep string) {
	fs.IntVar(&f.keep, "keep", 0, keep+" (env GALENIX_BACKUP_KEEP)")
	fs.IntVar(&f.keepDiff, "keep-diff", 0, "PostgreSQL: the `NUMBER` of differential backups kept, the newest (pgBackRest's repo1-retention-diff) (env GALENIX_BACKUP_KEEP_DIFF)")
}

// fromEnv takes the retention from the environment for a flag not given
// on the command line; a value that is no whole number is refused.
func (f *retentionFlags) fromEnv(fs *flag.FlagSet) error {
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	for _, v := range []struct {
		flag, env string
		to        *int
	}{{"keep", "GALENIX_BACKUP_KEEP", &f.keep}, {"keep-diff", "GALENIX_BACKUP_KEEP_DIFF", &f.keepDiff}} {
		s := os.Getenv(v.env)
		if f.given[v.flag] || s == "" {
			continue
		}
		f.given[v.flag] = true
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%s=%q: give a whole number of backups to keep", v.env, s)
		}
		*v.to = n
	}
	return nil
}

func listCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup list", "Lists the backups there are, oldest first: each one's name, type, start and stop, size,\n"+
		"and the points in time it restores to.\n"+
		"SQLite: the backups in the directories of --out; one restores to the instant it was made.\n"+
		"PostgreSQL (--db): the stanza's backups in pgBackRest's repository, the segments of the\n"+
		"write-ahead log each needs, and the range of the archived log: a backup restores to any\n"+
		"instant from its stop to the last commit archived. Reads no database.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	out := backupDirFlag(fs, "the backups are in")
	asJSON := fs.Bool("json", false, "print the list as JSON, for scripts and monitoring")
	var pgf pgbackrestFlags
	pgf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := app.ListBackups(ctx, app.BackupConfig{DSN: dbf.dsn, Out: *out, PG: pgf.cfg})
	if err != nil {
		return problemOr(err, stdout)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	writeListing(stdout, l)
	return nil
}

// writeListing shows the backups as a table.
func writeListing(w io.Writer, l *backup.Listing) {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch l.Database {
	case backup.SQLite:
		fmt.Fprintf(w, "SQLite backups in %s: %d\n", l.Where, len(l.Backups))
	default:
		fmt.Fprintf(w, "PostgreSQL backups, %s: %d\n", l.Where, len(l.Backups))
		if l.ArchiveMax != "" {
			fmt.Fprintf(w, "archived write-ahead log: %s to %s; a backup restores to any instant from its stop\n", l.ArchiveMin, l.ArchiveMax)
			fmt.Fprintf(w, "to the last commit archived (in %s)\n", l.ArchiveMax)
		} else {
			fmt.Fprintln(w, "archived write-ahead log: none")
		}
	}
	if len(l.Backups) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if l.Database == backup.SQLite {
			fmt.Fprintln(tw, "BACKUP\tTYPE\tMADE\tSIZE\tAUDIT ENTRY\tSCHEMA\tRESTORES TO")
			for _, b := range l.Backups {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s (that instant only)\n", b.ID, b.Type, stamp(b.Stop), bytesText(b.Size), b.AuditSeq, b.Schema, stamp(b.RestoresFrom))
			}
		} else {
			fmt.Fprintln(tw, "BACKUP\tTYPE\tSTART\tSTOP\tSIZE\tIN REPOSITORY\tWAL START - STOP\tRESTORES TO")
			for _, b := range l.Backups {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s - %s\tfrom %s on\n", b.ID, b.Type, stamp(b.Start), stamp(b.Stop),
					bytesText(b.Size), bytesText(b.RepoSize), b.WALStart, b.WALStop, stamp(b.RestoresFrom))
			}
		}
		tw.Flush()
	}
	for _, i := range l.Ignored {
		fmt.Fprintf(w, "not a backup, left alone: %s (%s)\n", i.Name, i.Why)
	}
}

// bytesText writes a size for a person: 9.6 MB.
func bytesText(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func pruneCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup prune", "Removes the backups a retention no longer keeps, or one backup named; never the only one.\n"+
		"SQLite: --keep N keeps the newest N backups of --out and removes the others (a directory\n"+
		"without a manifest, such as a backup being made, is left alone).\n"+
		"PostgreSQL (--db): pgBackRest expires the full backups beyond the newest --keep N, with the\n"+
		"differential and incremental backups that depend on them and the archived log only they\n"+
		"needed; --keep-diff M keeps the newest M differential backups. Without either, the\n"+
		"retention of pgBackRest's configuration (repo1-retention-full) applies.\n"+
		"--backup ID removes that backup (PostgreSQL: and those that depend on it) whatever the\n"+
		"retention. A negative retention, --keep 0, an unknown backup or the only backup are\n"+
		"refused, and nothing is removed. Each backup removed is recorded in the audit trail (who, when,\n"+
		"which, by which retention): the live database (--data or --db) must be reachable.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	out := backupDirFlag(fs, "the backups are in")
	var rf retentionFlags
	rf.register(fs, "the `NUMBER` of backups kept, the newest: SQLite backups, or PostgreSQL full backups")
	one := fs.String("backup", "", "remove this one backup: a SQLite backup's directory name (`ID`), or a pgBackRest label")
	by := fs.String("by", os.Getenv("GALENIX_BY"), "`NAME` of who removes the backups, recorded in the audit trail; the system user and host when empty (env GALENIX_BY)")
	var pgf pgbackrestFlags
	pgf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := rf.fromEnv(fs); err != nil {
		fmt.Fprintln(stderr, "galenix backup prune:", err)
		return usageError{err}
	}
	// A retention of 0 given would remove every backup.
	if rf.given["keep"] && rf.keep == 0 {
		return problemOr(backup.CheckKeep("--keep", 0), stdout)
	}
	if rf.given["keep-diff"] && rf.keepDiff == 0 {
		return problemOr(backup.CheckKeep("--keep-diff", 0), stdout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	removed, err := app.PruneBackups(ctx, app.PruneConfig{Backup: *one, By: *by, Command: "galenix backup prune",
		BackupConfig: app.BackupConfig{DataDir: dbf.data, DSN: dbf.dsn, Out: *out, PG: pgf.cfg, Keep: rf.keep, KeepDiff: rf.keepDiff, Log: logger(stderr)}})
	if err != nil {
		if len(removed) > 0 {
			fmt.Fprintf(stdout, "removed before the failure: %s\n", strings.Join(removed, ", "))
		}
		return problemOr(err, stdout)
	}
	writeRemoved(stdout, removed)
	return nil
}

// writeRemoved says which backups were removed.
func writeRemoved(w io.Writer, removed []string) {
	if len(removed) == 0 {
		fmt.Fprintln(w, "OK: no backup removed")
		return
	}
	fmt.Fprintf(w, "OK: %d backup(s) removed: %s\n", len(removed), strings.Join(removed, ", "))
}
