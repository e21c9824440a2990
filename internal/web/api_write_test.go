package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/store"
	"galenix/internal/web"
)

// TestBadBodies checks that a body the API cannot read is refused with the
// right status, in the error envelope, and writes nothing.
func TestBadBodies(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		targets := []struct {
			name, who, method, path string
			valid                   map[string]any
			// typed is a field of the body, to send with a wrong type.
			typed string
		}{
			{"create line", "admin", "POST", "/api/v1/lines",
				map[string]any{"code": "L2", "name": "Tablets", "room_id": e.roomD.ID, "forms": []string{"tablet"}, "capacity_per_hour": 100}, "capacity_per_hour"},
			{"update line", "admin", "PUT", "/api/v1/lines/" + e.line.ID,
				map[string]any{"code": "L1", "name": "Renamed", "room_id": e.roomB.ID, "sterile": true, "forms": []string{"vial"}, "reason": "rename"}, "sterile"},
			{"create person", "admin", "POST", "/api/v1/people",
				map[string]any{"badge": "0002", "name": "Jean Martin", "job": "Operator"}, "name"},
			{"update room", "admin", "PUT", "/api/v1/rooms/" + e.roomD.ID,
				map[string]any{"building_id": e.building.ID, "code": "R-D", "name": "Packaging", "grade": "C", "temp_min": 15, "temp_max": 25,
					"humidity_min": 20, "humidity_max": 70, "reason": "upgraded"}, "temp_min"},
			{"login", "", "POST", "/api/v1/login",
				map[string]any{"username": "admin", "password": testPassword}, "password"},
		}
		for _, tg := range targets {
			if tg.who != "" {
				e.token(t, tg.who) // sign in before counting the sessions
			}
			valid := mustJSON(t, tg.valid)
			with := func(k string, v any) string {
				m := maps.Clone(tg.valid)
				m[k] = v
				return mustJSON(t, m)
			}
			for _, tt := range []struct {
				name   string
				body   string
				status int
				code   string
				field  string
			}{
				{"larger than 1 MiB", with("name", strings.Repeat("x", web.MaxBody)), http.StatusRequestEntityTooLarge, "too_large", ""},
				{"malformed JSON", valid[:len(valid)-1], http.StatusBadRequest, "invalid", ""},
				{"not JSON", "code=L2&name=x", http.StatusBadRequest, "invalid", ""},
				{"unknown field", with("colour", "red"), http.StatusBadRequest, "invalid", "colour"},
				{"wrong type", with(tg.typed, map[string]any{"nested": true}), http.StatusBadRequest, "invalid", tg.typed},
				{"empty body", "", http.StatusBadRequest, "invalid", ""},
				{"blank body", " \n", http.StatusBadRequest, "invalid", ""},
				{"two JSON values", valid + valid, http.StatusBadRequest, "invalid", ""},
				{"two JSON values with a newline", valid + "\n" + valid, http.StatusBadRequest, "invalid", ""},
				{"array instead of object", "[" + valid + "]", http.StatusBadRequest, "invalid", ""},
				{"string instead of object", `"hello"`, http.StatusBadRequest, "invalid", ""},
			} {
				t.Run(tg.name+"/"+tt.name, func(t *testing.T) {
					before := e.snapshot(t)
					r := e.call(t, tg.who, tg.method, tg.path, tt.body)
					r.wantError(t, tt.status, tt.code, tt.field)
					e.unchanged(t, before)
				})
			}
		}
		got := e.call(t, "admin", "GET", "/api/v1/lines/"+e.line.ID, nil).object(t)
		if got["name"] != e.line.Name {
			t.Errorf("line name %q after refused updates, want %q", got["name"], e.line.Name)
		}
	})
}

// TestValidation checks the rules the API enforces through the services:
// each refusal answers its code and field and writes nothing.
func TestValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		line := func(edit func(m map[string]any)) map[string]any {
			m := map[string]any{"code": "L9", "name": "Syringe filling", "room_id": e.roomB.ID, "sterile": true, "forms": []string{"prefilled_syringe"}}
			if edit != nil {
				edit(m)
			}
			return m
		}
		update := func(edit func(m map[string]any)) map[string]any {
			m := map[string]any{"code": "L1", "name": "Vial filling (renamed)", "room_id": e.roomB.ID, "sterile": true, "forms": []string{"vial"},
				"capacity_per_hour": 6000, "reason": "Renamed after CR-12"}
			if edit != nil {
				edit(m)
			}
			return m
		}
		linePath := "/api/v1/lines/" + e.line.ID
		for _, tt := range []struct {
			name                 string
			who, method, path    string
			body                 any
			lang                 string
			status               int
			code, field, message string
		}{
			{"sterile line in a grade D room", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["room_id"] = e.roomD.ID }), "",
				400, "invalid", "room_id", "grade A, B or C; room R-D is grade D"},
			{"sterile line in a grade D room, in French", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["room_id"] = e.roomD.ID }), "fr-FR,fr;q=0.9",
				400, "invalid", "room_id", "classe A, B ou C ; la salle R-D est de classe D"},
			{"moving a sterile line to a grade D room", "admin", "PUT", linePath, update(func(m map[string]any) { m["room_id"] = e.roomD.ID }), "",
				400, "invalid", "room_id", "grade D"},
			{"sterile line, non-sterile form", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["forms"] = []string{"tablet"} }), "",
				400, "invalid", "forms", "tablet"},
			{"line in a room that does not exist", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["room_id"] = uuid.NewString() }), "",
				400, "invalid", "room_id", ""},
			{"unknown grade", "admin", "POST", "/api/v1/rooms", map[string]any{"building_id": e.building.ID, "code": "R-X", "name": "X", "grade": "E",
				"temp_min": 18, "temp_max": 24, "humidity_min": 30, "humidity_max": 60}, "", 400, "invalid", "grade", "A, B, C, D, CNC, U"},
			{"duplicate line code", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["code"] = "L1" }), "",
				409, "conflict", "code", "cannot be used"},
			{"duplicate line code, in French", "admin", "POST", "/api/v1/lines", line(func(m map[string]any) { m["code"] = "L1" }), "fr",
				409, "conflict", "code", "ne peut pas être utilisé"},
			{"duplicate badge", "admin", "POST", "/api/v1/people", map[string]any{"badge": "0001", "name": "Twin", "job": "Operator"}, "",
				409, "conflict", "badge", ""},
			{"duplicate code on update", "admin", "PUT", "/api/v1/rooms/" + e.roomD.ID, map[string]any{"building_id": e.building.ID, "code": "R-B",
				"name": "Packaging", "grade": "D", "temp_min": 15, "temp_max": 25, "humidity_min": 20, "humidity_max": 70, "reason": "x"}, "",
				409, "conflict", "code", ""},
			{"operator creates a line", "operator", "POST", "/api/v1/lines", line(nil), "", 403, "forbidden", "", "administrator"},
			{"operator creates a building", "operator", "POST", "/api/v1/buildings", map[string]any{"code": "B99", "name": "New", "role": "offices"}, "",
				403, "forbidden", "", ""},
			{"operator changes a line", "operator", "PUT", linePath, update(nil), "", 403, "forbidden", "", ""},
			{"client user creates a person", "client-alpha", "POST", "/api/v1/people", map[string]any{"badge": "0009", "name": "X", "job": "Y"}, "",
				403, "forbidden", "", ""},
			{"operator is refused in French", "operator", "POST", "/api/v1/lines", line(nil), "fr", 403, "forbidden", "", "Seul un administrateur"},
			{"update without reason", "admin", "PUT", linePath, update(func(m map[string]any) { delete(m, "reason") }), "",
				400, "invalid", "reason", "reason is required"},
			{"update with a blank reason", "admin", "PUT", linePath, update(func(m map[string]any) { m["reason"] = "  " }), "",
				400, "invalid", "reason", ""},
			{"update with a reason that is not text", "admin", "PUT", linePath, update(func(m map[string]any) { m["reason"] = 42 }), "",
				400, "invalid", "reason", ""},
			{"update without reason, in French", "admin", "PUT", linePath, update(func(m map[string]any) { delete(m, "reason") }), "fr",
				400, "invalid", "reason", "une raison est exigée"},
			{"update of a line that does not exist", "admin", "PUT", "/api/v1/lines/" + uuid.NewString(), update(nil), "",
				404, "not_found", "", "No such production line."},
			{"update of a malformed id", "admin", "PUT", "/api/v1/lines/42", update(nil), "", 404, "not_found", "", ""},
			{"equipment due on a date not in RFC 3339", "admin", "POST", "/api/v1/equipment", map[string]any{"code": "E9", "name": "Autoclave",
				"kind": "autoclave", "line_id": e.line.ID, "qualification_due": "2027-06-30"}, "", 400, "invalid", "", "RFC 3339"},
			{"equipment due on a date not in RFC 3339, in French", "admin", "PUT", "/api/v1/equipment/" + e.equipment.ID, map[string]any{"code": "E1",
				"name": "Filler", "kind": "filler", "line_id": e.line.ID, "qualification_due": "30/06/2027", "reason": "x"}, "fr", 400, "invalid", "", "format RFC 3339"},
			{"people limit 0", "operator", "GET", "/api/v1/people?limit=0", nil, "", 400, "invalid", "limit", ""},
			{"people limit too high", "operator", "GET", "/api/v1/people?limit=1001", nil, "", 400, "invalid", "limit", ""},
			{"people limit not a number", "operator", "GET", "/api/v1/people?limit=ten", nil, "", 400, "invalid", "limit", ""},
			{"people negative offset", "operator", "GET", "/api/v1/people?offset=-1", nil, "fr", 400, "invalid", "offset", "Le décalage"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.token(t, tt.who) // sign in before counting the sessions
				before := e.snapshot(t)
				r := e.call(t, tt.who, tt.method, tt.path, tt.body, "Accept-Language", tt.lang)
				got := r.wantError(t, tt.status, tt.code, tt.field)
				if !strings.Contains(got.Message, tt.message) {
					t.Errorf("message %q, want it to contain %q", got.Message, tt.message)
				}
				e.unchanged(t, before)
			})
		}
		if got := e.call(t, "admin", "GET", linePath, nil).object(t); got["name"] != e.line.Name || got["room_id"] != e.roomB.ID {
			t.Errorf("line after refused changes: %v, want it unchanged", got)
		}
	})
}

// TestNotFound checks every route that names a record by id answers 404 in
// the envelope for an unknown id and for an id that is not a UUID.
func TestNotFound(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := 0
		for _, rt := range e.web.Routes() {
			if rt.Method != "GET" || !strings.HasPrefix(rt.Path, "/api/") || !strings.Contains(rt.Path, "{id}") {
				continue
			}
			n++
			for _, id := range []string{uuid.NewString(), newUUID(t), "not-a-uuid", "1", "' OR '1'='1"} {
				t.Run(rt.Path+"/"+id, func(t *testing.T) {
					path := withID(rt.Path, strings.ReplaceAll(id, " ", "%20"))
					en := e.call(t, "admin", "GET", path, nil).wantError(t, http.StatusNotFound, "not_found", "")
					fr := e.call(t, "admin", "GET", path, nil, "Accept-Language", "fr").wantError(t, http.StatusNotFound, "not_found", "")
					if en.Message == fr.Message {
						t.Errorf("the French message is the English one: %q", fr.Message)
					}
				})
			}
		}
		if n < 8 {
			t.Errorf("only %d GET routes by id; are the routes registered?", n)
		}
	})
}

// TestCreateAndUpdate creates one record of each kind through the API,
// reads it back, changes it with a reason, and checks the audit trail.
func TestCreateAndUpdate(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, tt := range []struct {
			entity, path string
			create       map[string]any
			change       map[string]any // the fields to change
		}{
			{"building", "/api/v1/buildings", map[string]any{"code": "B40", "name": "Bâtiment 40", "role": "production_nonsterile"},
				map[string]any{"name": "Bâtiment 40 bis"}},
			{"room", "/api/v1/rooms", map[string]any{"building_id": e.building.ID, "code": "R-C", "name": "Terminal sterilisation", "grade": "C",
				"temp_min": 18, "temp_max": 24, "humidity_min": 30, "humidity_max": 60, "cascades_to": e.roomD.ID, "pressure_diff_pa": 10},
				map[string]any{"pressure_diff_pa": 15}},
			{"line", "/api/v1/lines", map[string]any{"code": "L2", "name": "Tablets", "room_id": e.roomD.ID, "forms": []string{"tablet", "capsule"}},
				map[string]any{"status": "maintenance"}},
			{"equipment", "/api/v1/equipment", map[string]any{"code": "E2", "name": "Autoclave", "kind": "autoclave", "line_id": e.line.ID,
				"qualification_due": "2027-06-30T00:00:00Z"}, map[string]any{"status": "dirty"}},
			{"shift", "/api/v1/shifts", map[string]any{"code": "NIGHT", "name": "Night", "kind": "night", "start": "21:00", "end": "05:00"},
				map[string]any{"end": "06:00"}},
			{"team", "/api/v1/teams", map[string]any{"code": "T2", "name": "Team two", "shift_id": e.shift.ID},
				map[string]any{"building_id": e.building.ID}},
			{"person", "/api/v1/people", map[string]any{"badge": "0002", "name": "Jean Martin", "job": "Technician", "team_id": e.team.ID},
				map[string]any{"job": "Senior technician"}},
		} {
			t.Run(tt.entity, func(t *testing.T) {
				r := e.call(t, "admin", "POST", tt.path, tt.create)
				if r.status != http.StatusCreated {
					t.Fatalf("create: status %d, want 201: %s", r.status, r.body)
				}
				created := r.object(t)
				id, _ := created["id"].(string)
				if u, err := uuid.Parse(id); err != nil || u.Version() != 7 {
					t.Fatalf("created id %q is not a UUIDv7", id)
				}
				for k, v := range tt.create {
					if mustJSON(t, created[k]) != mustJSON(t, v) {
						t.Errorf("created %s: got %s, want %s", k, mustJSON(t, created[k]), mustJSON(t, v))
					}
				}
				got := e.call(t, "operator", "GET", tt.path+"/"+id, nil)
				if got.status != http.StatusOK || mustJSON(t, got.object(t)) != mustJSON(t, created) {
					t.Errorf("GET after create: %d %s, want %s", got.status, got.body, mustJSON(t, created))
				}
				entries := e.auditEntries(t, audit.Filter{Entity: tt.entity, EntityID: id})
				if len(entries) == 0 {
					t.Fatalf("no audit entry for the creation")
				}
				for _, en := range entries {
					if en.ActorID != e.accounts["admin"].ID || en.Command != tt.entity+".create" || en.Old != "" || en.Reason != "" {
						t.Errorf("creation entry %+v", en)
					}
				}

				// A PUT of the record as GET answers it changes nothing
				// and needs no reason.
				before := e.snapshot(t)
				if r := e.call(t, "admin", "PUT", tt.path+"/"+id, created); r.status != http.StatusOK {
					t.Errorf("PUT unchanged: status %d, want 200: %s", r.status, r.body)
				}
				e.unchanged(t, before)

				changed := maps.Clone(created)
				maps.Copy(changed, tt.change)
				changed["id"] = uuid.NewString() // ignored: the path names the record
				changed["reason"] = "Change request CR-" + tt.entity
				r = e.call(t, "admin", "PUT", tt.path+"/"+id, changed)
				if r.status != http.StatusOK {
					t.Fatalf("update: status %d, want 200: %s", r.status, r.body)
				}
				updated := r.object(t)
				delete(changed, "reason")
				changed["id"] = id
				changed["version"] = created["version"].(float64) + 1
				if tt.entity == "line" {
					// A line's state is derived, not written: set in
					// maintenance, it is out of service.
					changed["state"] = "out_of_service"
				}
				if mustJSON(t, updated) != mustJSON(t, changed) {
					t.Errorf("updated: got %s, want %s", mustJSON(t, updated), mustJSON(t, changed))
				}
				got = e.call(t, "operator", "GET", tt.path+"/"+id, nil)
				if mustJSON(t, got.object(t)) != mustJSON(t, updated) {
					t.Errorf("GET after update: %s, want %s", got.body, mustJSON(t, updated))
				}
				var changes []audit.Entry
				for _, en := range e.auditEntries(t, audit.Filter{Entity: tt.entity, EntityID: id}) {
					if en.Command == tt.entity+".update" {
						changes = append(changes, en)
					}
				}
				if len(changes) != len(tt.change) {
					t.Fatalf("%d update entries, want %d (one per changed field): %+v", len(changes), len(tt.change), changes)
				}
				for _, en := range changes {
					if _, ok := tt.change[en.Field]; !ok || en.Reason != "Change request CR-"+tt.entity || en.ActorID != e.accounts["admin"].ID || en.New == "" {
						t.Errorf("update entry %+v", en)
					}
				}
			})
		}
	})
}

// TestCreateIgnoresID checks a creation body's id does not name the record.
func TestCreateIgnoresID(t *testing.T) {
	e := newEnv(t, store.SQLite)
	want := e.building.ID
	r := e.call(t, "admin", "POST", "/api/v1/buildings", map[string]any{"id": want, "code": "B70", "name": "Bâtiment 70", "role": "warehouse"})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got struct{ ID string }
	if err := json.Unmarshal(r.body, &got); err != nil || got.ID == want || got.ID == "" {
		t.Errorf("created id %q: want a new one, not the body's %q", got.ID, want)
	}
}
