package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// load writes people through the API, one after the other, until stopped:
// the site keeps working while it is backed up and drilled. It counts the
// writes acknowledged.
type load struct {
	acked atomic.Int64
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	err   error
}

// startLoad starts writing people on the server at addr with the token.
func startLoad(addr, token, prefix string) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for i := 1; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			body := fmt.Sprintf(`{"badge":"%s-%05d","name":"Load %d","job":"Operator"}`, prefix, i, i)
			req, _ := http.NewRequest("POST", addr+"/api/v1/people", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("POST /api/v1/people: status %d", resp.StatusCode)
				}
			}
			if err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
				return
			}
			l.acked.Add(1)
		}
	}()
	return l
}

// waitFor waits until n writes are acknowledged.
func (l *load) waitFor(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for l.acked.Load() < n {
		select {
		case <-l.done:
			t.Fatalf("the load stopped after %d writes: %v", l.acked.Load(), l.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes in a minute", l.acked.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finish stops the load and returns how many writes were acknowledged.
func (l *load) finish(t *testing.T) int64 {
	t.Helper()
	close(l.stop)
	<-l.done
	if l.err != nil {
		t.Fatalf("the load failed: %v", l.err)
	}
	return l.acked.Load()
}

// runOK runs a galenix command line and fails the test unless it exits 0.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("galenix %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String()
}

// onlyBackup returns the manifest of the one backup in dir.
func onlyBackup(t *testing.T, dir string) (string, *backup.Manifest) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("backups in %s: %v %v", dir, entries, err)
	}
	b := filepath.Join(dir, entries[0].Name())
	m, err := backup.ReadManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, m
}

// TestRestoreDrillSQLite runs the restore drill on the demo while people
// keep being written through the API: the drill backs up, restores the
// backup into a fresh place, verifies the audit trail and finds there
// exactly the counts of the backup's point, not the live ones; it is
// recorded, ok, in the live database, with its audit entries. Every write
// acknowledged during the drill is in the live database.
func TestRestoreDrillSQLite(t *testing.T) {
	data, bk, work := t.TempDir(), t.TempDir(), t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	_, token := s.login(t, "admin", "galenix-demo")

	// A backup before the load, while the site is served.
	before := t.TempDir()
	runOK(t, "backup", "--data", data, "--out", before)
	_, base := onlyBackup(t, before)

	l := startLoad("http://"+s.addr, token, "SQ")
	l.waitFor(t, 5)
	out := runOK(t, "backup", "drill", "--data", data, "--out", bk, "--work", work, "--by", "Inès Informatique")
	if !strings.Contains(out, "OK: restore drill") {
		t.Errorf("the drill says:\n%s", out)
	}
	l.waitFor(t, l.acked.Load()+5)
	written := l.finish(t)

	// The drill's backup holds the point it was made at.
	_, m := onlyBackup(t, bk)
	if m.Figures["people"] <= base.Figures["people"] || m.Figures["people"] >= base.Figures["people"]+written {
		t.Errorf("people in the drill's backup: %d; before the load %d, written during it %d", m.Figures["people"], base.Figures["people"], written)
	}

	// The drill, as an inspector reads it.
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/api/v1/backup-drills", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Items []backup.Drill }
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	// The demo's past drills, and this one, the newest.
	if err != nil || len(list.Items) != 3 {
		t.Fatalf("drills: %+v %v", list, err)
	}
	d := list.Items[0]
	if d.Result != backup.OK || d.Failure != nil || d.BackupID != m.ID || d.Database != backup.SQLite || d.Target.Kind != backup.TargetBackup ||
		d.Target.AuditSeq != m.Audit.Seq || d.Target.AuditHash != m.Audit.Hash || d.FinishedAt == nil ||
		!strings.HasPrefix(d.PerformedByName, "Inès Informatique") || d.PerformedBy != identity.System.UserID {
		t.Errorf("the drill: %+v", d)
	}
	if backup.Compare(m.Audit, m.Figures, d.Target.Head(), d.Expected) != nil || backup.Compare(m.Audit, m.Figures, m.Audit, d.Restored) != nil {
		t.Errorf("figures: backup %v, drill expected %v, restored %v", m.Figures, d.Expected, d.Restored)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("the drill left its restore behind: %v", left)
	}

	// Everything acknowledged is in the live database, after the drill's point.
	after := t.TempDir()
	runOK(t, "backup", "--data", data, "--out", after)
	_, last := onlyBackup(t, after)
	if last.Figures["people"] != base.Figures["people"]+written {
		t.Errorf("people now: %d, want %d + %d acknowledged", last.Figures["people"], base.Figures["people"], written)
	}
	if last.Audit.Seq <= d.Target.AuditSeq {
		t.Errorf("the live trail (%d) is not past the drill's point (%d)", last.Audit.Seq, d.Target.AuditSeq)
	}
	// The drill's record is in the trail that audit verify checks.
	commands := map[string]bool{}
	for _, e := range auditOf(t, s, token, "backup_drill") {
		commands[e.Command] = true
	}
	if !commands["backup.drill.start"] || !commands["backup.drill.finish"] {
		t.Errorf("the drill's audit entries: %v", commands)
	}
}

// auditOf reads the audit entries of one kind of record through the API.
func auditOf(t *testing.T, s *server, token, entity string) []audit.Entry {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/api/v1/audit?entity="+entity, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Items []audit.Entry }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// TestRestoreSQLite restores a backup into a fresh data directory, where
// audit verify passes and galenix serves it; and refuses, clearly and
// changing nothing, a data directory that is not empty, a damaged backup,
// a directory that is no backup, a backup of a newer schema and a point in
// time.
func TestRestoreSQLite(t *testing.T) {
	data, bk := t.TempDir(), t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	runOK(t, "backup", "--data", data, "--out", bk)
	from, m := onlyBackup(t, bk)
	if m.KeyFile != audit.KeyFile || m.TOTPKeyFile != store.SecretKeyFile || m.Schema == 0 || m.Audit.Seq == 0 || m.Figures["batches"] == 0 {
		t.Errorf("manifest: %+v", m)
	}

	fresh := filepath.Join(t.TempDir(), "restored")
	out := runOK(t, "restore", "--from", from, "--data", fresh)
	// The key of the second-factor secrets comes back with the database.
	if want, err := os.ReadFile(filepath.Join(data, store.SecretKeyFile)); err != nil {
		t.Error(err)
	} else if got, err := os.ReadFile(filepath.Join(fresh, store.SecretKeyFile)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("restored key of second-factor secrets: %v, not the site's", err)
	}
	if !strings.Contains(out, "SHA-256 checked") || !strings.Contains(out, fmt.Sprintf("OK: %d audit entries", m.Audit.Seq)) {
		t.Errorf("restore says:\n%s", out)
	}
	runOK(t, "audit", "verify", "--data", fresh)
	// The master key of documents never comes with a backup: the node is
	// given the site's, kept apart.
	if _, err := os.Stat(filepath.Join(fresh, store.MasterKeyFile)); !os.IsNotExist(err) {
		t.Errorf("the backup brought the master key of documents: %v", err)
	}
	r := startServer(t, fresh, "--document-key", filepath.Join(data, store.MasterKeyFile))
	r.waitReady(t)
	if code, _ := r.login(t, "admin", "galenix-demo"); code != http.StatusOK {
		t.Errorf("sign-in on the restore: %d", code)
	}

	damaged := filepath.Join(t.TempDir(), "damaged")
	copyDir(t, from, damaged)
	db := filepath.Join(damaged, m.File)
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer")
	copyDir(t, from, newer)
	m2 := *m
	m2.Schema = 999
	os.Remove(filepath.Join(newer, backup.ManifestFile))
	if err := backup.WriteManifest(newer, &m2); err != nil {
		t.Fatal(err)
	}
	notEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(notEmpty, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		into string
		code int
		says string
	}{
		{"not empty", []string{"--from", from, "--data", notEmpty}, notEmpty, 1, "is not empty"},
		{"damaged", []string{"--from", damaged}, "", 1, "is damaged"},
		{"no such backup", []string{"--from", filepath.Join(bk, "nope")}, "", 1, "no backup at"},
		{"no manifest", []string{"--from", bk}, "", 1, "has no manifest.json"},
		{"newer schema", []string{"--from", newer}, "", 1, "schema version 999"},
		{"point in time", []string{"--from", from, "--to-time", "2026-03-02T09:30:00+01:00"}, "", 2, "--to-time is for PostgreSQL"},
		{"no data", []string{"--from", from}, "-", 2, "--data DIR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			into := c.into
			args := append([]string{"restore"}, c.args...)
			if into == "" {
				into = filepath.Join(t.TempDir(), "restored")
				args = append(args, "--data", into)
			}
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != c.code || !strings.Contains(out.String()+errOut.String(), c.says) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, c.code, c.says, out.String(), errOut.String())
			}
			switch into {
			case "-":
			case notEmpty:
				if entries, _ := os.ReadDir(notEmpty); len(entries) != 1 {
					t.Errorf("the refused restore changed %s: %v", notEmpty, entries)
				}
			default:
				if _, err := os.Stat(into); !os.IsNotExist(err) {
					entries, _ := os.ReadDir(into)
					t.Errorf("the refused restore left %s behind: %v", into, entries)
				}
			}
		})
	}

	// A drill of a backup that does not exist records nothing.
	live, err := store.Open(context.Background(), store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	sys := identity.WithActor(context.Background(), identity.System)
	before, err := live.Drills(sys, 0)
	if err != nil {
		t.Fatal(err)
	}
	var dout, derr bytes.Buffer
	if code := run([]string{"backup", "drill", "--data", data, "--from", filepath.Join(bk, "nope")}, &dout, &derr); code != 1 ||
		!strings.Contains(dout.String(), "no backup at") {
		t.Errorf("drill of no backup: exit %d\n%s%s", code, dout.String(), derr.String())
	}
	if ds, err := live.Drills(sys, 0); err != nil || len(ds) != len(before) {
		t.Errorf("drills recorded: %d, then %d %v", len(before), len(ds), err)
	}
}

// copyDir copies the files of a backup's directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := backup.CopyFile(filepath.Join(to, e.Name()), filepath.Join(from, e.Name()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
