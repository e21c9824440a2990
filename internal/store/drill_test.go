package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"galenix/internal/backup"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestDrillRecord records a drill as it starts and as it ends: each with
// its audit entries, listed for administrators and QA only; an ended drill
// is never changed again, through the store or behind its back.
func TestDrillRecord(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newFixture(t, db)
		ctx := as(alice)
		head, figures, err := db.Figures(ctx)
		must(t, err)
		if head.Seq == 0 || figures["audit_entries"] != head.Seq || figures["people"] != 0 {
			t.Fatalf("figures of the fixture: head %+v, %v", head, figures)
		}
		before := lastSeq(t, db)
		d := &backup.Drill{Database: backup.SQLite, BackupID: "20260302T073015.000000Z",
			Target: backup.Target{Kind: backup.TargetBackup, Time: now.Add(-time.Hour), AuditSeq: head.Seq, AuditHash: head.Hash}, Expected: figures}
		must(t, db.StartDrill(ctx, d))
		if d.ID == "" || d.Result != backup.Running || d.PerformedBy != alice.UserID || d.PerformedByName != alice.Name || !d.StartedAt.Equal(now) {
			t.Fatalf("started drill: %+v", d)
		}
		if es := entries(t, db, "backup_drill", d.ID, before); len(es) == 0 || es[0].Command != "backup.drill.start" {
			t.Fatalf("start entries: %+v", es)
		}

		end := now.Add(3 * time.Minute)
		done := &backup.Drill{ID: d.ID}
		done.Finish(end, figures, 1234, backup.Compare(head, figures, head, figures))
		must(t, db.FinishDrill(ctx, done))
		if done.Result != backup.OK || done.BackupID != d.BackupID || done.Expected["audit_entries"] != head.Seq {
			t.Fatalf("finished drill: %+v", done)
		}
		es := entries(t, db, "backup_drill", d.ID, before)
		fields := map[string]string{}
		for _, e := range es {
			if e.Command == "backup.drill.finish" {
				fields[e.Field] = e.New
			}
		}
		if fields["result"] != "ok" || fields["restore_ms"] != "1234" || fields["finished_at"] == "" {
			t.Errorf("finish entries: %v", fields)
		}

		list, err := db.Drills(as(alice), 0)
		must(t, err)
		if len(list) != 1 || list[0].Result != backup.OK || list[0].RestoreMillis != 1234 || list[0].FinishedAt == nil ||
			!list[0].FinishedAt.Equal(end) || list[0].Target.AuditHash != head.Hash || list[0].Restored["people"] != 0 ||
			list[0].Failure != nil || !list[0].Target.Time.Equal(now.Add(-time.Hour)) {
			t.Errorf("drills: %+v", list)
		}
		_, err = db.Drills(as(bruno), 0)
		wantErr(t, err, errs.Forbidden, "")

		// An ended drill is evidence.
		again := &backup.Drill{ID: d.ID}
		again.Finish(end, nil, 1, backup.Fail(backup.FailRestore, "forged"))
		wantErr(t, db.FinishDrill(ctx, again), errs.Conflict, "")
		refused := []string{`UPDATE backup_drills SET result = 'failed'`, `DELETE FROM backup_drills`}
		if db.Dialect() == store.Postgres {
			refused = append(refused, `TRUNCATE backup_drills`)
		}
		for _, q := range refused {
			if err := db.ExecRaw(q); err == nil {
				t.Errorf("%s: went through", q)
			}
		}
		list, err = db.Drills(as(alice), 0)
		must(t, err)
		if len(list) != 1 || list[0].Result != backup.OK {
			t.Errorf("after the refused changes: %+v", list)
		}

		// A failed drill keeps its failure as a code and parameters.
		f := &backup.Drill{Database: backup.SQLite, BackupID: "b2", Target: d.Target, Expected: figures}
		must(t, db.StartDrill(ctx, f))
		f.Finish(end, backup.Figures{"people": 3}, 10, backup.Compare(head, figures, head, backup.Figures{"people": 3}))
		must(t, db.FinishDrill(ctx, f))
		list, err = db.Drills(as(alice), 0)
		must(t, err)
		if len(list) != 2 || list[0].Result != backup.Failed || list[0].Failure == nil || list[0].Failure.Code != backup.FailFigureDiffers ||
			list[0].Failure.Params["figure"] != "audit_entries" {
			t.Errorf("failed drill: %+v", list[0])
		}
		wantErr(t, db.FinishDrill(ctx, &backup.Drill{ID: "0195f1a2-0000-7000-8000-000000000000"}), errs.NotFound, "")
		wantErr(t, db.StartDrill(ctx, &backup.Drill{Database: "oracle", BackupID: "x", Target: d.Target}), errs.Invalid, "database")
	})
}

// TestDrillMarksAPoint marks a point in time on PostgreSQL: the figures at
// the point are those of the database then, and the drill's own record
// comes after it. SQLite has no point in time to restore to.
func TestDrillMarksAPoint(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return time.Now().UTC() }
		f := newFixture(t, db)
		ctx := as(alice)
		must(t, db.Site().CreatePerson(ctx, &site.Person{Badge: "0001", Name: "Ana Lima", Job: "Operator", TeamID: f.team.ID}))
		head, figures, err := db.Figures(ctx)
		must(t, err)
		d := &backup.Drill{Database: backup.Postgres, BackupID: "20260302-073015F", Target: backup.Target{Kind: backup.TargetTime}}
		err = db.StartDrill(ctx, d)
		if db.Dialect() == store.SQLite {
			wantErr(t, err, errs.Invalid, "target")
			return
		}
		must(t, err)
		if d.Target.AuditSeq != head.Seq || d.Target.AuditHash != head.Hash || d.Expected["people"] != 1 ||
			d.Expected["audit_entries"] != figures["audit_entries"] || d.Target.Time.IsZero() || time.Since(d.Target.Time) > time.Minute {
			t.Errorf("marked point: %+v; figures before %v", d, figures)
		}
		after, _, err := db.Figures(ctx)
		must(t, err)
		if after.Seq <= head.Seq {
			t.Errorf("the drill's record is not after the point: head %d, then %d", head.Seq, after.Seq)
		}
	})
}

// TestSQLiteSnapshot copies a SQLite database while it is open: the copy
// holds what the database held, read without changing it; a copy never
// overwrites a file.
func TestSQLiteSnapshot(t *testing.T) {
	t.Parallel()
	db := openDB(t, store.Config{DataDir: t.TempDir()})
	newFixture(t, db)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "copy.db")
	must(t, db.SnapshotSQLite(ctx, path))
	schema, head, figures, err := store.InspectSQLite(ctx, path)
	must(t, err)
	wantHead, wantFigures, err := db.Figures(ctx)
	must(t, err)
	known, err := store.KnownSchema(store.SQLite)
	must(t, err)
	if schema != known || head != wantHead || backup.Compare(wantHead, wantFigures, head, figures) != nil {
		t.Errorf("copy: schema %d (want %d), head %+v (want %+v), figures %v (want %v)", schema, known, head, wantHead, figures, wantFigures)
	}
	sum, _, err := backup.FileSHA256(path)
	must(t, err)
	if _, _, _, err := store.InspectSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := backup.FileSHA256(path); again != sum {
		t.Error("reading the copy changed it")
	}
	if err := db.SnapshotSQLite(ctx, path); err == nil {
		t.Error("a second copy overwrote the first")
	}
	if again, _, _ := backup.FileSHA256(path); again != sum {
		t.Error("the refused copy changed the first")
	}
	if _, _, _, err := store.InspectSQLite(ctx, filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Error("inspecting a missing file went through")
	}
}
