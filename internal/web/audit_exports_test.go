package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"galenix/internal/store"
)

// TestAuditExportsInWords: the CSV and PDF copies of the trail give the
// command, the kind of record and the field in the reader's language and
// name the records (the line by its code, its room by the room's code),
// and the CSV keeps the stored codes, ids and values in columns of their
// own.
func TestAuditExportsInWords(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// A line made through the API, in the packaging room.
		r := e.call(t, "admin", "POST", "/api/v1/lines", map[string]any{"code": "L7", "name": "Tablets", "room_id": e.roomD.ID,
			"forms": []string{"tablet"}, "capacity_per_hour": 1200})
		if r.status != http.StatusCreated {
			t.Fatalf("create a line: %d %s", r.status, r.body)
		}
		line, room := r.object(t), e.roomD
		lineID := line["id"].(string)
		q := "record=L7"
		for _, c := range []struct {
			lang                                     string
			command, record, field, created, changed string
		}{
			{"fr", "Création d'une ligne", "Ligne", "Salle", "nom de l'enregistrement", "nouvelle valeur (enregistrée)"},
			{"en", "Line created", "Line", "Room", "record name", "new value (stored)"},
		} {
			rows := csvRows(t, e.call(t, "admin", "GET", "/api/v1/audit/export.csv?lang="+c.lang+"&"+q, nil))
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			if _, ok := col[c.created]; !ok {
				t.Fatalf("%s: no column %q in %v", c.lang, c.created, rows[0])
			}
			found := false
			for _, row := range rows[1:] {
				if row[col[c.created]] != "L7" || row[13] != lineID || row[12] != "line" {
					t.Errorf("%s: a row of the line names it %q, id %q, kind %q", c.lang, row[col[c.created]], row[13], row[12])
				}
				if row[14] != "room_id" {
					continue
				}
				found = true
				// In words: the command, the kind, the field, the
				// room by its code; stored: the codes and the id.
				want := []string{c.command, c.record, "L7", c.field, "", room.Code}
				if got := row[3:9]; !slices.Equal(got, want) {
					t.Errorf("%s: the room's row in words %q, want %q", c.lang, got, want)
				}
				if row[11] != "line.create" || row[col[c.changed]] != room.ID {
					t.Errorf("%s: the stored command %q and value %q, want line.create and %s", c.lang, row[11], row[col[c.changed]], room.ID)
				}
				if strings.Contains(strings.Join(row[:11], " "), room.ID) {
					t.Errorf("%s: the columns in words hold the room's id: %q", c.lang, row[:11])
				}
			}
			if !found {
				t.Errorf("%s: no row of the line's room_id in %q", c.lang, rows)
			}
		}

		// The PDF: the same words and names, the stored codes under them.
		txt := pdfText(t, e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?lang=fr&"+q, nil))
		for _, s := range []string{"Création d'une", "ligne", "Salle", room.Code, "line.create", "room_id", "Bâtiment", "B30"} {
			if !strings.Contains(txt, s) {
				t.Errorf("the French PDF lacks %q:\n%s", s, txt)
			}
		}
		if strings.Contains(txt, room.ID[:18]) {
			t.Errorf("the PDF gives the room's id rather than its code:\n%s", txt)
		}
		txt = pdfText(t, e.call(t, "admin", "GET", "/api/v1/audit/export.pdf?lang=en&"+q, nil))
		for _, s := range []string{"Line created", "Room", "Building", "R-D"} {
			if !strings.Contains(txt, s) {
				t.Errorf("the English PDF lacks %q:\n%s", s, txt)
			}
		}
	})
}

// TestAuditClientSeesNoSiteStaff: a client's user reading the trail of its
// own batches (GET /api/v1/audit, its CSV and its PDF) meets "site staff",
// never a name, a username or an account id of the site's people, in any
// column or value; quality assurance reading the same entries sees them.
func TestAuditClientSeesNoSiteStaff(t *testing.T) {
	e := newEnv(t, store.SQLite)
	w := exerciseProduction(t, e)
	var names, ids, users []string
	for _, u := range []string{"admin", "operator", "supervisor", "qa"} {
		a := e.accounts[u]
		names, ids, users = append(names, a.Name), append(ids, a.ID), append(users, a.Username)
	}
	names = append(names, staffNames...)
	// leaks lists what of the site's people a text holds.
	leaks := func(s string) []string {
		var out []string
		for _, v := range append(append([]string{}, names...), ids...) {
			if v != "" && strings.Contains(s, v) {
				out = append(out, v)
			}
		}
		return out
	}

	// The API: every entry of the client's batches.
	items := e.call(t, "client-alpha", "GET", "/api/v1/audit?limit=1000", nil).items(t)
	onBatch, staff := 0, 0
	for _, it := range items {
		if it["entity"] == "batch" || it["entity"] == "batch_step" || it["entity"] == "batch_review" {
			onBatch++
		}
		if it["actor_staff"] == true {
			staff++
		}
		for k, v := range it {
			s, _ := v.(string)
			if l := leaks(s); len(l) > 0 || slices.Contains(users, s) && k != "command" && k != "entity" && k != "field" {
				t.Errorf("entry %v: %s = %q names a person of the site", it["seq"], k, s)
			}
		}
	}
	if onBatch == 0 || staff == 0 {
		t.Fatalf("%d entries of the client's batches, %d by the site's staff: the test proves nothing", onBatch, staff)
	}
	// Filtering by a staff member's id tells the client nothing of what
	// that person did, though staff sees those entries by the same filter.
	for _, u := range []string{"supervisor", "qa"} {
		id := e.accounts[u].ID
		if n := len(e.call(t, "admin", "GET", "/api/v1/audit?limit=1000&actor="+id, nil).items(t)); n == 0 {
			t.Fatalf("the staff finds no entry of %s by its id: the test proves nothing", u)
		}
		if got := e.call(t, "client-alpha", "GET", "/api/v1/audit?limit=1000&actor="+id, nil).items(t); len(got) != 0 {
			t.Errorf("filtering by the id of %s, the client finds %d entries of that person", u, len(got))
		}
	}

	// The CSV, every cell.
	rows := csvRows(t, e.call(t, "client-alpha", "GET", "/api/v1/audit/export.csv?lang=fr", nil))
	if len(rows)-1 != len(items) {
		t.Errorf("the CSV holds %d entries, the API %d", len(rows)-1, len(items))
	}
	sawStaff := false
	for _, row := range rows[1:] {
		for i, cell := range row {
			if l := leaks(cell); len(l) > 0 || slices.Contains(users, cell) {
				t.Errorf("CSV row %s, column %q: %q names a person of the site", row[0], rows[0][i], cell)
			}
		}
		sawStaff = sawStaff || row[2] == "Personnel du site"
	}
	if !sawStaff {
		t.Error("the client's CSV never says site staff")
	}

	// The PDF of the batch and its steps: their entries and their
	// signatures.
	lot, _ := e.call(t, "qa", "GET", "/api/v1/batches/"+w.reviewed, nil).object(t)["lot"].(string)
	if lot == "" {
		t.Fatal("the batch has no lot")
	}
	ofBatch := "record=" + url.QueryEscape(lot)
	txt := pdfText(t, e.call(t, "client-alpha", "GET", "/api/v1/audit/export.pdf?lang=fr&"+ofBatch, nil))
	if !strings.Contains(txt, "Personnel du site") || !strings.Contains(txt, lot) {
		t.Errorf("the client's PDF of its batch lacks site staff or the batch:\n%s", txt)
	}
	// The whole trail the client may read.
	txt += pdfText(t, e.call(t, "client-alpha", "GET", "/api/v1/audit/export.pdf?lang=fr", nil))
	// A name or an id may wrap in a narrow column: look for each part.
	for _, n := range names {
		for _, part := range strings.Fields(n) {
			if len(part) > 3 && strings.Contains(txt, part) {
				t.Errorf("the client's PDF holds %q of %q", part, n)
			}
		}
	}
	for _, id := range ids {
		// The random end of the id (its start is a time, shared).
		if strings.Contains(txt, id[len(id)-12:]) {
			t.Errorf("the client's PDF holds the account id %s", id)
		}
	}

	// Quality assurance reads the same entries with their people.
	qa := e.call(t, "qa", "GET", "/api/v1/audit?limit=1000&"+ofBatch, nil).items(t)
	named := false
	for _, it := range qa {
		named = named || it["actor_name"] == "Sonia Superviseure" && it["actor_id"] == e.accounts["supervisor"].ID
	}
	if !named {
		t.Error("quality assurance does not see who changed the batch")
	}
	csvQA := csvRows(t, e.call(t, "qa", "GET", "/api/v1/audit/export.csv?"+ofBatch, nil))
	if !slices.ContainsFunc(csvQA[1:], func(r []string) bool { return r[2] == "Sonia Superviseure" }) {
		t.Error("quality assurance's CSV does not name the supervisor")
	}
	if txt := pdfText(t, e.call(t, "qa", "GET", "/api/v1/audit/export.pdf?"+ofBatch, nil)); !strings.Contains(txt, "Superviseure") {
		t.Errorf("quality assurance's PDF does not name the supervisor:\n%s", txt)
	}
}
