package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"

	"galenix/internal/audit"
)

// TestAuditVerify runs the demo, then `galenix audit verify`: it holds; then
// an entry is edited behind galenix's back (the append-only trigger dropped,
// as the database's owner could) and verify fails, naming that entry.
func TestAuditVerify(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	bundle, clientID := fetchBundle(t, s)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := runBinary(t, []string{"audit", "verify", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("verify of an untouched trail: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	// At least the checkpoint the server signs at its stop; one more per
	// period it ran (the demo's load takes longer on a slow machine).
	if m := regexp.MustCompile(`(\d+) signed checkpoints`).FindStringSubmatch(out.String()); !strings.Contains(out.String(), "OK:") || m == nil || m[1] == "0" {
		t.Errorf("verify says: %s", out.String())
	}

	// The server copied the demo's register to its second medium as it
	// ran (and once more as it stopped): whole, every movement.
	out.Reset()
	if code := run([]string{"register", "verify-copy", "--data", data}, &out, &errOut); code != 0 ||
		!regexp.MustCompile(`holds the register's [1-9]\d+ first movements, whole; 0 not copied yet`).MatchString(out.String()) {
		t.Fatalf("register verify-copy: exit %d: %s%s", code, out.String(), errOut.String())
	}
	copyFile := filepath.Join(data, "register-copy", "controlled-register.jsonl")
	raw, err := os.ReadFile(copyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyFile, bytes.Replace(raw, []byte(`"serial":2,`), []byte(`"serial":3,`), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"register", "verify-copy", "--data", data}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "FAILED:") {
		t.Fatalf("register verify-copy of an altered copy: exit %d: %s", code, out.String())
	}
	if err := os.WriteFile(copyFile, raw, 0o640); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "galenix.db"))
	if err != nil {
		t.Fatal(err)
	}
	// A sensor's reading changed (negated: the second restores it bit for
	// bit): its batch no longer matches its seal.
	tamper := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	const oneReading = `WHERE rowid = (SELECT MIN(rowid) FROM environment_readings)`
	tamper(`UPDATE environment_readings SET value = -value ` + oneReading)
	out.Reset()
	if code := runBinary(t, []string{"audit", "verify", "--data", data}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "no longer match their seal") {
		t.Errorf("verify of a changed reading: exit %d, want 1\n%s", code, out.String())
	}
	tamper(`UPDATE environment_readings SET value = -value ` + oneReading)
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET new_value = 'forged' WHERE seq = 42`} {
		tamper(q)
	}
	db.Close()
	out.Reset()
	errOut.Reset()
	if code := runBinary(t, []string{"audit", "verify", "--data", data}, &out, &errOut); code != 1 {
		t.Fatalf("verify of a tampered trail: exit %d, want 1\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "audit entry 42 does not hold") {
		t.Errorf("verify does not name entry 42: %s", out.String())
	}

	t.Run("bundle", func(t *testing.T) { testVerifyBundle(t, data, bundle, clientID) })

	// Without the site's key there is nothing to check signatures with.
	if code := run([]string{"audit", "verify", "--data", data, "--audit-key", filepath.Join(data, "nope.pem")}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "audit signing key") {
		t.Errorf("verify without a key: exit %d: %s", code, errOut.String())
	}
}

// fetchBundle signs in as the demo's client-alpha and downloads the audit
// bundle of its own laboratory's record, as a client would.
func fetchBundle(t *testing.T, s *server) (bundle []byte, clientID string) {
	t.Helper()
	code, token := s.login(t, "client-alpha", "galenix-demo")
	if code != http.StatusOK {
		t.Fatalf("login client-alpha: %d", code)
	}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/api/v1/clients")
	var clients struct{ Items []struct{ ID string } }
	err := json.NewDecoder(resp.Body).Decode(&clients)
	resp.Body.Close()
	if err != nil || len(clients.Items) != 1 {
		t.Fatalf("client-alpha's clients: %+v %v", clients, err)
	}
	clientID = clients.Items[0].ID
	resp = get("/api/v1/audit/bundle?entity=client&entity_id=" + clientID)
	defer resp.Body.Close()
	bundle, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the bundle: %d %v\n%s", resp.StatusCode, err, bundle)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, clientID+".json") {
		t.Errorf("Content-Disposition %q", cd)
	}
	return bundle, clientID
}

// testVerifyBundle runs `galenix audit verify --bundle` with no database
// and no data directory: the bundle holds; with one byte changed, or a value
// edited, it does not, and the entry is named.
func testVerifyBundle(t *testing.T, data string, bundle []byte, clientID string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bundle.json")
	if err := os.WriteFile(file, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := audit.LoadOrCreateKey(filepath.Join(data, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	sitePub := filepath.Join(dir, "site.pem")
	writePub(t, sitePub, key.Public().(ed25519.PublicKey))
	otherPub := filepath.Join(dir, "other.pem")
	other, _, _ := ed25519.GenerateKey(nil)
	writePub(t, otherPub, other)
	noData := filepath.Join(dir, "no-data-here")

	verify := func(file string, extra ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"audit", "verify", "--bundle", file, "--data", noData, "--db", "postgres://nowhere.invalid/none"}, extra...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := verify(file); code != 0 || !strings.Contains(out, "OK: the ") || !strings.Contains(out, "of client "+clientID+" hold") ||
		!strings.Contains(out, audit.KeyFingerprint(key.Public().(ed25519.PublicKey))) {
		t.Fatalf("verify --bundle: exit %d\n%s", code, out)
	}
	if code, out := verify(file, "--public-key", sitePub); code != 0 {
		t.Errorf("verify --bundle with the site's key: exit %d\n%s", code, out)
	}
	if code, out := verify(file, "--public-key", otherPub); code != 1 || !strings.Contains(out, "another key") {
		t.Errorf("verify --bundle with another site's key: exit %d\n%s", code, out)
	}
	fp := audit.KeyFingerprintOf(key)
	if code, out := verify(file, "--fingerprint", strings.ToUpper(fp[:8]+" "+fp[8:])); code != 0 || !strings.Contains(out, "signed with the site's key of SHA-256 "+fp) {
		t.Errorf("verify --bundle with the site's fingerprint: exit %d\n%s", code, out)
	}
	if code, out := verify(file, "--fingerprint", audit.KeyFingerprint(other)); code != 1 || !strings.Contains(out, "another key") {
		t.Errorf("verify --bundle with another key's fingerprint: exit %d\n%s", code, out)
	}
	// A bundle re-encoded (compact, members in another order) verifies: its
	// content counts, not its bytes.
	var generic any
	if err := json.Unmarshal(bundle, &generic); err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	compactFile := filepath.Join(dir, "compact.json")
	if err := os.WriteFile(compactFile, compact, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(compactFile); code != 0 || !strings.Contains(out, "of client "+clientID+" hold") {
		t.Errorf("verify --bundle of the bundle re-encoded: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(noData); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("verify --bundle touched the data directory: %v", err)
	}

	// One byte of the laboratory's name changed.
	i := bytes.Index(bundle, []byte("Laboratoires Alpha"))
	if i < 0 {
		t.Fatalf("the bundle lacks the client's name:\n%.2000s", bundle)
	}
	bad := bytes.Clone(bundle)
	bad[i+3] ^= 0x01
	badFile := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	var b audit.Bundle
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	var seq int64
	for _, e := range b.Entries {
		if strings.Contains(e.New, "Laboratoires Alpha") {
			seq = e.Seq
		}
	}
	code, out := verify(badFile)
	if want := fmt.Sprintf("FAILED: audit entry %d does not hold", seq); code != 1 || !strings.Contains(out, want) {
		t.Errorf("a changed byte: exit %d, want 1 and %q\n%s", code, want, out)
	}
	// A signature's byte: it fails too.
	j := bytes.Index(bundle, []byte(`"signature": "`))
	bad = bytes.Clone(bundle)
	bad[j+20] ^= 0x01
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(badFile); code != 1 || !strings.Contains(out, "FAILED") {
		t.Errorf("a changed signature: exit %d\n%s", code, out)
	}
	if code, out := verify(filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(out, "missing.json") {
		t.Errorf("a missing file: exit %d\n%s", code, out)
	}
}

func writePub(t *testing.T, path string, pub ed25519.PublicKey) {
	t.Helper()
	pem, err := audit.PublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuditKey prints the site's key: its fingerprint, which is the SHA-256
// of the public key's DER encoding (as openssl and the reference verifier
// compute it, and as bundles report it), and the public key in PEM, never
// the private key. Without a key file it fails and says why.
func TestAuditKey(t *testing.T) {
	data := t.TempDir()
	key, err := audit.CreateKey(filepath.Join(data, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "key", "--data", data, "--db", "postgres://nowhere.invalid/none"}, &out, &errOut); code != 0 {
		t.Fatalf("audit key: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	first, rest, _ := strings.Cut(out.String(), "\n")
	if first != "SHA-256 fingerprint: "+hex.EncodeToString(sum[:]) {
		t.Errorf("first line %q, want the SHA-256 of %x", first, der)
	}
	printed, err := audit.ParsePublicKeyPEM([]byte(rest))
	if err != nil || !printed.Equal(pub) {
		t.Errorf("the printed PEM is not the site's public key (%v):\n%s", err, rest)
	}
	if strings.Contains(out.String(), "PRIVATE") {
		t.Errorf("audit key prints the private key:\n%s", out.String())
	}
	// The key of the --audit-key file, not the data directory's.
	other := filepath.Join(t.TempDir(), "other.pem")
	otherKey, err := audit.CreateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"audit", "key", "--data", data, "--audit-key", other}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), audit.KeyFingerprintOf(otherKey)) {
		t.Errorf("audit key --audit-key: exit %d\n%s", code, out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"audit", "key", "--data", t.TempDir()}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "audit signing key") || out.Len() != 0 {
		t.Errorf("audit key without a key: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
