package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"galenix/docs"
	"galenix/internal/demo"
	"galenix/internal/demotest"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/store"
	"galenix/internal/web"
)

// TestCertificateEvents: the demo's batch of Alpha waiting for the
// qualified person, its last result reviewed and certified through the
// API. Alpha's user's live stream of certificates is sent the new
// certificate once the certification commits, woken by the outbox's event
// (the stream polls only hourly here); Beta's user's stream is sent
// nothing, neither before nor after; a user who may not read the register
// cannot open the stream.
func TestCertificateEvents(t *testing.T) {
	db, err := store.Open(context.Background(), store.Config{DataDir: demotest.DataDir(t), Keys: memoKeys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(),
		Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(),
		Release: db.Release(), Lab: db.Lab(), DB: db, Drills: db, OpenAPI: docs.OpenAPI})
	w.SetEventsPoll(time.Hour)
	d := outbox.New(db.Outbox(), nil)
	d.Poll = 50 * time.Millisecond
	d.Subscribe(outbox.Subscriber{Name: "web.live", Deliver: w.Live})
	if err := d.Start(identity.WithActor(context.Background(), identity.System)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	e := &env{db: db, srv: srv, tokens: map[string]string{}}
	tok := map[string]string{}
	for _, u := range []string{"qp", "lab2", "client-alpha", "client-beta", "operator"} {
		tok[u] = tokenOf(t, e.login(t, "username", u, "password", demo.Password))
	}

	// The batch: QA reviewed, one result entered and not reviewed.
	var batch, result, lot string
	for _, b := range e.with(t, tok["qp"], "GET", "/api/v1/batches?state=qa_reviewed", nil).items(t) {
		view := e.with(t, tok["qp"], "GET", "/api/v1/batches/"+b["id"].(string)+"/release", nil).object(t)
		results, _ := view["results"].([]any)
		for _, r := range results {
			if r := r.(map[string]any); r["state"] == "entered" {
				batch, result, lot = b["id"].(string), r["id"].(string), b["lot"].(string)
			}
		}
	}
	if batch == "" {
		t.Fatal("the demo has no batch QA reviewed with a result to review")
	}

	alpha := openStream(t, srv.URL+"/api/v1/certificates/events", tok["client-alpha"])
	beta := openStream(t, srv.URL+"/api/v1/certificates/events", tok["client-beta"])
	first, ok := alpha.nextOf(t, "certificates", 5*time.Second)
	if !ok {
		t.Fatalf("alpha's stream sent no first event")
	}
	for _, c := range first {
		if c["lot"] == lot {
			t.Fatalf("alpha's first event lists %s before its certification", lot)
		}
		if _, named := c["qp_name"]; named {
			t.Errorf("the stream names the qualified person: %v", c)
		}
	}
	if items, ok := beta.nextOf(t, "certificates", 5*time.Second); !ok || len(items) != 0 {
		t.Fatalf("beta's first event: %v %v", items, ok)
	}

	if r := e.with(t, tok["lab2"], "POST", "/api/v1/results/"+result+"/review", nil); r.status != http.StatusOK {
		t.Fatalf("the second analyst's review: %d %s", r.status, r.body)
	}
	ch := e.with(t, tok["qp"], "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "batch", "entity_id": batch, "meaning": "released"})
	if ch.status != http.StatusCreated {
		t.Fatalf("challenge: %d %s", ch.status, ch.body)
	}
	sig := map[string]string{"entity": "batch", "entity_id": batch, "meaning": "released", "username": "qp", "password": demo.Password,
		"challenge": ch.object(t)["challenge"].(string)}
	if r := e.with(t, tok["qp"], "POST", "/api/v1/signatures", sig); r.status != http.StatusCreated {
		t.Fatalf("the certification: %d %s", r.status, r.body)
	}

	items, ok := alpha.nextOf(t, "certificates", 5*time.Second)
	if !ok || len(items) != len(first)+1 {
		t.Fatalf("alpha's stream after the certification: %v %v", items, ok)
	}
	found := false
	for _, c := range items {
		if c["lot"] == lot && c["batch_id"] == batch && c["certificate"] != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("alpha's stream does not announce %s: %v", lot, items)
	}
	if items, ok := beta.nextOf(t, "certificates", time.Second); ok {
		t.Errorf("beta's stream was sent %v", items)
	}
	if r := e.with(t, tok["operator"], "GET", "/api/v1/certificates/events", nil); r.status != http.StatusForbidden {
		t.Errorf("the operator's stream: %d, want 403", r.status)
	}
}
