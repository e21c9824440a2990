package testcluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"galenix/internal/store"
)

// EnvFile holds the settings galenix backup, backup list and backup drill
// need on the cluster (GALENIX_DB, GALENIX_AUDIT_KEY,
// GALENIX_PGBACKREST_CONFIG ...), as deploy/ha/cluster up wrote them.
func (c *Cluster) EnvFile() string { return filepath.Join(c.Dir, "galenix.env") }

// Env reads EnvFile: KEY=VALUE a line, # comments.
func (c *Cluster) Env() (map[string]string, error) {
	f, err := os.Open(c.EnvFile())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: %q is no KEY=VALUE", c.EnvFile(), line)
		}
		env[k] = v
	}
	return env, sc.Err()
}

// GalenixEnv runs the cluster's galenix with EnvFile's settings, as the
// site's systemd units do (galenix backup, backup list, backup drill).
func (c *Cluster) GalenixEnv(ctx context.Context, args ...string) (string, error) {
	env, err := c.Env()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.Dir, "galenix"), args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// member is one PostgreSQL member as Patroni's /cluster shows it.
type member struct {
	Name, Role, State string
	Timeline          int
}

// members asks Patroni's REST API, on either member, for the cluster.
func (c *Cluster) members() ([]member, error) {
	var last error
	for i := 1; i <= 2; i++ {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(c.Base+20+i) + "/cluster")
		if err != nil {
			last = err
			continue
		}
		var cl struct{ Members []member }
		err = json.NewDecoder(resp.Body).Decode(&cl)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		return cl.Members, nil
	}
	return nil, fmt.Errorf("the Patroni REST API does not answer: %v", last)
}

// Timeline is the primary's timeline: 1 from the cluster's start, one more
// at each failover or switchover.
func (c *Cluster) Timeline() (int, error) {
	ms, err := c.members()
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		if m.Role == "leader" && m.State == "running" {
			return m.Timeline, nil
		}
	}
	return 0, fmt.Errorf("no PostgreSQL member leads: %+v", ms)
}

// Switchover has Patroni hand the primary's role to the standby, and waits
// until the standby leads, HAProxy sends the database's connections to it,
// the old primary is the synchronous standby again, and galenix answers
// through HAProxy.
func (c *Cluster) Switchover(ctx context.Context) error {
	from, err := c.Primary()
	if err != nil {
		return err
	}
	to := map[string]string{"pg1": "pg2", "pg2": "pg1"}[from]
	cmd := exec.CommandContext(ctx, "patronictl", "-c", filepath.Join(c.Dir, "pg1.yml"), "switchover",
		"--leader", from, "--candidate", to, "--force")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("patronictl switchover: %v: %s", err, out)
	}
	for {
		p, _ := c.Primary()
		if p == to && c.writable(ctx) == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switchover from %s to %s: %w", from, to, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := c.WaitSyncStandby(ctx); err != nil {
		return err
	}
	return WaitReady(ctx, c.URL())
}

// writable reports whether the database through HAProxy takes writes.
func (c *Cluster) writable(ctx context.Context) error { return store.Promoted(ctx, c.DSN()) }
