package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// recordDrills records, as `galenix backup drill` would, a drill that
// passed, one that failed and one still running, oldest first.
func recordDrills(t *testing.T, db *store.DB) []*backup.Drill {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	head, figures, err := db.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-48 * time.Hour)
	var out []*backup.Drill
	for i, f := range []*backup.Failure{nil, backup.Fail(backup.FailFigureDiffers, "people", "3", "2"), nil} {
		d := &backup.Drill{Database: backup.SQLite, BackupID: "bk-" + string(rune('a'+i)), StartedAt: at.Add(time.Duration(i) * time.Hour),
			Target: backup.Target{Kind: backup.TargetBackup, Time: at, AuditSeq: head.Seq, AuditHash: head.Hash}, Expected: figures}
		if err := db.StartDrill(ctx, d); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			d.Finish(d.StartedAt.Add(time.Minute), figures, 2500, f)
			if err := db.FinishDrill(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, d)
	}
	return out
}

// TestBackupDrillsAPI lists the restore drills, newest first, to
// administrators and QA only, each with its target, figures and result;
// a failure is a code and its parameters.
func TestBackupDrillsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		if items := e.call(t, "admin", "GET", "/api/v1/backup-drills", nil).items(t); len(items) != 0 {
			t.Fatalf("drills before any: %v", items)
		}
		ds := recordDrills(t, e.db)
		items := e.call(t, "admin", "GET", "/api/v1/backup-drills", nil).items(t)
		if len(items) != 3 {
			t.Fatalf("%d drills, want 3: %v", len(items), items)
		}
		running, failed, passed := items[0], items[1], items[2]
		if running["id"] != ds[2].ID || running["result"] != "running" || running["finished_at"] != nil {
			t.Errorf("running drill: %v", running)
		}
		fail, _ := failed["failure"].(map[string]any)
		params, _ := fail["params"].(map[string]any)
		if failed["result"] != "failed" || fail["code"] != "figure_differs" || params["figure"] != "people" || params["want"] != "3" {
			t.Errorf("failed drill: %v", failed)
		}
		target, _ := passed["target"].(map[string]any)
		expected, _ := passed["expected"].(map[string]any)
		if passed["result"] != "ok" || passed["failure"] != nil || passed["restore_ms"] != 2500.0 || target["kind"] != "backup" ||
			target["audit_seq"] != float64(ds[0].Target.AuditSeq) || expected["audit_entries"] != float64(ds[0].Expected["audit_entries"]) ||
			passed["performed_by"] != "system" || passed["backup_id"] != "bk-a" {
			t.Errorf("passed drill: %v", passed)
		}
		if got := e.call(t, "admin", "GET", "/api/v1/backup-drills?limit=1", nil).items(t); len(got) != 1 || got[0]["id"] != ds[2].ID {
			t.Errorf("limit=1: %v", got)
		}
		e.call(t, "admin", "GET", "/api/v1/backup-drills?limit=0", nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
		e.call(t, "operator", "GET", "/api/v1/backup-drills", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "client-alpha", "GET", "/api/v1/backup-drills", nil).wantError(t, http.StatusForbidden, "forbidden", "")
	})
}
