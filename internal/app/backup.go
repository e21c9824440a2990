package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/pgbackrest"
	"galenix/internal/store"
)

// BackupConfig says which database to back up, and where the backup goes.
type BackupConfig struct {
	// DataDir and DSN name the live database, as for serve.
	DataDir string
	DSN     string
	// AuditKey is the site's audit signing key (PEM file); a SQLite
	// backup carries a copy when it is the data directory's own.
	AuditKey string
	// Out is where SQLite backups go, one directory each.
	Out string
	// PG drives pgBackRest, for PostgreSQL.
	PG pgbackrest.Config
	// Type is the PostgreSQL backup's type: full (default), diff, incr,
	// or auto: full when no full backup ended within FullEvery, diff
	// otherwise.
	Type      string
	FullEvery time.Duration
	// Keep, when above 0, is the retention applied after the backup: the
	// newest Keep SQLite backups are kept, or on PostgreSQL the newest
	// Keep full backups (pgBackRest's repo1-retention-full), and KeepDiff
	// differential ones.
	Keep, KeepDiff int
	// Version is galenix's version, written in the manifest.
	Version string
	Log     *slog.Logger
}

func (c *BackupConfig) logger() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// Backup names a backup made.
type Backup struct {
	// ID is the SQLite backup's id or pgBackRest's label.
	ID string
	// Dir is the SQLite backup's directory, Manifest its manifest.
	Dir      string
	Manifest *backup.Manifest
	// Set is the PostgreSQL backup.
	Set *pgbackrest.Set
	// Removed are the backups the retention removed after it, oldest
	// first.
	Removed []string
}

// RunBackup makes a consistent backup of the live database while it is
// served: on SQLite an online copy with its manifest, on PostgreSQL a
// pgBackRest backup (full by default).
func RunBackup(ctx context.Context, cfg BackupConfig) (*Backup, error) {
	if cfg.DSN != "" {
		if err := cfg.PG.Check(); err != nil {
			return nil, err
		}
	}
	db, err := openLive(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return runBackup(ctx, db, cfg)
}

// openLive opens the live database beside the node that serves it. A data
// directory without a galenix database is refused: opening it would make
// an empty one, and back that up.
func openLive(ctx context.Context, cfg BackupConfig) (*store.DB, error) {
	if cfg.DSN == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, store.SQLiteFile)); err != nil {
			return nil, &backup.Problem{Msg: fmt.Sprintf("no galenix database in %s (%s is missing): name the data directory with --data, or PostgreSQL with --db",
				cfg.DataDir, store.SQLiteFile)}
		}
	}
	return store.Open(ctx, store.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Logger: cfg.Log})
}

func runBackup(ctx context.Context, db *store.DB, cfg BackupConfig) (*Backup, error) {
	if err := backup.CheckRetention(cfg.Keep, cfg.KeepDiff); err != nil {
		return nil, err
	}
	if db.Dialect() == store.Postgres {
		return backupPostgres(ctx, db, cfg)
	}
	b, err := backupSQLite(ctx, db, cfg)
	if err != nil || cfg.Keep == 0 {
		return b, err
	}
	// The retention, once the new backup is whole.
	b.Removed, err = pruneSQLite(cfg.Out, cfg.Keep, "", cfg.logger())
	return b, errors.Join(err, recordRemoved(ctx, db, backup.SQLite, b.Removed, PruneConfig{BackupConfig: cfg, Command: "galenix backup"}))
}

// backupSQLite copies the database into a new directory of cfg.Out, with
// the site's key when it is the data directory's, and writes the manifest
// last: a directory without a manifest is no backup.
func backupSQLite(ctx context.Context, db *store.DB, cfg BackupConfig) (_ *Backup, err error) {
	if cfg.Out == "" {
		return nil, errors.New("name the directory backups go in (--out)")
	}
	created := time.Now().UTC()
	m := &backup.Manifest{Format: backup.ManifestFormat, ID: backup.NewID(created), CreatedAt: created,
		Database: backup.SQLite, Galenix: cfg.Version, File: store.SQLiteFile}
	if err := os.MkdirAll(cfg.Out, 0o700); err != nil {
		return nil, fmt.Errorf("the backup directory: %w", err)
	}
	dir := filepath.Join(cfg.Out, m.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the backup directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	partial := filepath.Join(dir, m.File+".partial")
	if err := db.SnapshotSQLite(ctx, partial); err != nil {
		return nil, err
	}
	if err := errors.Join(os.Chmod(partial, 0o600), syncFile(partial)); err != nil {
		return nil, err
	}
	if m.Schema, m.Audit, m.Figures, err = store.InspectSQLite(ctx, partial); err != nil {
		return nil, fmt.Errorf("reading the copy: %w", err)
	}
	if m.SHA256, m.Size, err = backup.FileSHA256(partial); err != nil {
		return nil, err
	}
	if err := os.Rename(partial, filepath.Join(dir, m.File)); err != nil {
		return nil, err
	}
	if key := cfg.AuditKey; key != "" && sameFile(key, filepath.Join(cfg.DataDir, audit.KeyFile)) {
		if _, err := os.Stat(key); err == nil {
			m.KeyFile = audit.KeyFile
			if m.KeySHA256, err = backup.CopyFile(filepath.Join(dir, m.KeyFile), key, 0o600); err != nil {
				return nil, fmt.Errorf("copying the site's audit key: %w", err)
			}
		}
	}
	// The key of the second-factor secrets: without it, nobody with a
	// second factor signs in on the restored database.
	if key := filepath.Join(cfg.DataDir, store.SecretKeyFile); cfg.DataDir != "" {
		if _, err := os.Stat(key); err == nil {
			m.TOTPKeyFile = store.SecretKeyFile
			if m.TOTPKeySHA256, err = backup.CopyFile(filepath.Join(dir, m.TOTPKeyFile), key, 0o600); err != nil {
				return nil, fmt.Errorf("copying the key of second-factor secrets: %w", err)
			}
		}
	}
	if err := backup.WriteManifest(dir, m); err != nil {
		return nil, err
	}
	if err := errors.Join(backup.SyncDir(dir), backup.SyncDir(cfg.Out)); err != nil {
		return nil, err
	}
	cfg.logger().Info("backup made", "id", m.ID, "dir", dir, "audit_seq", m.Audit.Seq, "sha256", m.SHA256)
	return &Backup{ID: m.ID, Dir: dir, Manifest: m}, nil
}

// sameFile reports whether two paths name the same file.
func sameFile(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// backupPostgres has pgBackRest back the database up, the stanza created
// first if it is not yet. The backup is annotated with galenix's schema
// version and the audit chain's head as the backup began.
func backupPostgres(ctx context.Context, db *store.DB, cfg BackupConfig) (*Backup, error) {
	if err := cfg.PG.Check(); err != nil {
		return nil, err
	}
	if err := cfg.PG.StanzaCreate(ctx); err != nil {
		return nil, err
	}
	schema, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	head, _, err := db.Figures(ctx)
	if err != nil {
		return nil, err
	}
	before, err := cfg.PG.Info(ctx)
	if err != nil {
		return nil, err
	}
	typ := cfg.Type
	switch typ {
	case "":
		typ = backup.Full
	case backup.Auto:
		var lastFull time.Time
		for _, s := range before {
			if s.Type == backup.Full {
				lastFull = s.Stop
			}
		}
		if typ, err = backup.ChooseType(lastFull, time.Now(), cfg.FullEvery); err != nil {
			return nil, &backup.Problem{Msg: err.Error()}
		}
	}
	pg := cfg.PG
	pg.RetentionFull, pg.RetentionDiff = cfg.Keep, cfg.KeepDiff
	set, err := pg.Backup(ctx, typ, map[string]string{
		"galenix-schema": fmt.Sprint(schema), "galenix-audit-seq": fmt.Sprint(head.Seq), "galenix-version": cfg.Version})
	if err != nil {
		return nil, err
	}
	cfg.logger().Info("backup made", "label", set.Label, "type", set.Type, "stop", set.Stop)
	b := &Backup{ID: set.Label, Set: set}
	if after, err := pg.Info(ctx); err == nil {
		b.Removed = gone(before, after)
	}
	return b, recordRemoved(ctx, db, backup.Postgres, b.Removed, PruneConfig{BackupConfig: cfg, Command: "galenix backup"})
}

// RestoreSQLite restores the SQLite backup in dir into the data directory
// dataDir, which must be missing or empty. The database file, and the
// site's key when the backup has it, are checked against the manifest's
// SHA-256 before they take their names; on any refusal or failure nothing
// is left behind.
func RestoreSQLite(dir, dataDir string) (_ *backup.Manifest, err error) {
	m, err := backup.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	known, err := store.KnownSchema(store.SQLite)
	if err != nil {
		return nil, err
	}
	if m.Schema > known {
		return nil, &backup.Problem{Msg: fmt.Sprintf("the backup %s is at schema version %d and this galenix knows versions up to %d: restore it with that galenix version (%s) or newer",
			m.ID, m.Schema, known, m.Galenix)}
	}
	if dataDir == "" {
		return nil, errors.New("name the data directory to restore into (--data)")
	}
	empty, err := backup.EmptyDir(dataDir)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, &backup.Problem{Msg: fmt.Sprintf("%s is not empty: a backup is restored into a fresh data directory, never over one (move it away, or name another)", dataDir)}
	}
	_, statErr := os.Stat(dataDir)
	madeDir := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		for _, f := range written {
			os.Remove(f)
		}
		if madeDir {
			os.Remove(dataDir)
		}
	}()
	place := func(name, want, final string) error {
		tmp := filepath.Join(dataDir, final+".restoring")
		written = append(written, tmp)
		sum, err := backup.CopyFile(tmp, filepath.Join(dir, name), 0o600)
		if err != nil {
			return err
		}
		if sum != want {
			return &backup.Problem{Msg: fmt.Sprintf("the backup %s is damaged: its file %s has the SHA-256 %s, its manifest says %s; nothing was restored: restore another backup",
				m.ID, name, sum, want)}
		}
		return nil
	}
	if err := place(m.File, m.SHA256, store.SQLiteFile); err != nil {
		return nil, err
	}
	placed := []string{store.SQLiteFile}
	if m.KeyFile != "" {
		if err := place(m.KeyFile, m.KeySHA256, audit.KeyFile); err != nil {
			return nil, err
		}
		placed = append(placed, audit.KeyFile)
	}
	if m.TOTPKeyFile != "" {
		if err := place(m.TOTPKeyFile, m.TOTPKeySHA256, store.SecretKeyFile); err != nil {
			return nil, err
		}
		placed = append(placed, store.SecretKeyFile)
	}
	for _, name := range placed {
		final := filepath.Join(dataDir, name)
		if err := os.Rename(final+".restoring", final); err != nil {
			return nil, err
		}
		written = append(written, final)
	}
	return m, backup.SyncDir(dataDir)
}

// RestorePGConfig says which PostgreSQL backup to restore, to which point,
// and where.
type RestorePGConfig struct {
	PG pgbackrest.Config
	// PGData is the new data directory: missing or empty.
	PGData string
	// From is the backup's label; empty: the newest that ends before
	// the target (or the newest of all).
	From string
	// Target is the point in time; zero: the end of the archived log.
	Target time.Time
}

// RestorePostgres restores a pgBackRest backup into a fresh PostgreSQL data
// directory, to a point in time. A backup unknown to the repository, a
// point before the backup ended or still to come, and a data directory
// that is not empty are refused before anything is written. It returns the
// set restored; PostgreSQL, started on the directory, replays the archived
// log to the point and opens.
func RestorePostgres(ctx context.Context, cfg RestorePGConfig) (*pgbackrest.Set, error) {
	if err := cfg.PG.Check(); err != nil {
		return nil, err
	}
	if cfg.PGData == "" {
		return nil, errors.New("name the new PostgreSQL data directory to restore into (--pg-data)")
	}
	empty, err := backup.EmptyDir(cfg.PGData)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, &backup.Problem{Msg: fmt.Sprintf("%s is not empty: a backup is restored into a fresh data directory, never over one (move it away, or name another)", cfg.PGData)}
	}
	sets, err := cfg.PG.Info(ctx)
	if err != nil {
		return nil, err
	}
	set, err := chooseSet(sets, cfg.From, cfg.Target, time.Now())
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(cfg.PGData)
	madeDir := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(cfg.PGData, 0o700); err != nil {
		return nil, err
	}
	if err := errors.Join(os.Chmod(cfg.PGData, 0o700), pgbackrest.Chown(cfg.PGData, cfg.PG.User)); err != nil {
		return nil, err
	}
	if err := cfg.PG.Restore(ctx, cfg.PGData, set.Label, cfg.Target); err != nil {
		// Leave the directory as it was found: empty, or missing.
		entries, _ := os.ReadDir(cfg.PGData)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(cfg.PGData, e.Name()))
		}
		if madeDir {
			os.Remove(cfg.PGData)
		}
		return nil, err
	}
	return set, nil
}

// chooseSet picks the backup to restore: the one named, which must be
// known and have ended by the target; or the newest that has. A target
// still to come is refused: recovery would never reach it.
func chooseSet(sets []pgbackrest.Set, label string, target, now time.Time) (*pgbackrest.Set, error) {
	if !target.IsZero() && target.After(now) {
		return nil, &backup.Problem{Msg: fmt.Sprintf("the point in time %s is still to come (it is %s): choose a past instant",
			target.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	if label != "" {
		set := pgbackrest.Find(sets, label)
		if set == nil {
			return nil, &backup.Problem{Msg: fmt.Sprintf("no backup %q in the repository (its backups: %s)", label, pgbackrest.Labels(sets))}
		}
		if !target.IsZero() && target.Before(set.Stop) {
			return nil, &backup.Problem{Msg: fmt.Sprintf("the point in time %s is before the end of the backup %s (%s): a backup restores to points after it ended; choose an earlier backup or a later time",
				target.UTC().Format(time.RFC3339), set.Label, set.Stop.Format(time.RFC3339))}
		}
		return set, nil
	}
	for i := len(sets) - 1; i >= 0; i-- {
		if target.IsZero() || !target.Before(sets[i].Stop) {
			return &sets[i], nil
		}
	}
	if len(sets) == 0 {
		return nil, &backup.Problem{Msg: "the repository holds no backup yet: run galenix backup first"}
	}
	return nil, &backup.Problem{Msg: fmt.Sprintf("the point in time %s is before the end of the oldest backup (%s, %s): no backup reaches it",
		target.UTC().Format(time.RFC3339), sets[0].Label, sets[0].Stop.Format(time.RFC3339))}
}

// siteVerifyKey reads the public half of the site's audit key, for
// verification.
func siteVerifyKey(path string) (ed25519.PublicKey, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("the site's audit signing key %s cannot be read (%v); give it with --audit-key", path, err)
	}
	k, err := audit.LoadKey(path)
	if err != nil {
		return nil, err
	}
	return k.Public().(ed25519.PublicKey), nil
}
