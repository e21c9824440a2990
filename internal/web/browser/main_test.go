package browser_test

import (
	"fmt"
	"os"
	"testing"

	"galenix/internal/keyworker"
)

// TestMain: the galenix these tests start (app.Open) runs its argon2id
// workers from the test binary; the demo site they start from is loaded
// once, in a directory of the binary's own (copyDemo).
func TestMain(m *testing.M) {
	keyworker.ServeIfWorker()
	var err error
	if demoRoot, err = os.MkdirTemp("", "galenix-browser-demo-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(demoRoot)
	os.Exit(code)
}
