package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"galenix/internal/backup"
	"galenix/internal/store"
)

// TestBackupListAndPrunePostgres lists pgBackRest's backups with their
// type, times, sizes, the write-ahead log each needs and the archive's
// range; makes a full then a differential backup with --type auto; refuses
// a negative retention, --keep 0, an unknown backup and the only full
// backup, expiring nothing; expires with prune --keep a full backup with
// the differential that depends on it and the archive only they needed;
// and applies backup --keep after a new full backup.
func TestBackupListAndPrunePostgres(t *testing.T) {
	a := startArchiving(t)
	db, team := a.site(t)
	flags := a.flag[:8]
	backupOK := func(extra ...string) string {
		t.Helper()
		return runOK(t, append(append([]string{"backup", "--db", a.dsn}, flags...), extra...)...)
	}
	labels := func() []string {
		t.Helper()
		sets, err := a.pg.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sets {
			out = append(out, s.Label)
		}
		return out
	}

	if out := backupOK("--type", "auto"); !strings.Contains(out, "(full)") {
		t.Errorf("the first automatic backup:\n%s", out)
	}
	people(t, db, team, "A", 3)
	if out := backupOK("--type", "auto"); !strings.Contains(out, "(diff)") {
		t.Errorf("an automatic backup a moment after a full one:\n%s", out)
	}
	people(t, db, team, "B", 3)
	backupOK()

	l := listJSON(t, append([]string{"--db", a.dsn}, flags...)...)
	ids := listedIDs(l)
	if l.Database != backup.Postgres || len(ids) != 3 || l.ArchiveMin == "" || l.ArchiveMax == "" {
		t.Fatalf("listing: %+v", l)
	}
	full1, diff1, full2 := l.Backups[0], l.Backups[1], l.Backups[2]
	if full1.Type != "full" || diff1.Type != "diff" || diff1.Prior != full1.ID || full2.Type != "full" || full2.Prior != "" {
		t.Errorf("types and priors: %+v", l.Backups)
	}
	for i, b := range l.Backups {
		if b.Size == 0 || b.RepoSize == 0 || b.WALStart == "" || b.WALStop < b.WALStart || b.WALStop > l.ArchiveMax ||
			b.Stop.Before(b.Start) || !b.RestoresFrom.Equal(b.Stop) || b.Schema == 0 || b.AuditSeq == 0 {
			t.Errorf("backup %d: %+v", i, b)
		}
		if i > 0 && (b.AuditSeq <= l.Backups[i-1].AuditSeq || b.WALStart <= l.Backups[i-1].WALStop) {
			t.Errorf("backup %d does not follow the one before: %+v", i, b)
		}
	}
	text := runOK(t, append([]string{"backup", "list", "--db", a.dsn}, flags...)...)
	if !strings.Contains(text, "PostgreSQL backups, pgBackRest stanza galenix") || !strings.Contains(text, "archived write-ahead log: "+l.ArchiveMin+" to "+l.ArchiveMax) ||
		!strings.Contains(text, diff1.ID) || !strings.Contains(text, diff1.WALStart+" - "+diff1.WALStop) {
		t.Errorf("backup list says:\n%s", text)
	}

	for _, c := range []struct {
		name string
		args []string
		says string
	}{
		{"negative", []string{"backup", "prune", "--keep", "-1"}, "--keep -1: a retention is the number of backups to keep"},
		{"zero", []string{"backup", "prune", "--keep", "0"}, "--keep 0 would remove every backup"},
		{"negative diff", []string{"backup", "prune", "--keep-diff", "-1"}, "--keep-diff -1"},
		{"unknown", []string{"backup", "prune", "--backup", "20200101-000000F"}, `no backup "20200101-000000F" in the repository (its backups: ` + full1.ID},
		{"both", []string{"backup", "prune", "--keep", "1", "--backup", full1.ID}, "not both"},
		{"backup, negative", []string{"backup", "--keep", "-1"}, "--keep -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(append(c.args, "--db", a.dsn), flags...)
			if code := run(args, &out, &errOut); code != 1 || !strings.Contains(out.String(), c.says) {
				t.Errorf("exit %d, output lacks %q:\n%s%s", code, c.says, out.String(), errOut.String())
			}
			if got := labels(); !slices.Equal(got, ids) {
				t.Errorf("the refused command changed the backups: %v, then %v", ids, got)
			}
		})
	}

	// The newest full backup kept: the first goes, with its differential
	// and the archive older than the second.
	out := runOK(t, append([]string{"backup", "prune", "--keep", "1", "--db", a.dsn}, flags...)...)
	if !strings.Contains(out, "OK: 2 backup(s) removed: "+full1.ID+", "+diff1.ID) {
		t.Errorf("prune --keep 1 says:\n%s", out)
	}
	after := listJSON(t, append([]string{"--db", a.dsn}, flags...)...)
	if !slices.Equal(listedIDs(after), []string{full2.ID}) || after.ArchiveMin <= l.ArchiveMin || after.ArchiveMin > full2.WALStart {
		t.Errorf("after prune --keep 1: %v, archive %s to %s (before %s to %s; %s starts at %s)", listedIDs(after),
			after.ArchiveMin, after.ArchiveMax, l.ArchiveMin, l.ArchiveMax, full2.ID, full2.WALStart)
	}
	wantRemovedInTrail(t, store.Config{DSN: a.dsn}, []removal{{"postgres:" + full1.ID, "--keep 1", ""}, {"postgres:" + diff1.ID, "--keep 1", ""}})
	var rout, rerr bytes.Buffer
	if code := run(append([]string{"backup", "prune", "--backup", full2.ID, "--db", a.dsn}, flags...), &rout, &rerr); code != 1 ||
		!strings.Contains(rout.String(), "is the only full backup") || !slices.Equal(labels(), []string{full2.ID}) {
		t.Errorf("removing the only full backup: exit %d, backups %v\n%s%s", code, labels(), rout.String(), rerr.String())
	}

	// A full backup with a retention of one: the one before it goes.
	people(t, db, team, "C", 3)
	out = backupOK("--keep", "1")
	now := labels()
	if len(now) != 1 || now[0] == full2.ID || !strings.Contains(out, "retention: removed "+full2.ID) {
		t.Errorf("backup --keep 1: %v\n%s", now, out)
	}
	wantRemovedInTrail(t, store.Config{DSN: a.dsn}, []removal{{"postgres:" + full1.ID, "--keep 1", ""}, {"postgres:" + diff1.ID, "--keep 1", ""},
		{"postgres:" + full2.ID, "--keep 1", ""}})
}
