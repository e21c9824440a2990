package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/pgbackrest"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

// archiving is a PostgreSQL of a test's own that archives its write-ahead
// log to pgBackRest, with a repository in a temporary directory.
type archiving struct {
	c    *testpg.Cluster
	pg   pgbackrest.Config
	dir  string // the repository, the configuration and the restores
	dsn  string
	key  string // the site's audit key file
	flag []string
}

// startArchiving starts the cluster, with archive_mode on and
// archive_command pushing to pgBackRest, as docs/operations.md says.
func startArchiving(t *testing.T) *archiving {
	t.Helper()
	bin := testpg.PGBackRest(t)
	dir, err := os.MkdirTemp("", "galenix-pgbackrest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The server, and so pgBackRest, run as postgres when the tests run
	// as root: it must reach the configuration and write the repository.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := &archiving{dir: dir, key: filepath.Join(dir, "audit-signing-key.pem")}
	conf := filepath.Join(dir, "pgbackrest.conf")
	c, err := testpg.Start(testpg.Options{Settings: []string{"archive_mode=on", "wal_level=replica",
		fmt.Sprintf("archive_command='%s --config=%s --stanza=galenix archive-push %%p'", bin, conf)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	a.c = c
	for _, sub := range []string{"repo", "log", "lock", "spool"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := pgbackrest.Chown(p, c.User()); err != nil {
			t.Fatal(err)
		}
	}
	body := fmt.Sprintf(`[global]
repo1-path=%[1]s/repo
log-path=%[1]s/log
lock-path=%[1]s/lock
spool-path=%[1]s/spool
log-level-file=off
start-fast=y
compress-type=lz4
archive-timeout=60

[galenix]
pg1-path=%[2]s
pg1-port=%[3]d
pg1-socket-path=%[2]s
pg1-user=postgres
`, dir, c.DataDir(), c.Port())
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	a.pg = pgbackrest.Config{Bin: bin, Stanza: "galenix", ConfigFile: conf, User: c.User()}
	a.flag = []string{"--pgbackrest", bin, "--pgbackrest-config", conf, "--pgbackrest-stanza", "galenix", "--pgbackrest-user", c.User(),
		"--audit-key", a.key}
	if a.dsn, err = c.CreateDatabase("galenix"); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.CreateKey(a.key); err != nil {
		t.Fatal(err)
	}
	return a
}

// site writes a small site and returns its store and the team its people
// join; a checkpoint of the trail is signed.
func (a *archiving) site(t *testing.T) (*store.DB, *site.Team) {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	db, err := store.Open(ctx, store.Config{DSN: a.dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}))
	b := &site.Building{Code: "B30", Name: "Bâtiment 30", Role: site.RoleSterileProduction}
	must(db.Site().CreateBuilding(ctx, b))
	sh := &site.Shift{Code: "M", Name: "Matin", Kind: site.ShiftDay, Start: "05:00", End: "13:00"}
	must(db.Site().CreateShift(ctx, sh))
	team := &site.Team{Code: "T1", Name: "Équipe 1", BuildingID: b.ID, ShiftID: sh.ID}
	must(db.Site().CreateTeam(ctx, team))
	key, err := audit.LoadKey(a.key)
	must(err)
	_, err = db.Checkpoint(ctx, key)
	must(err)
	return db, team
}

// people writes n people.
func people(t *testing.T, db *store.DB, team *site.Team, prefix string, n int) {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	for i := range n {
		p := &site.Person{Badge: fmt.Sprintf("%s-%04d", prefix, i), Name: "Personne " + strconv.Itoa(i), Job: "Opérateur", TeamID: team.ID}
		if err := db.Site().CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

// restoreDir is a new, empty place a restore may go, which the server's
// user can reach.
func (a *archiving) restoreDir(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(a.dir, name)
}

// TestRestorePostgresToAPointInTime takes a full pgBackRest backup, writes
// more, and restores to an instant between two series of writes into a
// fresh data directory; PostgreSQL started on it replays the archived log to
// that instant: the counts and the head of the audit chain are those of the
// instant, and audit verify passes. A non-empty directory, an unknown
// backup, a point before the backup and one still to come are refused,
// changing nothing.
func TestRestorePostgresToAPointInTime(t *testing.T) {
	a := startArchiving(t)
	db, team := a.site(t)
	people(t, db, team, "A", 5)
	out := runOK(t, append([]string{"backup", "--db", a.dsn}, a.flag...)...)
	sets, err := a.pg.Info(context.Background())
	if err != nil || len(sets) != 1 || sets[0].Type != "full" || !strings.Contains(out, "OK: pgBackRest backup "+sets[0].Label) {
		t.Fatalf("after galenix backup: %v %v\n%s", sets, err, out)
	}
	label := sets[0].Label
	if sets[0].Annotation["galenix-schema"] == "" {
		t.Errorf("the backup's annotation: %v", sets[0].Annotation)
	}

	// Writes after the backup, then the point, then more writes.
	people(t, db, team, "B", 7)
	head, figures, err := db.Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	point := time.Now()
	time.Sleep(50 * time.Millisecond)
	people(t, db, team, "C", 9)
	if err := a.pg.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}

	notEmpty := a.restoreDir(t, "not-empty")
	if err := os.Mkdir(notEmpty, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notEmpty, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := point.Format(time.RFC3339Nano)
	for _, c := range []struct {
		name string
		args []string
		says string
	}{
		{"not empty", []string{"--pg-data", notEmpty, "--to-time", at}, "is not empty"},
		{"unknown backup", []string{"--from", "20200101-000000F", "--to-time", at}, `no backup "20200101-000000F" in the repository (its backups: ` + label},
		{"before the backup", []string{"--from", label, "--to-time", sets[0].Stop.Add(-time.Hour).Format(time.RFC3339)}, "is before the end of the backup " + label},
		{"before every backup", []string{"--to-time", sets[0].Stop.Add(-time.Hour).Format(time.RFC3339)}, "before the end of the oldest backup"},
		{"still to come", []string{"--to-time", time.Now().Add(time.Hour).Format(time.RFC3339)}, "is still to come"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{"restore"}, a.flag[:8]...), c.args...)
			into := a.restoreDir(t, "refused")
			if !strings.Contains(strings.Join(c.args, " "), "--pg-data") {
				args = append(args, "--pg-data", into)
			}
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != 1 || !strings.Contains(out.String(), c.says) {
				t.Errorf("exit %d, output lacks %q:\n%s%s", code, c.says, out.String(), errOut.String())
			}
			if _, err := os.Stat(into); !os.IsNotExist(err) {
				t.Errorf("the refused restore made %s", into)
			}
		})
	}
	if entries, _ := os.ReadDir(notEmpty); len(entries) != 1 {
		t.Errorf("the refused restore changed %s: %v", notEmpty, entries)
	}

	fresh := a.restoreDir(t, "restored")
	out = runOK(t, append(append([]string{"restore"}, a.flag[:8]...), "--pg-data", fresh, "--from", label, "--to-time", at)...)
	if !strings.Contains(out, "OK: backup "+label+" restored into "+fresh) {
		t.Errorf("restore says:\n%s", out)
	}
	srv, err := pgbackrest.StartServer(context.Background(), testpg.Bindir(), fresh, a.c.User())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	rdsn := fmt.Sprintf("postgres://galenix@127.0.0.1:%d/galenix?sslmode=disable", srv.Port)
	deadline := time.Now().Add(2 * time.Minute)
	for store.Promoted(context.Background(), rdsn) != nil {
		if time.Now().After(deadline) || !srv.Running(context.Background()) {
			t.Fatalf("the restore did not open:\n%s", srv.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	rdb, err := store.Open(context.Background(), store.Config{DSN: rdsn})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	rhead, rfigures, err := rdb.Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f := backup.Compare(head, figures, rhead, rfigures); f != nil || rfigures["people"] != 12 {
		t.Errorf("the restore to %s: %+v; head %+v figures %v, want head %+v figures %v", at, f, rhead, rfigures, head, figures)
	}
	out = runOK(t, "audit", "verify", "--db", rdsn, "--audit-key", a.key)
	if !strings.Contains(out, fmt.Sprintf("OK: %d audit entries", head.Seq)) {
		t.Errorf("audit verify on the restore: %s", out)
	}
}

// TestRestoreDrillPostgres runs the drill while people keep being written:
// it takes a full backup, marks a point after it, restores to that point
// into a PostgreSQL of its own, verifies the audit trail and finds there
// exactly the counts of the point; the drill is recorded, ok. Every write
// acknowledged during the drill is in the live database.
func TestRestoreDrillPostgres(t *testing.T) {
	a := startArchiving(t)
	db, team := a.site(t)
	people(t, db, team, "BASE", 3)
	_, base, err := db.Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadErr atomic.Pointer[error]
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := identity.WithActor(context.Background(), identity.System)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			p := &site.Person{Badge: fmt.Sprintf("LOAD-%05d", i), Name: "Charge " + strconv.Itoa(i), Job: "Opérateur", TeamID: team.ID}
			if err := db.Site().CreatePerson(ctx, p); err != nil {
				loadErr.Store(&err)
				return
			}
			written.Add(1)
		}
	}()
	waitWritten := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); written.Load() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d writes in a minute: %v", written.Load(), loadErr.Load())
			}
		}
	}
	waitWritten(3)
	work := a.restoreDir(t, "drills")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, append([]string{"backup", "drill", "--db", a.dsn, "--work", work, "--by", "Paul Postgres"}, a.flag...)...)
	waitWritten(written.Load() + 3)
	close(stop)
	wg.Wait()
	if err := loadErr.Load(); err != nil {
		t.Fatal(*err)
	}
	if !strings.Contains(out, "OK: restore drill") {
		t.Errorf("the drill says:\n%s", out)
	}

	ds, err := db.Drills(identity.WithActor(context.Background(), identity.System), 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("drills: %v %v", ds, err)
	}
	d := ds[0]
	if d.Result != backup.OK || d.Failure != nil || d.Database != backup.Postgres || d.Target.Kind != backup.TargetTime ||
		!strings.HasPrefix(d.PerformedByName, "Paul Postgres") || d.RestoreMillis <= 0 || backup.Compare(d.Target.Head(), d.Expected, d.Target.Head(), d.Restored) != nil {
		t.Errorf("the drill: %+v", d)
	}
	sets, err := a.pg.Info(context.Background())
	if err != nil || len(sets) != 1 || sets[0].Label != d.BackupID || d.Target.Time.Before(sets[0].Stop) {
		t.Errorf("the drill's backup: %v %v; drill %+v", sets, err, d)
	}
	_, now, err := db.Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The point is mid-load: writes before it are in it, writes after are not.
	if d.Expected["people"] <= base["people"] || d.Expected["people"] >= now["people"] {
		t.Errorf("people: %d before the load, %d at the drill's point, %d now", base["people"], d.Expected["people"], now["people"])
	}
	if now["people"] != base["people"]+written.Load() {
		t.Errorf("people now %d, want %d + %d acknowledged", now["people"], base["people"], written.Load())
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("the drill left its restore behind: %v", left)
	}
	runOK(t, "audit", "verify", "--db", a.dsn, "--audit-key", a.key)
}
