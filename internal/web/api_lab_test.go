package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/store"
)

// labEnv is prodEnv with the laboratory wired as app wires it and two
// analysts, lab and lab2, assigned to alpha; a product of alpha with its
// effective master and an approved specification; a batch of it and a
// finished-product sample taken by hand and received.
type labEnv struct {
	*prodEnv
	product, spec, batch, sample string
}

func newLabEnv(t *testing.T, e *env) *labEnv {
	t.Helper()
	l := &labEnv{prodEnv: newProdEnv(t, e, "operator")}
	labPeople(t, l.prodEnv)
	l.product = l.created(t, "supervisor", "/api/v1/products", l.productBody("CEF-LAB"))
	l.effectiveMaster(t, l.product, "MBR-LAB")
	l.spec = l.approvedSpec(t, l.product, "SPEC-CEF")
	l.batch = l.order(t, l.product, 1)[0]
	l.sample = l.receivedSample(t, l.batch, "ECH-API-1")
	return l
}

// approvedSpec writes a specification of the product as lab, submits it
// and has QA approve it by signature.
func (p *prodEnv) approvedSpec(t *testing.T, product, code string) string {
	t.Helper()
	body := specBody(product)
	body["code"] = code
	id := p.created(t, "lab", "/api/v1/specs", body)
	p.move(t, "lab", "/api/v1/specs/"+id, "submit", "in_review")
	p.ok(t, p.sign(t, "qa", "spec", id, "approved"), http.StatusCreated, "approve the specification")
	return id
}

// receivedSample takes a finished-product sample of the batch by hand, as
// lab, and receives it.
func (p *prodEnv) receivedSample(t *testing.T, batch, code string) string {
	t.Helper()
	id := p.created(t, "lab", "/api/v1/samples", map[string]any{"code": code, "kind": "finished", "batch_id": batch})
	got := p.ok(t, p.call(t, "lab", "POST", "/api/v1/samples/"+id+"/receive", map[string]any{"quantity": 10, "unit": "vials", "condition": "intact"}),
		http.StatusOK, "receive").object(t)
	if got["state"] != "received" {
		t.Fatalf("received: %v", got)
	}
	return id
}

// labPeople wires the laboratory as app does and adds the analysts lab
// and lab2, assigned to alpha.
func labPeople(t *testing.T, p *prodEnv) {
	t.Helper()
	e := p.env
	wireLab(e.db)
	sys := identity.WithActor(context.Background(), identity.System)
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []identity.Account{
		{Username: "lab", Name: "Léa Analyste", Roles: []identity.Role{identity.RoleLab}},
		{Username: "lab2", Name: "Wang Fang", Roles: []identity.Role{identity.RoleLab}},
	} {
		// Seeded as galenix seeds its accounts: a password an
		// administrator set would have to be changed first.
		if err := e.db.WriteHistory(sys, "test.seed", func(_ context.Context, h *store.History) error { return h.CreateAccount(&a, hash) }); err != nil {
			t.Fatalf("account %s: %v", a.Username, err)
		}
		e.accounts[a.Username] = a
		as := identity.Assignment{AccountID: a.ID, ClientID: e.alpha.ID}
		if err := e.db.Identity().Admin().Assign(sys, &as, ""); err != nil {
			t.Fatalf("assign %s: %v", a.Username, err)
		}
	}
	// Both qualified on the methods of specBody's tests.
	p.trainPeople(t, []string{"lab", "lab2"}, qualification.ForMethod("HPLC M-1"), qualification.ForMethod("Visual"))
}

// specBody is a specification of the product: an assay and the
// appearance, of the finished product.
func specBody(productID string) map[string]any {
	return map[string]any{"product_id": productID, "code": "SPEC-CEF", "title": "Ceftriaxone 1 g", "tests": []any{
		map[string]any{"code": "ASSAY", "name": "Assay", "method": "HPLC M-1", "kind": "numeric", "unit": "%", "decimals": 1,
			"min": map[string]any{"op": ">=", "value": 95}, "max": map[string]any{"op": "<=", "value": 105}, "stages": []string{"finished"}},
		map[string]any{"code": "APP", "name": "Appearance", "method": "Visual", "kind": "text", "expected": "White powder", "stages": []string{"finished"}},
	}}
}

func TestLabSpecsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		l := newLabEnv(t, e)
		got := l.ok(t, l.call(t, "client-alpha", "GET", "/api/v1/specs/"+l.spec, nil), http.StatusOK, "alpha reads its specification").object(t)
		if got["status"] != "effective" || got["version"] != float64(1) {
			t.Errorf("specification: %v", got)
		}
		l.ok(t, l.call(t, "client-beta", "GET", "/api/v1/specs/"+l.spec, nil), http.StatusNotFound, "beta reads alpha's specification")
		if items := l.ok(t, l.call(t, "lab", "GET", "/api/v1/products/"+l.product+"/specs", nil), http.StatusOK, "by product").items(t); len(items) != 1 {
			t.Errorf("the product's specifications: %v", items)
		}
		l.ok(t, l.call(t, "client-beta", "GET", "/api/v1/products/"+l.product+"/specs", nil), http.StatusNotFound, "beta lists alpha's product's")
		// Bad input and refusals.
		bad := specBody(l.product)
		bad["tests"] = []any{}
		if r := l.call(t, "lab", "POST", "/api/v1/specs", bad); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"tests"`) {
			t.Errorf("no tests: %d %s", r.status, r.body)
		}
		l.ok(t, l.call(t, "operator", "POST", "/api/v1/specs", specBody(l.product)), http.StatusForbidden, "an operator writes a specification")
		l.ok(t, l.call(t, "lab", "POST", "/api/v1/specs/"+l.spec+"/move", map[string]string{"action": "retire", "reason": "old"}), http.StatusForbidden, "the laboratory retires")
		// A new version: a draft, changed at its revision only.
		v2 := l.created(t, "lab", "/api/v1/specs", specBody(l.product))
		body := specBody(l.product)
		body["title"], body["reason"] = "Ceftriaxone 1 g, v2", "Title"
		l.ok(t, l.call(t, "lab", "PUT", "/api/v1/specs/"+v2, body, "If-Match", `"7"`), http.StatusPreconditionFailed, "a stale revision")
		r := l.ok(t, l.call(t, "lab", "PUT", "/api/v1/specs/"+v2, body, "If-Match", `"1"`), http.StatusOK, "the draft changed")
		if r.header.Get("ETag") != `"2"` {
			t.Errorf("ETag %q", r.header.Get("ETag"))
		}
	})
}

func TestLabResultsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		l := newLabEnv(t, e)
		if w := l.ok(t, l.call(t, "lab2", "GET", "/api/v1/worklist", nil), http.StatusOK, "worklist").items(t); len(w) != 2 {
			t.Fatalf("worklist: %v", w)
		}
		l.ok(t, l.call(t, "client-alpha", "GET", "/api/v1/worklist", nil), http.StatusForbidden, "a client's worklist")
		path := "/api/v1/samples/" + l.sample + "/results"
		if r := l.call(t, "lab", "POST", path, map[string]any{"test": "ASSAY", "value": "beaucoup"}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"value"`) {
			t.Errorf("a malformed value: %d %s", r.status, r.body)
		}
		l.ok(t, l.call(t, "lab", "POST", path, map[string]any{"test": "ASSAY", "value": "99", "extra": 1}), http.StatusBadRequest, "an unknown field")
		l.ok(t, l.call(t, "operator", "POST", path, map[string]any{"test": "ASSAY", "value": "99"}), http.StatusForbidden, "an operator enters a result")
		// The OOS, entered once whatever the retries of its key.
		first := l.call(t, "lab", "POST", path, map[string]any{"test": "ASSAY", "value": "93,2"}, "Idempotency-Key", "oos-1")
		again := l.call(t, "lab", "POST", path, map[string]any{"test": "ASSAY", "value": "93,2"}, "Idempotency-Key", "oos-1")
		l.ok(t, first, http.StatusCreated, "the OOS")
		if again.status != http.StatusCreated || !bytes.Equal(first.body, again.body) {
			t.Fatalf("the retry: %d %s", again.status, again.body)
		}
		out := first.object(t)
		res := out["result"].(map[string]any)
		inv := out["opened"].(map[string]any)
		if res["verdict"] != "out_of_spec" || !strings.HasPrefix(inv["code"].(string), "OOS-") {
			t.Fatalf("the OOS: %v", out)
		}
		rid, iid := res["id"].(string), inv["id"].(string)
		// Reviewed by the analyst who entered it: refused.
		l.ok(t, l.call(t, "lab", "POST", "/api/v1/results/"+rid+"/review", nil), http.StatusForbidden, "the analyst reviews their own")
		l.ok(t, l.call(t, "lab2", "POST", "/api/v1/results/"+rid+"/review", nil), http.StatusOK, "the second analyst reviews")
		l.ok(t, l.call(t, "lab2", "POST", "/api/v1/results/"+rid+"/review", nil), http.StatusConflict, "reviewed twice")
		// The investigation: a hypothesis, then one retest, by another
		// analyst only.
		op := "/api/v1/oos/" + iid
		l.ok(t, l.call(t, "lab", "POST", op+"/retests", map[string]any{"retests": 1}), http.StatusConflict, "retests before the hypothesis")
		l.ok(t, l.call(t, "lab", "POST", op+"/hypothesis", map[string]any{"hypothesis": "Dilution error: 50 mL flask used."}, "If-Match", `"1"`), http.StatusOK, "hypothesis")
		l.ok(t, l.call(t, "lab", "POST", op+"/retests", map[string]any{"retests": 1}, "If-Match", `"1"`), http.StatusPreconditionFailed, "a stale investigation")
		l.ok(t, l.call(t, "lab", "POST", op+"/retests", map[string]any{"retests": 1}), http.StatusOK, "retests planned")
		l.ok(t, l.call(t, "lab", "POST", path, map[string]any{"test": "ASSAY", "value": "99.2"}), http.StatusForbidden, "a retest by the same analyst")
		rt := l.ok(t, l.call(t, "lab2", "POST", path, map[string]any{"test": "ASSAY", "value": "99.2"}), http.StatusCreated, "the retest").object(t)
		l.ok(t, l.call(t, "lab", "POST", "/api/v1/results/"+rt["result"].(map[string]any)["id"].(string)+"/review", nil), http.StatusOK, "the retest reviewed")
		l.ok(t, l.call(t, "lab", "POST", op+"/phase1", map[string]any{"cause": "x"}), http.StatusBadRequest, "phase I without its answer")
		l.ok(t, l.call(t, "lab", "POST", op+"/phase1", map[string]any{"lab_error": true, "cause": "Flask of 50 mL found on the bench, ticket attached."}), http.StatusOK, "phase I")
		// QA closes it by its signature.
		l.ok(t, l.sign(t, "qa", "oos_investigation", iid, "approved"), http.StatusCreated, "QA closes")
		closed := l.ok(t, l.call(t, "lab", "GET", op, nil), http.StatusOK, "the investigation").object(t)
		if closed["state"] != "closed" || closed["outcome"] != "invalidated" {
			t.Fatalf("closed: %v", closed)
		}
		// The client sees its results, never an analyst's name; another
		// client sees nothing of them.
		r := l.ok(t, l.call(t, "client-alpha", "GET", "/api/v1/results?batch_id="+l.batch, nil), http.StatusOK, "alpha's results")
		if len(r.items(t)) != 2 || strings.Contains(string(r.body), "Léa") || strings.Contains(string(r.body), "Wang") {
			t.Errorf("alpha's results: %s", r.body)
		}
		l.ok(t, l.call(t, "client-beta", "GET", "/api/v1/results/"+rid, nil), http.StatusNotFound, "beta reads alpha's result")
		l.ok(t, l.call(t, "client-beta", "GET", op, nil), http.StatusNotFound, "beta reads alpha's investigation")
		if items := l.ok(t, l.call(t, "client-beta", "GET", "/api/v1/oos", nil), http.StatusOK, "beta's investigations").items(t); len(items) != 0 {
			t.Errorf("beta sees %v", items)
		}
	})
}

func TestLabImportAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		l := newLabEnv(t, e)
		// A malformed line, then a line of an unknown sample: each named,
		// nothing written.
		for _, c := range []struct{ csv, want string }{
			{"sample;test;value\nECH-API-1;ASSAY;99,8\nECH-API-1;APP;\n", "Ligne 3 : échantillon, test ou valeur manquant"},
			{"sample;test;value\nECH-API-1;ASSAY;99,8\nNOPE;ASSAY;99\n", "Ligne 3 : aucun échantillon n'a le code NOPE"},
		} {
			r := l.call(t, "lab", "POST", "/api/v1/results/import?instrument=hplc-01.csv", c.csv, "Content-Type", "text/csv", "Accept-Language", "fr")
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
				t.Fatalf("a bad import: %d %s", r.status, r.body)
			}
		}
		if items := l.call(t, "lab", "GET", "/api/v1/results?sample_id="+l.sample, nil).items(t); len(items) != 0 {
			t.Fatalf("half an import: %v", items)
		}
		l.ok(t, l.call(t, "lab", "POST", "/api/v1/results/import", "x", "Content-Type", "application/pdf"), http.StatusBadRequest, "not a CSV")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", "hplc-02.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte("sample,test,value\nECH-API-1,ASSAY,99.8\nECH-API-1,APP,White powder\n"))
		mw.Close()
		got, _ := l.ok(t, l.call(t, "lab", "POST", "/api/v1/results/import", buf.Bytes(), "Content-Type", mw.FormDataContentType()), http.StatusCreated, "an import").object(t)["items"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["result"].(map[string]any)["instrument"] != "hplc-02.csv" {
			t.Fatalf("import: %v", got)
		}
	})
}

// labIdemCases are the laboratory's cases of TestIdempotencyEveryWriteRoute
// (idemCases): each prepares what its write needs and returns a request
// the write accepts.
func labIdemCases(t *testing.T, p *prodEnv, product string) map[string]func(t *testing.T) idemRequest {
	labPeople(t, p)
	p.approvedSpec(t, product, "SPEC-IDEM")
	n := 0
	code := func(prefix string) string { n++; return prefix + strconv.Itoa(n) }
	sample := func(t *testing.T) string { return p.receivedSample(t, p.order(t, product, 1)[0], code("ECH-IDEM-")) }
	// oos enters an OOS on a new sample and returns its investigation's
	// path; with hypothesis, its hypothesis is stated.
	oos := func(t *testing.T, hypothesis bool) string {
		t.Helper()
		out := p.ok(t, p.call(t, "lab", "POST", "/api/v1/samples/"+sample(t)+"/results", map[string]any{"test": "ASSAY", "value": "90"}), http.StatusCreated, "OOS").object(t)
		path := "/api/v1/oos/" + out["opened"].(map[string]any)["id"].(string)
		if hypothesis {
			p.ok(t, p.call(t, "lab", "POST", path+"/hypothesis", map[string]any{"hypothesis": "Dilution error suspected."}), http.StatusOK, "hypothesis")
		}
		return path
	}
	return map[string]func(t *testing.T) idemRequest{
		"createSpec": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: "/api/v1/specs", body: specBody(product)}
		},
		"updateSpec": func(t *testing.T) idemRequest {
			path := "/api/v1/specs/" + p.created(t, "lab", "/api/v1/specs", specBody(product))
			rec := p.ok(t, p.call(t, "lab", "GET", path, nil), http.StatusOK, "GET "+path).object(t)
			rec["title"], rec["reason"] = "Renamed", "Idempotency test"
			return idemRequest{who: "lab", path: path, body: rec}
		},
		"moveSpec": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: "/api/v1/specs/" + p.created(t, "lab", "/api/v1/specs", specBody(product)) + "/move", body: map[string]string{"action": "submit"}}
		},
		"takeSample": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: "/api/v1/samples", body: map[string]any{"code": code("ECH-T-"), "kind": "finished", "batch_id": p.order(t, product, 1)[0]}}
		},
		"receiveSample": func(t *testing.T) idemRequest {
			id := p.created(t, "lab", "/api/v1/samples", map[string]any{"code": code("ECH-R-"), "kind": "finished", "batch_id": p.order(t, product, 1)[0]})
			return idemRequest{who: "lab", path: "/api/v1/samples/" + id + "/receive", body: map[string]any{"quantity": 3, "unit": "vials", "condition": "intact"}}
		},
		"enterResult": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: "/api/v1/samples/" + sample(t) + "/results", body: map[string]any{"test": "ASSAY", "value": "99,5"}}
		},
		"reviewResult": func(t *testing.T) idemRequest {
			out := p.ok(t, p.call(t, "lab", "POST", "/api/v1/samples/"+sample(t)+"/results", map[string]any{"test": "ASSAY", "value": "99"}), http.StatusCreated, "result").object(t)
			return idemRequest{who: "lab2", path: "/api/v1/results/" + out["result"].(map[string]any)["id"].(string) + "/review"}
		},
		"importResults": func(t *testing.T) idemRequest {
			sm := p.ok(t, p.call(t, "lab", "GET", "/api/v1/samples/"+sample(t), nil), http.StatusOK, "sample").object(t)
			return idemRequest{who: "lab", path: "/api/v1/results/import", contentType: "text/csv", body: "sample;test;value\n" + sm["code"].(string) + ";ASSAY;99,8\n"}
		},
		"stateHypothesis": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: oos(t, false) + "/hypothesis", body: map[string]any{"hypothesis": "Dilution error suspected."}}
		},
		"planRetests": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: oos(t, true) + "/retests", body: map[string]any{"retests": 2}}
		},
		"concludePhase1": func(t *testing.T) idemRequest {
			return idemRequest{who: "lab", path: oos(t, true) + "/phase1", body: map[string]any{"lab_error": false, "cause": "Calibration and dilutions checked."}}
		},
		"recordFindings": func(t *testing.T) idemRequest {
			path := oos(t, true)
			p.ok(t, p.call(t, "lab", "POST", path+"/phase1", map[string]any{"lab_error": false, "cause": "No laboratory error."}), http.StatusOK, "phase I")
			return idemRequest{who: "qa", path: path + "/findings", body: map[string]any{"findings": "Granulation over-wetted at operation 3."}}
		},
	}
}

// exerciseLab runs every write command of the laboratory through the API,
// for the test that finds each command's audit entries
// (TestEveryWriteCommandIsAudited); it returns a draft specification, for
// the check of PUT without a reason.
func exerciseLab(t *testing.T, w prodWorld) (draft string) {
	t.Helper()
	p := w.p
	labPeople(t, p)
	p.approvedSpec(t, w.product, "SPEC-CMD")
	draft = p.created(t, "lab", "/api/v1/specs", specBody(w.product))
	sp := p.ok(t, p.call(t, "lab", "GET", "/api/v1/specs/"+draft, nil), http.StatusOK, "spec").object(t)
	sp["title"], sp["reason"] = "Ceftriaxone 1 g, revised", "Title of the marketing authorisation"
	p.ok(t, p.call(t, "lab", "PUT", "/api/v1/specs/"+draft, sp), http.StatusOK, "update spec")
	moved := p.created(t, "lab", "/api/v1/specs", specBody(w.product))
	p.move(t, "lab", "/api/v1/specs/"+moved, "submit", "in_review")
	sample := p.receivedSample(t, w.batch, "ECH-CMD-1")
	out := p.ok(t, p.call(t, "lab", "POST", "/api/v1/samples/"+sample+"/results", map[string]any{"test": "ASSAY", "value": "90"}), http.StatusCreated, "OOS").object(t)
	p.ok(t, p.call(t, "lab2", "POST", "/api/v1/results/"+out["result"].(map[string]any)["id"].(string)+"/review", nil), http.StatusOK, "review")
	p.ok(t, p.call(t, "lab", "POST", "/api/v1/results/import", "sample,test,value\nECH-CMD-1,APP,White powder\n", "Content-Type", "text/csv"),
		http.StatusCreated, "import")
	oos := "/api/v1/oos/" + out["opened"].(map[string]any)["id"].(string)
	p.ok(t, p.call(t, "lab", "POST", oos+"/hypothesis", map[string]any{"hypothesis": "Dilution error suspected."}), http.StatusOK, "hypothesis")
	p.ok(t, p.call(t, "lab", "POST", oos+"/retests", map[string]any{"retests": 1}), http.StatusOK, "retests")
	p.ok(t, p.call(t, "lab", "POST", oos+"/phase1", map[string]any{"lab_error": false, "cause": "Dilutions and calibration in order."}), http.StatusOK, "phase I")
	p.ok(t, p.call(t, "qa", "POST", oos+"/findings", map[string]any{"findings": "Granulation over-wetted at operation 3."}), http.StatusOK, "findings")
	return draft
}

// wireLab subscribes the laboratory's reaction to a sampling step done as app does
// (app/quality.go).
func wireLab(db *store.DB) {
	db.On(store.StepDone, store.EntityBatchStep, db.Lab().SampleTaken)
}

// seedLab gives each client of the demo, as the isolation test's oracle
// (QA and laboratory, assigned to every client) sees it, a specification
// approved for one of its products, a sample of one of its batches,
// received, and a result out of specification, entered by the analyst
// (a token), with its investigation: the
// laboratory's by-id routes then have every client's items to refuse.
func seedLab(t *testing.T, srv *httptest.Server, token, analyst, password string) {
	t.Helper()
	callAs := func(token, method, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("seeding the laboratory: %s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		return out
	}
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		return callAs(token, method, path, body)
	}
	first := map[string]map[string]any{} // by client: a product, then a batch
	for _, it := range call("GET", "/api/v1/products", nil)["items"].([]any) {
		p := it.(map[string]any)
		if first[p["client_id"].(string)] == nil {
			first[p["client_id"].(string)] = map[string]any{"product": p["id"]}
		}
	}
	for _, it := range call("GET", "/api/v1/batches", nil)["items"].([]any) {
		b := it.(map[string]any)
		if c := first[b["client_id"].(string)]; c != nil && c["batch"] == nil && b["product_id"] == c["product"] {
			c["batch"] = b["id"]
		}
	}
	n := 0
	for _, c := range first {
		if c["batch"] == nil {
			continue
		}
		n++
		body := specBody(c["product"].(string))
		body["code"] = "SPEC-ISO-" + strconv.Itoa(n)
		spec := call("POST", "/api/v1/specs", body)["id"].(string)
		call("POST", "/api/v1/specs/"+spec+"/move", map[string]string{"action": "submit"})
		ch := call("POST", "/api/v1/signatures/challenge", map[string]string{"entity": "spec", "entity_id": spec, "meaning": "approved"})["challenge"].(string)
		call("POST", "/api/v1/signatures", map[string]string{"entity": "spec", "entity_id": spec, "meaning": "approved", "username": "oracle", "password": password, "challenge": ch})
		sample := call("POST", "/api/v1/samples", map[string]any{"code": "ECH-ISO-" + strconv.Itoa(n), "kind": "finished", "batch_id": c["batch"]})["id"].(string)
		call("POST", "/api/v1/samples/"+sample+"/receive", map[string]any{"quantity": 5, "unit": "units", "condition": "intact"})
		// Entered by an analyst qualified on the demo's methods.
		callAs(analyst, "POST", "/api/v1/samples/"+sample+"/results", map[string]any{"test": "ASSAY", "value": "1"})
	}
	if n < 2 {
		t.Fatalf("the laboratory seeded %d clients, want at least 2", n)
	}
}
