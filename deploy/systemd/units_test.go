// Package systemd holds the tests of the systemd units the site installs:
// galenix.service, and the backup and restore drill with their timers.
package systemd

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unit is a unit file's settings: section → key → values, in order.
type unit map[string]map[string][]string

// parseUnit reads a unit file: [Section] lines, Key=Value lines, comments
// (# or ;) and blank lines; anything else is an error.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case section != "" && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			u[section][k] = append(u[section][k], v)
		default:
			t.Fatalf("%s:%d: %q is no setting", path, n, line)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// hardening reports whether a setting of galenix.service restricts what
// the service may do.
func hardening(key string) bool {
	for _, p := range []string{"Protect", "Private", "Restrict", "NoNewPrivileges", "Lock", "MemoryDeny", "SystemCall", "Capability"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// The routine's services, with the hardening settings of galenix.service
// each sets otherwise; a comment of the unit says why.
var routine = map[string][]string{
	// root's capabilities bounded to runuser's and reading others' files;
	// /tmp shared for pgBackRest's locks.
	"galenix-backup.service": {"CapabilityBoundingSet", "PrivateTmp"},
	// and the drill's PostgreSQL: /dev/shm, and its JIT.
	"galenix-drill.service": {"CapabilityBoundingSet", "PrivateTmp", "PrivateDevices", "MemoryDenyWriteExecute"},
}

// TestRoutineUnitsHardened: the backup and drill services keep every
// setting of galenix.service that restricts the service, with the same
// value, but for the exceptions named above, which their comments explain;
// they bound root's capabilities and run once; each timer starts its
// service, catches up a run missed, and is enabled with the timers.
func TestRoutineUnitsHardened(t *testing.T) {
	base := parseUnit(t, "galenix.service")
	for name, except := range routine {
		t.Run(name, func(t *testing.T) {
			u := parseUnit(t, name)
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var comments strings.Builder
			for _, l := range strings.Split(string(raw), "\n") {
				if strings.HasPrefix(l, "#") {
					comments.WriteString(l + "\n")
				}
			}
			for k, v := range base["Service"] {
				if !hardening(k) {
					continue
				}
				got := strings.Join(u["Service"][k], "\n")
				switch {
				case slices.Contains(except, k):
					if got == strings.Join(v, "\n") {
						t.Errorf("%s is as galenix.service's, yet named an exception", k)
					}
					if !strings.Contains(comments.String(), k) {
						t.Errorf("%s differs from galenix.service and no comment says why", k)
					}
				case got != strings.Join(v, "\n"):
					t.Errorf("%s = %q; galenix.service has %q", k, got, v)
				}
			}
			if u.get("Service", "Type") != "oneshot" || u.get("Service", "EnvironmentFile") != base.get("Service", "EnvironmentFile") ||
				u.get("Service", "CapabilityBoundingSet") == "" || u.get("Service", "ProtectSystem") != "strict" {
				t.Errorf("[Service]: %v", u["Service"])
			}
			timer := strings.TrimSuffix(name, ".service") + ".timer"
			tu := parseUnit(t, timer)
			if tu.get("Timer", "Unit") != name || tu.get("Timer", "Persistent") != "true" || tu.get("Timer", "OnCalendar") == "" ||
				tu.get("Install", "WantedBy") != "timers.target" {
				t.Errorf("%s: %v", timer, tu)
			}
		})
	}
}

// TestUnitsVerify has systemd check every unit (systemd-analyze verify:
// settings, calendar expressions, the timers' services), with galenix at
// the path ExecStart names replaced by a build of this tree; and runs
// each ExecStart's command line with --help, which fails on a command or
// a flag galenix does not know.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		msg := "systemd-analyze is not installed (apt-get install systemd): skipping"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this is an error)")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "galenix")
	build := exec.Command("go", "build", "-o", bin, "./cmd/galenix")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building galenix: %v\n%s", err, out)
	}
	names, err := filepath.Glob("*.service")
	if err != nil {
		t.Fatal(err)
	}
	timers, _ := filepath.Glob("*.timer")
	names = append(names, timers...)
	if len(names) != 5 {
		t.Errorf("units: %v", names)
	}
	var paths []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("/usr/local/bin/galenix"), []byte(bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		if !strings.HasSuffix(n, ".service") {
			continue
		}
		args := strings.Fields(parseUnit(t, n).get("Service", "ExecStart"))
		if len(args) < 2 || args[0] != "/usr/local/bin/galenix" {
			t.Errorf("%s: ExecStart %v", n, args)
			continue
		}
		var cmdArgs []string
		for _, a := range args[1:] {
			cmdArgs = append(cmdArgs, strings.Trim(a, `"`))
		}
		if out, err := exec.Command(bin, append(cmdArgs, "--help")...).CombinedOutput(); err != nil {
			t.Errorf("%s: galenix %s --help: %v\n%s", n, strings.Join(cmdArgs, " "), err, out)
		}
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, paths...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
