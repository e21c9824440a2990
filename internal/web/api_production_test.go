package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
	"galenix/internal/web"
)

// prodEnv is a galenix with production's people and the site's stock: the
// operator (or whoever records the steps), the supervisor and quality
// assurance assigned to the client alpha; a user of the client beta; two
// more lines on which the vials of alpha cannot run; two materials with
// lots released and one in quarantine.
type prodEnv struct {
	*signEnv
	// performer records the steps; the supervisor verifies them.
	performer string
	// tablets is a non-sterile line; ampoules a sterile line that runs
	// ampoules only.
	tablets, ampoules site.Line
	// The materials: an active substance and water for injections.
	api, wfi string
	// Their lots: LOT-A (api) and LOT-B (wfi) released, LOT-Q (api) in
	// quarantine.
	lotA, lotB, lotQ string
	// people are the persons of the staff behind the floor's accounts,
	// by username, once train made them.
	people map[string]string
}

// The people's printed names, which must never reach a client's user.
var staffNames = []string{"Otto Operator", "Sonia Superviseure", "Quentin Qualité"}

func newProdEnv(t *testing.T, e *env, performer string) *prodEnv {
	t.Helper()
	p := &prodEnv{signEnv: newSignEnv(t, e), performer: performer, people: map[string]string{}}
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	sys := identity.WithActor(context.Background(), identity.System)
	err = e.db.WriteHistory(sys, "test.seed", func(ctx context.Context, h *store.History) error {
		beta := identity.Account{Username: "client-beta", Name: "Bertrand Client", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID}
		if err := h.CreateAccount(&beta, hash); err != nil {
			return err
		}
		e.accounts[beta.Username] = beta
		p.tablets = site.Line{Code: "LT", Name: "Tablet press", RoomID: e.roomD.ID, Forms: []site.Form{site.FormTablet}}
		if err := e.db.Site().CreateLine(ctx, &p.tablets); err != nil {
			return err
		}
		p.ampoules = site.Line{Code: "LA", Name: "Ampoule filling", RoomID: e.roomB.ID, Sterile: true, Forms: []site.Form{site.FormAmpoule}}
		return e.db.Site().CreateLine(ctx, &p.ampoules)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range slices.Compact(slices.Sorted(slices.Values([]string{performer, "supervisor", "qa"}))) {
		as := identity.Assignment{AccountID: e.accounts[who].ID, ClientID: e.alpha.ID}
		if err := e.db.Identity().Admin().Assign(sys, &as, ""); err != nil {
			t.Fatalf("assign %s: %v", who, err)
		}
	}
	p.api = p.created(t, "supervisor", "/api/v1/materials", map[string]any{"code": "M-API", "name": "Active substance", "kind": "raw", "unit": "g"})
	p.wfi = p.created(t, "qa", "/api/v1/materials", map[string]any{"code": "M-WFI", "name": "Water for injections", "kind": "raw", "unit": "mL"})
	lot := func(material, code string, qty float64) string {
		return p.created(t, "supervisor", "/api/v1/lots", map[string]any{"material_id": material, "code": code, "quantity": qty, "expires_on": "2030-01-01T00:00:00Z"})
	}
	p.lotA, p.lotB, p.lotQ = lot(p.api, "LOT-A", 100), lot(p.wfi, "LOT-B", 500), lot(p.api, "LOT-Q", 50)
	p.releaseLots(t, p.lotA, p.lotB)
	return p
}

// releaseLots releases lots as quality's approval does: a signature of the
// account qa, recorded as history (without typing the password again, to
// spare an argon2id key per lot; TestLotStatusSigned signs through the API).
func (p *prodEnv) releaseLots(t *testing.T, ids ...string) {
	t.Helper()
	qa := p.accounts["qa"]
	err := p.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, id := range ids {
			if err := h.SignRecord("lot", id, esign.Approved, qa.ID, qa.Name, "Certificate of analysis conforms"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if l := p.ok(t, p.call(t, "qa", "GET", "/api/v1/lots/"+id, nil), http.StatusOK, "lot").object(t); l["status"] != "released" {
			t.Fatalf("lot after release: %v", l)
		}
	}
}

// ok checks the answer's status and returns it.
func (p *prodEnv) ok(t *testing.T, r reply, status int, what string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

// created posts a new record as who and returns its id.
func (p *prodEnv) created(t *testing.T, who, path string, body any) string {
	t.Helper()
	m := p.ok(t, p.call(t, who, "POST", path, body), http.StatusCreated, "POST "+path).object(t)
	id, _ := m["id"].(string)
	if id == "" {
		t.Fatalf("POST %s: no id in %v", path, m)
	}
	return id
}

// productBody is a product of the client alpha: vials, sterile.
func (p *prodEnv) productBody(code string) map[string]any {
	return map[string]any{"client_id": p.alpha.ID, "code": code, "name": "Ceftriaxone 1 g", "form": "vial", "strength": "1 g",
		"presentation": "Box of 10 vials", "special_class": "none", "storage": "Below 25 °C"}
}

// masterBody is a master batch record of 8 steps: line clearance, two
// material additions, an equipment check, a pH measured, a critical
// instruction (performed and verified), a sample and a last instruction.
// A batch is 1000 vials made in 2 hours.
func (p *prodEnv) masterBody(productID, code string) map[string]any {
	return map[string]any{"product_id": productID, "code": code, "title": "Ceftriaxone vials", "batch_size": 1000, "unit": "vials", "hours": 2,
		"operations": []any{
			map[string]any{"title": "Preparation", "steps": []any{
				map[string]any{"kind": "line_clearance", "text": "Clear the line", "checklist": []string{"Previous batch removed", "Line swept"}},
				map[string]any{"kind": "material", "text": "Add the active substance", "material_id": p.api, "quantity": 10, "tolerance_pct": 5},
				map[string]any{"kind": "material", "text": "Add the water", "material_id": p.wfi, "quantity": 20, "tolerance_pct": 5},
				map[string]any{"kind": "equipment", "text": "Check the filler", "equipment_kind": "filler"},
			}},
			map[string]any{"title": "Filling", "steps": []any{
				map[string]any{"kind": "numeric", "text": "Measure the pH", "unit": "pH", "target": 7, "low": 6.5, "high": 7.5, "decimals": 2},
				map[string]any{"kind": "instruction", "text": "Check the stoppering", "critical": true},
				map[string]any{"kind": "sampling", "text": "Take the sample", "sample_point": "Filler outlet"},
				map[string]any{"kind": "instruction", "text": "Close the batch"},
			}},
		}}
}

// effectiveMaster writes a master, has it approved by quality assurance's
// signature and made effective, and returns its id.
func (p *prodEnv) effectiveMaster(t *testing.T, productID, code string) string {
	t.Helper()
	id := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(productID, code))
	p.submit(t, id)
	p.ok(t, p.sign(t, "qa", "master", id, "approved"), http.StatusCreated, "approve the master")
	p.move(t, "qa", "/api/v1/masters/"+id, "effective", "effective")
	return id
}

// train grants the floor (the performer, the supervisor and the
// operator) what a step requires: once, the person behind each account and
// their gowning for grade A; then each requirement given. The supervisor
// records each qualification; quality assurance grants it by signature.
func (p *prodEnv) train(t *testing.T, reqs ...qualification.Requirement) {
	t.Helper()
	p.trainPeople(t, slices.Compact(slices.Sorted(slices.Values([]string{p.performer, "supervisor", "operator"}))), reqs...)
}

// trainPeople grants the accounts named each requirement as train does,
// the person behind each account written first if need be.
func (p *prodEnv) trainPeople(t *testing.T, usernames []string, reqs ...qualification.Requirement) {
	t.Helper()
	now := time.Now().UTC()
	for _, who := range usernames {
		all := reqs
		if p.people[who] == "" {
			acc := p.accounts[who]
			p.people[who] = p.created(t, "supervisor", "/api/v1/people", map[string]any{"badge": "F-" + strings.ToUpper(who), "name": acc.Name,
				"job": "Production", "account_id": acc.ID})
			all = append([]qualification.Requirement{{Kind: qualification.Gowning, Subject: "A"}}, reqs...)
		}
		for _, r := range all {
			id := p.created(t, "supervisor", "/api/v1/qualifications", map[string]any{"person_id": p.people[who], "kind": r.Kind, "subject": r.Subject,
				"version": r.Version, "granted_at": now.AddDate(0, 0, -1), "valid_until": now.AddDate(1, 0, 0), "evidence": "Training session of the test"})
			p.ok(t, p.sign(t, "qa", "qualification", id, "approved"), http.StatusCreated, "grant "+string(r.Kind)+" "+r.Subject)
		}
	}
}

// submit has the supervisor sign the draft as its author, which submits
// it for review.
func (p *prodEnv) submit(t *testing.T, id string) {
	t.Helper()
	p.ok(t, p.sign(t, "supervisor", "master", id, "authored"), http.StatusCreated, "the author's signature")
	if st := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil), http.StatusOK, "master").object(t)["status"]; st != "in_review" {
		t.Fatalf("signed by its author, the master is %v", st)
	}
}

// move applies a move to a master or a batch and checks where it led. A
// master made effective has the floor trained on it (train).
func (p *prodEnv) move(t *testing.T, who, path, action, want string) map[string]any {
	t.Helper()
	got := p.ok(t, p.call(t, who, "POST", path+"/move", map[string]string{"action": action, "reason": "Test move " + strings.ToUpper(action)}), http.StatusOK, action+" "+path).object(t)
	if action == "effective" && strings.HasPrefix(path, "/api/v1/masters/") {
		code, _ := got["code"].(string)
		version, _ := got["version"].(float64)
		p.train(t, qualification.ForMaster(code, int(version)))
	}
	st, _ := got["state"].(string)
	if st == "" {
		st, _ = got["status"].(string)
	}
	if st != want {
		t.Fatalf("%s %s: %q, want %q", action, path, st, want)
	}
	return got
}

// order orders n batches of the product and returns their ids.
func (p *prodEnv) order(t *testing.T, productID string, n int) []string {
	t.Helper()
	o := p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": productID, "quantity": 1000 * n,
		"due_on": slot(time.Friday, 8).AddDate(0, 1, 0).Format(time.DateOnly)}), http.StatusCreated, "order").object(t)
	bs, _ := o["batches"].([]any)
	if len(bs) != n {
		t.Fatalf("order of %d batches answered %s", n, mustJSON(t, o))
	}
	var ids []string
	for _, b := range bs {
		b := b.(map[string]any)
		if b["state"] != "planned" || b["client_id"] != p.alpha.ID || b["lot"] == "" {
			t.Errorf("new batch %v", b)
		}
		ids = append(ids, b["id"].(string))
	}
	return ids
}

// schedule places a batch on a line at a time.
func (p *prodEnv) schedule(t *testing.T, batchID, lineID string, start time.Time) reply {
	t.Helper()
	return p.call(t, "supervisor", "POST", "/api/v1/batches/"+batchID+"/schedule",
		map[string]any{"line_id": lineID, "start": start.Format(time.RFC3339), "reason": "Plan of the week"})
}

// steps reads the batch's record and returns its steps, in order.
func (p *prodEnv) steps(t *testing.T, batchID string) []map[string]any {
	t.Helper()
	rec := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+batchID+"/record", nil), http.StatusOK, "record").object(t)
	var out []map[string]any
	for _, s := range rec["steps"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// record enters a step as who.
func (p *prodEnv) record(t *testing.T, who, batchID string, step map[string]any, entry map[string]any) reply {
	t.Helper()
	body := maps.Clone(entry)
	body["step_id"] = step["id"]
	return p.call(t, who, "POST", "/api/v1/batches/"+batchID+"/steps", body)
}

// prodTables are the tables a refused production request must leave as
// they are.
var prodTables = []string{"products", "materials", "material_lots", "masters", "orders", "batches", "batch_steps", "consumptions",
	"deviations", "line_windows", "signatures", "audit_log"}

func (p *prodEnv) prodSnapshot(t *testing.T) map[string]int {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	out := map[string]int{}
	for _, tb := range prodTables {
		n, err := p.db.Count(ctx, tb)
		if err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

func (p *prodEnv) prodUnchanged(t *testing.T, before map[string]int) {
	t.Helper()
	if after := p.prodSnapshot(t); !maps.Equal(after, before) {
		t.Errorf("a refused request wrote: rows %v, before %v", after, before)
	}
}

// slot is a time the test site's shift calendar staffs (its day shift,
// 06:00 to 14:00 in Paris, Monday to Friday): the weekday of the week
// after next, at the hour.
func slot(day time.Weekday, hour int) time.Time {
	zone := site.DefaultLocation() // the test site's zone
	now := time.Now().In(zone)
	d := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, zone)
	d = d.AddDate(0, 0, 14-(int(d.Weekday())+6)%7)
	return d.AddDate(0, 0, (int(day)+6)%7)
}

// TestProductsAPI: products belong to their client; a refused creation or
// change writes nothing.
func TestProductsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		id := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		got := p.ok(t, p.call(t, "client-alpha", "GET", "/api/v1/products/"+id, nil), http.StatusOK, "alpha reads its product").object(t)
		if got["client_id"] != e.alpha.ID || got["sterile"] != true || got["form"] != "vial" {
			t.Errorf("product %v", got)
		}
		if items := p.call(t, "client-alpha", "GET", "/api/v1/products", nil).items(t); len(items) != 1 || items[0]["id"] != id {
			t.Errorf("alpha's products: %v", items)
		}
		if items := p.call(t, "client-alpha", "GET", "/api/v1/products?client_id="+e.alpha.ID, nil).items(t); len(items) != 1 {
			t.Errorf("alpha's products of alpha: %v", items)
		}
		if items := p.call(t, "client-beta", "GET", "/api/v1/products", nil).items(t); len(items) != 0 {
			t.Errorf("beta sees products %v", items)
		}
		if items := p.call(t, "client-beta", "GET", "/api/v1/products?client_id="+e.alpha.ID, nil).items(t); len(items) != 0 {
			t.Errorf("beta sees alpha's products when it asks: %v", items)
		}
		other := p.call(t, "client-beta", "GET", "/api/v1/products/"+id, nil)
		other.wantError(t, http.StatusNotFound, "not_found", "")
		none := p.call(t, "client-beta", "GET", "/api/v1/products/"+newUUID(t), nil)
		if !sameAnswer(other.body, none.body) {
			t.Errorf("another client's product answers %s, a missing one %s", other.body, none.body)
		}
		// Staff not assigned to the client: need to know.
		p.call(t, "admin", "GET", "/api/v1/products/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")

		with := func(k string, v any) map[string]any {
			b := p.productBody("CEF-2G")
			b[k] = v
			return b
		}
		for _, tt := range []struct {
			name, who string
			body      any
			status    int
			code      string
			field     string
		}{
			{"no name", "supervisor", with("name", ""), http.StatusBadRequest, "invalid", "name"},
			{"unknown form", "supervisor", with("form", "pill"), http.StatusBadRequest, "invalid", "form"},
			{"unknown class", "supervisor", with("special_class", "radioactive"), http.StatusBadRequest, "invalid", "special_class"},
			{"shelf life past ten years", "supervisor", with("shelf_life_months", 121), http.StatusBadRequest, "invalid", "shelf_life_months"},
			{"code with a space", "supervisor", with("code", "CEF 2G"), http.StatusBadRequest, "invalid", "code"},
			{"client not assigned", "supervisor", with("client_id", e.beta.ID), http.StatusBadRequest, "invalid", "client_id"},
			{"unknown field", "supervisor", with("colour", "blue"), http.StatusBadRequest, "invalid", "colour"},
			{"a client's user", "client-alpha", p.productBody("CEF-2G"), http.StatusForbidden, "forbidden", ""},
			{"the operator", "operator", p.productBody("CEF-2G"), http.StatusForbidden, "forbidden", ""},
			{"code in use", "supervisor", p.productBody("CEF-1G"), http.StatusConflict, "conflict", "code"},
		} {
			t.Run("create/"+tt.name, func(t *testing.T) {
				before := p.prodSnapshot(t)
				p.call(t, tt.who, "POST", "/api/v1/products", tt.body).wantError(t, tt.status, tt.code, tt.field)
				p.prodUnchanged(t, before)
			})
		}

		change := func(k string, v any) map[string]any {
			b := maps.Clone(got)
			b[k], b["reason"] = v, "Change request CR-7"
			return b
		}
		for _, tt := range []struct {
			name, who string
			body      map[string]any
			status    int
			code      string
			field     string
		}{
			{"no reason", "supervisor", func() map[string]any { b := change("name", "Ceftriaxone 1 g IV"); delete(b, "reason"); return b }(),
				http.StatusBadRequest, "invalid", "reason"},
			{"no strength", "supervisor", change("strength", ""), http.StatusBadRequest, "invalid", "strength"},
			{"to another client", "supervisor", change("client_id", e.beta.ID), http.StatusBadRequest, "invalid", "client_id"},
			{"by another client's user", "client-beta", change("name", "x"), http.StatusForbidden, "forbidden", ""},
		} {
			t.Run("update/"+tt.name, func(t *testing.T) {
				before := p.prodSnapshot(t)
				p.call(t, tt.who, "PUT", "/api/v1/products/"+id, tt.body).wantError(t, tt.status, tt.code, tt.field)
				p.prodUnchanged(t, before)
			})
		}
		up := p.ok(t, p.call(t, "supervisor", "PUT", "/api/v1/products/"+id, change("storage", "2–8 °C")), http.StatusOK, "update").object(t)
		if up["storage"] != "2–8 °C" || up["id"] != id {
			t.Errorf("updated product %v", up)
		}
		// The change is in the client's own audit trail.
		found := false
		for _, it := range p.call(t, "client-alpha", "GET", "/api/v1/audit?entity=product&entity_id="+id, nil).items(t) {
			found = found || (it["field"] == "storage" && it["new"] == "2–8 °C" && it["reason"] == "Change request CR-7")
		}
		if !found {
			t.Errorf("the client does not find the change of its product in its audit trail")
		}
	})
}

// TestBatchRecordAPI follows a batch from its order to QA review through
// the API: every scheduling rule refused, steps in order, two tablets on
// one step, an exception, lots unknown and in quarantine, a critical step
// signed by its performer and verified by another person, the genealogy in
// both directions, and the client's view without names.
func TestBatchRecordAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))

		// A master that is not effective makes no order.
		draft := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, "MBR-CEF"))
		before := p.prodSnapshot(t)
		r := p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 1000, "due_on": "2099-01-01"})
		if msg := r.wantError(t, http.StatusConflict, "conflict", ""); !strings.Contains(msg.Message, "effective") {
			t.Errorf("order without an effective master: %q should say why", msg.Message)
		}
		p.prodUnchanged(t, before)
		// A draft changes with a reason; once in review, not at all.
		m := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/masters/"+draft, nil), http.StatusOK, "master").object(t)
		if m["status"] != "draft" || m["version"] != float64(1) || m["steps"] != float64(8) || len(m["operations"].([]any)) != 2 {
			t.Fatalf("new master %v", m)
		}
		m["title"], m["reason"] = "Ceftriaxone 1 g vials", "Title as in the dossier"
		p.ok(t, p.call(t, "supervisor", "PUT", "/api/v1/masters/"+draft, m), http.StatusOK, "change the draft")
		p.submit(t, draft)
		before = p.prodSnapshot(t)
		m["title"] = "Changed in review"
		p.call(t, "supervisor", "PUT", "/api/v1/masters/"+draft, m).wantError(t, http.StatusConflict, "conflict", "")
		p.call(t, "qa", "POST", "/api/v1/masters/"+draft+"/move", map[string]string{"action": "approve", "reason": "x"}).wantError(t, http.StatusBadRequest, "invalid", "action")
		p.call(t, "supervisor", "POST", "/api/v1/masters/"+draft+"/move", map[string]string{"action": "effective", "reason": "x"}).wantError(t, http.StatusForbidden, "forbidden", "")
		p.prodUnchanged(t, before)
		p.ok(t, p.sign(t, "qa", "master", draft, "approved"), http.StatusCreated, "approve")
		p.move(t, "qa", "/api/v1/masters/"+draft, "effective", "effective")
		if got := p.call(t, "supervisor", "GET", "/api/v1/masters?product_id="+product+"&status=effective", nil).items(t); len(got) != 1 || got[0]["id"] != draft {
			t.Errorf("effective masters of the product: %v", got)
		}

		batches := p.order(t, product, 2)
		b1, b2 := batches[0], batches[1]

		// Bad input anywhere: 400 naming the field, nothing written.
		noClearance := p.masterBody(product, "MBR-BAD")
		ops := noClearance["operations"].([]any)
		first := ops[0].(map[string]any)
		first["steps"] = first["steps"].([]any)[1:]
		for _, tt := range []struct {
			name, who, method, path string
			body                    any
			field                   string
		}{
			{"master without line clearance", "supervisor", "POST", "/api/v1/masters", noClearance, "operations"},
			{"master without title", "supervisor", "POST", "/api/v1/masters", func() map[string]any { b := p.masterBody(product, "MBR-BAD"); b["title"] = ""; return b }(), "title"},
			{"master of an unknown product", "supervisor", "POST", "/api/v1/masters", p.masterBody(newUUID(t), "MBR-BAD"), "product_id"},
			{"order due on no day", "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 1000, "due_on": "soon"}, "due_on"},
			{"order due in the past", "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 1000, "due_on": "2020-01-01"}, "due_on"},
			{"order of nothing", "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 0, "due_on": "2099-01-01"}, "quantity"},
			{"order of too many batches", "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 51000, "due_on": "2099-01-01"}, "quantity"},
			{"order with a reason", "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 1000, "due_on": "2099-01-01", "reason": "x"}, "reason"},
			{"lot status unknown", "qa", "POST", "/api/v1/lots/" + p.lotQ + "/status", map[string]any{"status": "lost", "reason": "x"}, "status"},
			{"lot status without reason", "qa", "POST", "/api/v1/lots/" + p.lotQ + "/status", map[string]any{"status": "released"}, "reason"},
			{"window ending before it starts", "supervisor", "POST", "/api/v1/windows", map[string]any{"line_id": e.line.ID,
				"start": slot(time.Friday, 8).Format(time.RFC3339), "end": slot(time.Friday, 7).Format(time.RFC3339), "reason": "x"}, "end"},
			{"schedule without a line", "supervisor", "POST", "/api/v1/batches/" + b1 + "/schedule", map[string]any{"start": slot(time.Friday, 8).Format(time.RFC3339)}, "line_id"},
			{"schedule at no time", "supervisor", "POST", "/api/v1/batches/" + b1 + "/schedule", map[string]any{"line_id": e.line.ID, "start": "friday"}, ""},
			{"move of no kind", "supervisor", "POST", "/api/v1/batches/" + b1 + "/move", map[string]any{"action": "launch"}, "action"},
		} {
			t.Run("bad/"+tt.name, func(t *testing.T) {
				before := p.prodSnapshot(t)
				p.call(t, tt.who, tt.method, tt.path, tt.body).wantError(t, http.StatusBadRequest, "invalid", tt.field)
				p.prodUnchanged(t, before)
			})
		}

		// The rules of the schedule, each refused with its name.
		tue := func(h int) time.Time { return slot(time.Tuesday, h) }
		p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/windows", map[string]any{"line_id": e.line.ID,
			"start": slot(time.Wednesday, 6).Format(time.RFC3339), "end": slot(time.Wednesday, 14).Format(time.RFC3339), "reason": "Filler overhaul"}),
			http.StatusCreated, "maintenance window")
		p.ok(t, p.schedule(t, b1, e.line.ID, tue(6)), http.StatusOK, "schedule the first batch")
		for _, tt := range []struct {
			name, line string
			start      time.Time
			rule       string
		}{
			{"non-sterile line", p.tablets.ID, tue(10), production.RuleLineForm},
			{"line without the form", p.ampoules.ID, tue(10), production.RuleLineForm},
			{"overlap", e.line.ID, tue(7), production.RuleOverlap},
			{"changeover", e.line.ID, tue(9), production.RuleChangeover},
			{"maintenance", e.line.ID, slot(time.Wednesday, 8), production.RuleMaintenance},
			{"unstaffed", e.line.ID, tue(13), production.RuleCalendar},
			{"past", e.line.ID, time.Now().Add(-48 * time.Hour), production.RulePast},
		} {
			t.Run("schedule/"+tt.name, func(t *testing.T) {
				before := p.prodSnapshot(t)
				r := p.schedule(t, b2, tt.line, tt.start)
				if r.status != http.StatusConflict || !strings.Contains(string(r.body), tt.rule) {
					t.Errorf("status %d %s, want 409 naming the rule %s", r.status, r.body, tt.rule)
				}
				p.prodUnchanged(t, before)
			})
		}
		if msg := p.schedule(t, b2, e.line.ID, tue(7)).wantError(t, http.StatusConflict, "conflict", "rule:overlap").Message; !strings.Contains(msg, p.batchLot(t, b1)) {
			t.Errorf("an overlap names the batch in the way: %q", msg)
		}
		got := p.ok(t, p.schedule(t, b2, e.line.ID, tue(10)), http.StatusOK, "schedule the second batch").object(t)
		if got["state"] != "scheduled" || got["line_id"] != e.line.ID || got["line_code"] != e.line.Code {
			t.Errorf("scheduled batch %v", got)
		}
		sc := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/schedule?building_id="+e.building.ID+"&from="+tue(0).Format(time.DateOnly)+"&to="+tue(0).Format(time.DateOnly), nil),
			http.StatusOK, "schedule").object(t)
		if n := countSlots(sc, e.line.ID); n != 2 {
			t.Errorf("the schedule of the day shows %d batches on %s, want 2: %s", n, e.line.Code, mustJSON(t, sc))
		}
		p.call(t, "supervisor", "GET", "/api/v1/schedule?from=someday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
		cap := p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/capacity?building_id="+e.building.ID+"&week="+tue(0).Format(time.DateOnly), nil),
			http.StatusOK, "capacity").object(t)
		for _, l := range cap["lines"].([]any) {
			l := l.(map[string]any)
			if l["line"].(map[string]any)["id"] == e.line.ID && (l["batches"] != float64(2) || l["booked_hours"] != float64(4) || l["maintenance_hours"] != float64(8)) {
				t.Errorf("capacity of %s: %v", e.line.Code, l)
			}
		}
		p.call(t, "supervisor", "GET", "/api/v1/capacity?week=next", nil).wantError(t, http.StatusBadRequest, "invalid", "week")

		// Released to the floor: the line's tablet shows the first step.
		p.move(t, "supervisor", "/api/v1/batches/"+b1, "release", "released")
		p.call(t, "supervisor", "POST", "/api/v1/batches/"+b1+"/move", map[string]string{"action": "schedule", "reason": "x"}).wantError(t, http.StatusBadRequest, "invalid", "action")
		floor := p.ok(t, p.call(t, "operator", "GET", "/api/v1/lines/"+e.line.ID+"/floor", nil), http.StatusOK, "floor").object(t)
		steps := p.steps(t, b1)
		if len(steps) != 8 || floor["batch"].(map[string]any)["id"] != b1 || floor["next"].(map[string]any)["id"] != steps[0]["id"] {
			t.Fatalf("floor %s; steps %d", mustJSON(t, floor), len(steps))
		}
		clearance := map[string]any{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}

		// Out of order: refused, nothing written.
		before = p.prodSnapshot(t)
		p.record(t, "operator", b1, steps[4], map[string]any{"value": "7.0"}).wantError(t, http.StatusConflict, "conflict", "")
		p.record(t, "operator", b1, steps[0], map[string]any{"checked": []bool{true, false}}).wantError(t, http.StatusBadRequest, "invalid", "checked")
		p.record(t, "client-alpha", b1, steps[0], clearance).wantError(t, http.StatusForbidden, "forbidden", "")
		p.prodUnchanged(t, before)

		// Two tablets complete the first step at once: one wins.
		statuses := p.race(t, "operator", b1, steps[0], clearance, 2)
		if !slices.Equal(statuses, []int{http.StatusOK, http.StatusConflict}) {
			t.Fatalf("two tablets on one step: statuses %v, want one 200 and one 409", statuses)
		}
		if b := p.ok(t, p.call(t, "client-alpha", "GET", "/api/v1/batches/"+b1, nil), http.StatusOK, "batch").object(t); b["state"] != "in_progress" || b["steps_done"] != float64(1) {
			t.Errorf("batch after its line clearance: %v", b)
		}

		// Material lots: unknown, in quarantine, of another material.
		for _, tt := range []struct{ name, lot string }{{"unknown", "LOT-NONE"}, {"quarantine", "LOT-Q"}, {"another material", "LOT-B"}} {
			t.Run("lot/"+tt.name, func(t *testing.T) {
				before := p.prodSnapshot(t)
				p.record(t, "operator", b1, steps[1], map[string]any{"lot": tt.lot, "quantity": "10"}).wantError(t, http.StatusBadRequest, "invalid", "lot")
				p.prodUnchanged(t, before)
			})
		}
		if s := p.steps(t, b1)[1]; s["state"] != "pending" {
			t.Errorf("step refused is %v", s["state"])
		}
		if l := p.call(t, "qa", "GET", "/api/v1/lots/"+p.lotQ, nil).object(t); l["quantity"] != float64(50) {
			t.Errorf("lot in quarantine after the refusal: %v", l)
		}
		// A quantity out of its tolerance (10 g ± 5 %) is refused until the
		// operator confirms it and says why, as a value out of limits.
		before = p.prodSnapshot(t)
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"lot": "LOT-A", "quantity": "12", "comment": "Scale checked"}, "confirm_out_of_limits"},
			{map[string]any{"lot": "LOT-A", "quantity": "12", "confirm_out_of_limits": true, "comment": " "}, "comment"},
		} {
			r := p.record(t, "operator", b1, steps[1], c.body)
			r.wantError(t, http.StatusBadRequest, "invalid", c.field)
			if !strings.Contains(string(r.body), "Quantity out of tolerance (10 ± 5 %): confirm it and explain in a comment.") {
				t.Errorf("%v: the refusal reads %s", c.body, r.body)
			}
		}
		p.prodUnchanged(t, before)
		st := p.ok(t, p.record(t, "operator", b1, steps[1], map[string]any{"lot": "LOT-A", "quantity": "10"}), http.StatusOK, "add LOT-A").object(t)
		if st["state"] != "done" || st["lot_code"] != "LOT-A" || st["performed_name"] != "Otto Operator" {
			t.Errorf("material added: %v", st)
		}
		p.ok(t, p.record(t, "operator", b1, steps[2], map[string]any{"lot": "LOT-B", "quantity": "20,5"}), http.StatusOK, "add LOT-B")
		p.ok(t, p.record(t, "operator", b1, steps[3], map[string]any{"equipment": e.equipment.Code}), http.StatusOK, "check the filler")

		// A value out of its limits is refused until the operator confirms
		// it and says why: nothing is recorded.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"value": "8,2", "comment": "Probe checked"}, "confirm_out_of_limits"},
			{map[string]any{"value": "8,2", "confirm_out_of_limits": true}, "comment"},
			{map[string]any{"value": "8,2", "confirm_out_of_limits": true, "comment": " "}, "comment"},
		} {
			r := p.record(t, "operator", b1, steps[4], c.body)
			r.wantError(t, http.StatusBadRequest, "invalid", c.field)
			if !strings.Contains(string(r.body), "Value out of limits [6.5; 7.5]: confirm it and explain in a comment.") {
				t.Errorf("%v: the refusal reads %s", c.body, r.body)
			}
		}
		if st := p.steps(t, b1)[4]; st["state"] != "pending" || st["value"] != nil {
			t.Errorf("a refused value out of limits was recorded: %v", st)
		}
		// Confirmed and explained, it is recorded as an exception and
		// opens a deviation that carries the explanation.
		why := "Probe checked, second reading 8.2; shift leader told"
		st = p.ok(t, p.record(t, "operator", b1, steps[4], map[string]any{"value": "8,2", "confirm_out_of_limits": true, "comment": why}), http.StatusOK, "pH out of limits").object(t)
		if st["exception"] != true || st["deviation_id"] == nil || st["state"] != "done" || st["comment"] != why {
			t.Errorf("value out of limits: %v", st)
		}
		rv := p.ok(t, p.call(t, "qa", "GET", "/api/v1/batches/"+b1+"/review", nil), http.StatusOK, "review").object(t)
		if ex := rv["exceptions"].([]any); len(ex) != 1 || ex[0].(map[string]any)["id"] != steps[4]["id"] {
			t.Errorf("review exceptions: %v", ex)
		}
		if dv := rv["deviations"].([]any); len(dv) != 1 || dv[0].(map[string]any)["step_id"] != steps[4]["id"] || dv[0].(map[string]any)["id"] != st["deviation_id"] ||
			dv[0].(map[string]any)["description"] != why {
			t.Errorf("review deviations: %v", dv)
		}
		// Its texts are answered in the request's language (English by
		// default), their codes beside.
		code := func(v any) any { m, _ := v.(map[string]any); return m["key"] }
		if st["value"] != "8.20 pH" || st["exception_text"] != "8.20 pH is outside the limits [6.50; 7.50] pH." ||
			code(st["value_code"]) != "stored.step.numeric" || code(st["exception_code"]) != "stored.why.outside_limits" {
			t.Errorf("the exception's texts in English: %v", st)
		}
		if dv := rv["deviations"].([]any)[0].(map[string]any); !strings.HasSuffix(dv["title"].(string), ", step 2.1: 8.20 pH is outside the limits [6.50; 7.50] pH.") ||
			code(dv["title_code"]) != "stored.deviation.title" {
			t.Errorf("the deviation's title in English: %v", dv)
		}
		fr := p.ok(t, p.call(t, "qa", "GET", "/api/v1/batches/"+b1+"/record", nil, "Accept-Language", "fr"), http.StatusOK, "the record in French").object(t)
		if s := fr["steps"].([]any)[4].(map[string]any); s["value"] != "8,20 pH" || s["exception_text"] != "8,20 pH est hors des limites [6,50 ; 7,50] pH." ||
			code(s["value_code"]) != "stored.step.numeric" {
			t.Errorf("the exception's texts in French: %v", s)
		}
		if dv := fr["deviations"].([]any)[0].(map[string]any); !strings.HasSuffix(dv["title"].(string), ", étape 2.1 : 8,20 pH est hors des limites [6,50 ; 7,50] pH.") {
			t.Errorf("the deviation's title in French: %v", dv)
		}
		if s := fr["steps"].([]any)[3].(map[string]any); s["value"] != e.equipment.Code+" : propre, qualifié" || code(s["value_code"]) != "stored.step.equipment" {
			t.Errorf("the equipment checked, in French: %v", s)
		}

		// A critical step: performed by the operator, verified by another.
		st = p.ok(t, p.record(t, "operator", b1, steps[5], map[string]any{"confirm": true}), http.StatusOK, "critical step").object(t)
		if st["state"] != "recorded" {
			t.Errorf("critical step before its signatures: %v", st["state"])
		}
		p.record(t, "operator", b1, steps[6], map[string]any{"value": "S-1"}).wantError(t, http.StatusConflict, "conflict", "")
		stepID := steps[5]["id"].(string)
		p.ok(t, p.sign(t, "operator", "batch_step", stepID, "performed"), http.StatusCreated, "performed")
		before = p.prodSnapshot(t)
		p.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "batch_step", "entity_id": stepID, "meaning": "verified"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		p.prodUnchanged(t, before)
		if s := p.steps(t, b1)[5]; s["state"] != "recorded" {
			t.Errorf("critical step after its performer's signature alone: %v", s["state"])
		}
		p.ok(t, p.sign(t, "supervisor", "batch_step", stepID, "verified"), http.StatusCreated, "verified")
		if s := p.steps(t, b1)[5]; s["state"] != "done" || len(s["signatures"].([]any)) != 2 {
			t.Errorf("critical step verified: %v", s)
		}
		if st := p.ok(t, p.record(t, "operator", b1, steps[6], map[string]any{"value": "S-1"}), http.StatusOK, "sample").object(t); st["value"] != "S-1" || st["value_code"] != nil {
			t.Errorf("a sample's label is answered as typed, without a code: %v", st)
		}

		// A correction, with its reason, is marked in the review.
		p.call(t, "operator", "PUT", "/api/v1/batches/"+b1+"/steps/"+steps[4]["id"].(string), map[string]any{"value": "7.1"}).
			wantError(t, http.StatusBadRequest, "invalid", "reason")
		st = p.ok(t, p.call(t, "operator", "PUT", "/api/v1/batches/"+b1+"/steps/"+steps[4]["id"].(string), map[string]any{"value": "7.1", "reason": "Typing error"}),
			http.StatusOK, "correct").object(t)
		if st["corrections"] != float64(1) || st["value"] != "7.10 pH" || st["exception_text"] != nil || st["exception_code"] != nil {
			t.Errorf("corrected step: %v", st)
		}
		// A correction to a value out of limits needs the confirmation and
		// a comment, as a first entry does; refused, nothing changes.
		before = p.prodSnapshot(t)
		p.call(t, "operator", "PUT", "/api/v1/batches/"+b1+"/steps/"+steps[4]["id"].(string), map[string]any{"value": "8.0", "reason": "Second reading"}).
			wantError(t, http.StatusBadRequest, "invalid", "confirm_out_of_limits")
		p.call(t, "operator", "PUT", "/api/v1/batches/"+b1+"/steps/"+steps[4]["id"].(string), map[string]any{"value": "8.0", "reason": "Second reading",
			"confirm_out_of_limits": true}).wantError(t, http.StatusBadRequest, "invalid", "comment")
		p.prodUnchanged(t, before)
		p.call(t, "supervisor", "POST", "/api/v1/batches/"+b1+"/move", map[string]string{"action": "complete", "reason": "x"}).wantError(t, http.StatusConflict, "conflict", "")
		p.ok(t, p.record(t, "operator", b1, steps[7], map[string]any{"confirm": true}), http.StatusOK, "last step")
		p.move(t, "operator", "/api/v1/batches/"+b1, "complete", "completed")
		if eq := p.call(t, "admin", "GET", "/api/v1/equipment/"+e.equipment.ID, nil).object(t); eq["status"] != "dirty" {
			t.Errorf("the filler after the batch: %v", eq["status"])
		}
		p.move(t, "qa", "/api/v1/batches/"+b1, "review", "in_review")
		rv = p.ok(t, p.call(t, "qa", "GET", "/api/v1/batches/"+b1+"/review", nil), http.StatusOK, "review").object(t)
		if c := rv["corrected"].([]any); len(c) != 1 || c[0].(map[string]any)["id"] != steps[4]["id"] {
			t.Errorf("review corrections: %v", c)
		}
		if s := rv["signatures"].([]any); len(s) != 2 {
			t.Errorf("review signatures: %v", s)
		}

		// The second batch uses LOT-A too.
		p.move(t, "supervisor", "/api/v1/batches/"+b2, "release", "released")
		steps2 := p.steps(t, b2)
		p.ok(t, p.record(t, "operator", b2, steps2[0], clearance), http.StatusOK, "clearance of the second batch")
		p.ok(t, p.record(t, "operator", b2, steps2[1], map[string]any{"lot": "LOT-A", "quantity": "9,6"}), http.StatusOK, "LOT-A in the second batch")

		// The genealogy, both ways.
		type link struct {
			batch, lot string
			qty        float64
		}
		links := func(path string) []link {
			var out []link
			for _, it := range p.call(t, "supervisor", "GET", path, nil).items(t) {
				out = append(out, link{it["batch_id"].(string), it["lot_code"].(string), it["quantity"].(float64)})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].batch+out[i].lot < out[j].batch+out[j].lot })
			return out
		}
		sorted := func(l ...link) []link {
			sort.Slice(l, func(i, j int) bool { return l[i].batch+l[i].lot < l[j].batch+l[j].lot })
			return l
		}
		for path, want := range map[string][]link{
			"/api/v1/lots/" + p.lotA + "/genealogy": sorted(link{b1, "LOT-A", 10}, link{b2, "LOT-A", 9.6}),
			"/api/v1/lots/" + p.lotB + "/genealogy": {{b1, "LOT-B", 20.5}},
			"/api/v1/lots/" + p.lotQ + "/genealogy": nil,
			"/api/v1/batches/" + b1 + "/genealogy":  sorted(link{b1, "LOT-A", 10}, link{b1, "LOT-B", 20.5}),
			"/api/v1/batches/" + b2 + "/genealogy":  {{b2, "LOT-A", 9.6}},
		} {
			if got := links(path); !slices.Equal(got, want) {
				t.Errorf("GET %s: %v, want %v", path, got, want)
			}
		}
		if l := p.call(t, "qa", "GET", "/api/v1/lots/"+p.lotA, nil).object(t); l["quantity"] != float64(80.4) {
			t.Errorf("LOT-A after two additions: %v", l["quantity"])
		}

		// The client follows its batches, and sees no one's name.
		p.clientSeesNoNames(t, b1, stepID, e.line.ID)
		if items := p.call(t, "client-alpha", "GET", "/api/v1/batches?state=in_review", nil).items(t); len(items) != 1 || items[0]["id"] != b1 {
			t.Errorf("alpha's batches in review: %v", items)
		}
		// The list: several states at once, a page at a time.
		ids := func(items []map[string]any) []string {
			var out []string
			for _, it := range items {
				out = append(out, it["id"].(string))
			}
			return out
		}
		all := ids(p.call(t, "qa", "GET", "/api/v1/batches", nil).items(t))
		if len(all) < 2 {
			t.Fatalf("qa's batches: %v", all)
		}
		page1, page2 := ids(p.call(t, "qa", "GET", "/api/v1/batches?limit=1", nil).items(t)), ids(p.call(t, "qa", "GET", "/api/v1/batches?limit=1&offset=1", nil).items(t))
		if !slices.Equal(append(page1, page2...), all[:2]) {
			t.Errorf("the first two pages of one batch: %v and %v, want %v", page1, page2, all[:2])
		}
		if got := ids(p.call(t, "qa", "GET", "/api/v1/batches?limit=5&offset="+strconv.Itoa(len(all)), nil).items(t)); len(got) != 0 {
			t.Errorf("a page past the end: %v", got)
		}
		if got := ids(p.call(t, "qa", "GET", "/api/v1/batches?state=in_review,planned", nil).items(t)); !slices.Contains(got, b1) ||
			len(got) != len(ids(p.call(t, "qa", "GET", "/api/v1/batches?state=in_review", nil).items(t)))+len(ids(p.call(t, "qa", "GET", "/api/v1/batches?state=planned", nil).items(t))) {
			t.Errorf("batches in review or planned: %v", got)
		}
		for _, q := range []string{"state=shipped", "state=in_review,", "state=in_review,shipped", "limit=0", "limit=1001", "offset=-3"} {
			field := strings.SplitN(q, "=", 2)[0]
			p.call(t, "qa", "GET", "/api/v1/batches?"+q, nil).wantError(t, http.StatusBadRequest, "invalid", field)
			p.call(t, "qa", "GET", "/api/v1/batches/events?"+q, nil).wantError(t, http.StatusBadRequest, "invalid", field)
		}
		if items := p.call(t, "client-alpha", "GET", "/api/v1/batches/"+b1+"/genealogy", nil).items(t); len(items) != 2 {
			t.Errorf("alpha's genealogy of its batch: %v", items)
		}
		for _, path := range []string{"/api/v1/batches/" + b1, "/api/v1/batches/" + b1 + "/genealogy", "/api/v1/batches/" + b1 + "/record", "/api/v1/products/" + product} {
			p.call(t, "client-beta", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
		}
		if items := p.call(t, "client-beta", "GET", "/api/v1/batches", nil).items(t); len(items) != 0 {
			t.Errorf("beta sees batches %v", items)
		}
	})
}

// batchLot reads a batch's lot number.
func (p *prodEnv) batchLot(t *testing.T, id string) string {
	t.Helper()
	return p.call(t, "supervisor", "GET", "/api/v1/batches/"+id, nil).object(t)["lot"].(string)
}

func countSlots(sc map[string]any, lineID string) int {
	for _, l := range sc["lines"].([]any) {
		l := l.(map[string]any)
		if l["line"].(map[string]any)["id"] == lineID {
			return len(l["slots"].([]any))
		}
	}
	return -1
}

// race sends the same step n times at once as who, as n tablets would,
// and returns the statuses, sorted.
func (p *prodEnv) race(t *testing.T, who, batchID string, step, entry map[string]any, n int) []int {
	t.Helper()
	body := maps.Clone(entry)
	body["step_id"] = step["id"]
	tok := p.token(t, who)
	statuses := make([]int, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		req, err := http.NewRequest("POST", p.srv.URL+"/api/v1/batches/"+batchID+"/steps", strings.NewReader(mustJSON(t, body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		wg.Go(func() {
			<-start
			resp, err := p.srv.Client().Do(req)
			if err != nil {
				errc <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK && !strings.Contains(string(b), `"conflict"`) {
				errc <- errors.New(string(b))
			}
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("a tablet: %v", err)
	}
	slices.Sort(statuses)
	return statuses
}

// clientSeesNoNames reads, as the client alpha's user, every production
// answer about its batch, and finds no name of the staff and no account id
// in any of them.
func (p *prodEnv) clientSeesNoNames(t *testing.T, batchID, stepID, lineID string) {
	t.Helper()
	var secret []string
	secret = append(secret, staffNames...)
	for _, who := range []string{"operator", "supervisor", "qa"} {
		secret = append(secret, p.accounts[who].ID)
	}
	seen := 0
	for _, path := range []string{
		"/api/v1/batches", "/api/v1/batches/" + batchID, "/api/v1/batches/" + batchID + "/record", "/api/v1/batches/" + batchID + "/review",
		"/api/v1/batches/" + batchID + "/genealogy", "/api/v1/lines/" + lineID + "/floor", "/api/v1/orders", "/api/v1/products",
		"/api/v1/masters", "/api/v1/lots", "/api/v1/materials", "/api/v1/schedule", "/api/v1/capacity", "/api/v1/windows",
		"/api/v1/signatures?entity=batch_step&entity_id=" + stepID,
	} {
		r := p.call(t, "client-alpha", "GET", path, nil)
		if r.status == http.StatusOK {
			seen++
		}
		for _, s := range secret {
			if strings.Contains(string(r.body), s) {
				t.Errorf("GET %s shows the client's user %q", path, s)
			}
		}
	}
	for _, path := range []string{"/api/v1/batches/" + batchID + "/record", "/api/v1/batches/" + batchID + "/review"} {
		p.call(t, "client-alpha", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
	}
	if seen < 5 {
		t.Errorf("the client's user read only %d answers", seen)
	}
}

// eventStream is a client of a live stream (server-sent events).
type eventStream struct {
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

type sseEvent struct {
	name string
	data []byte
}

// openEvents connects to the live stream of batches of base as the holder
// of the token; it ends with the test.
func openEvents(t *testing.T, base, tok string) *eventStream {
	t.Helper()
	return openStream(t, base+"/api/v1/batches/events", tok)
}

// openStream connects to the live stream at url as the holder of the
// token; it ends with the test.
func openStream(t *testing.T, url, tok string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("events: status %d, %s: %s", resp.StatusCode, ct, b)
	}
	s := &eventStream{events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = append(ev.data, strings.TrimPrefix(line, "data: ")...)
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *eventStream) close() {
	s.cancel()
	<-s.done
}

// next waits for the next event "batches" and returns its items.
func (s *eventStream) next(t *testing.T, within time.Duration) ([]map[string]any, bool) {
	t.Helper()
	return s.nextOf(t, "batches", within)
}

// nextOf waits for the next event of the name and returns its items.
func (s *eventStream) nextOf(t *testing.T, name string, within time.Duration) ([]map[string]any, bool) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return nil, false
			}
			if ev.name != name {
				continue
			}
			var body struct {
				Items []map[string]any `json:"items"`
			}
			if err := json.Unmarshal(ev.data, &body); err != nil || body.Items == nil {
				t.Fatalf("event data %s: %v", ev.data, err)
			}
			return body.Items, true
		case <-timer.C:
			return nil, false
		}
	}
}

// TestBatchEventsAPI: the client alpha's user follows its batch live; the
// client beta's never sees it; a stream outlives the server's read timeout
// and does not hold up its graceful stop.
func TestBatchEventsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		p.effectiveMaster(t, product, "MBR-CEF")
		b := p.order(t, product, 1)[0]
		p.ok(t, p.schedule(t, b, e.line.ID, slot(time.Tuesday, 6)), http.StatusOK, "schedule")
		p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
		steps := p.steps(t, b)

		// A server of its own, with a short read timeout, that the test
		// stops gracefully.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: e.web.Handler(), ReadHeaderTimeout: time.Second, ReadTimeout: 300 * time.Millisecond}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		base := "http://" + ln.Addr().String()
		t.Cleanup(func() { _ = srv.Close() })

		alpha := openEvents(t, base, p.token(t, "client-alpha"))
		beta := openEvents(t, base, p.token(t, "client-beta"))
		staff := openEvents(t, e.srv.URL, p.token(t, "supervisor"))
		items, ok := alpha.next(t, 5*time.Second)
		if !ok || len(items) != 1 || items[0]["id"] != b || items[0]["steps_done"] != float64(0) || items[0]["steps_total"] != float64(8) ||
			items[0]["state"] != "released" || items[0]["line_code"] != e.line.Code {
			t.Fatalf("alpha's first event: %v %v", items, ok)
		}
		want := []string{"client_id", "end", "exceptions", "id", "line_code", "lot", "product", "start", "state", "steps_done", "steps_total"}
		if got := slices.Sorted(maps.Keys(items[0])); !slices.Equal(got, want) {
			t.Errorf("a batch in an event has %v, want %v", got, want)
		}
		if items, ok := beta.next(t, 5*time.Second); !ok || len(items) != 0 {
			t.Fatalf("beta's first event: %v %v", items, ok)
		}
		if items, ok := staff.next(t, 5*time.Second); !ok || len(items) != 1 {
			t.Fatalf("the supervisor's first event: %v %v", items, ok)
		}

		// Past the read timeout, a step recorded reaches the stream.
		time.Sleep(600 * time.Millisecond)
		p.ok(t, p.record(t, "operator", b, steps[0], map[string]any{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}), http.StatusOK, "line clearance")
		items, ok = alpha.next(t, 5*time.Second)
		if !ok || len(items) != 1 || items[0]["steps_done"] != float64(1) || items[0]["state"] != "in_progress" {
			t.Fatalf("alpha's event after the line clearance: %v %v", items, ok)
		}
		if items, ok := staff.next(t, 5*time.Second); !ok || items[0]["steps_done"] != float64(1) {
			t.Errorf("the supervisor's event after the line clearance: %v %v", items, ok)
		}
		p.ok(t, p.record(t, "operator", b, steps[1], map[string]any{"lot": "LOT-A", "quantity": "10"}), http.StatusOK, "material")
		if items, ok := alpha.next(t, 5*time.Second); !ok || items[0]["steps_done"] != float64(2) {
			t.Errorf("alpha's event after the second step: %v %v", items, ok)
		}
		// A refused write wakes the streams for nothing: no event.
		p.record(t, "operator", b, steps[5], map[string]any{"confirm": true}).wantError(t, http.StatusConflict, "conflict", "")
		if items, ok := alpha.next(t, 2500*time.Millisecond); ok {
			t.Errorf("an event without a change: %v", items)
		}

		// The graceful stop ends the streams and does not wait for them.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		began := time.Now()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("graceful stop with streams open: %v", err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("the graceful stop took %s", d)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		for name, s := range map[string]*eventStream{"alpha": alpha, "beta": beta} {
			select {
			case <-s.done:
			case <-time.After(2 * time.Second):
				t.Errorf("%s's stream still open after the stop", name)
			}
		}

		// Nothing of alpha reached beta.
		for ev := range beta.events {
			if bytes.Contains(ev.data, []byte(b)) || bytes.Contains(ev.data, []byte(e.alpha.ID)) {
				t.Errorf("beta's stream carries alpha's batch: %s", ev.data)
			}
			var body struct{ Items []any }
			if json.Unmarshal(ev.data, &body) == nil && len(body.Items) != 0 {
				t.Errorf("beta's stream: %s", ev.data)
			}
		}
	})
}

// TestBatchEventsRefused: a stream needs the production view, and answers
// its refusal in the error envelope, not as a stream.
func TestBatchEventsRefused(t *testing.T) {
	e := newEnv(t, store.SQLite)
	e.call(t, "", "GET", "/api/v1/batches/events", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

// TestOpenAPIProductionSchemas checks the production schemas against the
// JSON of the Go types, and their enums against the domain's lists.
func TestOpenAPIProductionSchemas(t *testing.T) {
	_, doc := openapiDoc(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	for name, want := range map[string][]string{
		"Product": jsonFields(reflect.TypeOf(production.Product{})), "Material": jsonFields(reflect.TypeOf(production.Material{})),
		"Lot": jsonFields(reflect.TypeOf(production.Lot{})), "Master": jsonFields(reflect.TypeOf(production.Master{})),
		"Operation": jsonFields(reflect.TypeOf(production.Operation{})), "Step": jsonFields(reflect.TypeOf(production.Step{})),
		"Order": jsonFields(reflect.TypeOf(production.Order{})), "Batch": jsonFields(reflect.TypeOf(production.Batch{})),
		"StepRecord": jsonFields(reflect.TypeOf(web.APIStep{})), "EntryFields": jsonFields(reflect.TypeOf(production.Entry{})),
		"Deviation": jsonFields(reflect.TypeOf(web.APIDeviation{})), "Consumption": jsonFields(reflect.TypeOf(production.Consumption{})),
		"CodedText": jsonFields(reflect.TypeOf(text.Coded{})), "CodedArg": jsonFields(reflect.TypeOf(text.Arg{})),
		"Record": jsonFields(reflect.TypeOf(production.Record{})), "Review": jsonFields(reflect.TypeOf(production.Review{})),
		"Floor": jsonFields(reflect.TypeOf(production.Floor{})), "Schedule": jsonFields(reflect.TypeOf(production.Schedule{})),
		"ScheduleLine": jsonFields(reflect.TypeOf(production.ScheduleLine{})), "Slot": jsonFields(reflect.TypeOf(production.Slot{})),
		"Window": jsonFields(reflect.TypeOf(production.Window{})), "Capacity": jsonFields(reflect.TypeOf(production.Capacity{})),
		"LineCapacity":    jsonFields(reflect.TypeOf(production.LineCapacity{})),
		"RecordSignature": jsonFields(reflect.TypeOf(esign.Signature{})),
		"BatchSummary":    {"client_id", "end", "exceptions", "id", "line_code", "lot", "product", "start", "state", "steps_done", "steps_total"},
	} {
		props := at(t, schemas, name, "properties").(map[string]any)
		if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the API encodes %v", name, got, want)
		}
	}
	for name, want := range map[string][]string{
		"SpecialClass": strs(production.SpecialClasses),
		"MaterialKind": strs(production.MaterialKinds),
		"LotStatus":    strs(production.LotStatuses),
		"MasterStatus": strs(production.MasterStatuses),
		"StepKind":     strs(production.StepKinds),
		"BatchState":   strs(production.BatchStates),
		"StepState":    {"pending", "recorded", "done"},
		"SchedulingRule": {production.RuleLineForm, production.RuleOverlap, production.RuleChangeover, production.RuleMaintenance,
			production.RuleCalendar, production.RulePast},
	} {
		var got []string
		for _, v := range at(t, schemas, name, "enum").([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("enum %s: %v, want %v", name, got, want)
		}
	}
}

// prodWorld is what exerciseProduction leaves for the reason check of the
// PUT routes: a product, a draft master, a batch in progress and its
// numeric step, recorded.
type prodWorld struct {
	product, draft, batch, numericStep string
	// reviewed is a batch in QA review, its exception justified once.
	reviewed, exception string
	p                   *prodEnv
}

// exerciseProduction runs every write command of production through the
// API, for the test that finds each command's audit entries. The
// supervisor records the steps; quality assurance verifies.
func exerciseProduction(t *testing.T, e *env) prodWorld {
	t.Helper()
	p := newProdEnv(t, e, "supervisor")
	w := prodWorld{p: p}
	w.product = p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
	pr := p.call(t, "supervisor", "GET", "/api/v1/products/"+w.product, nil).object(t)
	pr["storage"], pr["reason"] = "2–8 °C", "Stability data"
	p.ok(t, p.call(t, "supervisor", "PUT", "/api/v1/products/"+w.product, pr), http.StatusOK, "update product")
	master := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(w.product, "MBR-CEF"))
	m := p.call(t, "supervisor", "GET", "/api/v1/masters/"+master, nil).object(t)
	m["hours"], m["reason"] = 3, "Filling takes longer"
	p.ok(t, p.call(t, "supervisor", "PUT", "/api/v1/masters/"+master, m), http.StatusOK, "update master")
	p.submit(t, master)
	p.ok(t, p.sign(t, "qa", "master", master, "approved"), http.StatusCreated, "approve")
	p.move(t, "qa", "/api/v1/masters/"+master, "effective", "effective")
	w.draft = p.created(t, "supervisor", "/api/v1/masters", p.masterBody(w.product, "MBR-CEF"))
	p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/windows", map[string]any{"line_id": e.line.ID,
		"start": slot(time.Thursday, 6).Format(time.RFC3339), "end": slot(time.Thursday, 14).Format(time.RFC3339), "reason": "Overhaul"}),
		http.StatusCreated, "window")
	w.reviewed, w.exception = p.inReview(t, w.product, slot(time.Monday, 6))
	p.ok(t, p.call(t, "qa", "PUT", "/api/v1/batches/"+w.reviewed+"/justifications",
		map[string]any{"justifications": map[string]string{w.exception: "pH 8.2: buffer over-dosed, see the deviation."}}), http.StatusOK, "justify")
	w.batch = p.order(t, w.product, 1)[0]
	p.ok(t, p.schedule(t, w.batch, e.line.ID, slot(time.Tuesday, 6)), http.StatusOK, "schedule")
	p.move(t, "supervisor", "/api/v1/batches/"+w.batch, "release", "released")
	steps := p.steps(t, w.batch)
	for i, entry := range []map[string]any{{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, {"lot": "LOT-A", "quantity": "10"}, {"lot": "LOT-B", "quantity": "20"},
		{"equipment": e.equipment.Code}, {"value": "7.42"}} {
		p.ok(t, p.record(t, "supervisor", w.batch, steps[i], entry), http.StatusOK, "step")
	}
	w.numericStep = steps[4]["id"].(string)
	p.ok(t, p.call(t, "supervisor", "PUT", "/api/v1/batches/"+w.batch+"/steps/"+w.numericStep, map[string]any{"value": "7.40", "reason": "Typing error"}),
		http.StatusOK, "correct")
	// A lot released by QA's signature, then blocked back to quarantine
	// (lot.status), unsigned, with its reason.
	blocked := p.created(t, "supervisor", "/api/v1/lots", map[string]any{"material_id": p.api, "code": "LOT-BLOCK", "quantity": 5, "expires_on": "2030-01-01T00:00:00Z"})
	p.releaseLots(t, blocked)
	p.ok(t, p.call(t, "qa", "POST", "/api/v1/lots/"+blocked+"/status", map[string]any{"status": "quarantine", "reason": "Supplier recall"}), http.StatusOK, "block a lot")
	return w
}

// TestLotStatusSigned: the API releases or rejects no lot without quality's
// signature: asked unsigned, it says to sign and changes nothing; the
// approval signed through the API releases the lot, its rejection rejects
// it; unsigned, a lot only goes back to quarantine, with its reason.
func TestLotStatusSigned(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		before := p.prodSnapshot(t)
		for _, st := range []string{"released", "rejected"} {
			msg := p.call(t, "qa", "POST", "/api/v1/lots/"+p.lotQ+"/status", map[string]any{"status": st, "reason": "Certificate of analysis conforms"}).
				wantError(t, http.StatusBadRequest, "invalid", "status")
			if !strings.Contains(msg.Message, "signature") {
				t.Errorf("%s unsigned: %q should say to sign", st, msg.Message)
			}
		}
		p.prodUnchanged(t, before)
		if l := p.ok(t, p.call(t, "qa", "GET", "/api/v1/lots/"+p.lotQ, nil), http.StatusOK, "lot").object(t); l["status"] != "quarantine" {
			t.Fatalf("a refused release changed the lot: %v", l)
		}

		// The approval, signed through the API, releases the lot.
		body := signBody("qa", "lot", p.lotQ, "approved", p.challenge(t, "qa", "lot", p.lotQ, "approved"))
		body["reason"] = "Certificate of analysis conforms"
		p.ok(t, p.call(t, "qa", "POST", "/api/v1/signatures", body), http.StatusCreated, "approve the lot")
		if l := p.ok(t, p.call(t, "qa", "GET", "/api/v1/lots/"+p.lotQ, nil), http.StatusOK, "lot").object(t); l["status"] != "released" {
			t.Fatalf("the signed approval did not release the lot: %v", l)
		}
		// Back to quarantine, unsigned, with its reason; then rejected
		// by a signature.
		l := p.ok(t, p.call(t, "qa", "POST", "/api/v1/lots/"+p.lotQ+"/status", map[string]any{"status": "quarantine", "reason": "Supplier complaint"}),
			http.StatusOK, "quarantine").object(t)
		if l["status"] != "quarantine" {
			t.Fatalf("lot after quarantine: %v", l)
		}
		body = signBody("qa", "lot", p.lotQ, "rejected", p.challenge(t, "qa", "lot", p.lotQ, "rejected"))
		body["reason"] = "Supplier complaint confirmed"
		p.ok(t, p.call(t, "qa", "POST", "/api/v1/signatures", body), http.StatusCreated, "reject the lot")
		if l := p.ok(t, p.call(t, "qa", "GET", "/api/v1/lots/"+p.lotQ, nil), http.StatusOK, "lot").object(t); l["status"] != "rejected" {
			t.Fatalf("the signed rejection did not reject the lot: %v", l)
		}
	})
}

// qualificationBody is a master's training of a person to record, valid a
// year from yesterday.
func qualificationBody(personID, master string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{"person_id": personID, "kind": "master_training", "subject": master, "version": 1,
		"granted_at": now.AddDate(0, 0, -1), "valid_until": now.AddDate(1, 0, 0), "evidence": "Training session of the test"}
}
