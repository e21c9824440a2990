package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// listRoutes are the API's lists, with who reads them and how many items
// the seed gives.
var listRoutes = map[string]int{
	"/api/v1/buildings":   1,
	"/api/v1/rooms":       2,
	"/api/v1/lines":       1,
	"/api/v1/equipment":   1,
	"/api/v1/shifts":      1,
	"/api/v1/teams":       1,
	"/api/v1/people":      1,
	"/api/v1/clients":     2,
	"/api/v1/audit":       -1, // some
	"/api/v1/accounts":    3,
	"/api/v1/assignments": 1,
	"/api/v1/tokens":      1,
}

// notLists are the GET routes without an id that answer one object.
// The security events are a list, empty on a fresh site: TestSignInFailuresAPI
// reads them.
var notLists = []string{"/api/v1/me", "/api/v1/site", "/api/v1/openapi.yaml", "/api/", "/api/v1/policy", "/api/v1/security/events",
	// The readers' signed policy, one object: TestAccessAPI reads it.
	"/api/v1/access/policy",
	// The signatures of one record, named in the query: TestSignatureAPI reads them.
	"/api/v1/signatures",
	// The proof bundle of one record, a file: TestAuditBundleAPI reads it.
	"/api/v1/audit/bundle",
	// The audit trail as a CSV file: TestAuditCSV reads it.
	"/api/v1/audit/export.csv",
	// The audit trail as a PDF file: TestAuditPDF reads it.
	"/api/v1/audit/export.pdf",
	// Production's lists, empty on this seed: TestProductsAPI and
	// TestBatchRecordAPI read them.
	"/api/v1/products", "/api/v1/materials", "/api/v1/lots", "/api/v1/masters", "/api/v1/orders", "/api/v1/batches", "/api/v1/windows",
	// The plan of the lines over a period and the load of a week, one
	// object each, and the live stream of batches: TestBatchRecordAPI
	// and TestBatchEventsAPI read them.
	"/api/v1/schedule", "/api/v1/capacity", "/api/v1/batches/events",
	// The restore drills, none on this seed: TestBackupDrillsAPI reads them.
	"/api/v1/backup-drills",
	// The laboratory's lists, empty on this seed: TestLabSpecsAPI,
	// TestLabResultsAPI and TestLabPages read them.
	"/api/v1/specs", "/api/v1/samples", "/api/v1/results", "/api/v1/oos", "/api/v1/worklist",
	// Deviations, their CAPA actions and the people an action may be
	// given to, none or refused to the admin on this seed: TestDeviationsAPI
	// reads them.
	"/api/v1/deviations", "/api/v1/deviation-actions", "/api/v1/deviation-owners",
	// The certification register, empty (and refused to the admin) on
	// this seed: TestReleaseAPI reads it; the live stream of
	// certificates, TestCertificateEvents.
	"/api/v1/certifications", "/api/v1/certificates/events",
	// Environmental monitoring's lists, empty on this seed, and the
	// intake's refusal counters, one object: TestEnvironmentAPI reads them.
	"/api/v1/sensors", "/api/v1/alarms", "/api/v1/readings/quarantine", "/api/v1/readings/refusals",
	// The quality agreements' obligations, empty on this seed:
	// TestAgreementAPI reads them.
	"/api/v1/obligations",
	// People's qualifications, none on this seed: TestQualificationsAPI
	// reads them.
	"/api/v1/qualifications",
	// Site access's zones, readers and the gaps of their events, none on
	// this seed: TestAccessAPI reads them.
	"/api/v1/zones", "/api/v1/readers", "/api/v1/access/gaps",
	// Who is on site and the musters, none on this seed: TestMusterAPI
	// reads them.
	"/api/v1/access/presence", "/api/v1/musters",
	// The visits and the readers' journal, none on this seed:
	// TestVisitsAPI and TestJournal read them.
	"/api/v1/visits", "/api/v1/access/journal",
	// The client's dashboard, one object (for clients alone):
	// TestPortal reads it.
	"/api/v1/portal", "/api/v1/portal/events",
	// A client's documents, none on this seed: TestDocumentsAPI reads them.
	"/api/v1/documents",
	// The clients' projects and their workload, none on this seed:
	// TestProjectsAPI reads them.
	"/api/v1/projects", "/api/v1/projects/workload",
	// The controlled-substance register's lists, none (and refused to the
	// admin) on this seed, its establishment and the state of its copy,
	// one object each: TestControlledAPI reads them.
	"/api/v1/controlled/substances", "/api/v1/controlled/containers", "/api/v1/controlled/movements", "/api/v1/controlled/alerts",
	"/api/v1/controlled/counts", "/api/v1/controlled/establishment", "/api/v1/controlled/copy", "/api/v1/controlled/reconciliation",
	// The infrastructure's lists, none on this seed, its analysis, what-if
	// and live impact (one object each) and its inventory as a CSV file:
	// TestInfraAPI reads them.
	"/api/v1/infra/assets", "/api/v1/infra/zones", "/api/v1/infra/conduits", "/api/v1/infra/flows", "/api/v1/infra/findings", "/api/v1/infra/checks",
	"/api/v1/infra/events", "/api/v1/infra/plans", "/api/v1/infra/analysis", "/api/v1/infra/whatif", "/api/v1/infra/live", "/api/v1/infra/inventory.csv"}

func TestLists(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, rt := range e.web.Routes() {
			if rt.Method != "GET" || !strings.HasPrefix(rt.Path, "/api/") || strings.Contains(rt.Path, "{") || slices.Contains(notLists, rt.Path) {
				continue
			}
			want, ok := listRoutes[rt.Path]
			if !ok {
				t.Errorf("GET %s is not covered by this test; add it to listRoutes or notLists", rt.Path)
				continue
			}
			t.Run(rt.Path, func(t *testing.T) {
				items := e.call(t, "admin", "GET", rt.Path, nil).items(t)
				if (want >= 0 && len(items) != want) || len(items) == 0 {
					t.Errorf("%d items, want %d", len(items), want)
				}
				for _, it := range items {
					if id, _ := it["id"].(string); id == "" {
						t.Errorf("item without an id: %v", it)
					}
				}
			})
		}

		for _, tt := range []struct {
			path string
			want []string // the codes (or badges) listed, in order
		}{
			{"/api/v1/rooms?building_id=" + e.building.ID, []string{"R-B", "R-D"}},
			{"/api/v1/rooms?building_id=" + uuid.NewString(), nil},
			{"/api/v1/rooms?building_id=not-an-id", nil},
			{"/api/v1/lines?building_id=" + e.building.ID, []string{"L1"}},
			{"/api/v1/lines?room_id=" + e.roomB.ID, []string{"L1"}},
			{"/api/v1/lines?room_id=" + e.roomD.ID, nil},
			{"/api/v1/lines?building_id=" + e.building.ID + "&room_id=" + e.roomD.ID, nil},
			{"/api/v1/equipment?line_id=" + e.line.ID, []string{"E1"}},
			{"/api/v1/equipment?line_id=" + uuid.NewString(), nil},
			{"/api/v1/people?team_id=" + e.team.ID, []string{"0001"}},
			{"/api/v1/people?team_id=" + uuid.NewString(), nil},
			{"/api/v1/people?limit=1", []string{"0001"}},
			{"/api/v1/people?limit=1000&offset=0", []string{"0001"}},
			{"/api/v1/people?offset=1", nil},
		} {
			t.Run(tt.path, func(t *testing.T) {
				var got []string
				for _, it := range e.call(t, "operator", "GET", tt.path, nil).items(t) {
					c, _ := it["code"].(string)
					if b, ok := it["badge"].(string); ok {
						c = b
					}
					got = append(got, c)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func TestClientScope(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		codes := func(who string) []string {
			var out []string
			for _, it := range e.call(t, who, "GET", "/api/v1/clients", nil).items(t) {
				if it["client_id"] != it["id"] {
					t.Errorf("client %v: client_id must be its id", it)
				}
				out = append(out, it["code"].(string))
			}
			return out
		}
		if got := codes("admin"); !slices.Equal(got, []string{"ALPHA", "BETA"}) {
			t.Errorf("admin sees clients %v, want both", got)
		}
		if got := codes("client-alpha"); !slices.Equal(got, []string{"ALPHA"}) {
			t.Errorf("alpha's user sees clients %v, want only ALPHA", got)
		}
		for _, tt := range []struct {
			who, id string
			status  int
		}{
			{"client-alpha", e.alpha.ID, http.StatusOK},
			{"client-alpha", e.beta.ID, http.StatusNotFound},
			{"admin", e.beta.ID, http.StatusOK},
			{"operator", e.alpha.ID, http.StatusNotFound}, // staff not assigned to the client: need to know
		} {
			r := e.call(t, tt.who, "GET", "/api/v1/clients/"+tt.id, nil)
			if tt.status == http.StatusNotFound {
				r.wantError(t, http.StatusNotFound, "not_found", "")
				continue
			}
			if r.status != tt.status {
				t.Errorf("%s GET client %s: status %d, want %d", tt.who, tt.id, r.status, tt.status)
				continue
			}
			if got := r.object(t); got["id"] != tt.id || got["client_id"] != tt.id {
				t.Errorf("%s GET client: got %s", tt.who, r.body)
			}
		}
		// The other client's 404 is the one of a client that does not exist.
		other := e.call(t, "client-alpha", "GET", "/api/v1/clients/"+e.beta.ID, nil).body
		none := e.call(t, "client-alpha", "GET", "/api/v1/clients/"+uuid.NewString(), nil).body
		if !sameAnswer(other, none) {
			t.Errorf("another client's answer %s differs from a missing client's %s", other, none)
		}

		// A client's user reads only its own laboratory's audit entries.
		items := e.call(t, "client-alpha", "GET", "/api/v1/audit", nil).items(t)
		if len(items) == 0 {
			t.Errorf("alpha's user sees no audit entry; the creation of its own account is one")
		}
		for _, it := range items {
			if it["client_id"] != e.alpha.ID {
				t.Errorf("alpha's user sees an audit entry of another scope: %v", it)
			}
		}
	})
}

func TestAuditFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.accounts["admin"].ID
		change := map[string]any{"code": "L1", "name": "Vial filling 2", "room_id": e.roomB.ID, "sterile": true, "forms": []string{"vial"},
			"capacity_per_hour": 6000, "reason": "audit filter test"}
		if r := e.call(t, "admin", "PUT", "/api/v1/lines/"+e.line.ID, change); r.status != http.StatusOK {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		all := e.call(t, "admin", "GET", "/api/v1/audit", nil).items(t)
		if len(all) < 10 {
			t.Fatalf("%d audit entries; the seed alone writes more", len(all))
		}
		var prev int64
		for _, it := range all {
			seq := int64(it["seq"].(float64))
			if seq <= prev || it["id"] != strconv.FormatInt(seq, 10) {
				t.Errorf("entry %v: want increasing seq and id = seq", it)
			}
			prev = seq
		}
		first, _ := time.Parse(time.RFC3339Nano, all[0]["at"].(string))
		last := all[len(all)-1]
		lastAt, _ := time.Parse(time.RFC3339Nano, last["at"].(string))

		type check func(it map[string]any) bool
		is := func(k string, v any) check { return func(it map[string]any) bool { return it[k] == v } }
		q := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return "/api/v1/audit?" + v.Encode()
		}
		for _, tt := range []struct {
			name  string
			path  string
			min   int // at least this many entries
			max   int // at most; -1 for no bound
			match check
		}{
			{"entity", q("entity", "line"), 9, -1, is("entity", "line")},
			{"entity_id", q("entity_id", e.line.ID), 9, -1, is("entity_id", e.line.ID)},
			{"entity and entity_id", q("entity", "line", "entity_id", e.line.ID), 9, -1, is("entity_id", e.line.ID)},
			{"entity_id of another kind", q("entity", "room", "entity_id", e.line.ID), 0, 0, nil},
			{"actor", q("actor", admin), 1, 1, is("reason", "audit filter test")},
			{"actor system", q("actor", "system"), len(all) - 1, len(all) - 1, is("actor_id", "system")},
			{"unknown actor", q("actor", uuid.NewString()), 0, 0, nil},
			{"from the first entry", q("from", first.Format(time.RFC3339Nano)), len(all), len(all), nil},
			{"from after the last", q("from", lastAt.Add(time.Second).Format(time.RFC3339)), 0, 0, nil},
			{"to before the first", q("to", first.Add(-time.Second).Format(time.RFC3339)), 0, 0, nil},
			{"to the last entry, exclusive", q("to", lastAt.Format(time.RFC3339Nano)), 0, len(all) - 1, nil},
			{"from and to around all", q("from", "2000-01-01T00:00:00Z", "to", "2100-12-31T00:00:00+01:00"), len(all), len(all), nil},
			{"after", q("after", strconv.FormatInt(prev-1, 10)), 1, 1, is("seq", float64(prev))},
			{"after the last", q("after", strconv.FormatInt(prev, 10)), 0, 0, nil},
			{"after 0", q("after", "0"), len(all), len(all), nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				items := e.call(t, "admin", "GET", tt.path, nil).items(t)
				if len(items) < tt.min || (tt.max >= 0 && len(items) > tt.max) {
					t.Errorf("%d entries, want %d to %d", len(items), tt.min, tt.max)
				}
				for _, it := range items {
					if tt.match != nil && !tt.match(it) {
						t.Errorf("entry %v does not match the filter", it)
					}
				}
			})
		}

		for _, tt := range []struct{ path, field string }{
			{q("from", "yesterday"), "from"},
			{q("from", "2026-11-22"), "from"},
			{q("to", "2026-11-22 08:00:00"), "to"},
			{q("after", "-1"), "after"},
			{q("after", "one"), "after"},
		} {
			t.Run(tt.path, func(t *testing.T) {
				got := e.call(t, "operator", "GET", tt.path, nil).wantError(t, http.StatusBadRequest, "invalid", tt.field)
				if tt.field != "after" && !strings.Contains(got.Message, "RFC 3339") {
					t.Errorf("message %q should say how to write a date", got.Message)
				}
			})
		}
	})
}
