package browser_test

import (
	"os"
	"testing"

	"galenix/internal/keyworker"
)

// TestMain: the galenix these tests start (app.Open) runs its argon2id
// workers from the test binary.
func TestMain(m *testing.M) {
	keyworker.ServeIfWorker()
	os.Exit(m.Run())
}
