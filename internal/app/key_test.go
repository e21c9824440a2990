package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/app"
	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// signedTrail opens a node on dir with the key at keyPath, writes one audit
// entry and signs a checkpoint, as a running site has.
func signedTrail(t *testing.T, dir, keyPath string) {
	t.Helper()
	ctx := context.Background()
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, AuditKey: keyPath}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	key, err := audit.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	wctx := identity.WithActor(ctx, identity.System)
	if err := m.DB.Write(wctx, "test.entry", "", func(tx *store.Tx) error {
		return tx.Audit([]audit.Change{{Entity: "test", EntityID: "1", Field: "f", New: "v"}}, "")
	}); err != nil {
		t.Fatal(err)
	}
	if cp, err := m.DB.Checkpoint(ctx, key); err != nil || cp == nil {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
}

// TestNodeRefusesAForeignAuditKey: a node whose key file is missing, or is
// another key, beside a database whose trail is signed, refuses to start
// and makes no key; the site's key starts it.
func TestNodeRefusesAForeignAuditKey(t *testing.T) {
	dir := t.TempDir()
	siteKey := filepath.Join(t.TempDir(), "site.pem")
	signedTrail(t, dir, siteKey)
	ctx := context.Background()

	missing := filepath.Join(t.TempDir(), "none.pem")
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, AuditKey: missing}, nil)
	err := m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "has none") {
		t.Fatalf("a node without the key started: %v", err)
	}
	if _, err := audit.LoadKey(missing); err == nil {
		t.Error("a node without the key made one beside a signed trail")
	}

	other := filepath.Join(t.TempDir(), "other.pem")
	if _, err := audit.CreateKey(other); err != nil {
		t.Fatal(err)
	}
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, AuditKey: other}, nil)
	err = m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "not the key that signed") {
		t.Fatalf("a node with another key started: %v", err)
	}

	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, AuditKey: siteKey}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatalf("the site's key was refused: %v", err)
	}
	m.Close()
}

// TestSQLiteDataDirectoryIsLocked: a second node on the SQLite data
// directory of a serving node is refused; once the first stops, it opens.
func TestSQLiteDataDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	second := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	err := second.Open(ctx)
	second.Close()
	if err == nil || !strings.Contains(err.Error(), "already serving") {
		t.Fatalf("a second node opened a served data directory: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := third.Open(ctx); err != nil {
		t.Fatalf("the directory stayed locked after its node closed: %v", err)
	}
	third.Close()
}
