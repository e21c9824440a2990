package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestInputBounds: what an outside test sent is refused with a 400 naming
// the field, and writes nothing, on both databases: a batch scheduled in
// year 9999, a schedule asked from then, a numeric step of 1.7e308, a NUL
// byte or invalid UTF-8 in a JSON body, a form or a query parameter.
func TestInputBounds(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		p.effectiveMaster(t, product, "MBR-CEF")
		b := p.order(t, product, 1)[0]

		t.Run("times", func(t *testing.T) {
			before := p.prodSnapshot(t)
			for _, start := range []string{"9999-12-31T20:00:00Z", "2101-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"} {
				p.call(t, "supervisor", "POST", "/api/v1/batches/"+b+"/schedule", map[string]any{"line_id": e.line.ID, "start": start, "reason": "Plan"}).
					wantError(t, http.StatusBadRequest, "invalid", "start")
			}
			p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 1000, "due_on": "9999-12-31"}).
				wantError(t, http.StatusBadRequest, "invalid", "due_on")
			p.call(t, "supervisor", "POST", "/api/v1/lots", map[string]any{"material_id": p.api, "code": "LOT-Z", "quantity": 1, "expires_on": "2101-01-01T00:00:00Z"}).
				wantError(t, http.StatusBadRequest, "invalid", "expires_on")
			p.prodUnchanged(t, before)
			for _, q := range []string{"from=9999-12-31", "from=1999-12-31", "to=2101-01-01", "from=9999-12-31T00:00:00Z"} {
				r := p.call(t, "supervisor", "GET", "/api/v1/schedule?"+q, nil)
				field, _, _ := strings.Cut(q, "=")
				if msg := r.wantError(t, http.StatusBadRequest, "invalid", field); !strings.Contains(msg.Message, "2000 to 2100") {
					t.Errorf("%s: %q should say the range", q, msg.Message)
				}
			}
			p.call(t, "supervisor", "GET", "/api/v1/audit?from=10000-01-01T00:00:00Z", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
			// The boundaries: the last day of 2100 and the first of 2000
			// are in range.
			p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/schedule?from=2100-12-31&to=2100-12-31", nil), http.StatusOK, "the last day of 2100")
			p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/schedule?from=2000-01-01&to=2000-01-01", nil), http.StatusOK, "the first day of 2000")
			// A batch placed now is still read back, alone and in the lists.
			p.ok(t, p.schedule(t, b, e.line.ID, slot(time.Tuesday, 8)), http.StatusOK, "schedule")
			p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+b, nil), http.StatusOK, "the batch")
			if items := p.call(t, "client-alpha", "GET", "/api/v1/batches", nil).items(t); len(items) != 1 {
				t.Errorf("the client's batches: %v", items)
			}
		})

		t.Run("numbers", func(t *testing.T) {
			p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
			steps := p.steps(t, b)
			p.ok(t, p.record(t, "operator", b, steps[0], map[string]any{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}), http.StatusOK, "clearance")
			p.ok(t, p.record(t, "operator", b, steps[1], map[string]any{"lot": "LOT-A", "quantity": "10"}), http.StatusOK, "LOT-A")
			p.ok(t, p.record(t, "operator", b, steps[2], map[string]any{"lot": "LOT-B", "quantity": "20"}), http.StatusOK, "LOT-B")
			p.ok(t, p.record(t, "operator", b, steps[3], map[string]any{"equipment": e.equipment.Code}), http.StatusOK, "the filler")
			before := p.prodSnapshot(t)
			for _, v := range []string{"1.7e308", "-1,7e308", "1e309", "+Inf", "NaN"} {
				p.record(t, "operator", b, steps[4], map[string]any{"value": v}).wantError(t, http.StatusBadRequest, "invalid", "value")
			}
			p.prodUnchanged(t, before)
			p.ok(t, p.record(t, "operator", b, steps[4], map[string]any{"value": "7,0"}), http.StatusOK, "the pH")
			p.ok(t, p.call(t, "supervisor", "GET", "/api/v1/batches/"+b+"/record", nil), http.StatusOK, "the record")
		})

		t.Run("text", func(t *testing.T) {
			before := p.prodSnapshot(t)
			body := p.productBody("CEF-NUL")
			body["name"] = "Ceftriaxone\x00 1 g"
			if msg := p.call(t, "supervisor", "POST", "/api/v1/products", body).wantError(t, http.StatusBadRequest, "invalid", "name"); !strings.Contains(msg.Message, "NUL") {
				t.Errorf("the refusal does not say why: %q", msg.Message)
			}
			raw := `{"client_id":"` + e.alpha.ID + `","code":"CEF-BAD","name":"Ceftriax\xf3ne","form":"vial","strength":"1 g","presentation":"Box","special_class":"none","storage":"Cold"}`
			p.call(t, "supervisor", "POST", "/api/v1/products", raw).wantError(t, http.StatusBadRequest, "invalid", "")
			p.prodUnchanged(t, before)
			for q, field := range map[string]string{"actor=%00": "actor", "actor=%ff": "actor", "entity=batch%00": "entity", "x%00=1": ""} {
				p.call(t, "qa", "GET", "/api/v1/audit?"+q, nil).wantError(t, http.StatusBadRequest, "invalid", field)
			}
			p.call(t, "supervisor", "GET", "/api/v1/batches/%00", nil).wantError(t, http.StatusNotFound, "not_found", "")
			// A form: the login page, whose username goes to the database.
			for _, name := range []string{"operator\x00", "op\xe9rator"} {
				resp, err := http.PostForm(e.srv.URL+"/login", url.Values{"username": {name}, "password": {testPassword}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Set-Cookie") != "" {
					t.Errorf("login as %q: %d, cookie %q", name, resp.StatusCode, resp.Header.Get("Set-Cookie"))
				}
			}
		})
	})
}
