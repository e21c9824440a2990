package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// listJSON runs galenix backup list --json.
func listJSON(t *testing.T, args ...string) backup.Listing {
	t.Helper()
	var l backup.Listing
	if err := json.Unmarshal([]byte(runOK(t, append([]string{"backup", "list", "--json"}, args...)...)), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// listedIDs are the backups' names, oldest first.
func listedIDs(l backup.Listing) []string {
	var out []string
	for _, b := range l.Backups {
		out = append(out, b.ID)
	}
	return out
}

// TestBackupListAndPruneSQLite lists the SQLite backups of a directory,
// oldest first, with what is not a backup left aside; refuses a negative
// retention, --keep 0, an unknown backup and the only backup, removing
// nothing; keeps the newest N with prune --keep and with backup --keep;
// and removes one backup named.
func TestBackupListAndPruneSQLite(t *testing.T) {
	data, bk := t.TempDir(), t.TempDir()
	ctx := identity.WithActor(context.Background(), identity.System)
	db, err := store.Open(ctx, store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := audit.CreateKey(filepath.Join(data, audit.KeyFile)); err != nil {
		t.Fatal(err)
	}

	// One backup: it cannot be removed.
	runOK(t, "backup", "--data", data, "--out", bk)
	only := listedIDs(listJSON(t, "--out", bk))
	var out, errOut bytes.Buffer
	if code := run([]string{"backup", "prune", "--data", data, "--out", bk, "--backup", only[0]}, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "is the only backup") {
		t.Errorf("removing the only backup: exit %d\n%s%s", code, out.String(), errOut.String())
	}

	for range 3 {
		runOK(t, "backup", "--data", data, "--out", bk)
	}
	// Beside them: a backup being made (no manifest yet) and a stranger.
	for _, d := range []string{"20990101T000000.000000Z", "notes"} {
		if err := os.Mkdir(filepath.Join(bk, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	l := listJSON(t, "--out", bk)
	ids := listedIDs(l)
	if l.Database != backup.SQLite || len(ids) != 4 || !slices.IsSorted(ids) || len(l.Ignored) != 2 {
		t.Fatalf("listing: %+v", l)
	}
	for _, b := range l.Backups {
		if b.Type != "copy" || b.Size == 0 || b.Schema == 0 || b.AuditSeq == 0 || b.Stop.IsZero() || !b.RestoresFrom.Equal(b.Stop) {
			t.Errorf("listed: %+v", b)
		}
	}
	text := runOK(t, "backup", "list", "--out", bk)
	if !strings.Contains(text, "SQLite backups in "+bk+": 4") || !strings.Contains(text, ids[0]) ||
		!strings.Contains(text, "not a backup, left alone: notes") {
		t.Errorf("backup list says:\n%s", text)
	}

	before := dirNames(t, bk)
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"negative", []string{"--keep", "-1"}, 1, "--keep -1: a retention is the number of backups to keep"},
		{"zero", []string{"--keep", "0"}, 1, "--keep 0 would remove every backup"},
		{"unknown", []string{"--backup", "20200101T000000.000000Z"}, 1, `no backup "20200101T000000.000000Z" (the backups: ` + ids[0]},
		{"a stranger", []string{"--backup", "notes"}, 1, `no backup "notes"`},
		{"both", []string{"--keep", "2", "--backup", ids[0]}, 1, "not both"},
		{"diff on SQLite", []string{"--keep-diff", "2"}, 1, "--keep-diff is for PostgreSQL"},
		{"nothing said", nil, 1, "say how many backups to keep (--keep N)"},
		{"not a number", []string{"--keep", "two"}, 2, "invalid value"},
		{"no database", []string{"--data", t.TempDir(), "--keep", "1"}, 1, "no galenix database in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(append([]string{"backup", "prune", "--data", data, "--out", bk}, c.args...), &out, &errOut); code != c.code ||
				!strings.Contains(out.String()+errOut.String(), c.says) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, c.code, c.says, out.String(), errOut.String())
			}
			if got := dirNames(t, bk); !slices.Equal(got, before) {
				t.Errorf("the refused prune changed the backups: %v, then %v", before, got)
			}
		})
	}
	var eout, eerr bytes.Buffer
	if code := run([]string{"backup", "--data", data, "--out", bk, "--keep", "-2"}, &eout, &eerr); code != 1 ||
		!strings.Contains(eout.String(), "--keep -2") || !slices.Equal(dirNames(t, bk), before) {
		t.Errorf("backup --keep -2: exit %d, backups %v\n%s%s", code, dirNames(t, bk), eout.String(), eerr.String())
	}
	t.Setenv("GALENIX_BACKUP_KEEP", "-3")
	if code := run([]string{"backup", "prune", "--data", data, "--out", bk}, &eout, &eerr); code != 1 || !slices.Equal(dirNames(t, bk), before) {
		t.Errorf("GALENIX_BACKUP_KEEP=-3: exit %d, backups %v", code, dirNames(t, bk))
	}
	os.Unsetenv("GALENIX_BACKUP_KEEP")

	// The newest two are kept; the stranger and the backup being made too.
	out.Reset()
	if got := runOK(t, "backup", "prune", "--data", data, "--out", bk, "--by", "Marie Curie", "--keep", "2"); !strings.Contains(got, "OK: 2 backup(s) removed: "+ids[0]+", "+ids[1]) {
		t.Errorf("prune --keep 2 says:\n%s", got)
	}
	if got := listJSON(t, "--out", bk); !slices.Equal(listedIDs(got), ids[2:]) || len(got.Ignored) != 2 {
		t.Errorf("after prune --keep 2: %v, ignored %v", listedIDs(got), got.Ignored)
	}
	if got := runOK(t, "backup", "prune", "--data", data, "--out", bk, "--by", "Marie Curie", "--keep", "2"); !strings.Contains(got, "OK: no backup removed") {
		t.Errorf("prune --keep 2 again says:\n%s", got)
	}

	// One named.
	runOK(t, "backup", "prune", "--data", data, "--out", bk, "--backup", ids[2])
	if got := listedIDs(listJSON(t, "--out", bk)); !slices.Equal(got, ids[3:]) {
		t.Errorf("after removing %s: %v", ids[2], got)
	}
	wantRemovedInTrail(t, store.Config{DataDir: data}, []removal{
		{"sqlite:" + ids[0], "--keep 2", "Marie Curie"}, {"sqlite:" + ids[1], "--keep 2", "Marie Curie"}, {"sqlite:" + ids[2], "--backup " + ids[2], ""}})

	// A backup with its retention: the new one and the newest before it.
	got := runOK(t, "backup", "--data", data, "--out", bk, "--keep", "1")
	if !strings.Contains(got, "retention: removed "+ids[3]) {
		t.Errorf("backup --keep 1 says:\n%s", got)
	}
	if l := listJSON(t, "--out", bk); len(l.Backups) != 1 || l.Backups[0].ID == ids[3] {
		t.Errorf("after backup --keep 1: %v", listedIDs(l))
	}
	wantRemovedInTrail(t, store.Config{DataDir: data}, []removal{
		{"sqlite:" + ids[0], "--keep 2", "Marie Curie"}, {"sqlite:" + ids[1], "--keep 2", "Marie Curie"}, {"sqlite:" + ids[2], "--backup " + ids[2], ""},
		{"sqlite:" + ids[3], "--keep 1", ""}})
	for _, d := range []string{"20990101T000000.000000Z", "notes"} {
		if _, err := os.Stat(filepath.Join(bk, d)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}

	// The drill of the newest backup there is.
	newest := listedIDs(listJSON(t, "--out", bk))[0]
	if got := runOK(t, "backup", "drill", "--data", data, "--out", bk, "--from", "latest", "--work", t.TempDir()); !strings.Contains(got, "OK: restore drill") ||
		!strings.Contains(got, "of backup "+newest+" (sqlite)") {
		t.Errorf("drill --from latest says:\n%s", got)
	}
	var dout, derr bytes.Buffer
	if code := run([]string{"backup", "drill", "--data", data, "--out", t.TempDir(), "--from", "latest"}, &dout, &derr); code != 1 ||
		!strings.Contains(dout.String(), "no backup in") {
		t.Errorf("drill --from latest without a backup: exit %d\n%s%s", code, dout.String(), derr.String())
	}

	var mout, merr bytes.Buffer
	if code := run([]string{"backup", "list", "--out", filepath.Join(bk, "nope")}, &mout, &merr); code != 1 || !strings.Contains(mout.String(), "does not exist") {
		t.Errorf("list of no directory: exit %d\n%s%s", code, mout.String(), merr.String())
	}
}

// removal is a backup removed as the audit trail tells it.
type removal struct{ backup, how, by string }

// wantRemovedInTrail checks the audit trail's record of the backups
// removed, oldest first: each by the system, as the person named (when
// by is set) with the command's name, for the reason of the retention.
func wantRemovedInTrail(t *testing.T, cfg store.Config, want []removal) {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := db.Audit().Entries(ctx, audit.Filter{Entity: "backup", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(es, func(a, b audit.Entry) int { return int(a.Seq - b.Seq) })
	if len(es) != len(want) {
		t.Fatalf("the audit trail records %d backups removed, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.EntityID != w.backup || e.Field != "state" || e.Old != "kept" || e.New != "removed" || e.Reason != w.how ||
			e.ActorID != identity.System.UserID || !strings.Contains(e.ActorName, "galenix backup") ||
			(w.by != "" && !strings.Contains(e.ActorName, w.by)) {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
}
