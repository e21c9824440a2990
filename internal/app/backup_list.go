package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/pgbackrest"
	"galenix/internal/store"
)

// ListBackups lists the backups there are (SQLite: the directories of
// cfg.Out; PostgreSQL, cfg.DSN set: the stanza's backups in pgBackRest's
// repository and the range of the archived log), oldest first. It reads
// no database.
func ListBackups(ctx context.Context, cfg BackupConfig) (*backup.Listing, error) {
	if cfg.DSN == "" {
		l, _, err := listSQLite(cfg.Out)
		return l, err
	}
	if err := cfg.PG.Check(); err != nil {
		return nil, err
	}
	st, err := cfg.PG.Repository(ctx)
	if err != nil {
		return nil, err
	}
	where := "pgBackRest stanza " + cfg.PG.Stanza
	if cfg.PG.ConfigFile != "" {
		where += " (" + cfg.PG.ConfigFile + ")"
	}
	l := &backup.Listing{Database: backup.Postgres, Where: where, Backups: []backup.Listed{},
		ArchiveMin: st.ArchiveMin, ArchiveMax: st.ArchiveMax}
	for _, s := range st.Sets {
		schema, _ := strconv.ParseInt(s.Annotation["galenix-schema"], 10, 64)
		seq, _ := strconv.ParseInt(s.Annotation["galenix-audit-seq"], 10, 64)
		l.Backups = append(l.Backups, backup.Listed{ID: s.Label, Type: s.Type, Start: s.Start, Stop: s.Stop,
			Size: s.Size, RepoSize: s.RepoSize, Prior: s.Prior, WALStart: s.WALStart, WALStop: s.WALStop,
			Schema: schema, AuditSeq: seq, RestoresFrom: s.Stop})
	}
	return l, nil
}

// Latest names, for a drill, the newest backup there is: the one a
// restore would start from tonight.
const Latest = "latest"

// latestBackup finds the newest backup: a SQLite backup's directory in
// cfg.Out, or the stanza's newest label.
func latestBackup(ctx context.Context, cfg BackupConfig, database string) (string, error) {
	if database == backup.SQLite {
		l, _, err := listSQLite(cfg.Out)
		if err != nil {
			return "", err
		}
		if len(l.Backups) == 0 {
			return "", &backup.Problem{Msg: fmt.Sprintf("no backup in %s yet: run galenix backup first", cfg.Out)}
		}
		return filepath.Join(cfg.Out, l.Backups[len(l.Backups)-1].ID), nil
	}
	sets, err := cfg.PG.Info(ctx)
	if err != nil {
		return "", err
	}
	if len(sets) == 0 {
		return "", &backup.Problem{Msg: "the repository holds no backup yet: run galenix backup first"}
	}
	return sets[len(sets)-1].Label, nil
}

// removingPrefix marks a SQLite backup's directory being removed: renamed
// first, so that a removal cut short leaves no half backup that looks
// whole.
const removingPrefix = ".removing-"

// listSQLite reads the SQLite backups in dir: each directory with a
// manifest galenix wrote; the others are listed as ignored.
func listSQLite(dir string) (*backup.Listing, []*backup.Manifest, error) {
	if dir == "" {
		return nil, nil, errors.New("name the directory the backups are in (--out)")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, &backup.Problem{Msg: fmt.Sprintf("no backups in %s: the directory does not exist (name it with --out)", dir)}
	}
	if err != nil {
		return nil, nil, err
	}
	l := &backup.Listing{Database: backup.SQLite, Where: dir, Backups: []backup.Listed{}}
	var ms []*backup.Manifest
	for _, e := range entries {
		switch {
		case !e.IsDir():
			continue
		case strings.HasPrefix(e.Name(), removingPrefix):
			l.Ignored = append(l.Ignored, backup.Ignored{Name: e.Name(), Why: "a removal that did not finish"})
			continue
		}
		m, err := backup.ReadManifest(filepath.Join(dir, e.Name()))
		var p *backup.Problem
		switch {
		case errors.As(err, &p):
			l.Ignored = append(l.Ignored, backup.Ignored{Name: e.Name(), Why: p.Msg})
			continue
		case err != nil:
			return nil, nil, err
		}
		// The directory's name is the backup's, as galenix backup made it.
		m.ID = e.Name()
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *backup.Manifest) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, m := range ms {
		l.Backups = append(l.Backups, backup.Listed{ID: m.ID, Type: "copy", Start: m.CreatedAt, Stop: m.CreatedAt,
			Size: m.Size, Schema: m.Schema, AuditSeq: m.Audit.Seq, RestoresFrom: m.CreatedAt})
	}
	return l, ms, nil
}

// PruneConfig says which backups to remove: those beyond a retention, or
// one named.
type PruneConfig struct {
	BackupConfig
	// Backup names the one backup to remove (a SQLite backup's
	// directory name, or pgBackRest's label), instead of a retention.
	Backup string
	// By names who runs the command, recorded with the removal (the
	// system user and host when empty); Command is the command's name.
	By, Command string
}

// PruneBackups removes the backups the retention no longer keeps
// (cfg.Keep: SQLite backups, or PostgreSQL full backups with what depends
// on them; cfg.KeepDiff: PostgreSQL differential ones), or the one backup
// cfg.Backup names. A retention that is no count, an unknown backup, or
// the only backup are refused before anything is removed. It returns the
// backups removed, oldest first.
func PruneBackups(ctx context.Context, cfg PruneConfig) ([]string, error) {
	if err := backup.CheckRetention(cfg.Keep, cfg.KeepDiff); err != nil {
		return nil, err
	}
	if cfg.Backup != "" && (cfg.Keep > 0 || cfg.KeepDiff > 0) {
		return nil, &backup.Problem{Msg: "give either a retention (--keep) or one backup to remove (--backup), not both"}
	}
	if cfg.DSN == "" && cfg.Backup == "" {
		if cfg.KeepDiff > 0 {
			return nil, &backup.Problem{Msg: "--keep-diff is for PostgreSQL: a SQLite backup is a whole copy (use --keep)"}
		}
		if cfg.Keep == 0 {
			return nil, &backup.Problem{Msg: "say how many backups to keep (--keep N) or which one to remove (--backup ID)"}
		}
	}
	// Every removal goes into the audit trail: without the live
	// database, nothing is removed.
	db, err := openLive(ctx, cfg.BackupConfig)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var removed []string
	database := backup.SQLite
	if cfg.DSN == "" {
		removed, err = pruneSQLite(cfg.Out, cfg.Keep, cfg.Backup, cfg.logger())
	} else {
		database = backup.Postgres
		removed, err = prunePostgres(ctx, cfg)
	}
	return removed, errors.Join(err, recordRemoved(ctx, db, database, removed, cfg))
}

// recordRemoved writes the backups removed in the audit trail, as the
// person who ran the command.
func recordRemoved(ctx context.Context, db *store.DB, database string, removed []string, cfg PruneConfig) error {
	how := "--backup " + cfg.Backup
	if cfg.Backup == "" {
		how = fmt.Sprintf("--keep %d", cfg.Keep)
		if cfg.Keep == 0 {
			how = "repo1-retention-full"
		}
		if cfg.KeepDiff > 0 {
			how += fmt.Sprintf(" --keep-diff %d", cfg.KeepDiff)
		}
	}
	ctx = identity.WithActor(ctx, CLIActor(cfg.By, cfg.Command))
	if err := db.RecordBackupsRemoved(ctx, database, removed, how); err != nil {
		return fmt.Errorf("the backups %s were removed, but recording it in the audit trail failed: %w", strings.Join(removed, ", "), err)
	}
	return nil
}

// pruneSQLite removes the SQLite backups of dir beyond the newest keep, or
// the one named.
func pruneSQLite(dir string, keep int, named string, log *slog.Logger) ([]string, error) {
	_, ms, err := listSQLite(dir)
	if err != nil {
		return nil, err
	}
	var doomed []string
	if named != "" {
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		if err := backup.MayRemove(ids, named); err != nil {
			return nil, err
		}
		doomed = []string{named}
	} else {
		beyond, err := backup.Beyond(ms, keep)
		if err != nil {
			return nil, err
		}
		for _, m := range beyond {
			doomed = append(doomed, m.ID)
		}
	}
	var removed []string
	for _, id := range doomed {
		if err := removeBackupDir(dir, id); err != nil {
			return removed, fmt.Errorf("removing the backup %s: %w", id, err)
		}
		log.Info("backup removed", "id", id, "dir", dir)
		removed = append(removed, id)
	}
	return removed, nil
}

// removeBackupDir removes a SQLite backup: renamed first (one step that
// either happens or not), then deleted.
func removeBackupDir(dir, id string) error {
	gone := filepath.Join(dir, removingPrefix+id)
	if err := os.Rename(filepath.Join(dir, id), gone); err != nil {
		return err
	}
	if err := backup.SyncDir(dir); err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

// prunePostgres has pgBackRest expire the backups beyond the retention (the
// configuration's, when cfg.Keep and cfg.KeepDiff are 0), or the one
// named and those that depend on it.
func prunePostgres(ctx context.Context, cfg PruneConfig) ([]string, error) {
	pg := cfg.PG
	pg.RetentionFull, pg.RetentionDiff = cfg.Keep, cfg.KeepDiff
	if err := pg.Check(); err != nil {
		return nil, err
	}
	before, err := pg.Info(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Backup != "" {
		set := pgbackrest.Find(before, cfg.Backup)
		if set == nil {
			return nil, &backup.Problem{Msg: fmt.Sprintf("no backup %q in the repository (its backups: %s)", cfg.Backup, pgbackrest.Labels(before))}
		}
		fulls := 0
		for _, s := range before {
			if s.Type == backup.Full {
				fulls++
			}
		}
		if set.Type == backup.Full && fulls == 1 {
			return nil, &backup.Problem{Msg: fmt.Sprintf("%s is the only full backup: it is not removed (pgBackRest keeps one; make another full backup first)", set.Label)}
		}
	}
	if err := pg.Expire(ctx, cfg.Backup); err != nil {
		return nil, err
	}
	after, err := pg.Info(ctx)
	if err != nil {
		return nil, err
	}
	removed := gone(before, after)
	for _, l := range removed {
		cfg.logger().Info("backup expired", "label", l)
	}
	return removed, nil
}

// gone lists the sets of before that after no longer has, oldest first.
func gone(before, after []pgbackrest.Set) []string {
	var out []string
	for _, s := range before {
		if pgbackrest.Find(after, s.Label) == nil {
			out = append(out, s.Label)
		}
	}
	return out
}
