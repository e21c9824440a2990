// Command startup measures galenix's footprint: the time from process start
// to /readyz answering 200 on an existing demo database, and the resident
// memory of the idle server. It builds the binary, loads the demo once, then
// starts the server several times and reports the medians.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 7, "number of timed starts")
	idle := flag.Duration("idle", 3*time.Second, "how long the server sits idle before its memory is read")
	flag.Parse()
	if err := run(*runs, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(runs int, idle time.Duration) error {
	dir, err := os.MkdirTemp("", "galenix-bench-startup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "galenix")
	build := exec.Command("go", "build", "-o", bin, "./cmd/galenix")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building galenix (run from the repository root): %w", err)
	}
	data := filepath.Join(dir, "data")

	// Load the demo once; it is not part of the measure.
	t0 := time.Now()
	p, _, err := start(bin, data, true)
	if err != nil {
		return err
	}
	if err := stop(p); err != nil {
		return err
	}
	fmt.Printf("demo database loaded in %v\n", time.Since(t0).Round(time.Millisecond))

	var readyMS, rssMB []float64
	for i := 0; i < runs; i++ {
		p, ready, err := start(bin, data, false)
		if err != nil {
			return err
		}
		time.Sleep(idle)
		rss, err := rssOf(p.Process.Pid)
		if err != nil {
			return err
		}
		if err := stop(p); err != nil {
			return err
		}
		readyMS = append(readyMS, float64(ready.Microseconds())/1000)
		rssMB = append(rssMB, rss)
		fmt.Printf("run %d: ready in %.1f ms, idle RSS %.1f MB\n", i+1, readyMS[i], rss)
	}
	r, m := median(readyMS), median(rssMB)
	fmt.Printf("median: ready %.1f ms (goal < 1000), idle RSS %.1f MB (goal < 60)\n", r, m)
	fmt.Printf("RESULT ready_ms=%.1f rss_mb=%.1f\n", r, m)
	return nil
}

// start runs the server on a free port and waits until /readyz answers 200,
// returning the time that took from the process start.
func start(bin, data string, demo bool) (*exec.Cmd, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	args := []string{"serve", "--data", data, "--addr", addr}
	if demo {
		args = append(args, "--demo")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GALENIX_DB=")
	logf, err := os.Create(filepath.Join(filepath.Dir(data), "serve.log"))
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	client := &http.Client{Timeout: time.Second}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	deadline := begin.Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, time.Since(begin), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, 0, fmt.Errorf("galenix did not become ready in 2 minutes; see %s", logf.Name())
}

func stop(cmd *exec.Cmd) error {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return cmd.Wait()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// rssOf reads a process's resident set size in MB from /proc.
func rssOf(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
