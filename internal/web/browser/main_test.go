package browser_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/keyworker"
)

// TestMain: the galenix these tests start (app.Open) runs its argon2id
// workers from the test binary; the demo site they start from is loaded
// once, in a directory of the binary's own (copyDemo).
func TestMain(m *testing.M) {
	keyworker.ServeIfWorker()
	// The galenix these tests start checks real argon2id keys; under the
	// race detector on a small machine busy with other packages one takes
	// seconds, and the process's hash queue (a few seconds for people)
	// would answer "busy" to a test that checks something else. The
	// queue's bounds are tested in identity.
	identity.HashWait = 5 * time.Minute
	var err error
	if demoRoot, err = os.MkdirTemp("", "galenix-browser-demo-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if _, err := exec.LookPath(p); err == nil {
			demoLoad.once.Do(loadDemo)
			break
		}
	}
	code := m.Run()
	os.RemoveAll(demoRoot)
	os.Exit(code)
}
