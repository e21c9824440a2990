// Package ha holds the tests of the cluster that deploy/ha/cluster starts:
// the very script and configuration the IT team uses.
package ha

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// TestClusterServesTheDemoThroughHAProxy: the demo site, signed in and
// read through HAProxy, with both nodes ready behind it.
func TestClusterServesTheDemoThroughHAProxy(t *testing.T) {
	c := testcluster.Shared(t)
	for i := 1; i <= c.Nodes; i++ {
		resp, err := http.Get(c.NodeURL(i) + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("node %d not ready: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	token := signIn(t, c.URL())
	var site struct{ Code, Name string }
	if err := get(c.URL()+"/api/v1/site", token, &site); err != nil || site.Code != "FSB" {
		t.Fatalf("the demo site through HAProxy = %+v, %v", site, err)
	}
	if p, err := c.Primary(); err != nil || (p != "pg1" && p != "pg2") {
		t.Errorf("primary = %q, %v", p, err)
	}
}

// TestClusterTwoNodesOneChain: two nodes writing at once, each straight
// to itself, keep one unbroken audit chain that galenix audit verify
// accepts.
func TestClusterTwoNodesOneChain(t *testing.T) {
	c := testcluster.Shared(t)
	shift := firstShift(t, c.URL(), signIn(t, c.URL()))
	var wg sync.WaitGroup
	errc := make(chan error, 2*20)
	for node := 1; node <= 2; node++ {
		token := signIn(t, c.NodeURL(node))
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 10 {
					code := fmt.Sprintf("CHAIN-%d-%d-%d-%d", time.Now().UnixNano()%100000, node, w, n)
					body := fmt.Sprintf(`{"code":%q,"name":"Chain %s","shift_id":%q}`, code, code, shift)
					if err := post(c.NodeURL(node)+"/api/v1/teams", token, body); err != nil {
						errc <- fmt.Errorf("node %d: %w", node, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := c.Verify(ctx); err != nil {
		t.Fatalf("audit verify after two nodes wrote at once: %v\n%s", err, out)
	}
}

// TestClusterFaults is the short form of bench/failover: under load
// through HAProxy, the PostgreSQL primary is killed, then a galenix node,
// then an etcd member, then HAProxy is restarted. Every acknowledged write
// is in the database exactly once, writes come back within 15 s of the
// primary's loss, and the audit trail — continued by the promoted
// standby — verifies.
func TestClusterFaults(t *testing.T) {
	c := testcluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := c.RunFaults(ctx, testcluster.FaultOptions{Writers: 3, Between: 2 * time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Acknowledged == 0 || res.Lost != 0 || res.Duplicated != 0 || res.Verify != "ok" {
		t.Errorf("acknowledged %d, lost %d, duplicated %d, verify %q; want 0 lost, 0 duplicated, verify ok",
			res.Acknowledged, res.Lost, res.Duplicated, res.Verify)
	}
	for _, f := range res.Faults {
		if f.Unavailable > 15*time.Second {
			t.Errorf("after the %s fault, writes were unavailable %.1f s; want at most 15 s", f.Fault, f.Unavailable.Seconds())
		}
	}
}

// TestClusterArchiveFollowsFailover comes after TestClusterFaults (go test
// runs a file's tests in order), whose primary's loss promoted the
// standby: archiving followed the new primary. A backup taken now
// succeeds (pgBackRest backs up whichever member leads, and waits for its
// log to be archived), and a drill from a backup made before the failover
// restores to a point after it (the archive has no hole at the failover).
// Run alone, it makes a backup and switches over first.
func TestClusterArchiveFollowsFailover(t *testing.T) {
	c := testcluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tl, err := c.Timeline()
	if err != nil {
		t.Fatal(err)
	}
	// A backup from before the failover: on an older timeline.
	var before string
	for _, b := range clusterList(ctx, t, c).Backups {
		if b.Type == "full" && walTimeline(b.WALStart) < tl {
			before = b.ID
			break
		}
	}
	if before == "" {
		before = clusterBackup(ctx, t, c, "full")
		start := time.Now()
		if err := c.Switchover(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("no failover since a backup: switched over in %.1f s", time.Since(start).Seconds())
		if tl, err = c.Timeline(); err != nil {
			t.Fatal(err)
		}
	}
	after := clusterBackup(ctx, t, c, "diff")
	l := clusterList(ctx, t, c)
	if b := listed(l, after); b == nil || walTimeline(b.WALStart) != tl || walTimeline(l.ArchiveMax) != tl {
		t.Errorf("the backup after the failover (timeline %d): %+v, archive to %s", tl, b, l.ArchiveMax)
	}
	if listed(l, before) == nil {
		t.Fatalf("the backup %s from before the failover is no longer listed: %+v", before, l)
	}
	d := clusterDrill(ctx, t, c, signIn(t, c.URL()), before, before)
	t.Logf("drill from %s (timeline %d) to %s on timeline %d: audit entry %d, restored in %d ms",
		before, walTimeline(listed(l, before).WALStart), d.Target.Time.Format(time.RFC3339), tl, d.Target.AuditSeq, d.RestoreMillis)
}

func signIn(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"galenix-demo"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := decode(resp, &out); err != nil || out.Token == "" {
		t.Fatalf("signing in on %s: %v", base, err)
	}
	return out.Token
}

func firstShift(t *testing.T, base, token string) string {
	t.Helper()
	var shifts struct{ Items []struct{ ID string } }
	if err := get(base+"/api/v1/shifts", token, &shifts); err != nil || len(shifts.Items) == 0 {
		t.Fatalf("shifts: %v", err)
	}
	return shifts.Items[0].ID
}
