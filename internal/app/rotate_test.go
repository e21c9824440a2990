package app_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestRotationWhileServing: the site's audit key is rotated on another
// machine while a node serves. Until the node's key file holds the new key
// the node is not ready (/readyz: audit_key) and signs nothing; once it
// does, the node takes it without a restart, is ready again and signs
// checkpoints the trail verifies from the new key. A write sent before the
// rotation and retried after it with the same Idempotency-Key gets its
// first answer, not a refusal: the requests' hash key survives the
// rotation.
func TestRotationWhileServing(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "site.pem")
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, AuditKey: keyPath, CheckpointEvery: 200 * time.Millisecond, DrainTimeout: -1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		m.Close()
	}()
	sys := identity.WithActor(ctx, identity.System)
	st := &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}
	hash, err := identity.HashPassword("Rotation-While-Serving-2026")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DB.WriteHistory(sys, "test.setup", func(ctx context.Context, h *store.History) error {
		p := identity.DefaultPolicy()
		p.AdminTOTP = false
		if err := setPolicy(ctx, m.DB, p); err != nil {
			return err
		}
		if err := m.DB.Site().CreateSite(ctx, st); err != nil {
			return err
		}
		return h.CreateAccount(&identity.Account{Username: "ada", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}}, hash)
	}); err != nil {
		t.Fatal(err)
	}
	u := m.URL()
	login := call(t, "POST", u+"/api/v1/login", "", `{"username":"ada","password":"Rotation-While-Serving-2026"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(login.body), &tok); login.status != 200 || err != nil {
		t.Fatalf("sign-in: %d %s", login.status, login.body)
	}
	send := func(key, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", u+"/api/v1/buildings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b struct{ ID, Code string }
		json.NewDecoder(resp.Body).Decode(&b)
		return resp.StatusCode, b.ID
	}
	building := func(code string) string {
		return `{"site_id":"` + st.ID + `","code":"` + code + `","name":"Bâtiment ` + code + `","role":"warehouse"}`
	}
	status, firstID := send("before-rotation", building("B71"))
	if status != http.StatusCreated || firstID == "" {
		t.Fatalf("the write before the rotation: %d", status)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ready := func() answer { return call(t, "GET", u+"/readyz", "", "") }
	waitFor("a checkpoint signed with the first key", func() bool {
		last, err := m.DB.LastCheckpoint(ctx)
		return err == nil && last != nil
	})

	// The rotation, on another machine: the old key hands over to a new one.
	old, err := audit.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	nextPath := filepath.Join(t.TempDir(), "next.pem")
	next, err := audit.CreateKey(nextPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.RotateAuditKey(sys, old, next, "test: rotation while serving"); err != nil {
		t.Fatal(err)
	}
	// Its key file still holds the old key: not ready, and it signs
	// nothing.
	if r := ready(); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "audit_key") {
		t.Fatalf("with the old key after the rotation /readyz answers %d %s", r.status, r.body)
	}
	handover, err := m.DB.LastCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The new key in the node's key file, as the runbook says: the node
	// takes it, without a restart.
	pem, err := os.ReadFile(nextPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("ready with the new key", func() bool { return ready().status == http.StatusOK })

	// Retried after the rotation with its key: the first answer, once.
	if status, id := send("before-rotation", building("B71")); status != http.StatusCreated || id != firstID {
		t.Errorf("the retry across the rotation answered %d %q, want 201 with the first answer's %q", status, id, firstID)
	}
	// New writes are signed with the new key.
	if status, _ := send("after-rotation", building("B72")); status != http.StatusCreated {
		t.Fatalf("a write after the rotation: %d", status)
	}
	waitFor("a checkpoint signed with the new key past the handover", func() bool {
		last, err := m.DB.LastCheckpoint(ctx)
		return err == nil && last.Seq > handover.Seq
	})
	if rep, err := m.DB.VerifyAudit(ctx, next.Public().(ed25519.PublicKey), nil); err != nil || rep.Checkpoints < 3 {
		t.Errorf("the trail does not verify from the new key (%+v): %v", rep, err)
	}
	if _, err := m.DB.VerifyAudit(ctx, old.Public().(ed25519.PublicKey), nil); err == nil {
		t.Error("the trail verifies from the old key, handed over")
	}
}
