package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/store"
)

// TestTOTPResetLost runs "galenix totp reset-lost" on a data directory
// without its key of second-factor secrets: it makes a new key (0600) and
// says how many second factors it removed; without a reason it changes
// nothing and exits 2. (What it removes: store: TestTOTPResetLostKey.)
func TestTOTPResetLost(t *testing.T) {
	data := t.TempDir()
	key := filepath.Join(data, store.SecretKeyFile)
	var out, errOut bytes.Buffer
	if code := run([]string{"totp", "reset-lost", "--data", data}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--reason is required") {
		t.Errorf("without a reason: exit %d\n%s", code, errOut.String())
	}
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Errorf("a refused command made a key: %v", err)
	}
	if code := run([]string{"totp", "nope"}, &out, &errOut); code != 2 {
		t.Errorf("an unknown command: exit %d", code)
	}
	got := runOK(t, "totp", "reset-lost", "--data", data, "--reason", "the key was lost with the old server")
	if !strings.Contains(got, "OK: 0 second factor(s) removed") {
		t.Errorf("says %q", got)
	}
	if info, err := os.Stat(key); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the new key: %v %v, want it made 0600", info, err)
	}
}
