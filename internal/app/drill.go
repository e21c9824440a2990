package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/pgbackrest"
	"galenix/internal/store"
)

// DrillConfig says which database to drill, from which backup, and where
// the restore goes.
type DrillConfig struct {
	BackupConfig
	// From is the backup to restore (a SQLite backup's directory, or a
	// pgBackRest label; Latest: the newest there is); empty: one is made
	// first.
	From string
	// Work is where the restore goes, in a new directory removed after;
	// the system's temporary directory when empty.
	Work string
	// By is who runs the drill, recorded with it; the system user and the
	// host when empty.
	By string
	// PGBindir holds PostgreSQL's server programs; found when empty.
	PGBindir string
}

// RunDrill runs a restore drill on the live database while it is served
// (EU GMP Annex 11 §7.2): it backs up (unless given a backup), records the
// drill, restores into a fresh place (SQLite: to the backup's point;
// PostgreSQL: to a point in time after the backup, marked as the drill
// starts, while writes go on), opens a galenix store on the restore,
// verifies its whole audit trail with the site's key and compares its
// figures with those of the point. The drill's result, ok or failed with
// its reason, completes its record in the live database.
//
// An error is returned when the drill could not be run or recorded; a
// drill that ran and failed returns its record, Result failed.
func RunDrill(ctx context.Context, cfg DrillConfig) (*backup.Drill, error) {
	key, err := siteVerifyKey(cfg.AuditKey)
	if err != nil {
		return nil, err
	}
	var bindir string
	if cfg.DSN != "" {
		if err := cfg.PG.Check(); err != nil {
			return nil, err
		}
		if bindir = cfg.PGBindir; bindir == "" {
			if bindir, err = pgbackrest.Bindir(); err != nil {
				return nil, err
			}
		}
	}
	db, err := openLive(ctx, cfg.BackupConfig)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx = identity.WithActor(ctx, drillActor(cfg.By))
	log := cfg.logger()

	// The backup, and the drill's record.
	d := &backup.Drill{Database: backup.SQLite, Target: backup.Target{Kind: backup.TargetBackup}}
	if db.Dialect() == store.Postgres {
		d.Database, d.Target.Kind = backup.Postgres, backup.TargetTime
	}
	var b *Backup
	var failure *backup.Failure
	if cfg.From == Latest {
		if cfg.From, err = latestBackup(ctx, cfg.BackupConfig, d.Database); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.From != "" && d.Database == backup.SQLite:
		m, err := backup.ReadManifest(cfg.From)
		if err != nil {
			return nil, err
		}
		b = &Backup{ID: m.ID, Dir: cfg.From, Manifest: m}
	case cfg.From != "":
		sets, err := cfg.PG.Info(ctx)
		if err != nil {
			return nil, err
		}
		set := pgbackrest.Find(sets, cfg.From)
		if set == nil {
			return nil, &backup.Problem{Msg: fmt.Sprintf("no backup %q in the repository (its backups: %s)", cfg.From, pgbackrest.Labels(sets))}
		}
		b = &Backup{ID: set.Label, Set: set}
	default:
		log.Info("drill: backing up")
		if b, err = runBackup(ctx, db, cfg.BackupConfig); err != nil {
			log.Error("drill: the backup failed", "err", err)
			failure = backup.Fail(backup.FailBackup, err.Error())
		}
	}
	switch {
	case b == nil:
		// The backup failed: the drill is recorded, failed.
		d.BackupID, d.Target.Time = "none", time.Now()
	case b.Manifest != nil:
		m := b.Manifest
		d.BackupID, d.Expected = m.ID, m.Figures
		d.Target.Time, d.Target.AuditSeq, d.Target.AuditHash = m.CreatedAt, m.Audit.Seq, m.Audit.Hash
	default:
		// The point is marked as the drill is recorded (store.StartDrill),
		// after the backup, while writes go on.
		d.BackupID = b.ID
	}
	if err := db.StartDrill(ctx, d); err != nil {
		return nil, fmt.Errorf("recording the drill: %w", err)
	}
	log.Info("drill started", "id", d.ID, "backup", d.BackupID, "target", d.Target.Time, "audit_seq", d.Target.AuditSeq)

	var restored backup.Figures
	var took time.Duration
	if failure == nil {
		restored, took, failure = restoreAndCheck(ctx, cfg, b, d, key, bindir)
	}
	d.Finish(time.Now(), restored, took.Milliseconds(), failure)
	// The record is completed even when the drill's context is cancelled.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := db.FinishDrill(fctx, d); err != nil {
		return d, fmt.Errorf("recording the drill's result: %w", err)
	}
	log.Info("drill finished", "id", d.ID, "result", d.Result, "restore_ms", d.RestoreMillis)
	return d, nil
}

// drillActor is who the drill's record names: the person given, or the
// system user on this host, acting as galenix.
func drillActor(by string) identity.Actor { return CLIActor(by, "galenix backup drill") }

// CLIActor is the actor of a command run from the shell: the system,
// named after the person who ran it (by, else the system user and host)
// and the command.
func CLIActor(by, command string) identity.Actor {
	a := identity.System
	if by == "" {
		by = "?"
		if u, err := user.Current(); err == nil {
			by = u.Username
		}
		if h, err := os.Hostname(); err == nil {
			by += "@" + h
		}
	}
	a.Name = by + " (" + command + ")"
	return a
}

// restoreAndCheck restores the backup into a new directory of cfg.Work,
// opens a galenix store on it, verifies its audit trail and reads its
// figures; it returns them, how long the restore took until the restored
// database answered, and why the drill failed, if it did.
func restoreAndCheck(ctx context.Context, cfg DrillConfig, b *Backup, d *backup.Drill, key ed25519.PublicKey, bindir string) (backup.Figures, time.Duration, *backup.Failure) {
	log := cfg.logger()
	work, err := os.MkdirTemp(cfg.Work, "galenix-drill-")
	if err != nil {
		return nil, 0, backup.Fail(backup.FailRestore, err.Error())
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o700); err != nil {
		return nil, 0, backup.Fail(backup.FailRestore, err.Error())
	}
	start := time.Now()
	var rcfg store.Config
	if d.Database == backup.SQLite {
		data := filepath.Join(work, "data")
		if _, err := RestoreSQLite(b.Dir, data); err != nil {
			return nil, 0, backup.Fail(backup.FailRestore, err.Error())
		}
		rcfg = store.Config{DataDir: data}
	} else {
		if err := pgbackrest.Chown(work, cfg.PG.User); err != nil {
			return nil, 0, backup.Fail(backup.FailRestore, err.Error())
		}
		// pgBackRest has the log up to the point once the segment
		// holding the drill's record, written after it, is archived.
		if err := cfg.PG.Verify(ctx); err != nil {
			return nil, 0, backup.Fail(backup.FailRestore, err.Error())
		}
		pgdata := filepath.Join(work, "pgdata")
		if _, err := RestorePostgres(ctx, RestorePGConfig{PG: cfg.PG, PGData: pgdata, From: b.ID, Target: d.Target.Time}); err != nil {
			return nil, 0, backup.Fail(backup.FailRestore, err.Error())
		}
		srv, err := pgbackrest.StartServer(ctx, bindir, pgdata, cfg.PG.User)
		if err != nil {
			return nil, 0, backup.Fail(backup.FailStart, err.Error())
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				log.Warn("drill: stopping the restore's PostgreSQL", "err", err)
			}
		}()
		dsn, err := onPort(cfg.DSN, srv.Port)
		if err != nil {
			return nil, 0, backup.Fail(backup.FailStart, err.Error())
		}
		if err := waitPromoted(ctx, srv, dsn); err != nil {
			return nil, 0, backup.Fail(backup.FailStart, err.Error())
		}
		rcfg = store.Config{DSN: dsn}
	}
	rcfg.Logger = cfg.Log
	rdb, err := store.Open(ctx, rcfg)
	if err != nil {
		return nil, 0, backup.Fail(backup.FailStart, err.Error())
	}
	defer rdb.Close()
	took := time.Since(start)
	log.Info("drill: restored", "took", took.Round(time.Millisecond))

	rep, err := rdb.VerifyAudit(ctx, key, nil)
	var broken *audit.Broken
	switch {
	case errors.As(err, &broken):
		return nil, took, backup.Fail(backup.FailAuditBroken, strconv.FormatInt(broken.Seq, 10), broken.Reason)
	case err != nil:
		return nil, took, backup.Fail(backup.FailVerify, err.Error())
	}
	log.Info("drill: the restore's audit trail holds", "entries", rep.Entries, "checkpoints", rep.Checkpoints)
	head, figures, err := rdb.Figures(ctx)
	if err != nil {
		return nil, took, backup.Fail(backup.FailVerify, err.Error())
	}
	return figures, took, backup.Compare(d.Target.Head(), d.Expected, head, figures)
}

// onPort is the DSN of the live database moved to the drill's server on
// 127.0.0.1: the same role, password and database.
func onPort(dsn string, port int) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("the PostgreSQL DSN cannot be read")
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Del("target_session_attrs")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// waitPromoted waits until the restored PostgreSQL has replayed the log to
// the point and opened for writes; a server that stops meanwhile (recovery
// that cannot reach the point) fails with its log.
func waitPromoted(ctx context.Context, srv *pgbackrest.Server, dsn string) error {
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		if err := store.Promoted(ctx, dsn); err == nil {
			return nil
		}
		if !srv.Running(ctx) {
			return fmt.Errorf("PostgreSQL stopped while replaying the archived log:\n%s", srv.LogTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("PostgreSQL did not reach the point within 30 minutes:\n%s", srv.LogTail())
}
