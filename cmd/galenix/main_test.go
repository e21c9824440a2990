package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"galenix/internal/keyworker"
	"galenix/internal/testpg"
)

// galenixBin builds the binary once for the end-to-end tests of this file.
var galenixBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "galenix-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "galenix")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// runBinary runs the built galenix with args, as an operator would at the
// terminal, and returns its exit code. A command that reads a whole demo
// site (audit verify) takes a few seconds there, and minutes under the race
// detector in this process; run calls the same code in this process.
func runBinary(t *testing.T, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	bin, err := galenixBin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("galenix %s: %v", strings.Join(args, " "), err)
	}
	return 0
}

func TestMain(m *testing.M) {
	// run("serve") in this process starts argon2id workers of the test
	// binary.
	keyworker.ServeIfWorker()
	testpg.Main(&binCleanup{m})
}

// binCleanup runs the tests, then removes the binary built for them.
type binCleanup struct{ m *testing.M }

func (b *binCleanup) Run() int {
	code := b.m.Run()
	if bin, err := galenixBin(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	return code
}

// server is a galenix process started by a test.
type server struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  bytes.Buffer
	// lines receives each log line as it is written.
	lines chan string
}

func startServer(t *testing.T, data string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, data, nil, args...)
}

// startServerEnv starts galenix serve with extra environment variables.
func startServerEnv(t *testing.T, data string, env []string, args ...string) *server {
	t.Helper()
	bin, err := galenixBin()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{addr: addr, lines: make(chan string, 1024)}
	s.cmd = exec.Command(bin, append([]string{"serve", "--data", data, "--addr", addr}, args...)...)
	s.cmd.Env = append(append(os.Environ(), "GALENIX_DB=", "GALENIX_DRAIN_TIMEOUT=0"), env...)
	pr, pw := io.Pipe()
	s.cmd.Stderr, s.cmd.Stdout = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
	}()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
		pw.Close()
	})
	return s
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// logSays reports whether the log says want within a few seconds: a line
// the server wrote before it answered may still be on its way through the
// pipe.
func (s *server) logSays(want string) bool {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.logText(), want) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// waitLine waits for a log line containing want.
func (s *server) waitLine(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-s.lines:
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q within a minute; log:\n%s", want, s.logText())
		}
	}
}

func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server not ready; log:\n%s", s.logText())
}

func (s *server) login(t *testing.T, user, password string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
	resp, err := http.Post("http://"+s.addr+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Token
}

func (s *server) count(t *testing.T, token, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return len(out.Items)
}

// TestKilledDuringDemoLoad kills the process with SIGKILL while it loads the
// demo, then starts it again: the database is consistent and the demo is
// whole.
func TestKilledDuringDemoLoad(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "--demo")
	// Kill it inside the demo's transaction: the people are written, the
	// clients and accounts not yet, nothing is committed.
	s.waitLine(t, "written=people")
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	if strings.Contains(s.logText(), "demo site loaded") {
		t.Fatalf("the demo finished loading before the kill; the test proves nothing. Log:\n%s", s.logText())
	}

	s = startServer(t, data, "--demo")
	s.waitReady(t)
	if !s.logSays("demo site loaded") {
		t.Fatalf("the restart did not load the demo; log:\n%s", s.logText())
	}
	code, tok := s.login(t, "admin", "galenix-demo")
	if code != 200 {
		t.Fatalf("login after restart: %d", code)
	}
	for path, want := range map[string]int{"/api/v1/buildings": 7, "/api/v1/lines": 50, "/api/v1/clients": 3} {
		if got := s.count(t, tok, path); got != want {
			t.Errorf("%s: got %d items, want %d", path, got, want)
		}
	}
}

// TestServeDemoAccountsAndGracefulStop runs the README's demo: every demo
// account signs in, a wrong password answers 401 with the error envelope,
// and SIGTERM stops the server cleanly with exit status 0.
func TestServeDemoAccountsAndGracefulStop(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "--demo")
	s.waitReady(t)
	for _, want := range []string{"http://" + s.addr, "SQLite", "demo accounts"} {
		if !s.logSays(want) {
			t.Errorf("the log does not say %q:\n%s", want, s.logText())
		}
	}
	for _, u := range []string{"admin", "operator", "supervisor", "qa", "qp", "lab", "security", "client-alpha", "client-beta"} {
		if code, tok := s.login(t, u, "galenix-demo"); code != 200 || tok == "" {
			t.Errorf("demo account %s: login answered %d", u, code)
		}
	}
	resp, err := http.Post("http://"+s.addr+"/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"wrong"}`))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 401 || env.Error.Code != "unauthorized" || env.Error.Message == "" {
		t.Errorf("wrong password: %d %+v, want 401 with the error envelope", resp.StatusCode, env)
	}

	// The metrics carry the HTTP requests, the database pool and the
	// quality unit's figures.
	mresp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`galenix_http_requests_total{code="200",method="POST",route="/api/v1/login"}`,
		"galenix_http_request_duration_seconds_bucket", `go_sql_open_connections{db_name="galenix"}`, "process_resident_memory_bytes",
		`galenix_quality_batches_decided{decision="certified"}`, "galenix_quality_right_first_time_ratio", `galenix_quality_open_deviations{age_days="0-7"}`,
		`galenix_quality_capa_actions{status="overdue"}`, `galenix_quality_release_lead_time_hours{stat="median"}`,
		"galenix_environment_rollup_lag_seconds"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v; log:\n%s", err, s.logText())
	}
	// A clean close checkpoints the write-ahead log into the database file.
	if fi, err := os.Stat(filepath.Join(data, "galenix.db-wal")); err == nil && fi.Size() != 0 {
		t.Errorf("the WAL still holds %d bytes after a graceful stop", fi.Size())
	}

	// Starting again with --demo on the loaded database changes nothing.
	s = startServer(t, data, "--demo")
	s.waitReady(t)
	if strings.Contains(s.logText(), "demo site loaded") {
		t.Error("--demo reloaded a non-empty database")
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--help"}, 0, "serve"},
		{[]string{"help", "serve"}, 0, "-demo"},
		{[]string{"serve", "--help"}, 0, "GALENIX_ADDR"},
		{[]string{"migrate", "--help"}, 0, "GALENIX_DB"},
		{[]string{"version"}, 0, "galenix"},
		{[]string{"audit", "--help"}, 0, "verify"},
		{[]string{"audit", "verify", "--help"}, 0, "audit-key"},
		{[]string{"audit", "key", "--help"}, 0, "fingerprint"},
		{[]string{"audit"}, 2, "verify"},
		{[]string{"nonsense"}, 2, "unknown command"},
		{[]string{"serve", "--no-such-flag"}, 2, "no-such-flag"},
		{[]string{}, 2, "Usage"},
		{[]string{"migrate", "--db", "mysql://x"}, 1, "postgres://"},
		{[]string{"serve", "--help"}, 0, "GALENIX_TLS_CERT"},
		{[]string{"serve", "--help"}, 0, "GALENIX_LDAP_BIND_PASSWORD_FILE"},
		{[]string{"help", "cert"}, 0, "-host"},
		{[]string{"cert"}, 2, "required"},
		{[]string{"cert", "--host", "x", "--out", "/tmp", "--days", "0"}, 2, "--days"},
		{[]string{"serve", "--tls-cert", "/nonexistent/cert.pem"}, 1, "--tls-key"},
		{[]string{"serve", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"}, 1, "TLS certificate"},
		{[]string{"serve", "--ldap-url", "ldap://dc.example.com"}, 1, "user base"},
		{[]string{"serve", "--ldap-url", "ldap://dc", "--ldap-user-base", "dc=x", "--ldap-group-roles", "g=boss"}, 1, "unknown role"},
		{[]string{"serve", "--ldap-url", "ldap://dc", "--ldap-bind-dn", "cn=svc", "--ldap-bind-password-file", "/nonexistent"}, 1, "password file"},
		{[]string{"serve", "--help"}, 0, "GALENIX_MQTT_CLIENT_ID"},
		{[]string{"serve", "--mqtt", "http://broker:1883"}, 1, "the scheme is mqtt"},
		{[]string{"serve", "--mqtt", "mqtt://broker"}, 1, "mqtt://HOST:PORT"},
		{[]string{"serve", "--mqtt", "mqtt://broker:1883", "--mqtt-username", "galenix", "--mqtt-password-file", "/nonexistent"}, 1, "MQTT password file"},
		{[]string{"backup", "--help"}, 0, "GALENIX_PGBACKREST_STANZA"},
		{[]string{"backup", "--data", "/nonexistent/galenix-data"}, 1, "no galenix database in /nonexistent/galenix-data"},
		{[]string{"backup", "drill", "--help"}, 0, "GALENIX_DRILL_DIR"},
		{[]string{"backup", "help"}, 0, "drill"},
		{[]string{"backup", "help"}, 0, "prune"},
		{[]string{"backup", "list", "--help"}, 0, "points in time"},
		{[]string{"backup", "prune", "--help"}, 0, "GALENIX_BACKUP_KEEP"},
		{[]string{"backup", "--help"}, 0, "GALENIX_BACKUP_FULL_EVERY"},
		{[]string{"backup", "--type", "weekly"}, 2, `--type "weekly": say full, diff, incr or auto`},
		{[]string{"backup", "list", "extra"}, 2, "unexpected argument"},
		{[]string{"help", "restore"}, 0, "-to-time"},
		{[]string{"restore"}, 2, "--from BACKUP"},
		{[]string{"restore", "--data", "x", "--pg-data", "y"}, 2, "not both"},
		{[]string{"restore", "--pg-data", "/nonexistent", "--to-time", "yesterday"}, 2, "RFC 3339"},
		{[]string{"backup", "--db", "postgres://x@127.0.0.1:1/x", "--pgbackrest", "/nonexistent/pgbackrest"}, 1, "pgBackRest is not installed"},
		{[]string{"serve", "--help"}, 0, "GALENIX_ALARM_WEBHOOK_URL"},
		{[]string{"serve", "--alarm-webhook-url", "https://hooks.example.com/x"}, 1, "--alarm-webhook-secret-file"},
		{[]string{"serve", "--readings-retention", "8760h"}, 1, "--readings-retention: at least 52560h0m0s"},
		{[]string{"serve", "--alarm-mail-to", "qa@site.example"}, 1, "--alarm-mail-to needs --smtp-relay"},
		{[]string{"serve", "--alarm-mail-to", "qa@site.example, nobody"}, 1, `"nobody" is not an e-mail address`},
		{[]string{"serve", "--smtp-relay", "mail.site.example:25"}, 1, "--smtp-relay needs --smtp-from"},
		{[]string{"serve", "--smtp-relay", "mail.site.example", "--smtp-from", "g@site.example"}, 1, "give HOST:PORT"},
		{[]string{"serve", "--smtp-relay", "mail.site.example:25", "--smtp-from", "g@site.example", "--smtp-tls", "ssl"}, 1, "starttls, tls or none"},
		{[]string{"serve", "--smtp-relay", "mail.site.example:25", "--smtp-from", "g@site.example", "--smtp-user", "g"}, 1, "--smtp-password-file"},
		{[]string{"serve", "--public-url", "galenix.site.example"}, 1, "--public-url"},
		{[]string{"serve", "--help"}, 0, "GALENIX_SMTP_RELAY"},
		{[]string{"serve", "--readings-compact-after", "-1h"}, 1, "cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			if all := out.String() + errOut.String(); !strings.Contains(all, tt.contains) {
				t.Errorf("output lacks %q:\n%s", tt.contains, all)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"migrate", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "migration applied") {
		t.Errorf("first migrate applied nothing:\n%s", errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"migrate", "--data", data}, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "migration applied") {
		t.Errorf("second migrate: exit %d, log:\n%s", code, errOut.String())
	}
}
