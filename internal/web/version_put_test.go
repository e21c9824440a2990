package web_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// versionedElsewhere are the PUT routes of the OpenAPI document that
// TestVersionedPUT leaves to another test, which it names: they need a
// world of their own.
var versionedElsewhere = map[string]string{
	// A step is corrected only in a batch in progress.
	"/api/v1/batches/{id}/steps/{step_id}": "TestStepCorrectionVersion",
	// QA justifies the exceptions of a batch in QA review.
	"/api/v1/batches/{id}/justifications": "TestReleaseAPI",
}

// versionField is the JSON field of a record's version: a master's
// "version" is its edition, its changes count in "revision".
func versionField(path string) string {
	if strings.HasPrefix(path, "/api/v1/masters/") || strings.HasPrefix(path, "/api/v1/specs/") {
		return "revision"
	}
	return "version"
}

// etagOf reads the version of a strong ETag.
func etagOf(t *testing.T, r reply) int {
	t.Helper()
	tag := r.header.Get("ETag")
	n, err := strconv.Atoi(strings.Trim(tag, `"`))
	if err != nil || tag != `"`+strconv.Itoa(n)+`"` {
		t.Fatalf("ETag %q (status %d): want a strong entity tag of a version such as \"3\": %s", tag, r.status, r.body)
	}
	return n
}

// putRoutes are the PUT routes the OpenAPI document describes.
func putRoutes(t *testing.T) []string {
	t.Helper()
	_, doc := openapiDoc(t)
	var out []string
	for path, item := range at(t, doc, "paths").(map[string]any) {
		if _, ok := item.(map[string]any)["put"]; ok {
			out = append(out, path)
		}
	}
	return out
}

// TestOpenAPIVersionedPUT: the document describes the version check of
// every PUT route: If-Match and the 412 stale answer.
func TestOpenAPIVersionedPUT(t *testing.T) {
	_, doc := openapiDoc(t)
	routes := putRoutes(t)
	for _, path := range routes {
		put := at(t, doc, "paths", path, "put").(map[string]any)
		ifMatch := false
		params, _ := put["parameters"].([]any)
		for _, p := range params {
			ifMatch = ifMatch || p.(map[string]any)["$ref"] == "#/components/parameters/IfMatch"
		}
		if !ifMatch {
			t.Errorf("PUT %s documents no If-Match", path)
		}
		if at(t, put, "responses", "412", "$ref") != "#/components/responses/Stale" {
			t.Errorf("PUT %s: 412 is not the stale answer", path)
		}
	}
	if len(routes) < 12 {
		t.Errorf("only %d PUT routes documented", len(routes))
	}
}

// TestVersionedPUT runs the version check over every PUT route of the
// OpenAPI document: the GET answers the version in the body and as ETag; a
// PUT with the current version in If-Match is applied and answers the next
// one; a stale one, in If-Match or in the body, answers 412 stale with the
// current version as ETag and changes nothing, the audit trail included; a
// malformed If-Match answers 400; without a version, or with "*", the
// change applies to the current version.
func TestVersionedPUT(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-1G"))
		draft := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, "MBR-CEF"))
		labPeople(t, p)
		specDraft := p.created(t, "lab", "/api/v1/specs", specBody(product))
		sensor := sensorWithLimits(t, e, "VER-T1")
		if r := e.call(t, "qa", "PUT", "/api/v1/clients/"+e.alpha.ID+"/agreement", agreementBody()); r.status != http.StatusOK {
			t.Fatalf("record an agreement: %d %s", r.status, r.body)
		}
		projectID := p.created(t, "qa", "/api/v1/projects", projectBody(e.alpha.ID, "PRJ-VER-01"))
		zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": "Z-VER", "name": "Zone", "kind": "building"})
		reader := created(t, e, "admin", "/api/v1/readers", map[string]any{"code": "R-VER", "zone_id": zone, "direction": "in", "door": "Porte"})
		visit := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
		est := e.call(t, "qa", "PUT", "/api/v1/controlled/establishment", map[string]any{"authorisation": "ANSM-EP-1", "authorised_on": "2026-01-15",
			"pharmacist": "Paula Personne Qualifiée"})
		if est.status != http.StatusOK {
			t.Fatalf("set the establishment: %d %s", est.status, est.body)
		}
		inf := exerciseInfra(t, e)
		// Each case changes field to value(1), value(2) ...: a text
		// unless value says otherwise.
		cases := map[string]struct {
			id, field, who string
			value          func(i int) any
		}{
			"/api/v1/buildings/{id}":           {id: e.building.ID, field: "name"},
			"/api/v1/rooms/{id}":               {id: e.roomD.ID, field: "name"},
			"/api/v1/lines/{id}":               {id: e.line.ID, field: "name"},
			"/api/v1/equipment/{id}":           {id: e.equipment.ID, field: "name"},
			"/api/v1/shifts/{id}":              {id: e.shift.ID, field: "name"},
			"/api/v1/teams/{id}":               {id: e.team.ID, field: "name"},
			"/api/v1/zones/{id}":               {id: zone, field: "name"},
			"/api/v1/readers/{id}":             {id: reader, field: "door"},
			"/api/v1/visits/{id}":              {id: visit, field: "purpose"},
			"/api/v1/people/{id}":              {id: e.person.ID, field: "name"},
			"/api/v1/accounts/{id}":            {id: e.accounts["operator"].ID, field: "name"},
			"/api/v1/products/{id}":            {id: product, field: "name", who: "supervisor"},
			"/api/v1/masters/{id}":             {id: draft, field: "title", who: "supervisor"},
			"/api/v1/specs/{id}":               {id: specDraft, field: "title", who: "lab"},
			"/api/v1/materials/{id}":           {id: p.api, field: "name", who: "supervisor"},
			"/api/v1/policy":                   {id: "sign-in", field: "history", value: func(i int) any { return float64(5 + i) }},
			"/api/v1/sensors/{id}":             {id: sensor, field: "name"},
			"/api/v1/clients/{id}/agreement":   {id: e.alpha.ID, field: "reference", who: "qa"},
			"/api/v1/projects/{id}":            {id: projectID, field: "title", who: "qa"},
			"/api/v1/controlled/establishment": {id: est.object(t)["id"].(string), field: "pharmacist", who: "qa"},
		}
		cases["/api/v1/infra/assets/{id}"] = struct {
			id, field, who string
			value          func(i int) any
		}{id: inf.sw1, field: "name", who: "it"}
		cases["/api/v1/infra/zones/{id}"] = struct {
			id, field, who string
			value          func(i int) any
		}{id: inf.zoneOT, field: "name", who: "it"}
		cases["/api/v1/infra/conduits/{id}"] = struct {
			id, field, who string
			value          func(i int) any
		}{id: inf.conduit, field: "name", who: "it"}
		cases["/api/v1/infra/checks/{id}"] = struct {
			id, field, who string
			value          func(i int) any
		}{id: inf.check, field: "every_seconds", who: "it", value: func(i int) any { return float64(30 + i) }}
		cases["/api/v1/sensors/{id}/limits"] = struct {
			id, field, who string
			value          func(i int) any
		}{id: sensor, field: "delay_s", value: func(i int) any { return float64(60 + i) }}
		seen := 0
		for _, route := range putRoutes(t) {
			if _, ok := versionedElsewhere[route]; ok {
				continue
			}
			c, ok := cases[route]
			if !ok {
				t.Errorf("PUT %s: no case in the version check: add one", route)
				continue
			}
			seen++
			t.Run(strings.TrimPrefix(route, "/api/v1/"), func(t *testing.T) {
				who := cmp.Or(c.who, "admin")
				path := withID(route, c.id)
				vf := versionField(route)
				got := e.call(t, who, "GET", path, nil)
				if got.status != http.StatusOK {
					t.Fatalf("GET %s: status %d: %s", path, got.status, got.body)
				}
				v := etagOf(t, got)
				body := got.object(t)
				if body[vf] != float64(v) || v < 1 {
					t.Fatalf("GET %s: %s %v in the body, ETag %d", path, vf, body[vf], v)
				}
				value := c.value
				if value == nil {
					value = func(i int) any { return fmt.Sprintf("Change %d of %s", i, c.field) }
				}
				put := func(i int, hdr ...string) reply {
					body[c.field], body["reason"] = value(i), "Change request CR-7"
					return e.call(t, who, "PUT", path, body, hdr...)
				}

				// The current version: applied, and one more.
				first := put(1, "If-Match", fmt.Sprintf(`"%d"`, v))
				if first.status != http.StatusOK {
					t.Fatalf("PUT with the current version: status %d: %s", first.status, first.body)
				}
				if etagOf(t, first) != v+1 || first.object(t)[vf] != float64(v+1) {
					t.Errorf("PUT with the current version: ETag %s, body %s; want version %d", first.header.Get("ETag"), first.body, v+1)
				}

				// A stale version, in If-Match or in the body: refused,
				// and nothing changed.
				before := e.snapshot(t)
				trail := len(e.auditEntries(t, audit.Filter{EntityID: c.id}))
				stale := put(2, "If-Match", fmt.Sprintf(`"%d"`, v))
				stale.wantError(t, http.StatusPreconditionFailed, "stale", "")
				if etagOf(t, stale) != v+1 {
					t.Errorf("stale: ETag %s, want the current version %d", stale.header.Get("ETag"), v+1)
				}
				body[vf] = float64(v)
				put(2).wantError(t, http.StatusPreconditionFailed, "stale", "")
				delete(body, vf)
				for _, bad := range []string{`W/"1"`, `1`, `"x"`, `""`, `"-1"`, `"0"`} {
					put(2, "If-Match", bad).wantError(t, http.StatusBadRequest, "invalid", "")
				}
				e.unchanged(t, before)
				if n := len(e.auditEntries(t, audit.Filter{EntityID: c.id})); n != trail {
					t.Errorf("refused changes wrote %d audit entries", n-trail)
				}
				now := e.call(t, who, "GET", path, nil)
				if etagOf(t, now) != v+1 || now.object(t)[c.field] != value(1) {
					t.Errorf("after the refusals: %s; want the first change at version %d", now.body, v+1)
				}

				// Without any version: applied to the current one.
				if r := put(3); r.status != http.StatusOK || etagOf(t, r) != v+2 {
					t.Errorf("PUT without a version: status %d, ETag %s: %s", r.status, r.header.Get("ETag"), r.body)
				}
				// "*" names any version.
				if r := put(4, "If-Match", "*"); r.status != http.StatusOK || etagOf(t, r) != v+3 {
					t.Errorf("PUT with If-Match *: status %d, ETag %s: %s", r.status, r.header.Get("ETag"), r.body)
				}
			})
		}
		if seen != len(cases) {
			t.Errorf("%d PUT routes checked, the table has %d: a route was removed", seen, len(cases))
		}
	})
}

// TestStepCorrectionVersion: an entry's version is one more at its first
// entry and at each correction; a correction of a version someone else
// corrected meanwhile answers 412 with the current version and changes
// nothing; of ten corrections of one version at once, one applies.
func TestStepCorrectionVersion(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		w := exerciseProduction(t, e)
		p := w.p
		path := "/api/v1/batches/" + w.batch + "/steps/" + w.numericStep
		version := func() int {
			for _, st := range p.steps(t, w.batch) {
				if st["id"] == w.numericStep {
					return int(st["version"].(float64))
				}
			}
			t.Fatal("the step is not in its batch")
			return 0
		}
		v := version()
		if v != 3 { // 1 pending, 2 recorded, 3 corrected once
			t.Fatalf("a step recorded then corrected once is at version %d, want 3", v)
		}
		r := p.call(t, "supervisor", "PUT", path, map[string]any{"value": "7.41", "reason": "Second reading"}, "If-Match", `"3"`)
		p.ok(t, r, http.StatusOK, "correct with the current version")
		if etagOf(t, r) != 4 || r.object(t)["version"] != float64(4) {
			t.Fatalf("correction answered ETag %s, body %s; want version 4", r.header.Get("ETag"), r.body)
		}
		before := e.snapshot(t)
		trail := len(e.auditEntries(t, audit.Filter{EntityID: w.numericStep}))
		stale := p.call(t, "supervisor", "PUT", path, map[string]any{"value": "7.39", "reason": "Stale screen"}, "If-Match", `"3"`)
		stale.wantError(t, http.StatusPreconditionFailed, "stale", "")
		if etagOf(t, stale) != 4 {
			t.Errorf("stale correction answered ETag %s, want the current 4", stale.header.Get("ETag"))
		}
		p.call(t, "supervisor", "PUT", path, map[string]any{"value": "7.39", "reason": "Stale body", "version": 3}).
			wantError(t, http.StatusPreconditionFailed, "stale", "")
		p.call(t, "supervisor", "PUT", path, map[string]any{"value": "7.39", "reason": "Bad tag"}, "If-Match", "4").
			wantError(t, http.StatusBadRequest, "invalid", "")
		e.unchanged(t, before)
		if n := len(e.auditEntries(t, audit.Filter{EntityID: w.numericStep})); n != trail {
			t.Errorf("refused corrections wrote %d audit entries", n-trail)
		}

		// Ten corrections of version 4 at once: one applies.
		answers := make(chan int, 10)
		for i := range 10 {
			go func() {
				r := p.call(t, "supervisor", "PUT", path, map[string]any{"value": fmt.Sprintf("7.%d", 30+i), "reason": "Race"}, "If-Match", `"4"`)
				answers <- r.status
			}()
		}
		ok, refused := 0, 0
		for range 10 {
			switch s := <-answers; s {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed:
				refused++
			default:
				t.Errorf("a concurrent correction answered %d", s)
			}
		}
		if ok != 1 || refused != 9 || version() != 5 {
			t.Errorf("10 concurrent corrections of version 4: %d applied, %d stale, now at version %d; want 1, 9, 5", ok, refused, version())
		}
	})
}

// TestStaleAccountForm: the account form carries the account's version; saved
// after someone else changed the account, it is refused (412), shows the
// account as it is now with the reason, and changes nothing.
func TestStaleAccountForm(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		op := e.accounts["operator"]
		page := e.call(t, "admin", "GET", "/admin/accounts/"+op.ID+"/edit", nil)
		if !strings.Contains(string(page.body), `name="version" value="1"`) {
			t.Fatalf("the account form does not carry the version: %.2000s", page.body)
		}
		if r := e.call(t, "admin", "PUT", "/api/v1/accounts/"+op.ID, map[string]any{"name": "Otto Renamed", "roles": []string{"operator"},
			"active": true, "reason": "other desk"}); r.status != http.StatusOK {
			t.Fatalf("the other edit: %d %s", r.status, r.body)
		}
		before := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
		form := url.Values{"version": {"1"}, "name": {"Mine"}, "roles": {"operator"}, "active": {"on"}, "reason": {"my edit"}}
		r := e.call(t, "admin", "POST", "/admin/accounts/"+op.ID, form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Accept-Language", "fr")
		if r.status != http.StatusPreconditionFailed {
			t.Fatalf("stale account form: %d, want 412: %.500s", r.status, r.body)
		}
		for _, want := range []string{"Quelqu&#39;un d&#39;autre a modifié cet enregistrement", "Otto Renamed", `name="version" value="2"`, ">my edit</textarea>"} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if after := len(e.auditEntries(t, audit.Filter{Limit: 100000})); after != before {
			t.Errorf("the stale form wrote %d audit entries", after-before)
		}
		// A form whose version is missing or damaged is refused, never
		// saved over whatever the record has become.
		for _, bad := range []string{"", "0", "-1", "two", "2.0", "99999999999999999999"} {
			f := url.Values{"name": {"Mine"}, "roles": {"operator"}, "active": {"on"}, "reason": {"my edit"}}
			if bad != "" {
				f.Set("version", bad)
			}
			r := e.call(t, "admin", "POST", "/admin/accounts/"+op.ID, f.Encode(), "Content-Type", "application/x-www-form-urlencoded")
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "quelle version de l&#39;enregistrement") {
				t.Errorf("account form with version %q: %d, want 400 saying the version is missing: %.300s", bad, r.status, r.body)
			}
		}
		if after := len(e.auditEntries(t, audit.Filter{Limit: 100000})); after != before {
			t.Errorf("the refused forms wrote %d audit entries", after-before)
		}
		// The current version saves (and the browser is sent to the
		// account's page).
		form.Set("version", "2")
		if r := e.call(t, "admin", "POST", "/admin/accounts/"+op.ID, form.Encode(), "Content-Type", "application/x-www-form-urlencoded"); r.status != http.StatusOK {
			t.Fatalf("the form at the current version: %d %.300s", r.status, r.body)
		}
		if got := e.call(t, "admin", "GET", "/api/v1/accounts/"+op.ID, nil).object(t); got["name"] != "Mine" || got["version"] != float64(3) {
			t.Fatalf("after the form at the current version: %v", got)
		}
	})
}

// TestConcurrentMasterMoves: eight rejections of one version in review at
// once: one moves it, the others are refused, and the trail holds one move.
func TestConcurrentMasterMoves(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-2G"))
		draft := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, "MBR-CEF2"))
		p.submit(t, draft)
		answers := make(chan int, 8)
		for range 8 {
			go func() {
				answers <- p.call(t, "qa", "POST", "/api/v1/masters/"+draft+"/move",
					map[string]string{"action": "reject", "reason": "Step 2.1 unclear"}).status
			}()
		}
		ok, refused := 0, 0
		for range 8 {
			switch s := <-answers; s {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				refused++
			default:
				t.Errorf("a concurrent move answered %d", s)
			}
		}
		moves := 0
		for _, en := range e.auditEntries(t, audit.Filter{Entity: "master", EntityID: draft}) {
			if en.Field == "status" && en.Old == "in_review" && en.New == "draft" {
				moves++
			}
		}
		if ok != 1 || refused != 7 || moves != 1 {
			t.Errorf("8 rejections at once: %d applied, %d refused, %d status changes audited; want 1, 7, 1", ok, refused, moves)
		}
	})
}

// TestVersionedPUTRevealsNothing: a version check never tells what the
// sender may not know. A supervisor not assigned to the product's client,
// another client's user, the client's own (read-only) user and roles
// without the right, each sending a PUT with a stale or a current
// If-Match, are refused as they would be without it (not found,
// forbidden), with no ETag and no version in the answer, and nothing
// changes.
func TestVersionedPUTRevealsNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "supervisor")
		hash, err := passwordHash()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
			return h.CreateAccount(&identity.Account{Username: "supervisor-b", Name: "Berthe Superviseure", Roles: []identity.Role{identity.RoleSupervisor}}, hash)
		}); err != nil {
			t.Fatal(err)
		}
		product := p.created(t, "supervisor", "/api/v1/products", p.productBody("CEF-3G"))
		bodyOf := func(path string) map[string]any {
			b := e.call(t, "admin", "GET", path, nil).object(t)
			if strings.Contains(path, "products") {
				b = e.call(t, "supervisor", "GET", path, nil).object(t)
			}
			b["name"], b["reason"] = "Renamed by a stranger", "hostile"
			return b
		}
		cases := []struct {
			who, path string
			status    int
		}{
			{"supervisor-b", "/api/v1/products/" + product, http.StatusNotFound},
			{"client-beta", "/api/v1/products/" + product, http.StatusForbidden},
			{"client-alpha", "/api/v1/products/" + product, http.StatusForbidden},
			{"operator", "/api/v1/products/" + product, http.StatusForbidden},
			{"operator", "/api/v1/buildings/" + e.building.ID, http.StatusForbidden},
			{"client-beta", "/api/v1/accounts/" + e.accounts["operator"].ID, http.StatusForbidden},
		}
		bodies := map[string]map[string]any{}
		for _, c := range cases {
			bodies[c.path] = bodyOf(c.path)
			e.token(t, c.who) // signed in before the snapshot
		}
		before := e.snapshot(t)
		for _, c := range cases {
			for _, match := range []string{`"1"`, `"99"`} {
				r := p.call(t, c.who, "PUT", c.path, bodies[c.path], "If-Match", match)
				if r.status != c.status {
					t.Errorf("%s PUT %s If-Match %s: %d, want %d: %s", c.who, c.path, match, r.status, c.status, r.body)
				}
				if et := r.header.Get("ETag"); et != "" || strings.Contains(string(r.body), `"version"`) || strings.Contains(string(r.body), "stale") {
					t.Errorf("%s PUT %s If-Match %s tells a version: ETag %q, body %s", c.who, c.path, match, et, r.body)
				}
			}
		}
		e.unchanged(t, before)
	})
}
