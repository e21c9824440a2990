package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/app"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestNodeRefusesAForeignTOTPKey: a node makes the key of second-factor
// secrets (0600) in its data directory at first start; beside a database
// whose secrets that key sealed, a node whose key file is missing, or is
// another key, refuses to start, says why, and leaves no key behind; the
// site's key starts it.
func TestNodeRefusesAForeignTOTPKey(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	keyPath := filepath.Join(dir, store.SecretKeyFile)
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key of second-factor secrets: %v %v, want it made 0600", info, err)
	}
	hash, err := identity.HashPassword("Second-Factor-Sealed-2026")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DB.WriteHistory(identity.WithActor(ctx, identity.System), "test.setup", func(ctx context.Context, h *store.History) error {
		return h.CreateAccount(&identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}, hash)
	}); err != nil {
		t.Fatal(err)
	}
	_, a, err := m.DB.Identity().SignIn(ctx, identity.Credentials{Username: "claire", Password: "Second-Factor-Sealed-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.Identity().EnrollTOTP(identity.WithActor(ctx, a.Actor())); err != nil {
		t.Fatal(err)
	}
	m.Close()
	siteKey, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(keyPath))
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	err = m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "has none") {
		t.Fatalf("a node without the key started: %v", err)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("a node without the key left one beside sealed secrets: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := store.CreateSecretKey(other); err != nil {
		t.Fatal(err)
	}
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, TOTPKey: other}, nil)
	err = m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("a node with another key started: %v", err)
	}

	must(os.WriteFile(keyPath, siteKey, 0o600))
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatalf("the site's key was refused: %v", err)
	}
	m.Close()
}
