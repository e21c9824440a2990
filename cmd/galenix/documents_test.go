package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/client"
	"galenix/internal/document"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestDocumentsRotateKey: the master key of documents replaced by a new
// one, every client's key wrapped again; the documents open with the new
// key file and not with the old key.
func TestDocumentsRotateKey(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, store.MasterKeyFile)
	old, err := store.LoadOrCreateMasterKey(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := identity.WithActor(context.Background(), identity.System)
	db, err := store.Open(ctx, store.Config{DataDir: data, MasterKey: old})
	if err != nil {
		t.Fatal(err)
	}
	c := client.Client{Code: "ALPHA", Name: "Alpha"}
	if err := db.Clients().CreateClient(ctx, &c); err != nil {
		t.Fatal(err)
	}
	doc, err := db.Documents().Upload(ctx, document.NewDocument{ClientID: c.ID, Category: document.Report, Title: "Report"},
		document.File{Name: "r.txt", ContentType: "text/plain", Content: []byte("the report")})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	var out, errOut bytes.Buffer
	if code := run([]string{"documents", "rotate-key", "--data", data}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--reason is required") {
		t.Errorf("without a reason: exit %d\n%s", code, errOut.String())
	}
	got := runOK(t, "documents", "rotate-key", "--data", data, "--reason", "Yearly rotation")
	if !strings.Contains(got, "OK: 1 client key(s) wrapped again") {
		t.Errorf("says %q", got)
	}
	if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
		t.Errorf("the new key's file is left beside: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", info, err)
	}
	fresh, err := store.LoadOrCreateMasterKey(path)
	if err != nil || bytes.Equal(fresh, old) {
		t.Fatalf("the key was not replaced: %v", err)
	}
	for _, k := range []struct {
		key   []byte
		opens bool
	}{{fresh, true}, {old, false}} {
		db, err := store.Open(ctx, store.Config{DataDir: data, MasterKey: k.key})
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Documents().Content(ctx, doc.ID, 0)
		if k.opens && (err != nil || string(c.Body) != "the report") {
			t.Errorf("the new key: %v", err)
		}
		if !k.opens && err == nil {
			t.Error("the old key still opens the document")
		}
		db.Close()
	}
}
