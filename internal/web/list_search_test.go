package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// TestListSearch: the lists people search (batches, lots, people,
// products, orders) answer, through the API and their pages, the records
// matching the words and filters asked, a page at a time with the total;
// a client's user never finds another laboratory's records nor the names
// of the site's staff; bad input is refused in words or clamped.
func TestListSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		// The supervisor and quality plan for both laboratories.
		sys := identity.WithActor(context.Background(), identity.System)
		for _, who := range []string{"supervisor", "qa"} {
			as := identity.Assignment{AccountID: e.accounts[who].ID, ClientID: e.beta.ID}
			if err := e.db.Identity().Admin().Assign(sys, &as, ""); err != nil && !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
		}
		cef := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		betaBody := p.productBody("BTX-5")
		betaBody["client_id"], betaBody["name"], betaBody["form"] = e.beta.ID, "Betaxolol 5 mg", "syrup"
		btx := p.created(t, "supervisor", "/api/v1/products", betaBody)
		p.effectiveMaster(t, cef, "MBR-CEF")
		p.effectiveMaster(t, btx, "MBR-BTX")
		alphaBatches := p.order(t, cef, 3)
		o := p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": btx, "quantity": 1000, "due_on": "2030-01-15"}),
			http.StatusCreated, "beta's order").object(t)
		betaLot := o["batches"].([]any)[0].(map[string]any)["lot"].(string)
		alphaLot := p.batchLot(t, alphaBatches[0])
		// One of alpha's batches on the schedule, on a Tuesday.
		start := slot(time.Tuesday, 8)
		p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/batches/"+alphaBatches[0]+"/schedule",
			map[string]any{"line_id": e.line.ID, "start": start.Format(time.RFC3339), "reason": "Plan"}), http.StatusOK, "schedule")
		startDay, nextDay := start.Format(time.DateOnly), start.AddDate(0, 0, 1).Format(time.DateOnly)
		for _, b := range []string{"0101 Ana Lima Opératrice", "0102 Bruno Costa Opérateur", "0201 Chloé Martin Technicienne"} {
			f := strings.SplitN(b, " ", 4)
			p.created(t, "admin", "/api/v1/people", map[string]any{"badge": f[0], "name": f[1] + " " + f[2], "job": f[3]})
		}

		// total reads a searched list's answer: its items and total.
		total := func(t *testing.T, who, path string) (int, int) {
			t.Helper()
			r := p.ok(t, p.call(t, who, "GET", path, nil), http.StatusOK, path)
			items := r.items(t)
			var env struct{ Total, Limit, Offset int }
			r.decode(t, &env)
			if env.Limit < 1 || env.Offset < 0 {
				t.Errorf("%s: limit %d, offset %d", path, env.Limit, env.Offset)
			}
			return len(items), env.Total
		}
		t.Run("api", func(t *testing.T) {
			for _, c := range []struct {
				who, path   string
				n, wantTotl int
			}{
				{"supervisor", "/api/v1/batches", 4, 4},
				{"supervisor", "/api/v1/batches?limit=3&offset=2", 2, 4},
				{"supervisor", "/api/v1/batches?q=BETAX", 1, 1},
				{"supervisor", "/api/v1/batches?q=" + url.QueryEscape(alphaLot), 1, 1},
				{"supervisor", "/api/v1/batches?client_id=" + e.alpha.ID + "&state=planned&limit=1", 1, 2},
				{"client-alpha", "/api/v1/batches", 3, 3},
				{"client-alpha", "/api/v1/batches?q=betax", 0, 0},
				{"client-alpha", "/api/v1/batches?client_id=" + e.beta.ID, 0, 0},
				{"supervisor", "/api/v1/products?q=betax", 1, 1},
				{"supervisor", "/api/v1/products?limit=1", 1, 2},
				{"client-alpha", "/api/v1/products", 1, 1},
				{"client-alpha", "/api/v1/products?q=BTX", 0, 0},
				{"supervisor", "/api/v1/orders?q=ceftriaxone", 1, 1},
				{"supervisor", "/api/v1/orders?client_id=" + e.beta.ID, 1, 1},
				{"client-alpha", "/api/v1/orders", 1, 1},
				{"client-alpha", "/api/v1/orders?q=betax", 0, 0},
				{"supervisor", "/api/v1/lots?q=lot-", 3, 3},
				{"supervisor", "/api/v1/lots?status=quarantine", 1, 1},
				{"supervisor", "/api/v1/lots?q=water&limit=1", 1, 1},
				{"client-alpha", "/api/v1/lots?q=lot", 0, 0},
				{"admin", "/api/v1/people?q=opérat", 2, 2},
				{"admin", "/api/v1/people?q=0201&limit=5", 1, 1},
				{"supervisor", "/api/v1/batches?from=" + startDay + "&to=" + startDay, 1, 1},
				{"supervisor", "/api/v1/batches?from=" + url.QueryEscape(start.Format(time.RFC3339)), 1, 1},
				{"supervisor", "/api/v1/batches?from=" + nextDay, 0, 0},
				{"supervisor", "/api/v1/batches?to=" + startDay + "&q=betax", 0, 0},
				{"supervisor", "/api/v1/batches?line_id=" + e.line.ID, 1, 1},
				{"client-alpha", "/api/v1/batches?from=" + startDay, 1, 1},
				{"client-beta", "/api/v1/batches?from=" + startDay, 0, 0},
				{"supervisor", "/api/v1/products?form=syrup", 1, 1},
				{"supervisor", "/api/v1/products?form=vial&q=cef", 1, 1},
				{"client-alpha", "/api/v1/products?form=syrup", 0, 0},
				{"supervisor", "/api/v1/orders?from=2030-01-15&to=2030-01-15", 1, 1},
				{"supervisor", "/api/v1/orders?to=2030-01-14", 1, 1},
				{"supervisor", "/api/v1/orders?to=2030-01-15&limit=1", 1, 2},
				{"client-alpha", "/api/v1/orders?from=2030-01-01", 0, 0},
				{"supervisor", "/api/v1/lots?from=2030-01-01&to=2030-01-01", 3, 3},
				{"supervisor", "/api/v1/lots?to=2029-12-31", 0, 0},
				{"supervisor", "/api/v1/lots?from=2030-01-02&status=released", 0, 0},
			} {
				if n, tot := total(t, c.who, c.path); n != c.n || tot != c.wantTotl {
					t.Errorf("%s %s: %d items of %d, want %d of %d", c.who, c.path, n, tot, c.n, c.wantTotl)
				}
			}
			// Staff are not a client's to search.
			p.call(t, "client-alpha", "GET", "/api/v1/people?q=Ana", nil).wantError(t, http.StatusForbidden, "forbidden", "")
			for _, c := range []struct{ path, field string }{
				{"/api/v1/batches?limit=-1", "limit"},
				{"/api/v1/products?limit=1000000", "limit"},
				{"/api/v1/orders?offset=-5", "offset"},
				{"/api/v1/lots?status=lost", "status"},
				{"/api/v1/batches?state=lost", "state"},
				{"/api/v1/people?limit=abc", "limit"},
				{"/api/v1/batches?client_id=not-an-id", "client_id"},
				{"/api/v1/people?team_id=x", "team_id"},
				{"/api/v1/products?q=" + strings.Repeat("a", 201), "q"},
				{"/api/v1/batches?from=yesterday", "from"},
				{"/api/v1/batches?to=2026-13-01", "to"},
				{"/api/v1/batches?line_id=L1", "line_id"},
				{"/api/v1/products?form=gummy", "form"},
				{"/api/v1/orders?from=31/12/2026", "from"},
				{"/api/v1/orders?to=9999-12-31", "to"},
				{"/api/v1/lots?from=2030-02-30", "from"},
			} {
				er := p.call(t, "admin", "GET", c.path, nil).wantError(t, http.StatusBadRequest, "invalid", c.field)
				if er.Message == "" || strings.Contains(er.Message, "web.") {
					t.Errorf("%s: message %q, want words", c.path, er.Message)
				}
			}
		})

		t.Run("pages", func(t *testing.T) {
			sup := e.browserWith(t, "supervisor", testPassword, "")
			pg := sup.get("/batches?state=all&q=betax")
			pg.has(t, http.StatusOK, betaLot, "1–1 sur 1", `name="q"`, `value="betax"`, `id="list-client"`, "Tous les laboratoires", `role="search"`)
			pg.lacks(t, alphaLot)
			sup.get("/batches?state=all&client_id="+e.alpha.ID).has(t, http.StatusOK, alphaLot, "1–3 sur 3")
			sup.get("/batches?state=all&page=-4").has(t, http.StatusOK, "1–4 sur 4")
			sup.get("/batches?state=all&q=nothing-like-it").has(t, http.StatusOK, "Rien ne correspond à cette recherche.")
			en := e.browserWith(t, "supervisor", testPassword, "en")
			en.get("/batches?state=all").has(t, http.StatusOK, "1–4 of 4", "Search", "All laboratories")
			sup.get("/products?q=btx").has(t, http.StatusOK, "Betaxolol 5 mg", "1–1 sur 1")
			sup.get("/orders?q=betax").has(t, http.StatusOK, betaLot, "1–1 sur 1")
			lots := sup.get("/lots?q=lot-&status=quarantine")
			lots.has(t, http.StatusOK, "LOT-Q", "1–1 sur 1", `<option value="quarantine" selected>`)
			lots.lacks(t, "LOT-A")
			expiring := sup.get("/lots?from=2030-01-01&to=2030-01-01&status=quarantine&q=lot")
			expiring.has(t, http.StatusOK, "LOT-Q", "1–1 sur 1", `value="2030-01-01"`, "Péremption du")
			expiring.lacks(t, "LOT-A")
			sup.get("/lots?to=2029-12-31").has(t, http.StatusOK, "Rien ne correspond")
			sup.get("/lots?status=lost").has(t, http.StatusBadRequest, "Le statut doit être l'un de : quarantine, released, rejected.")
			sup.get("/products?q="+strings.Repeat("é", 300)).has(t, http.StatusOK, "Rien ne correspond")
			// The line and the start's period, kept in the live stream.
			lined := sup.get("/batches?state=all&line_id=" + e.line.ID + "&from=" + startDay + "&to=" + startDay)
			lined.has(t, http.StatusOK, alphaLot, "1–1 sur 1", `id="b-line"`, `<option value="`+e.line.ID+`" selected>`,
				`value="`+startDay+`"`, "Toutes les lignes", "Début du", "line_id="+e.line.ID)
			sup.get("/batches?state=all&line_id=no-line").has(t, http.StatusOK, "1–4 sur 4")
			sup.get("/batches?state=all&q=cef&from="+nextDay).has(t, http.StatusOK, "Rien ne correspond")
			sup.get("/batches?from=demain").has(t, http.StatusBadRequest, "Les dates s'écrivent comme un jour")
			forms := sup.get("/products?form=syrup")
			forms.has(t, http.StatusOK, "Betaxolol 5 mg", "1–1 sur 1", `<option value="syrup" selected>`, "Toutes les formes")
			forms.lacks(t, "Ceftriaxone 1 g")
			sup.get("/products?form=gummy").has(t, http.StatusBadRequest, "La forme doit être l'une de : ampoule, vial")
			due := sup.get("/orders?from=2030-01-15&to=2030-01-15")
			due.has(t, http.StatusOK, betaLot, "1–1 sur 1", `value="2030-01-15"`, "Échéance du")
			due.lacks(t, alphaLot)
			sup.get("/orders?to=pas-une-date").has(t, http.StatusBadRequest, "Les dates s'écrivent comme un jour")
			en.get("/orders?from=2030-01-15").has(t, http.StatusOK, "1–1 of 1", "Due from")
			e.browserWith(t, "admin", testPassword, "").get("/people?q=opérat").has(t, http.StatusOK, "Ana Lima", "Bruno Costa", "1–2 sur 2")

			alpha := e.browserWith(t, "client-alpha", testPassword, "")
			// The client filter is staff's: a client's user choosing another
			// laboratory still sees its own only.
			alpha.get("/batches?state=all&client_id="+e.beta.ID).lacks(t, betaLot, `id="list-client"`)
			for _, path := range []string{"/batches?state=all&q=betax", "/products?q=betax", "/orders?q=btx"} {
				cp := alpha.get(path)
				cp.has(t, http.StatusOK, "Rien ne correspond à cette recherche.")
				cp.lacks(t, append(staffNames, betaLot, "Betaxolol", `id="list-client"`)...)
			}
			alpha.get("/batches?state=all").has(t, http.StatusOK, alphaLot, "1–3 sur 3")
			// Nor are the site's staff a client's to search, through the page.
			staff := alpha.get("/people?q=Ana")
			if staff.status == http.StatusOK {
				t.Errorf("a client's user opened the staff list")
			}
			staff.lacks(t, "Ana Lima", "0101")
			// Lines are the site's: not a client's filter.
			alpha.get("/batches?state=all&line_id="+e.line.ID).lacks(t, `id="b-line"`)
			alpha.get("/orders?from=2030-01-01").has(t, http.StatusOK, "Rien ne correspond")
			sup.get("/batches?state=all&from="+nextDay).has(t, http.StatusOK, "Rien ne correspond")
		})
	})
}
