package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// inReview runs a batch of the product, on e.line at start, through the
// floor with its pH out of limits (an exception and its deviation), and
// hands it to QA: the batch's id and its exception's step id.
func (p *prodEnv) inReview(t *testing.T, product string, start time.Time) (string, string) {
	t.Helper()
	b := p.order(t, product, 1)[0]
	p.ok(t, p.schedule(t, b, p.line.ID, start), http.StatusOK, "schedule")
	p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
	steps := p.steps(t, b)
	op, verifier := p.performer, "supervisor"
	if op == "supervisor" {
		verifier = "qa"
	}
	for i, entry := range []map[string]any{
		{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, {"lot": "LOT-A", "quantity": "10"}, {"lot": "LOT-B", "quantity": "20"},
		{"equipment": p.equipment.Code}, {"value": "8,2", "confirm_out_of_limits": true, "comment": "Second reading the same."}, {"confirm": true},
	} {
		p.ok(t, p.record(t, op, b, steps[i], entry), http.StatusOK, "step")
	}
	critical := steps[5]["id"].(string)
	p.ok(t, p.sign(t, op, "batch_step", critical, "performed"), http.StatusCreated, "performed")
	p.ok(t, p.sign(t, verifier, "batch_step", critical, "verified"), http.StatusCreated, "verified")
	p.ok(t, p.record(t, op, b, steps[6], map[string]any{"value": "S-" + b[len(b)-6:]}), http.StatusOK, "sample")
	p.ok(t, p.record(t, op, b, steps[7], map[string]any{"confirm": true}), http.StatusOK, "last step")
	p.move(t, op, "/api/v1/batches/"+b, "complete", "completed")
	p.move(t, "qa", "/api/v1/batches/"+b, "review", "in_review")
	// The batch left the filler dirty: cleaned, for the next batch.
	eq := p.ok(t, p.call(t, "admin", "GET", "/api/v1/equipment/"+p.equipment.ID, nil), http.StatusOK, "equipment").object(t)
	eq["status"], eq["reason"] = "clean", "Cleaned after the batch"
	p.ok(t, p.call(t, "admin", "PUT", "/api/v1/equipment/"+p.equipment.ID, eq), http.StatusOK, "clean the filler")
	return b, steps[4]["id"].(string)
}

// assign gives who the client alpha, once.
func (p *prodEnv) assign(t *testing.T, who string) {
	t.Helper()
	sys := identity.WithActor(context.Background(), identity.System)
	as := identity.Assignment{AccountID: p.accounts[who].ID, ClientID: p.alpha.ID}
	if err := p.db.Identity().Admin().Assign(sys, &as, ""); err != nil && !errs.Is(err, errs.Conflict) {
		t.Fatal(err)
	}
}

// signWith signs the batch as who with a reason.
func (p *prodEnv) signWith(t *testing.T, who, batchID, meaning, reason string) reply {
	t.Helper()
	body := signBody(who, "batch", batchID, meaning, p.challenge(t, who, "batch", batchID, meaning))
	body["reason"] = reason
	return p.call(t, who, "POST", "/api/v1/signatures", body)
}

// TestReleaseAPI: QA justifies the exception and signs its review; the
// qualified person's view says in words, in the reader's language, what
// blocks; a certification is refused while it does, a rejection with its
// reason is the register's line; the client sees its line without the QP's
// name, the other client sees nothing, and no certificate exists.
func TestReleaseAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		p.assign(t, "qp")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("REL-CEF"))
		p.effectiveMaster(t, product, "MBR-REL")
		b, ph := p.inReview(t, product, slot(time.Tuesday, 6))
		path := "/api/v1/batches/" + b + "/justifications"

		rv := p.ok(t, p.call(t, "qa", "GET", path, nil), http.StatusOK, "review").object(t)
		if len(rv["justifications"].(map[string]any)) != 0 || rv["version"] != float64(0) {
			t.Errorf("an empty review: %v", rv)
		}
		p.call(t, "operator", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
		p.call(t, "client-alpha", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
		// The review signed with its exception unjustified: refused.
		p.sign(t, "qa", "batch", b, "reviewed").wantError(t, http.StatusBadRequest, "invalid", "justifications")
		// Bad input changes nothing.
		p.call(t, "qa", "PUT", path, map[string]any{"justifications": map[string]string{"x": "Not a step of this batch."}}).
			wantError(t, http.StatusBadRequest, "invalid", "justifications")
		p.call(t, "qa", "PUT", path, map[string]any{"justifications": map[string]string{ph: "short"}}).
			wantError(t, http.StatusBadRequest, "invalid", "justifications")
		p.call(t, "qa", "PUT", path, map[string]any{"justifications": "all fine"}).wantError(t, http.StatusBadRequest, "invalid", "justifications")
		p.call(t, "supervisor", "PUT", path, map[string]any{"justifications": map[string]string{ph: "Justified by production."}}).
			wantError(t, http.StatusNotFound, "not_found", "")
		rv = p.ok(t, p.call(t, "qa", "PUT", path, map[string]any{"justifications": map[string]string{ph: "pH 8.2: buffer over-dosed, see the deviation."}}),
			http.StatusOK, "justify").object(t)
		if rv["version"] != float64(1) {
			t.Errorf("justified: %v", rv)
		}
		// Changed after its first entry: a reason, and the current
		// version (412 with it otherwise, nothing written).
		change := map[string]any{"justifications": map[string]string{ph: "pH 8.2: buffer over-dosed at 3.1, see the deviation."}}
		p.call(t, "qa", "PUT", path, change).wantError(t, http.StatusBadRequest, "invalid", "reason")
		change["reason"] = "Operation named"
		stale := p.call(t, "qa", "PUT", path, change, "If-Match", `"7"`)
		stale.wantError(t, http.StatusPreconditionFailed, "stale", "")
		if etagOf(t, stale) != 1 {
			t.Errorf("stale: ETag %s", stale.header.Get("ETag"))
		}
		rv = p.ok(t, p.call(t, "qa", "PUT", path, change, "If-Match", `"1"`), http.StatusOK, "change").object(t)
		if rv["version"] != float64(2) || !strings.Contains(rv["justifications"].(map[string]any)[ph].(string), "at 3.1") {
			t.Errorf("changed: %v", rv)
		}
		p.ok(t, p.sign(t, "qa", "batch", b, "reviewed"), http.StatusCreated, "QA's review")
		if st := p.call(t, "qa", "GET", "/api/v1/batches/"+b, nil).object(t)["state"]; st != "qa_reviewed" {
			t.Fatalf("after QA's review: %v", st)
		}

		// The qualified person's view, in French and English.
		view := p.ok(t, p.call(t, "qp", "GET", "/api/v1/batches/"+b+"/release", nil, "Accept-Language", "fr"), http.StatusOK, "release view").object(t)
		blockers := view["blockers"].([]any)
		if view["certifiable"] != false || len(blockers) != 2 {
			t.Fatalf("blockers: %v", blockers)
		}
		first := blockers[0].(map[string]any)
		second := blockers[1].(map[string]any)
		if first["key"] != "quality.block.no_spec" || !strings.Contains(first["message"].(string), "Aucune spécification") ||
			!strings.Contains(second["message"].(string), "La déviation DEV") {
			t.Errorf("blockers in French: %v", blockers)
		}
		en := p.ok(t, p.call(t, "qp", "GET", "/api/v1/batches/"+b+"/release", nil), http.StatusOK, "release view").object(t)
		if msg := en["blockers"].([]any)[1].(map[string]any)["message"].(string); !strings.Contains(msg, "neither closed nor justified") {
			t.Errorf("blockers in English: %q", msg)
		}
		p.call(t, "client-alpha", "GET", "/api/v1/batches/"+b+"/release", nil).wantError(t, http.StatusNotFound, "not_found", "")
		p.call(t, "operator", "GET", "/api/v1/batches/"+b+"/release", nil).wantError(t, http.StatusNotFound, "not_found", "")

		// Certification refused, in words; the rejection needs a reason.
		msg := p.sign(t, "qp", "batch", b, "released").wantError(t, http.StatusConflict, "conflict", "").Message
		if !strings.Contains(msg, "cannot be certified") || !strings.Contains(msg, "No specification") {
			t.Errorf("the refusal: %q", msg)
		}
		p.signWith(t, "qp", b, "rejected", "").wantError(t, http.StatusBadRequest, "invalid", "reason")
		p.ok(t, p.signWith(t, "qp", b, "rejected", "pH out of its limits; the deviation's assessment does not support release."),
			http.StatusCreated, "rejection")
		reg := p.call(t, "qp", "GET", "/api/v1/certifications", nil).items(t)
		if len(reg) != 1 || reg[0]["decision"] != "rejected" || reg[0]["qp_name"] != "Paula Personne Qualifiée" {
			t.Fatalf("register: %v", reg)
		}
		cl := p.call(t, "client-alpha", "GET", "/api/v1/certifications", nil).items(t)
		if len(cl) != 1 || cl[0]["qp_name"] != nil || strings.Contains(mustJSON(t, cl), "Paula") {
			t.Errorf("the client's register names the QP: %v", cl)
		}
		if other := p.call(t, "client-beta", "GET", "/api/v1/certifications", nil).items(t); len(other) != 0 {
			t.Errorf("another client sees the register: %v", other)
		}
		p.call(t, "operator", "GET", "/api/v1/certifications", nil).wantError(t, http.StatusForbidden, "forbidden", "")
		p.call(t, "qp", "GET", "/api/v1/certifications?from=yesterday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
		// No certificate for a rejected batch, to anyone.
		for _, who := range []string{"client-alpha", "client-beta", "qp"} {
			p.call(t, who, "GET", "/api/v1/batches/"+b+"/certificate", nil).wantError(t, http.StatusNotFound, "not_found", "")
		}
	})
}
