package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"galenix/internal/store"
)

// TestMaterialEditAndMasterReorder: a material is changed through the API
// and its page at the version read, with a reason, audited before and
// after; bad input, a stale version, the operator and a client's user are
// refused and change nothing. A draft's operations are reordered in the
// editor and saved through the production service, audited; a version in
// review is refused.
func TestMaterialEditAndMasterReorder(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p := newProdEnv(t, e, "operator")

	t.Run("material through the API", func(t *testing.T) {
		path := "/api/v1/materials/" + p.wfi
		m := p.ok(t, p.call(t, "supervisor", "GET", path, nil), http.StatusOK, "material").object(t)
		if m["version"] != float64(1) {
			t.Fatalf("a new material: %v", m)
		}
		body := func(kv ...any) map[string]any {
			b := map[string]any{"code": "M-WFI", "name": "Water for injections, Ph. Eur.", "kind": "raw", "unit": "L", "reason": "Bulk water in litres"}
			for i := 0; i+1 < len(kv); i += 2 {
				b[kv[i].(string)] = kv[i+1]
			}
			return b
		}
		before := p.prodSnapshot(t)
		p.call(t, "supervisor", "PUT", path, body("reason", "")).wantError(t, http.StatusBadRequest, "invalid", "reason")
		p.call(t, "supervisor", "PUT", path, body("kind", "gas")).wantError(t, http.StatusBadRequest, "invalid", "kind")
		p.call(t, "supervisor", "PUT", path, body("unit", "")).wantError(t, http.StatusBadRequest, "invalid", "unit")
		p.call(t, "supervisor", "PUT", path, body("code", "M-API")).wantError(t, http.StatusConflict, "conflict", "code")
		p.call(t, "supervisor", "PUT", path, body("version", 7)).wantError(t, http.StatusPreconditionFailed, "stale", "")
		p.call(t, "supervisor", "PUT", path, body(), "If-Match", `"7"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
		p.call(t, "operator", "PUT", path, body()).wantError(t, http.StatusForbidden, "forbidden", "")
		p.call(t, "client-alpha", "PUT", path, body()).wantError(t, http.StatusForbidden, "forbidden", "")
		p.call(t, "supervisor", "PUT", "/api/v1/materials/"+newUUID(t), body()).wantError(t, http.StatusNotFound, "not_found", "")
		p.prodUnchanged(t, before)

		got := p.ok(t, p.call(t, "supervisor", "PUT", path, body(), "If-Match", `"1"`), http.StatusOK, "update").object(t)
		if got["version"] != float64(2) || got["unit"] != "L" || got["name"] != "Water for injections, Ph. Eur." {
			t.Errorf("updated: %v", got)
		}
		changed := map[string]string{}
		for _, en := range p.auditOf(t, "material", p.wfi) {
			if en.Command == "material.update" && en.Reason == "Bulk water in litres" {
				changed[en.Field] = en.Old + "→" + en.New
			}
		}
		if changed["unit"] != "mL→L" || changed["name"] != "Water for injections→Water for injections, Ph. Eur." || len(changed) != 2 {
			t.Errorf("audited changes: %v", changed)
		}
		// The version read before is stale now.
		before = p.prodSnapshot(t)
		p.call(t, "supervisor", "PUT", path, body("name", "Other"), "If-Match", `"1"`).wantError(t, http.StatusPreconditionFailed, "stale", "")
		p.prodUnchanged(t, before)
	})

	t.Run("material through its page", func(t *testing.T) {
		sup := p.browserWith(t, "supervisor", testPassword, "")
		sup.get("/materials").has(t, http.StatusOK, `href="/materials/`+p.api+`/edit"`)
		edit := sup.get("/materials/" + p.api + "/edit")
		edit.has(t, http.StatusOK, "Modifier la matière", `name="version" value="1"`, "Raison de la modification", `value="Active substance"`)
		good := url.Values{"code": {"M-API"}, "name": {"Principe actif"}, "kind": {"raw"}, "unit": {"g"}, "version": {"1"}, "reason": {"Nom en français"}}
		with := func(k, v string) url.Values {
			c := url.Values{}
			for key, vs := range good {
				c[key] = append([]string(nil), vs...)
			}
			c.Set(k, v)
			return c
		}
		before := p.prodSnapshot(t)
		sup.post("/materials/"+p.api, with("reason", "")).has(t, http.StatusBadRequest, `id="e-reason"`)
		sup.post("/materials/"+p.api, with("kind", "gas")).has(t, http.StatusBadRequest, `id="e-kind"`)
		op := p.browserWith(t, "operator", testPassword, "")
		op.get("/materials").lacks(t, "/edit")
		op.get("/materials/"+p.api+"/edit").has(t, http.StatusForbidden)
		op.post("/materials/"+p.api, good).has(t, http.StatusForbidden)
		client := p.browserWith(t, "client-alpha", testPassword, "")
		client.get("/materials/"+p.api+"/edit").has(t, http.StatusNotFound)
		client.post("/materials/"+p.api, good).has(t, http.StatusForbidden)
		p.prodUnchanged(t, before)

		sup.follow(t, sup.post("/materials/"+p.api, good)).has(t, http.StatusOK, "Principe actif")
		if m := p.call(t, "supervisor", "GET", "/api/v1/materials/"+p.api, nil).object(t); m["name"] != "Principe actif" || m["version"] != float64(2) {
			t.Errorf("after the page's change: %v", m)
		}
		// The same form again is stale: the material as it is now.
		before = p.prodSnapshot(t)
		sup.post("/materials/"+p.api, with("name", "Autre")).has(t, http.StatusPreconditionFailed, `name="version" value="2"`, `value="Principe actif"`)
		p.prodUnchanged(t, before)
	})

	t.Run("operations reordered in a draft", func(t *testing.T) {
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-REORD"))
		body := p.masterBody(product, "MBR-REORD")
		body["operations"] = append(body["operations"].([]any), map[string]any{"title": "Labelling", "steps": []any{
			map[string]any{"kind": "instruction", "text": "Label the vials"}}})
		id := p.created(t, "supervisor", "/api/v1/masters", body)
		page := "/masters/" + id
		sup := p.browserWith(t, "supervisor", testPassword, "")
		edit := sup.get(page + "/edit")
		edit.has(t, http.StatusOK, `name="move" value="opdown:1"`, `name="move" value="opup:3"`, "Descendre l&#39;opération 2")
		if strings.Contains(edit.body, `value="opup:1"`) || strings.Contains(edit.body, `value="opdown:3"`) {
			t.Error("the first operation moves up, or the last down")
		}
		vals := formOf(t, edit.body)
		before := p.prodSnapshot(t)
		moved := sup.post(page+"/edit", formWith(vals, "move", "opdown:2"))
		moved.has(t, http.StatusOK, "Label the vials")
		mv := formOf(t, moved.body)
		if mv.Get("o2.title") != "Labelling" || mv.Get("o2.steps") != "1" || mv.Get("s2.1.text") != "Label the vials" ||
			mv.Get("o3.title") != "Filling" || mv.Get("o3.steps") != "4" || mv.Get("s3.1.text") != "Measure the pH" || mv.Get("s3.1.low") != "6,5" {
			t.Errorf("after moving operation 2 down the form reads %v", mv)
		}
		p.prodUnchanged(t, before) // a move saves nothing by itself

		mv.Set("reason", "Labelling before the last checks")
		sup.follow(t, sup.post(page+"/edit", mv)).has(t, http.StatusOK, "Brouillon modifié.", "2. Labelling", "3. Filling")
		m := p.call(t, "supervisor", "GET", "/api/v1/masters/"+id, nil).object(t)
		ops := m["operations"].([]any)
		if len(ops) != 3 || ops[1].(map[string]any)["title"] != "Labelling" || ops[2].(map[string]any)["title"] != "Filling" || m["steps"] != float64(9) {
			t.Errorf("the master saved: %s", mustJSON(t, m["operations"]))
		}
		audited := false
		for _, en := range p.auditOf(t, "master", id) {
			audited = audited || (en.Command == "master.update" && en.Field == "body" && en.Reason == "Labelling before the last checks" &&
				strings.Index(en.Old, "Filling") < strings.Index(en.Old, "Labelling") && strings.Index(en.New, "Labelling") < strings.Index(en.New, "Filling"))
		}
		if !audited {
			t.Error("the new order is not in the audit trail with its reason, before and after")
		}

		// In review, the order is no longer the editor's to change.
		p.submit(t, id)
		before = p.prodSnapshot(t)
		mv.Del("idempotency_key") // the form of another page
		sup.post(page+"/edit", formWith(mv, "move", "opup:3")).has(t, http.StatusConflict, "seul un brouillon peut être modifié")
		p.prodUnchanged(t, before)
	})
}
