package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"galenix/internal/backup"
	"galenix/internal/store"
)

// pastDrill is a restore drill the demo site ran before the load: days
// before the day of the load, at 02:00 UTC, with the counts of the point
// it restored to and how long the restore took.
type pastDrill struct {
	daysAgo   int
	audit     int64
	people    int64
	batches   int64
	steps     int64
	restoreMS int64
}

// pastDrills are the demo's two monthly drills, both passed, so that the
// administration's page shows that backups are tested (EU GMP Annex 11
// §7.2).
var pastDrills = []pastDrill{
	{daysAgo: 35, audit: 18_204, people: 794, batches: 702, steps: 1_106, restoreMS: 142_300},
	{daysAgo: 7, audit: 23_511, people: 800, batches: 881, steps: 1_402, restoreMS: 151_800},
}

// drills records the past restore drills: on PostgreSQL each restored a
// full pgBackRest backup to a point in time two hours after it; on SQLite
// each restored a backup to its own point. Each is started and finished
// through the drill's own commands, dated when it ran (store.History).
func (l *loader) drills() error {
	now := l.h.Now()
	defer func() { l.h.Backdate(now) }()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for _, p := range pastDrills {
		started := day.AddDate(0, 0, -p.daysAgo).Add(2 * time.Hour)
		sum := sha256.Sum256([]byte(started.String()))
		figures := backup.Figures{"audit_entries": p.audit, "signatures": p.batches / 6, "accounts": 11, "people": p.people,
			"batches": p.batches, "batch_steps": p.steps, "deviations": 3}
		d := &backup.Drill{Database: backup.SQLite, BackupID: backup.NewID(started.Add(-time.Minute)), StartedAt: started,
			Target:   backup.Target{Kind: backup.TargetBackup, Time: started.Add(-time.Minute), AuditSeq: p.audit, AuditHash: hex.EncodeToString(sum[:])},
			Expected: figures}
		if l.dialect == store.Postgres {
			d.Database, d.BackupID = backup.Postgres, started.Add(-2*time.Hour).Format("20060102-150405F")
			d.Target.Kind, d.Target.Time = backup.TargetTime, started
		}
		if err := l.h.Backdate(started); err != nil {
			return err
		}
		if err := l.db.StartDrill(l.ctx, d); err != nil {
			return err
		}
		d.Finish(started.Add(time.Duration(p.restoreMS)*time.Millisecond+40*time.Second), figures, p.restoreMS, nil)
		if err := l.h.Backdate(*d.FinishedAt); err != nil {
			return err
		}
		if err := l.db.FinishDrill(l.ctx, d); err != nil {
			return err
		}
	}
	return nil
}
