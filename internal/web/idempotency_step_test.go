package web_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/docs"
	"galenix/internal/errs"
	"galenix/internal/idem"
	"galenix/internal/production"
	"galenix/internal/web"
)

// releasedBatch orders a batch of a product with an effective master,
// schedules it on the test line and releases it; it returns the batch and
// its steps.
func releasedBatch(t *testing.T, p *prodEnv) (string, []map[string]any) {
	t.Helper()
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("IDEM-STEP"))
	p.effectiveMaster(t, product, "MBR-STEP")
	b := p.order(t, product, 1)[0]
	p.ok(t, p.schedule(t, b, p.line.ID, slot(time.Tuesday, 6)), http.StatusOK, "schedule")
	p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
	return b, p.steps(t, b)
}

// TestIdempotencyConcurrentStep: a tablet that sends one step recording
// eight times at once with one key (a flaky network, a client retrying
// without waiting) records the step once; every answer is that recording's
// (or says it was applied), none a refusal of the step as already done.
func TestIdempotencyConcurrentStep(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		b, steps := releasedBatch(t, p)
		key := newUUID(t)
		e.token(t, "supervisor")
		before := e.rows(t)
		answers := make([]reply, 8)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				answers[i] = p.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps",
					map[string]any{"step_id": steps[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, "Idempotency-Key", key)
			})
		}
		wg.Wait()
		applied := 0
		var first reply
		for _, a := range answers {
			switch {
			case a.status == http.StatusOK && a.header.Get("Idempotent-Replayed") == "":
				applied++
				first = a
			case a.status == http.StatusOK:
			case a.status == http.StatusConflict && strings.Contains(string(a.body), `"idempotency_applied"`):
			default:
				t.Errorf("a request with the key: %d %s", a.status, a.body)
			}
		}
		if applied != 1 {
			t.Fatalf("%d requests applied, want 1", applied)
		}
		for _, a := range answers {
			if a.status == http.StatusOK && !sameAnswer(a.body, first.body) {
				t.Errorf("a replay differs from the first answer: %s, first %s", a.body, first.body)
			}
		}
		after := e.rows(t)
		if after["audit_log"] == before["audit_log"] {
			t.Fatal("the step was not recorded")
		}
		// Once more, alone: nothing more is written.
		again := p.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps",
			map[string]any{"step_id": steps[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, "Idempotency-Key", key)
		if again.status != http.StatusOK || !sameAnswer(again.body, first.body) {
			t.Errorf("a later retry: %d %s", again.status, again.body)
		}
		if now := e.rows(t); !maps.Equal(now, after) {
			t.Errorf("a later retry wrote: %v, before %v", now, after)
		}
	})
}

// lostAnswers is a keeper that loses every answer: what a node that stops
// between the commit and the record of the answer leaves behind.
type lostAnswers struct{ web.IdempotencyKeeper }

func (lostAnswers) Record(context.Context, string, string, idem.Answer) error {
	return errors.New("the node stopped")
}

// TestIdempotencyAnswerLost: a step recording committed whose answer was
// never recorded (the node stopped in between; the client saw no answer)
// is never applied again by a retry, on any node: the retry answers 409
// idempotency_applied and writes nothing.
func TestIdempotencyAnswerLost(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		b, steps := releasedBatch(t, p)
		// The node that stops: its answers are never recorded.
		lost := httptest.NewServer(web.New(web.Deps{Site: e.db.Site(), Clients: e.db.Clients(), Identity: e.db.Identity(), Admin: e.db.Identity().Admin(), Signatures: e.db.Identity().Signatures(), Audit: e.db.Audit(), AuditBundles: e.db.Audit(),
			Production: e.db.Production(), Release: e.db.Release(), DB: e.db, Drills: e.db, OpenAPI: docs.OpenAPI, Idempotency: lostAnswers{e.db.Idempotency()}}).Handler())
		defer lost.Close()
		key := newUUID(t)
		body := map[string]any{"step_id": steps[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}
		tok := e.token(t, "supervisor")
		ln := &env{db: e.db, srv: lost, tokens: map[string]string{"supervisor": tok}}
		if r := ln.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps", body, "Idempotency-Key", key); r.status != http.StatusOK {
			t.Fatalf("the step: %d %s", r.status, r.body)
		}
		applied := e.rows(t)
		// The client retries on another node (and on the same one).
		for _, node := range []*env{e, ln} {
			r := node.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps", body, "Idempotency-Key", key)
			r.wantError(t, http.StatusConflict, "idempotency_applied", "")
			if !strings.Contains(string(r.body), "will not be applied again") {
				t.Errorf("the retry is not told its step was applied: %s", r.body)
			}
		}
		if after := e.rows(t); !maps.Equal(after, applied) {
			t.Errorf("a retry wrote: %v, after the step %v", after, applied)
		}
	})
}

// TestFloorStepTappedTwice: on the shop floor's tablet, the step form sent
// twice (a double tap, a reload that sends it again) records the step
// once, and the second submit lands where the first did.
func TestFloorStepTappedTwice(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		b, steps := releasedBatch(t, p)
		tok := e.token(t, "supervisor")
		form := url.Values{"idempotency_key": {newUUID(t)}, "batch_id": {b}, "step_id": {steps[0]["id"].(string)},
			"items": {"2"}, "check": {"0", "1"}, "reason": {"Test slot two weeks ahead."}}
		submit := func() *http.Response {
			t.Helper()
			req, _ := http.NewRequest("POST", e.srv.URL+"/floor/lines/"+e.line.ID+"/step", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+tok)
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		before := e.rows(t)
		first := submit()
		applied := e.rows(t)
		second := submit()
		if first.StatusCode != http.StatusSeeOther || !strings.Contains(first.Header.Get("Location"), "done=recorded") {
			t.Fatalf("the step form: %d %q", first.StatusCode, first.Header.Get("Location"))
		}
		if second.StatusCode != first.StatusCode || second.Header.Get("Location") != first.Header.Get("Location") {
			t.Errorf("sent twice: %d %q then %d %q, want the same redirect twice", first.StatusCode, first.Header.Get("Location"),
				second.StatusCode, second.Header.Get("Location"))
		}
		if maps.Equal(applied, before) {
			t.Error("the step was not recorded")
		}
		if after := e.rows(t); !maps.Equal(after, applied) {
			t.Errorf("the second submit wrote: %v, after the first %v", after, applied)
		}
		// The same key with other values: refused, in the page's words.
		form.Set("check", "0")
		if r := submit(); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("the key sent again with other values: %d, want 422", r.StatusCode)
		}
	})
}

// TestEveryPostFormCarriesAKey: every form of the pages that posts
// carries a fresh idempotency key, so that a double submit applies once. A
// new form without one fails here.
func TestEveryPostFormCarriesAKey(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("templates", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	form := regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	posts := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range form.FindAllStringSubmatch(string(b), -1) {
			if !regexp.MustCompile(`(?i)method="post"`).MatchString(m[1]) {
				continue
			}
			posts++
			if !strings.Contains(m[2], `name="idempotency_key" value="{{idemKey}}"`) {
				t.Errorf("%s: a form posting to %s has no idempotency key field", f, regexp.MustCompile(`action="[^"]*"`).FindString(m[1]))
			}
		}
	}
	if posts < 15 {
		t.Errorf("only %d posting forms found", posts)
	}
}

// failsAfterCommit records steps, then answers a failure, as a request
// whose time runs out just after its write committed.
type failsAfterCommit struct{ production.Service }

func (f failsAfterCommit) RecordStep(ctx context.Context, batchID string, e production.Entry) (*production.StepRecord, error) {
	if _, err := f.Service.RecordStep(ctx, batchID, e); err != nil {
		return nil, err
	}
	return nil, errs.Unavailability(context.DeadlineExceeded)
}

// TestIdempotencyFailureAfterCommit: a step recorded whose request then
// failed (503: its time ran out after the commit) is not applied again by
// the client's retry, nor is the failure replayed (the client would retry
// for ever): the retry is told the step was applied.
func TestIdempotencyFailureAfterCommit(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		b, steps := releasedBatch(t, p)
		slow := httptest.NewServer(web.New(web.Deps{Site: e.db.Site(), Clients: e.db.Clients(), Identity: e.db.Identity(), Admin: e.db.Identity().Admin(), Signatures: e.db.Identity().Signatures(), Audit: e.db.Audit(), AuditBundles: e.db.Audit(),
			Production: failsAfterCommit{e.db.Production()}, Release: e.db.Release(), DB: e.db, Drills: e.db, OpenAPI: docs.OpenAPI, Idempotency: e.db.Idempotency()}).Handler())
		defer slow.Close()
		key := newUUID(t)
		body := map[string]any{"step_id": steps[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}
		sl := &env{db: e.db, srv: slow, tokens: map[string]string{"supervisor": e.token(t, "supervisor")}}
		before := e.rows(t)
		sl.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps", body, "Idempotency-Key", key).wantError(t, http.StatusServiceUnavailable, "unavailable", "")
		applied := e.rows(t)
		if maps.Equal(applied, before) {
			t.Fatal("the step was not recorded")
		}
		e.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/steps", body, "Idempotency-Key", key).wantError(t, http.StatusConflict, "idempotency_applied", "")
		if after := e.rows(t); !maps.Equal(after, applied) {
			t.Errorf("the retry wrote: %v, after the step %v", after, applied)
		}
	})
}
