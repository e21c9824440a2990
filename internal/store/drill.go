package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The restore drills (EU GMP Annex 11 §7.2): each is written when it starts
// ("backup.drill.start") and completed once when it ends
// ("backup.drill.finish"), both with their audit entries.

var drillTable = table{name: "backup_drills", entity: "backup_drill", cols: []string{
	"started_at", "finished_at", "performed_by", "performed_by_name", "database_kind", "backup_id",
	"target_kind", "target_time", "target_seq", "target_hash", "result", "expected", "restored",
	"restore_ms", "failure_code", "failure_params"}}

const drillCols = `id, started_at, finished_at, performed_by, performed_by_name, database_kind, backup_id,
	target_kind, target_time, target_seq, target_hash, result, expected, restored, restore_ms, failure_code, failure_params`

// Drills lists the restore drills, newest first, at most limit (100 when
// 0, 1,000 at most). Only those with backup.view see them.
func (db *DB) Drills(ctx context.Context, limit int) ([]backup.Drill, error) {
	if err := actorOf(ctx).Require(identity.PermBackupView); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	return list(ctx, db, `SELECT `+drillCols+` FROM backup_drills ORDER BY started_at DESC, id DESC LIMIT ?`, []any{limit}, scanDrill)
}

// StartDrill records a drill as it starts, performed by the actor in ctx.
// A drill to a point in time whose target has no time yet has its point
// marked here, on PostgreSQL: the head of the audit chain is locked, so that
// no audited write commits meanwhile; the server's clock then gives the
// point, and the figures are counted at it. Every write committed before
// the point is in the figures, every later one (this record's first) after
// it: a restore to that time must hold exactly those figures.
func (db *DB) StartDrill(ctx context.Context, d *backup.Drill) error {
	return db.Write(ctx, "backup.drill.start", "", func(tx *Tx) error {
		if d.StartedAt.IsZero() {
			d.StartedAt = tx.now
		}
		if d.Target.Kind == backup.TargetTime && d.Target.Time.IsZero() {
			if err := tx.markPoint(d); err != nil {
				return err
			}
		}
		return tx.createDrill(d)
	})
}

// markPoint fixes the drill's target at the present instant; see
// StartDrill.
func (tx *Tx) markPoint(d *backup.Drill) error {
	if tx.db.dialect != Postgres {
		return errs.Field("target", "store.only_cluster_database_restores")
	}
	var seq int64
	if err := tx.queryRow(`SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq); err != nil {
		return fmt.Errorf("locking the head of the audit chain: %w", err)
	}
	if err := tx.queryRow(`SELECT clock_timestamp()`).Scan(&d.Target.Time); err != nil {
		return err
	}
	h, f, err := tx.figures()
	if err != nil {
		return err
	}
	d.Target.Time = d.Target.Time.UTC()
	d.Target.AuditSeq, d.Target.AuditHash, d.Expected = h.Seq, h.Hash, f
	return nil
}

// createDrill writes a drill record, performed by the transaction's actor,
// with its audit entries. The demo writes its past drills with it.
func (tx *Tx) createDrill(d *backup.Drill) error {
	if d.ID == "" {
		d.ID = NewID()
	}
	d.PerformedBy, d.PerformedByName = tx.actor.UserID, tx.actor.Name
	if d.PerformedByName == "" {
		d.PerformedByName = tx.actor.Username
	}
	if err := d.Validate(); err != nil {
		return err
	}
	code, params := failureColumns(d.Failure)
	return create(tx, drillTable, d.ID, d, row{"started_at": d.StartedAt, "finished_at": finishedAt(d), "performed_by": d.PerformedBy,
		"performed_by_name": d.PerformedByName, "database_kind": d.Database, "backup_id": d.BackupID, "target_kind": d.Target.Kind,
		"target_time": d.Target.Time, "target_seq": d.Target.AuditSeq, "target_hash": d.Target.AuditHash, "result": string(d.Result),
		"expected": jsonOf(d.Expected), "restored": jsonOf(d.Restored), "restore_ms": d.RestoreMillis, "failure_code": code, "failure_params": params})
}

// FinishDrill completes a running drill with its result, its restored
// figures and, when it failed, why. A drill that has ended is never
// changed.
func (db *DB) FinishDrill(ctx context.Context, d *backup.Drill) error {
	return db.Write(ctx, "backup.drill.finish", "", func(tx *Tx) error {
		var old backup.Drill
		err := tx.byID(`SELECT `+drillCols+` FROM backup_drills WHERE id = ?`, d.ID, func(sc scanner) error { return scanDrill(sc, &old) },
			"store.no_such_restore_drill")
		if err != nil {
			return err
		}
		if err := old.MayFinish(); err != nil {
			return err
		}
		if d.FinishedAt == nil || (d.Result != backup.OK && d.Result != backup.Failed) {
			return errors.New("a drill finishes with its end time and a result, ok or failed")
		}
		// What the drill started with stays as it was recorded.
		next := old
		next.FinishedAt, next.Result, next.Restored, next.RestoreMillis, next.Failure = d.FinishedAt, d.Result, d.Restored, d.RestoreMillis, d.Failure
		if next.Restored == nil {
			next.Restored = backup.Figures{}
		}
		code, params := failureColumns(next.Failure)
		res, err := tx.exec(`UPDATE backup_drills SET finished_at = ?, result = ?, restored = ?, restore_ms = ?, failure_code = ?, failure_params = ?
			WHERE id = ? AND result = 'running'`, finishedAt(&next), string(next.Result), jsonOf(next.Restored), next.RestoreMillis, code, params, d.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return (&backup.Drill{Result: backup.OK}).MayFinish()
		}
		*d = next
		return tx.Audit(audit.Diff(drillTable.entity, d.ID, old.AuditFields(), next.AuditFields()), "")
	})
}

func finishedAt(d *backup.Drill) any {
	if d.FinishedAt == nil {
		return nil
	}
	return d.FinishedAt.UTC()
}

// failureColumns are a failure's code and parameters as stored: an empty
// code and no parameters when there is none.
func failureColumns(f *backup.Failure) (string, string) {
	if f == nil {
		return "", "{}"
	}
	return f.Code, jsonOf(f.Params)
}

// jsonOf encodes a value stored as JSON text; nil maps are {}.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "{}"
	}
	return string(b)
}

func scanDrill(sc scanner, d *backup.Drill) error {
	var finished sql.NullTime
	var result, expected, restored, code, params string
	if err := sc.Scan(&d.ID, &d.StartedAt, &finished, &d.PerformedBy, &d.PerformedByName, &d.Database, &d.BackupID,
		&d.Target.Kind, &d.Target.Time, &d.Target.AuditSeq, &d.Target.AuditHash, &result, &expected, &restored,
		&d.RestoreMillis, &code, &params); err != nil {
		return err
	}
	d.StartedAt, d.Target.Time, d.Result = d.StartedAt.UTC(), d.Target.Time.UTC(), backup.Result(result)
	d.FinishedAt = nil
	if finished.Valid {
		t := finished.Time.UTC()
		d.FinishedAt = &t
	}
	d.Expected, d.Restored = backup.Figures{}, backup.Figures{}
	if err := json.Unmarshal([]byte(expected), &d.Expected); err != nil {
		return fmt.Errorf("drill %s: expected figures: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(restored), &d.Restored); err != nil {
		return fmt.Errorf("drill %s: restored figures: %w", d.ID, err)
	}
	d.Failure = nil
	if code != "" {
		d.Failure = &backup.Failure{Code: code}
		if err := json.Unmarshal([]byte(params), &d.Failure.Params); err != nil {
			return fmt.Errorf("drill %s: failure: %w", d.ID, err)
		}
	}
	return nil
}

// RecordBackupsRemoved writes in the audit trail that backups were removed
// (a retention, or one named): one entry per backup, its label the record,
// by the actor in ctx, which must be the system (the command line). how
// says what removed them ("--keep 3", "--backup LABEL"). A backup is a
// copy of GMP records: an inspector sees which ones the site no longer
// holds, when and by whose command (EU GMP Annex 11 §7.1, §17).
func (db *DB) RecordBackupsRemoved(ctx context.Context, database string, removed []string, how string) error {
	if actorOf(ctx).UserID != identity.System.UserID {
		return errs.E(errs.Forbidden, "store.backups_removed_from_command")
	}
	if len(removed) == 0 {
		return nil
	}
	return db.Write(ctx, "backup.remove", how, func(tx *Tx) error {
		changes := make([]audit.Change, len(removed))
		for i, label := range removed {
			changes[i] = audit.Change{Entity: "backup", EntityID: database + ":" + label, Field: "state", Old: "kept", New: "removed"}
		}
		return tx.Audit(changes, "")
	})
}
