// Command failover is the cluster's fault test: the cluster of
// deploy/ha/cluster on loopback, continuous writes and reads through
// HAProxy, every acknowledged write recorded on the client side with its
// Idempotency-Key, then, one after the other: SIGKILL of the PostgreSQL
// primary, SIGKILL of a galenix node, an etcd member stopped, HAProxy
// restarted. After the faults it compares the client's ledger with the
// database, runs galenix audit verify, and ends
//
//	RESULT lost=0 duplicated=0 unavailable_s=... verify=ok
//
// Goals: 0 lost, 0 duplicated, writes back within 15 s of the primary's
// loss. Run: go run ./bench/failover [-writers N] [-between D] [-rounds N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"galenix/internal/testcluster"
)

func main() {
	writers := flag.Int("writers", 8, "concurrent writers through HAProxy")
	between := flag.Duration("between", 10*time.Second, "load before and after each fault")
	rounds := flag.Int("rounds", 2, "times the whole fault sequence runs")
	flag.Parse()
	if m := testcluster.Missing(); m != "" {
		fmt.Fprintf(os.Stderr, "failover: %s is not installed (apt-get install postgresql patroni etcd-server etcd-client haproxy curl)\n", m)
		os.Exit(1)
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("load average before: %s", load1)
	start := time.Now()
	c, err := testcluster.Start(testcluster.Options{Demo: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
	defer c.Stop()
	fmt.Printf("cluster up in %.1f s (%s)\n", time.Since(start).Seconds(), c.Dir)
	var total testcluster.Result
	total.Verify = "ok"
	worst := map[string]time.Duration{}
	for r := 1; r <= *rounds; r++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		res, err := c.RunFaults(ctx, testcluster.FaultOptions{Writers: *writers, Between: *between,
			Logf: func(f string, a ...any) { fmt.Printf("round %d: "+f+"\n", append([]any{r}, a...)...) }})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "failover:", err)
			c.Stop()
			os.Exit(1)
		}
		fmt.Printf("round %d: acknowledged %d, lost %d, duplicated %d, committed but unanswered %d, reads %d, verify %s\n",
			r, res.Acknowledged, res.Lost, res.Duplicated, res.Unanswered, res.Reads, res.Verify)
		total.Acknowledged += res.Acknowledged
		total.Lost += res.Lost
		total.Duplicated += res.Duplicated
		if res.Verify != "ok" {
			total.Verify = "failed"
		}
		for _, f := range res.Faults {
			worst[f.Fault] = max(worst[f.Fault], f.Unavailable)
		}
	}
	var unavailable time.Duration
	fmt.Printf("\n%-10s %s\n", "fault", "worst write unavailability")
	for _, f := range testcluster.AllFaults {
		fmt.Printf("%-10s %.1f s\n", f, worst[f].Seconds())
		unavailable = max(unavailable, worst[f])
	}
	load2, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("load average after: %s", load2)
	fmt.Printf("RESULT lost=%d duplicated=%d unavailable_s=%.1f verify=%s acknowledged=%d\n",
		total.Lost, total.Duplicated, unavailable.Seconds(), total.Verify, total.Acknowledged)
	if total.Lost != 0 || total.Duplicated != 0 || total.Verify != "ok" || unavailable > 15*time.Second {
		c.Stop()
		os.Exit(1)
	}
}
