package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/audit"
)

// chain is a trail built in memory: the entries, and each one's previous
// hash and hash as the database would give them.
type chain struct {
	entries    []audit.Entry
	prev, hash []audit.Hash
	// bytes is the total size of the entries' canonical bytes.
	bytes int64
}

func buildChain(n int) *chain {
	g := newEntryGen(1)
	c := &chain{entries: make([]audit.Entry, n), prev: make([]audit.Hash, n), hash: make([]audit.Hash, n)}
	prev := audit.Genesis
	var buf []byte
	for i := range c.entries {
		c.entries[i] = g.next(int64(i + 1))
		buf = c.entries[i].AppendCanonical(buf[:0])
		c.bytes += int64(len(buf))
		c.prev[i] = prev
		c.hash[i] = audit.Link(prev, c.entries[i].Digest())
		prev = c.hash[i]
	}
	return c
}

// verify walks the chain with audit.Verifier.Add, one entry after the
// other on one goroutine, as `galenix audit verify` does once the rows are
// read, and returns how long it took.
func (c *chain) verify() (time.Duration, error) {
	runtime.GC()
	start := time.Now()
	v := audit.NewVerifier()
	for i := range c.entries {
		if err := v.Add(&c.entries[i], c.prev[i], c.hash[i]); err != nil {
			return 0, err
		}
	}
	return time.Since(start), c.complete(v)
}

// verifyBatches walks the chain with audit.Verifier.AddBatch, in batches,
// hashing on every CPU.
func (c *chain) verifyBatches(n int) (time.Duration, error) {
	runtime.GC()
	start := time.Now()
	v := audit.NewVerifier()
	for lo := 0; lo < len(c.entries); lo += n {
		hi := min(lo+n, len(c.entries))
		if err := v.AddBatch(c.entries[lo:hi], c.prev[lo:hi], c.hash[lo:hi]); err != nil {
			return 0, err
		}
	}
	return time.Since(start), c.complete(v)
}

func (c *chain) complete(v *audit.Verifier) error {
	if v.Count != int64(len(c.entries)) {
		return fmt.Errorf("verified %d entries of %d", v.Count, len(c.entries))
	}
	return nil
}

// writeCanonical writes the entries' canonical bytes, one after the other,
// to a file in dir: what openssl hashes.
func (c *chain) writeCanonical(dir string) (string, error) {
	path := filepath.Join(dir, "canonical.bin")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for i := range c.entries {
		buf = c.entries[i].AppendCanonical(buf[:0])
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return "", err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// opensslRun times one `openssl dgst -sha256` over the file: its wall time,
// and its CPU time (user and system).
func opensslRun(path string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command("openssl", "dgst", "-sha256", path)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("openssl: %v: %s", err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// verification is what the in-memory verification measure found: the
// verifier on one goroutine, as galenix verifies today, and its ratio to
// openssl over the same bytes.
type verification struct {
	perSecond, ratio float64
}

// measureVerification builds the chain in memory, then times, in turns so
// that a busy machine weighs on each alike, the verifier on one goroutine,
// the verifier in batches on every CPU, and openssl over the same canonical
// bytes; it keeps the best of each.
func measureVerification(dir string, n, rounds int) (verification, error) {
	var v verification
	if _, err := exec.LookPath("openssl"); err != nil {
		return v, fmt.Errorf("openssl is not installed (Debian package openssl): %w", err)
	}
	t0 := time.Now()
	c := buildChain(n)
	avg := float64(c.bytes) / float64(n)
	fmt.Printf("verification in memory: %d realistic entries built in %.1f s, %.0f bytes of canonical bytes each on average (%.0f MB)\n",
		n, time.Since(t0).Seconds(), avg, float64(c.bytes)/1e6)
	path, err := c.writeCanonical(dir)
	if err != nil {
		return v, err
	}
	defer os.Remove(path)
	if _, _, err := opensslRun(path); err != nil { // reads the file into the page cache
		return v, err
	}
	var one, batch, oWall, oCPU time.Duration
	for range rounds {
		d, err := c.verify()
		if err != nil {
			return v, err
		}
		one = best(one, d)
		if d, err = c.verifyBatches(8192); err != nil {
			return v, err
		}
		batch = best(batch, d)
		w, cpu, err := opensslRun(path)
		if err != nil {
			return v, err
		}
		if oWall == 0 || w < oWall {
			oWall, oCPU = w, cpu
		}
	}
	mb := float64(c.bytes) / 1e6
	onePerS := float64(n) / one.Seconds()
	batchPerS := float64(n) / batch.Seconds()
	// The figures of the RESULT line are the verifier galenix audit verify
	// uses: AddBatch, hashing on every CPU.
	v.perSecond = batchPerS
	osslEntries := float64(c.bytes) / oWall.Seconds() / avg
	cpuEntries := float64(c.bytes) / oCPU.Seconds() / avg
	v.ratio = batchPerS / osslEntries
	out, _ := exec.Command("openssl", "version").Output()
	version, _, _ := strings.Cut(strings.TrimSpace(string(out)), " (")
	fmt.Printf("  best of %d runs each, in turns:\n", rounds)
	fmt.Printf("  audit.Verifier.Add, one goroutine       %6.3f s = %9.0f entries/s (%4.0f MB/s)\n", one.Seconds(), onePerS, mb/one.Seconds())
	fmt.Printf("  audit.Verifier.AddBatch, %d CPUs         %6.3f s = %9.0f entries/s (%4.0f MB/s)  [what store.VerifyAudit uses]\n",
		runtime.GOMAXPROCS(0), batch.Seconds(), batchPerS, mb/batch.Seconds())
	fmt.Printf("  %-38s %6.3f s = %9.0f entries/s (%4.0f MB/s), same bytes\n", "openssl dgst -sha256 ("+version+")", oWall.Seconds(), osslEntries, mb/oWall.Seconds())
	fmt.Printf("    its CPU time alone (user+sys)        %6.3f s = %9.0f entries/s (%4.0f MB/s)\n", oCPU.Seconds(), cpuEntries, mb/oCPU.Seconds())
	fmt.Printf("  verify_vs_openssl = %.2f (AddBatch on every CPU against openssl's wall time on one; goal >= 0.5): %s\n", v.ratio, machine.Goal(v.ratio >= 0.5))
	fmt.Printf("    one goroutine against openssl's wall time: %.2f; against its CPU time: %.2f\n", onePerS/osslEntries, onePerS/cpuEntries)
	fmt.Printf("    (each entry costs two SHA-256: of its %.0f canonical bytes, %d blocks with the padding, and of the 64 bytes\n", avg, (int(avg)+9+63)/64)
	fmt.Printf("    previous hash and digest, 2 blocks; openssl hashes the same bytes as one stream, %.1f blocks per entry)\n", avg/64)
	ten := 10e6 / batchPerS
	fmt.Printf("  10,000,000 entries: projected %.1f s with AddBatch, %.1f s on one goroutine (goal < 15 s): %s\n\n", ten, 10e6/onePerS, machine.Goal(ten < 15))
	return v, nil
}

func best(cur, d time.Duration) time.Duration {
	if cur == 0 || d < cur {
		return d
	}
	return cur
}
