package ha

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"galenix/internal/backup"
	"galenix/internal/pgbackrest"
	"galenix/internal/store"
	"galenix/internal/testcluster"
)

// TestClusterBackupPointInTime backs the cluster up with galenix backup
// (pgBackRest, with the settings deploy/ha/cluster wrote), writes more
// through HAProxy, runs a restore drill from that backup (recorded, ok:
// the audit trail verifies and the counts are those of its point), and
// restores to a point in time chosen between two series of writes into a
// fresh place: there, the writes before the point are and those after are
// not, and galenix audit verify passes.
func TestClusterBackupPointInTime(t *testing.T) {
	c := testcluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	label := clusterBackup(ctx, t, c, "full")

	token := signIn(t, c.URL())
	shift := firstShift(t, c.URL(), token)
	run := time.Now().UnixNano() % 1000000
	writeTeams(t, c.URL(), token, shift, fmt.Sprintf("PITR-%d-A", run), 5)
	time.Sleep(200 * time.Millisecond)
	point := time.Now()
	time.Sleep(200 * time.Millisecond)
	writeTeams(t, c.URL(), token, shift, fmt.Sprintf("PITR-%d-B", run), 5)

	// The drill: from the newest backup (this one) to the instant it
	// starts, after both series; it archives the log up to there.
	d := clusterDrill(ctx, t, c, token, "latest", label)
	if d.Target.Time.Before(point) {
		t.Errorf("the drill's point %s is before the writes", d.Target.Time)
	}

	// The chosen point, into a fresh place.
	env, err := c.Env()
	if err != nil {
		t.Fatal(err)
	}
	pgdata := filepath.Join(env["GALENIX_DRILL_DIR"], "pitr")
	out, err := c.GalenixEnv(ctx, "restore", "--from", label, "--pg-data", pgdata, "--to-time", point.Format(time.RFC3339Nano))
	if err != nil || !strings.Contains(out, "OK: backup "+label+" restored into "+pgdata) {
		t.Fatalf("galenix restore: %v\n%s", err, out)
	}
	bindir, err := pgbackrest.Bindir()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pgbackrest.StartServer(ctx, bindir, pgdata, env["GALENIX_PGBACKREST_USER"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	rdsn := fmt.Sprintf("postgres://galenix:galenix-cluster-app@127.0.0.1:%d/galenix?sslmode=disable", srv.Port)
	for store.Promoted(ctx, rdsn) != nil {
		if !srv.Running(ctx) || ctx.Err() != nil {
			t.Fatalf("the restore did not open:\n%s", srv.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	rdb, err := sql.Open("pgx", rdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	for series, want := range map[string]int{"A": 5, "B": 0} {
		var n int
		if err := rdb.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE code LIKE $1`, fmt.Sprintf("PITR-%d-%s-%%", run, series)).Scan(&n); err != nil || n != want {
			t.Errorf("teams of series %s in the restore to %s: %d, %v; want %d", series, point.Format(time.RFC3339Nano), n, err, want)
		}
	}
	if out, err := c.Galenix(ctx, "audit", "verify", "--db", rdsn, "--audit-key", c.KeyFile(), "--data", filepath.Join(c.Dir, "verify")); err != nil || !strings.Contains(out, "OK:") {
		t.Errorf("audit verify on the restore: %v\n%s", err, out)
	}

	// The backup, as galenix backup list shows it.
	l := clusterList(ctx, t, c)
	if b := listed(l, label); b == nil || b.Type != "full" || b.WALStart == "" || b.WALStart > l.ArchiveMax {
		t.Errorf("galenix backup list: %+v", l)
	}
}

// clusterBackup runs galenix backup --type typ on the cluster and returns
// the backup's label.
func clusterBackup(ctx context.Context, t *testing.T, c *testcluster.Cluster, typ string) string {
	t.Helper()
	start := time.Now()
	out, err := c.GalenixEnv(ctx, "backup", "--type", typ)
	m := regexp.MustCompile(`OK: pgBackRest backup (\S+) \(` + typ + `\)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("galenix backup --type %s on the cluster: %v\n%s", typ, err, out)
	}
	t.Logf("galenix backup --type %s: %s in %.1f s", typ, m[1], time.Since(start).Seconds())
	return m[1]
}

// clusterDrill runs galenix backup drill --from from, which must restore
// the backup label, and returns its record as the API shows it, after
// checking it passed.
func clusterDrill(ctx context.Context, t *testing.T, c *testcluster.Cluster, token, from, label string) backup.Drill {
	t.Helper()
	start := time.Now()
	out, err := c.GalenixEnv(ctx, "backup", "drill", "--from", from, "--by", "deploy/ha tests")
	if err != nil || !strings.Contains(out, "OK: restore drill") {
		t.Fatalf("galenix backup drill --from %s: %v\n%s", from, err, out)
	}
	t.Logf("galenix backup drill --from %s: %.1f s", from, time.Since(start).Seconds())
	var drills struct{ Items []backup.Drill }
	if err := get(c.URL()+"/api/v1/backup-drills", token, &drills); err != nil || len(drills.Items) == 0 {
		t.Fatalf("GET /api/v1/backup-drills: %v", err)
	}
	d := drills.Items[0]
	if d.Result != backup.OK || d.BackupID != label || d.Database != backup.Postgres || d.Target.Kind != backup.TargetTime ||
		d.RestoreMillis <= 0 || !strings.HasPrefix(d.PerformedByName, "deploy/ha tests") ||
		backup.Compare(d.Target.Head(), d.Expected, d.Target.Head(), d.Restored) != nil || d.Expected["audit_entries"] != d.Target.AuditSeq {
		t.Errorf("the drill's record: %+v", d)
	}
	return d
}

// clusterList runs galenix backup list --json on the cluster.
func clusterList(ctx context.Context, t *testing.T, c *testcluster.Cluster) backup.Listing {
	t.Helper()
	out, err := c.GalenixEnv(ctx, "backup", "list", "--json")
	var l backup.Listing
	if err != nil || json.Unmarshal([]byte(out), &l) != nil {
		t.Fatalf("galenix backup list --json: %v\n%s", err, out)
	}
	return l
}

// listed finds a backup in a listing.
func listed(l backup.Listing, id string) *backup.Listed {
	for i := range l.Backups {
		if l.Backups[i].ID == id {
			return &l.Backups[i]
		}
	}
	return nil
}

// writeTeams creates n teams through url, each acknowledged.
func writeTeams(t *testing.T, url, token, shift, prefix string, n int) {
	t.Helper()
	for i := range n {
		code := fmt.Sprintf("%s-%d", prefix, i)
		if err := post(url+"/api/v1/teams", token, fmt.Sprintf(`{"code":%q,"name":"Team %s","shift_id":%q}`, code, code, shift)); err != nil {
			t.Fatal(err)
		}
	}
}

// walTimeline is the timeline of a segment of the write-ahead log (its
// first 8 hexadecimal digits).
func walTimeline(segment string) int {
	var tl int
	if len(segment) == 24 {
		fmt.Sscanf(segment[:8], "%x", &tl)
	}
	return tl
}
