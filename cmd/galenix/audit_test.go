package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
)

// TestAuditVerify runs the demo, then `galenix audit verify`: it holds; then
// an entry is edited behind galenix's back (the append-only trigger dropped,
// as the database's owner could) and verify fails, naming that entry.
func TestAuditVerify(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "verify", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("verify of an untouched trail: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "OK:") || !strings.Contains(out.String(), "1 signed checkpoints") {
		t.Errorf("verify says: %s", out.String())
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "galenix.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET new_value = 'forged' WHERE seq = 42`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out.Reset()
	errOut.Reset()
	if code := run([]string{"audit", "verify", "--data", data}, &out, &errOut); code != 1 {
		t.Fatalf("verify of a tampered trail: exit %d, want 1\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "audit entry 42 does not hold") {
		t.Errorf("verify does not name entry 42: %s", out.String())
	}

	// Without the site's key there is nothing to check signatures with.
	if code := run([]string{"audit", "verify", "--data", data, "--audit-key", filepath.Join(data, "nope.pem")}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "audit signing key") {
		t.Errorf("verify without a key: exit %d: %s", code, errOut.String())
	}
}
