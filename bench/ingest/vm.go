package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// vmFigures are VictoriaMetrics' figures on the same readings.
type vmFigures struct {
	// AckPerS: readings per second acknowledged by its import API (kept
	// in memory, not yet on disk); VisiblePerS: per second until a query
	// counts them all, after a forced flush.
	AckPerS, VisiblePerS float64
	// BytesPerReading: its data directory after a forced merge, per
	// reading.
	BytesPerReading float64
	Version         string
}

// runVictoriaMetrics starts Debian's victoria-metrics on a temporary
// directory and a free loopback port, imports rs in the Prometheus text
// format in batches of batch readings from writers goroutines, and
// measures.
func runVictoriaMetrics(ctx context.Context, rs []reading, batch, writers int, tmp string) (*vmFigures, error) {
	bin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		return nil, errors.New("victoria-metrics is not installed (Debian package victoria-metrics)")
	}
	dir := filepath.Join(tmp, "vm")
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, bin, "-storageDataPath="+dir, "-httpListenAddr="+addr, "-retentionPeriod=100y",
		"-loggerLevel=ERROR", "-search.disableCache")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	if err := waitFor(func() bool {
		r, err := http.Get(base + "/health")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusOK
	}, 20*time.Second); err != nil {
		return nil, fmt.Errorf("victoria-metrics did not start: %w", err)
	}
	f := &vmFigures{Version: vmVersion(bin)}
	bs := batches(rs, batch)
	t0 := time.Now()
	if err := fanOut(len(bs), writers, func(i int) error {
		var b bytes.Buffer
		for _, r := range bs[i] {
			fmt.Fprintf(&b, "reading{sensor=%q} %s %d\n", code(r.sensor), strconv.FormatFloat(r.value, 'f', 2, 64), r.at.UnixMilli())
		}
		resp, err := http.Post(base+"/api/v1/import/prometheus", "text/plain", &b)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			msg, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("victoria-metrics import: %s: %s", resp.Status, msg)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	f.AckPerS = float64(len(rs)) / time.Since(t0).Seconds()
	// Visible: flushed, then counted by a query over the whole span.
	if err := post(base + "/internal/force_flush"); err != nil {
		return nil, err
	}
	span := rs[len(rs)-1].at.Sub(rs[0].at) + time.Hour
	q := url.Values{"query": {fmt.Sprintf("sum(count_over_time(reading[%ds]))", int(span.Seconds()))},
		"time": {strconv.FormatInt(rs[len(rs)-1].at.Add(time.Minute).Unix(), 10)}}
	var counted float64
	if err := waitFor(func() bool {
		counted, _ = vmCount(base + "/api/v1/query?" + q.Encode())
		return int(counted) >= len(rs)
	}, 60*time.Second); err != nil {
		return nil, fmt.Errorf("victoria-metrics counts %.0f readings of %d: %w", counted, len(rs), err)
	}
	f.VisiblePerS = float64(len(rs)) / time.Since(t0).Seconds()
	// On disk after a forced merge of every partition.
	if err := post(base + "/internal/force_merge"); err != nil {
		return nil, err
	}
	// The merge runs in the background: the size settles.
	var size, last int64 = 0, -1
	for range 30 {
		time.Sleep(time.Second)
		if size = dirSize(dir); size == last {
			break
		}
		last = size
	}
	f.BytesPerReading = float64(size) / float64(len(rs))
	return f, nil
}

// vmVersion is the package's version (Debian's build prints none).
func vmVersion(bin string) string {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Version}", "victoria-metrics").Output()
	if v := strings.TrimSpace(string(out)); v != "" {
		return v
	}
	return filepath.Base(bin)
}

func vmCount(u string) (float64, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data.Result) == 0 {
		return 0, err
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

func post(u string) error {
	resp, err := http.Post(u, "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

// fanOut runs fn(0..n-1) on k goroutines; the first error stops the rest.
func fanOut(n, k int, fn func(i int) error) error {
	var (
		mu   sync.Mutex
		next int
		errs []error
		wg   sync.WaitGroup
	)
	for range max(1, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := len(errs) > 0
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitFor polls ok every 20 ms until it holds or within has passed.
func waitFor(ok func() bool, within time.Duration) error {
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
