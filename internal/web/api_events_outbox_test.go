package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"galenix/docs"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/store"
	"galenix/internal/web"
)

// TestBatchEventsWokenByAnotherNode: two nodes on one database. A step
// recorded through node A's API reaches the live streams of node B at
// once, through the outbox (B's streams read the change mark only hourly
// here, and A's own wake reaches A's streams only); the stream of client
// beta's user is sent nothing of alpha's batch.
func TestBatchEventsWokenByAnotherNode(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		p.effectiveMaster(t, product, "MBR-CEF")
		b := p.order(t, product, 1)[0]
		p.ok(t, p.schedule(t, b, e.line.ID, slot(time.Tuesday, 6)), http.StatusOK, "schedule")
		p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
		steps := p.steps(t, b)

		// Node B: the environment's server, its streams fed by its
		// dispatcher.
		e.web.SetEventsPoll(time.Hour)
		d := outbox.New(e.db.Outbox(), nil)
		d.Poll = 50 * time.Millisecond
		d.Subscribe(outbox.Subscriber{Name: "web.live", Deliver: e.web.Live})
		if err := d.Start(identity.WithActor(context.Background(), identity.System)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Stop)

		// Node A: another handle on the same database, its own server.
		a, err := store.Open(context.Background(), e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		nodeA := web.New(web.Deps{Site: a.Site(), Clients: a.Clients(), Identity: a.Identity(), Admin: a.Identity().Admin(),
			Signatures: a.Identity().Signatures(), Audit: a.Audit(), AuditBundles: a.Audit(), Production: a.Production(), Release: a.Release(), DB: a,
			Drills: a, OpenAPI: docs.OpenAPI, Idempotency: a.Idempotency()})
		srvA := httptest.NewServer(checkContract(t, nodeA.Handler()))
		t.Cleanup(srvA.Close)

		alpha := openEvents(t, e.srv.URL, p.token(t, "client-alpha"))
		beta := openEvents(t, e.srv.URL, p.token(t, "client-beta"))
		if items, ok := alpha.next(t, 5*time.Second); !ok || len(items) != 1 || items[0]["steps_done"] != float64(0) {
			t.Fatalf("alpha's first event: %v %v", items, ok)
		}
		if items, ok := beta.next(t, 5*time.Second); !ok || len(items) != 0 {
			t.Fatalf("beta's first event: %v %v", items, ok)
		}

		body, _ := json.Marshal(map[string]any{"step_id": steps[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."})
		req, _ := http.NewRequest("POST", srvA.URL+"/api/v1/batches/"+b+"/steps", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.token(t, "operator"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the line clearance through node A: status %d", resp.StatusCode)
		}
		items, ok := alpha.next(t, 5*time.Second)
		if !ok || len(items) != 1 || items[0]["steps_done"] != float64(1) || items[0]["state"] != "in_progress" {
			t.Fatalf("alpha's stream on node B after a write on node A: %v %v", items, ok)
		}
		if items, ok := beta.next(t, time.Second); ok {
			t.Errorf("beta's stream was sent %v", items)
		}
	})
}
