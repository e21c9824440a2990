package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"galenix/internal/backup"
	"galenix/internal/identity"
)

// TestBackupDrillsPage shows the drills to an administrator, in French
// then English, from the administration's tabs: results, points, counts
// and a failure's reason in the reader's language. Others are refused.
func TestBackupDrillsPage(t *testing.T) {
	e := newPageEnv(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	head, figures, err := e.db.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	for i, f := range []*backup.Failure{nil, backup.Fail(backup.FailFigureDiffers, "people", "60", "59")} {
		d := &backup.Drill{Database: backup.Postgres, BackupID: "20260302-083000F", StartedAt: at.Add(time.Duration(i) * time.Hour),
			Target: backup.Target{Kind: backup.TargetTime, Time: at.Add(10 * time.Minute), AuditSeq: head.Seq, AuditHash: head.Hash}, Expected: figures}
		if err := e.db.StartDrill(ctx, d); err != nil {
			t.Fatal(err)
		}
		restored := figures
		if f != nil {
			restored = backup.Figures{"people": 59}
		}
		d.Finish(d.StartedAt.Add(2*time.Minute), restored, 83_400, f)
		if err := e.db.FinishDrill(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	b := e.signedIn(t, "admin")
	b.get("/admin/accounts").want(t, http.StatusOK, "Jetons d'API Exercices de restauration")
	p := b.get("/admin/backup-drills")
	p.want(t, http.StatusOK, "Exercices de restauration", "Réussi", "Échoué", "20260302-083000F", "PostgreSQL",
		"Instant 02/03/2026 09:40:00", "Personnel : 60 attendus, 59 restaurés", "1 min 23 s", "Dernier exercice réussi : 02/03/2026 09:32")
	b.get("/lang?to=en&next=/admin/backup-drills")
	b.get("/admin/backup-drills").want(t, http.StatusOK, "Restore drills", "Passed", "Failed", "Point in time 2 Mar 2026 09:40:00",
		"Staff: 60 expected, 59 restored")
	e.signedIn(t, "operator").get("/admin/backup-drills").want(t, http.StatusForbidden)
}

// TestDrillMessages checks that every result, kind of database, figure and
// failure code of a drill has its label in both languages.
func TestDrillMessages(t *testing.T) {
	var keys []string
	for _, r := range backup.Results {
		keys = append(keys, "drill.result."+string(r))
	}
	for _, n := range backup.FigureNames {
		keys = append(keys, "drill.figure."+n)
	}
	for c := range backup.FailureCodes {
		keys = append(keys, "drill.failure."+c)
	}
	keys = append(keys, "drill.database."+backup.SQLite, "drill.database."+backup.Postgres, "drill.target."+backup.TargetBackup, "drill.target."+backup.TargetTime)
	for _, k := range keys {
		if !hasMsg(k) {
			t.Errorf("the catalogue lacks %q", k)
		}
	}
	f := backup.Fail(backup.FailHeadDiffers, "12", "10")
	if got := drillFailure(langEN, f); got != "The restored audit trail ends at entry 10 instead of 12" {
		t.Errorf("head_differs in English: %q", got)
	}
}
