package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/web"
)

// csvRows reads a CSV export, checking its type, its byte order mark and
// that it is a file to download; the header row comes first.
func csvRows(t *testing.T, r reply) [][]string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/csv; charset=utf-8", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}
	body, ok := bytes.CutPrefix(r.body, []byte("\xef\xbb\xbf"))
	if !ok {
		t.Fatalf("no UTF-8 byte order mark: %q", r.body[:min(20, len(r.body))])
	}
	cr := csv.NewReader(bytes.NewReader(body))
	if r.header.Get("Content-Language") == "fr" {
		cr.Comma = ';'
	}
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV: %v\n%s", err, body)
	}
	if len(rows) == 0 {
		t.Fatal("no header row")
	}
	return rows
}

func TestAuditPage(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p := e.call(t, "admin", "GET", "/audit", nil)
	if p.status != http.StatusOK {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	// The times are said to be the site's, named from its settings.
	for _, s := range []string{"Piste d&#39;audit", "Bâtiment 30", "Exporter en CSV", `href="/audit"`, "/api/v1/audit/export.csv?lang=fr", "fuseau du site (Europe/Paris)"} {
		if !strings.Contains(string(p.body), s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	// A change after the record's first entry is marked.
	r := e.call(t, "admin", "PUT", "/api/v1/buildings/"+e.building.ID, map[string]any{"code": "B30", "name": "Bâtiment 30 bis",
		"role": string(site.RoleSterileProduction), "reason": "Renommage"})
	if r.status != http.StatusOK {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	p = e.call(t, "admin", "GET", "/audit?entity=building&entity_id="+e.building.ID, nil)
	body := string(p.body)
	if p.status != http.StatusOK || !strings.Contains(body, "Bâtiment 30 bis") || !strings.Contains(body, `<span class="pill">modification</span>`) {
		t.Errorf("the building's trail lacks its change: %d\n%s", p.status, body)
	}
	if strings.Contains(body, "Aseptic filling") || strings.Contains(body, "Claire Dubois") {
		t.Error("filtered by the building, the page shows other records")
	}
	if !strings.Contains(body, "entity=building") || !strings.Contains(body, "entity_id="+e.building.ID) {
		t.Error("the export link does not carry the filters")
	}
	// Filters by day: nothing before 2000, everything up to 2100.
	if p := e.call(t, "admin", "GET", "/audit?to=2000-01-01", nil); p.status != http.StatusOK || strings.Contains(string(p.body), "Bâtiment 30") {
		t.Errorf("to=2000-01-01: %d, shows entries", p.status)
	}
	if p := e.call(t, "admin", "GET", "/audit?from=2000-01-01&to=2100-12-31", nil); p.status != http.StatusOK || !strings.Contains(string(p.body), "Bâtiment 30") {
		t.Errorf("from 2000 to 2100: %d, shows no entries", p.status)
	}
	if p := e.call(t, "admin", "GET", "/audit?from=hier", nil); p.status != http.StatusBadRequest {
		t.Errorf("from=hier: status %d, want 400", p.status)
	}
	// The English page says "change".
	p = e.call(t, "admin", "GET", "/audit?entity=building", nil, "Cookie", "lang=en")
	if !strings.Contains(string(p.body), `<span class="pill">change</span>`) || !strings.Contains(string(p.body), "Audit trail") {
		t.Error("the English page does not mark the change")
	}
}

func TestAuditPageScope(t *testing.T) {
	e := newEnv(t, store.SQLite)
	// A client's user may not read the page, nor sees its link.
	if p := e.call(t, "client-alpha", "GET", "/audit", nil); p.status != http.StatusForbidden {
		t.Errorf("client user: status %d, want 403", p.status)
	}
	if p := e.call(t, "client-alpha", "GET", "/batches", nil); strings.Contains(string(p.body), `href="/audit"`) {
		t.Error("a client user sees the link to the audit page")
	}
	// An operator sees the site's trail, not the clients' nor the accounts'.
	p := e.call(t, "operator", "GET", "/audit", nil)
	body := string(p.body)
	if p.status != http.StatusOK || !strings.Contains(body, "Bâtiment 30") {
		t.Fatalf("operator: %d, the site's trail missing", p.status)
	}
	for _, s := range []string{"Alpha Laboratories", "Beta Pharma", "Carla Client"} {
		if strings.Contains(body, s) {
			t.Errorf("the operator's page shows %q", s)
		}
	}
	// Without a session, the page leads to signing in.
	if p := e.call(t, "", "GET", "/audit", nil); strings.Contains(string(p.body), "Bâtiment 30") {
		t.Error("the audit page shows the trail without a session")
	}
}

func TestAuditCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "admin", "POST", "/api/v1/buildings", map[string]any{"code": "B99",
			"name": `=HYPERLINK("http://evil.example","x")`, "role": string(site.RoleProduction)})
		if r.status != http.StatusCreated && r.status != http.StatusOK {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		for _, who := range []string{"admin", "operator", "client-alpha"} {
			n := len(e.call(t, who, "GET", "/api/v1/audit", nil).items(t))
			rows := csvRows(t, e.call(t, who, "GET", "/api/v1/audit/export.csv", nil))
			if len(rows)-1 != n {
				t.Errorf("%s: %d rows, /api/v1/audit lists %d", who, len(rows)-1, n)
			}
		}

		fr := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv", nil, "Accept-Language", "fr-FR,fr;q=0.9"))
		want := "séquence,date et heure (Europe/Paris),utilisateur,commande,type d'enregistrement,nom de l'enregistrement,champ,ancienne valeur,nouvelle valeur,raison,modification," +
			"code de la commande,type d'enregistrement (code),identifiant,champ (code),ancienne valeur (enregistrée),nouvelle valeur (enregistrée)"
		if got := strings.Join(fr[0], ","); got != want {
			t.Errorf("French header %q, want %q", got, want)
		}
		if got := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv?lang=fr", nil))[0][0]; got != "séquence" {
			t.Errorf("lang=fr: header starts %q", got)
		}
		if got := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv", nil, "Cookie", "lang=fr"))[0][0]; got != "séquence" {
			t.Errorf("lang cookie fr: header starts %q", got)
		}
		en := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv", nil))
		if got := strings.Join(en[0], ","); got != "sequence,date and time (Europe/Paris),user,command,record type,record name,field,old value,new value,reason,change,"+
			"command code,record type (code),id,field (code),old value (stored),new value (stored)" {
			t.Errorf("English header %q", got)
		}

		// The formula is written as text.
		found := false
		for _, row := range fr[1:] {
			for _, v := range row {
				if strings.HasPrefix(v, "=") || strings.HasPrefix(v, "+") || strings.HasPrefix(v, "@") || (strings.HasPrefix(v, "-") && v != "-") {
					t.Errorf("a value starts a formula: %q", v)
				}
				if v == `'=HYPERLINK("http://evil.example","x")` {
					found = true
				}
			}
			if row[10] != "oui" && row[10] != "non" {
				t.Errorf("modification %q, want oui or non", row[10])
			}
		}
		if !found {
			t.Error("the building's name is not in the export, neutralised")
		}

		// Filters are those of /api/v1/audit.
		q := "?entity=building&entity_id=" + e.building.ID
		rows := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv"+q, nil))
		if n := len(e.call(t, "admin", "GET", "/api/v1/audit"+q, nil).items(t)); len(rows)-1 != n || n == 0 {
			t.Errorf("filtered: %d rows, /api/v1/audit lists %d", len(rows)-1, n)
		}
		for _, row := range rows[1:] {
			if row[12] != "building" || row[13] != e.building.ID || row[4] != "Building" || row[5] != e.building.Code {
				t.Errorf("filtered by the building, the export holds %v", row)
			}
		}

		// A client's user reads only its laboratory's trail.
		for _, row := range csvRows(t, e.call(t, "client-alpha", "GET", "/api/v1/audit/export.csv", nil))[1:] {
			line := strings.Join(row, ",")
			if strings.Contains(line, "Beta Pharma") || strings.Contains(line, e.beta.ID) || strings.Contains(line, "Bâtiment 30") {
				t.Errorf("the client user's export holds another's data: %s", line)
			}
		}
		for _, row := range csvRows(t, e.call(t, "operator", "GET", "/api/v1/audit/export.csv", nil))[1:] {
			line := strings.Join(row, ",")
			if strings.Contains(line, "Beta Pharma") || strings.Contains(line, "Alpha Laboratories") {
				t.Errorf("the operator's export holds a client's data: %s", line)
			}
		}

		e.call(t, "", "GET", "/api/v1/audit/export.csv", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		e.call(t, "admin", "GET", "/api/v1/audit/export.csv?from=yesterday", nil).wantError(t, http.StatusBadRequest, "invalid", "from")
	})
}

func TestAuditCSVGuardAndFormat(t *testing.T) {
	for v, want := range map[string]string{"-20": "-20", "+3.5": "+3.5", "=cmd": "'=cmd", "-1+2": "'-1+2", "@x": "'@x", "abc": "abc"} {
		if got := web.CSVSafe(v); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", v, got, want)
		}
	}
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "admin", "GET", "/api/v1/audit/export.csv?lang=fr", nil)
		if !bytes.Contains(r.body, []byte("séquence;date et heure")) {
			t.Errorf("French CSV not split on ';': %q", r.body[:min(80, len(r.body))])
		}
		if r := e.call(t, "admin", "GET", "/api/v1/audit/export.csv?lang=fr&sep=comma", nil); !bytes.Contains(r.body, []byte("séquence,date et heure")) {
			t.Errorf("sep=comma ignored: %q", r.body[:min(80, len(r.body))])
		}
		e.call(t, "admin", "GET", "/api/v1/audit/export.csv?sep=pipe", nil).wantError(t, http.StatusBadRequest, "invalid", "sep")
		// An independent reader: python3's csv module, with the ';'
		// dialect and the BOM of utf-8-sig, reads as many rows of the
		// same width as encoding/csv.
		want := csvRows(t, r)
		py, err := exec.LookPath("python3")
		if err != nil {
			t.Log("python3 absent: the independent reader is skipped")
			return
		}
		cmd := exec.Command(py, "-c", `import csv,io,sys
rows=list(csv.reader(io.TextIOWrapper(sys.stdin.buffer,encoding="utf-8-sig",newline=""),delimiter=";"))
print(len(rows), len({len(r) for r in rows}), rows[0][0])`)
		cmd.Stdin = bytes.NewReader(r.body)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3 csv: %v", err)
		}
		if got, wantOut := strings.TrimSpace(string(out)), fmt.Sprintf("%d 1 séquence", len(want)); got != wantOut {
			t.Errorf("python3 reads %q, want %q", got, wantOut)
		}
	})
}

func TestAuditLimitAndClientStaff(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, bad := range []string{"-1", "abc", "0", "1001"} {
			e.call(t, "admin", "GET", "/api/v1/audit?limit="+bad, nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
		}
		e.call(t, "admin", "GET", "/api/v1/audit?order=sideways", nil).wantError(t, http.StatusBadRequest, "invalid", "order")
		if n := len(e.call(t, "admin", "GET", "/api/v1/audit?limit=3", nil).items(t)); n != 3 {
			t.Errorf("limit=3 answers %d entries", n)
		}
		newest := e.call(t, "admin", "GET", "/api/v1/audit?order=newest&limit=5", nil).items(t)
		if len(newest) != 5 || newest[0]["seq"].(float64) <= newest[4]["seq"].(float64) {
			t.Errorf("order=newest: %v", newest)
		}
		older := e.call(t, "admin", "GET", "/api/v1/audit?before="+strconv.Itoa(int(newest[4]["seq"].(float64)))+"&limit=1", nil).items(t)
		if len(older) != 1 || older[0]["seq"].(float64) != newest[4]["seq"].(float64)-1 {
			t.Errorf("before: %v", older)
		}

		// The client's reader sees "site staff", never a person of the
		// site, in the API and the CSV.
		items := e.call(t, "client-alpha", "GET", "/api/v1/audit", nil).items(t)
		staff := 0
		for _, it := range items {
			if it["actor_staff"] == true {
				staff++
				if it["actor_id"] != "" || it["actor_name"] != "Site staff" {
					t.Errorf("a staff entry names its actor: %v", it)
				}
			}
		}
		if staff == 0 {
			t.Fatal("no entry by the site's staff in the client's trail: the test proves nothing")
		}
		body := e.call(t, "client-alpha", "GET", "/api/v1/audit/export.csv?lang=fr", nil).body
		all := string(e.call(t, "client-alpha", "GET", "/api/v1/audit", nil).body) + string(body)
		for _, leak := range []string{"galenix\"", ";galenix;", "Ada Admin", "Otto Operator", e.accounts["admin"].ID, e.accounts["operator"].ID} {
			if strings.Contains(all, leak) {
				t.Errorf("the client's trail holds %q", leak)
			}
		}
		if !strings.Contains(string(body), "Personnel du site") {
			t.Error("the client's CSV does not say site staff")
		}
		// The staff's own trail names them.
		if !strings.Contains(string(e.call(t, "admin", "GET", "/api/v1/audit", nil).body), `"actor_name":"galenix"`) {
			t.Error("the staff's trail does not name galenix")
		}
	})
}

// TestAuditFiltersInWords: the trail is filtered by a person's username or
// name, by a record's human code and by command, on both databases; a name
// of the site's staff finds nothing for a client's user.
func TestAuditFiltersInWords(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "admin", "POST", "/api/v1/buildings", map[string]any{"code": "B77", "name": "Bâtiment 77", "role": string(site.RoleProduction)})
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		for _, person := range []string{"admin", "Ada Admin"} {
			items := e.call(t, "admin", "GET", "/api/v1/audit?limit=1000&person="+url.QueryEscape(person), nil).items(t)
			if len(items) == 0 {
				t.Errorf("person=%s finds nothing", person)
			}
			for _, it := range items {
				if it["actor_id"] != e.accounts["admin"].ID {
					t.Errorf("person=%s: an entry of %v", person, it["actor_name"])
				}
			}
		}
		if n := len(e.call(t, "admin", "GET", "/api/v1/audit?person=nobody", nil).items(t)); n != 0 {
			t.Errorf("person=nobody: %d entries", n)
		}
		if n := len(e.call(t, "client-alpha", "GET", "/api/v1/audit?person=galenix", nil).items(t)) + len(e.call(t, "client-alpha", "GET", "/api/v1/audit?person=admin", nil).items(t)); n != 0 {
			t.Errorf("a client's user finds %d entries of the site's staff by name", n)
		}
		for code, id := range map[string]string{e.line.Code: e.line.ID, e.roomB.Code: e.roomB.ID, "operator": e.accounts["operator"].ID} {
			items := e.call(t, "admin", "GET", "/api/v1/audit?limit=1000&record="+url.QueryEscape(code), nil).items(t)
			if len(items) == 0 {
				t.Errorf("record=%s finds nothing", code)
			}
			for _, it := range items {
				if it["entity_id"] != id {
					t.Errorf("record=%s: an entry of %v %v", code, it["entity"], it["entity_id"])
				}
			}
		}
		items := e.call(t, "admin", "GET", "/api/v1/audit?command=building.create", nil).items(t)
		if len(items) == 0 {
			t.Error("command=building.create finds nothing")
		}
		for _, it := range items {
			if it["command"] != "building.create" {
				t.Errorf("command filter: %v", it["command"])
			}
		}
		// The line's entries name its room by code, not by id.
		named := false
		for _, it := range e.call(t, "admin", "GET", "/api/v1/audit?record="+url.QueryEscape(e.line.Code), nil).items(t) {
			if it["field"] == "room_id" && it["new_label"] == e.roomB.Code {
				named = true
			}
		}
		if !named {
			t.Error("the line's room_id is not labelled with the room's code")
		}
		// The page: filters in words.
		b := e.adminBrowser(t, "admin", "")
		b.get("/audit?person=Ada+Admin&command=building.create").has(t, http.StatusOK, "Bâtiment 77", "Ada Admin")
	})
}
