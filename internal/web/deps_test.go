package web

import (
	"fmt"
	"strings"
	"testing"
)

// TestNewRefusesMissingDeps: a server without a service its handlers call
// unconditionally is refused when built, naming what is missing, rather
// than built to panic on its first request.
func TestNewRefusesMissingDeps(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("New built a server without its dependencies")
		}
		msg := fmt.Sprint(r)
		for _, name := range []string{"Site", "Clients", "Identity", "Admin", "Audit", "Production", "DB"} {
			if !strings.Contains(msg, name) {
				t.Errorf("the refusal %q does not name %s", msg, name)
			}
		}
	}()
	New(Deps{})
}
