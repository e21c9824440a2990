package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/app"
	"galenix/internal/client"
	"galenix/internal/document"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestNodeRefusesAForeignDocumentKey: the master key of documents is made
// 0600 at first start; a node without it, or with another, beside a
// database holding clients' keys refuses to start (and leaves no key of
// its own there), so that no client's key is ever wrapped under another
// master key than the site's; with the site's key it starts.
func TestNodeRefusesAForeignDocumentKey(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	keyPath := filepath.Join(dir, store.MasterKeyFile)
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the master key of documents: %v %v, want it made 0600", info, err)
	}
	sys := identity.WithActor(ctx, identity.System)
	c := client.Client{Code: "ALPHA", Name: "Alpha"}
	if err := m.DB.Clients().CreateClient(sys, &c); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.Documents().Upload(sys, document.NewDocument{ClientID: c.ID, Category: document.Report, Title: "Report"},
		document.File{Name: "r.txt", ContentType: "text/plain", Content: []byte("report")}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	siteKey, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	err = m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "has none") {
		t.Fatalf("a node without the key started: %v", err)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("a node without the key left one beside the clients' keys: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := store.CreateSecretKey(other); err != nil {
		t.Fatal(err)
	}
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, DocumentKey: other}, nil)
	err = m.Open(ctx)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("a node with another key started: %v", err)
	}

	if err := os.WriteFile(keyPath, siteKey, 0o600); err != nil {
		t.Fatal(err)
	}
	m = app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatalf("with the site's key: %v", err)
	}
	m.Close()
}
