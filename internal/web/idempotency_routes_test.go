package web_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// writeOp is one write operation of docs/openapi.yaml.
type writeOp struct {
	id, method, path string
	public           bool
}

// writeOps reads every write operation (POST, PUT, PATCH, DELETE) of the
// API document, and checks that each one that needs a session documents
// the Idempotency-Key header and the Idempotent-Replayed answer header.
func writeOps(t *testing.T) []writeOp {
	t.Helper()
	_, doc := openapiDoc(t)
	var out []writeOp
	for path, item := range at(t, doc, "paths").(map[string]any) {
		for k, v := range item.(map[string]any) {
			if !slices.Contains([]string{"post", "put", "patch", "delete"}, k) {
				continue
			}
			op := v.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s %s has no operationId", strings.ToUpper(k), path)
			}
			sec, hasSec := op["security"]
			w := writeOp{id: id, method: strings.ToUpper(k), path: path, public: hasSec && fmt.Sprint(sec) == "[]"}
			out = append(out, w)
			if w.public {
				continue // no account to scope a key by (sign-in)
			}
			if !strings.Contains(fmt.Sprint(op["parameters"]), "#/components/parameters/IdempotencyKey") {
				t.Errorf("%s %s does not document the Idempotency-Key header", w.method, path)
			}
			for status, resp := range op["responses"].(map[string]any) {
				if strings.HasPrefix(status, "2") && !strings.Contains(fmt.Sprint(resp), "#/components/headers/IdempotentReplayed") {
					t.Errorf("%s %s: answer %s does not document the Idempotent-Replayed header", w.method, path, status)
				}
			}
			if _, ok := op["responses"].(map[string]any)["422"]; !ok {
				t.Errorf("%s %s does not document 422 (idempotency_mismatch)", w.method, path)
			}
			if _, ok := op["responses"].(map[string]any)["409"]; !ok {
				t.Errorf("%s %s does not document 409 (idempotency_applied)", w.method, path)
			}
		}
	}
	slices.SortFunc(out, func(a, b writeOp) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	if len(out) < 40 {
		t.Fatalf("only %d write operations in the document", len(out))
	}
	return out
}

// idemRequest is one write as a case of TestIdempotencyEveryWriteRoute
// sends it.
type idemRequest struct {
	who  string // who signs in; "" when tok is set
	tok  string // a session of the case's own
	path string
	body any
	// secret: the answer holds a secret shown only once, which is not
	// kept: the retry answers 409 idempotency_applied.
	secret bool
	// endsSession: the write ends the caller's session: the retry answers
	// 401 and changes nothing.
	endsSession bool
	// contentType is the body's, when not JSON (an instrument's CSV).
	contentType string
}

// idemTables are the tables whose rows a replay must leave as they are.
var idemTables = []string{"sites", "buildings", "rooms", "lines", "equipment", "shifts", "teams", "people", "clients",
	"accounts", "sessions", "password_history", "client_assignments", "api_tokens", "security_events", "settings",
	"signatures", "signature_challenges", "products", "materials", "material_lots", "masters", "orders", "batches",
	"batch_steps", "consumptions", "deviations", "line_windows", "audit_log",
	"specs", "samples", "results", "oos_investigations",
	"environment_sensors", "environment_limits", "environment_readings", "environment_gaps", "environment_refusals",
	"documents", "document_versions", "client_keys", "client_legal_holds", "client_key_shreddings", "projects", "project_entries", "qualifications", "access_zones", "access_readers", "access_events", "musters", "muster_people", "visits",
	"controlled_establishment", "controlled_substances", "controlled_containers", "controlled_movements", "controlled_discharges",
	"controlled_alerts", "controlled_counts",
	"infra_zones", "infra_assets", "infra_dependencies", "infra_conduits", "infra_flows", "infra_checks", "infra_plans"}

// rows counts the rows of every table a write may change.
func (e *env) rows(t *testing.T) map[string]int {
	t.Helper()
	out, err := e.db.Counts(identity.WithActor(context.Background(), identity.System), idemTables...)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	return out
}

// TestIdempotencyEveryWriteRoute sends every write operation of the API
// document, with a valid body, twice with the same Idempotency-Key: the
// first is applied; the second gets the first answer (status and body, but
// for the request id), marked Idempotent-Replayed, and changes no row of
// any table nor the audit trail. The operations come from the document, not
// from a list: one without a case here fails the test, so a new write route
// cannot be forgotten. A key that is not a key is refused on every route.
func TestIdempotencyEveryWriteRoute(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cases := idemCases(t, e)
		seen := map[string]bool{}
		replays, counted := 0, replayCount(t, e)
		for _, op := range writeOps(t) {
			if op.public {
				continue
			}
			seen[op.id] = true
			prepare, ok := cases[op.id]
			if !ok {
				t.Errorf("%s (%s %s) has no case in idemCases: add one, with a body it accepts", op.id, op.method, op.path)
				continue
			}
			t.Run(op.id, func(t *testing.T) {
				req := prepare(t)
				send := func(key string) reply {
					t.Helper()
					hdr := []string{"Idempotency-Key", key}
					if req.tok != "" {
						hdr = append(hdr, "Authorization", "Bearer "+req.tok)
					}
					if req.contentType != "" {
						hdr = append(hdr, "Content-Type", req.contentType)
					}
					return e.call(t, req.who, op.method, req.path, req.body, hdr...)
				}
				if req.who != "" {
					e.token(t, req.who) // signed in before the counts
				}
				before := e.rows(t)
				bad := send(strings.Repeat("k", 201))
				bad.wantError(t, http.StatusBadRequest, "invalid", "Idempotency-Key")
				if after := e.rows(t); !maps.Equal(after, before) {
					t.Errorf("a refused key wrote: %v, before %v", after, before)
				}

				key := newUUID(t)
				first := send(key)
				if first.status/100 != 2 {
					t.Fatalf("the case's request is refused, fix its body: %d %s", first.status, first.body)
				}
				if first.header.Get("Idempotent-Replayed") != "" {
					t.Errorf("the first answer is marked replayed")
				}
				applied := e.rows(t)
				if maps.Equal(applied, before) {
					t.Errorf("the first request changed nothing: the test would not see a second application")
				}
				second := send(key)
				if after := e.rows(t); !maps.Equal(after, applied) {
					t.Errorf("sent again with its key, the request wrote: %v, after the first %v", after, applied)
				}
				switch {
				case req.endsSession:
					second.wantError(t, http.StatusUnauthorized, "unauthorized", "")
				case req.secret:
					second.wantError(t, http.StatusConflict, "idempotency_applied", "")
				default:
					if second.status != first.status || !sameAnswer(first.body, second.body) {
						t.Errorf("sent again with its key: %d %s; first %d %s", second.status, second.body, first.status, first.body)
					}
					if second.header.Get("Idempotent-Replayed") != "true" {
						t.Errorf("the replay is not marked Idempotent-Replayed")
					}
					replays++
					for _, h := range []string{"Content-Type", "Location", "ETag"} {
						if second.header.Get(h) != first.header.Get(h) {
							t.Errorf("replayed %s %q, first %q", h, second.header.Get(h), first.header.Get(h))
						}
					}
				}
			})
		}
		for id := range cases {
			if !seen[id] {
				t.Errorf("case %s names no write operation of the document: remove it", id)
			}
		}
		if got := replayCount(t, e) - counted; got != replays {
			t.Errorf("galenix_idempotent_replays_total grew by %d, want %d (the replays)", got, replays)
		}
	})
}

// replayCount reads galenix_idempotent_replays_total from /metrics.
func replayCount(t *testing.T, e *env) int {
	t.Helper()
	r := e.call(t, "", "GET", "/metrics", nil)
	m := regexp.MustCompile(`(?m)^galenix_idempotent_replays_total (\d+)$`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no galenix_idempotent_replays_total in /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// idemCases are, by operationId, functions that prepare what one write
// needs (as the API would, without a key) and return a request the write
// accepts. Each is self-contained: the order the operations run in does
// not matter.
func idemCases(t *testing.T, e *env) map[string]func(t *testing.T) idemRequest {
	p := newProdEnv(t, e, "supervisor")
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("IDEM-CEF"))
	p.effectiveMaster(t, product, "MBR-IDEM") // orders need one
	n := 0
	code := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }
	ok := func(t *testing.T, r reply, status int, what string) reply {
		t.Helper()
		return p.ok(t, r, status, what)
	}
	// edited is the record the path names, as GET answers it, changed.
	edited := func(t *testing.T, who, path, field string, value any) map[string]any {
		t.Helper()
		rec := ok(t, e.call(t, who, "GET", path, nil), http.StatusOK, "GET "+path).object(t)
		rec[field], rec["reason"] = value, "Idempotency test"
		return rec
	}
	// infraAsset records an asset of the infrastructure; infraZone a zone.
	itAccount(t, e)
	infraAsset := func(t *testing.T) string {
		return created(t, e, "it", "/api/v1/infra/assets", map[string]any{"code": code("A-"), "name": "Switch", "kind": "switch",
			"building_id": e.building.ID, "isa95_level": 2})
	}
	infraZone := func(t *testing.T) string {
		return created(t, e, "it", "/api/v1/infra/zones", map[string]any{"code": code("Z-"), "name": "Zone", "target_sl": 2})
	}
	infraConduit := func(t *testing.T) string {
		return created(t, e, "it", "/api/v1/infra/conduits", map[string]any{"code": code("C-"), "name": "Conduit", "zone_a_id": infraZone(t),
			"zone_b_id": infraZone(t), "target_sl": 2, "services": []string{"tcp/443"}})
	}
	infraCheck := func(t *testing.T) string {
		return created(t, e, "it", "/api/v1/infra/checks", map[string]any{"asset_id": infraAsset(t), "kind": "tcp", "target": "10.0.0.1:22"})
	}
	// ctrlSubstanceBody is a new controlled substance; ctrlVault records
	// one with its vault container.
	ctrlSubstanceBody := func(c string) map[string]any {
		return map[string]any{"code": c, "name": "Morphine", "class": "narcotic", "unit": "g", "client_id": e.alpha.ID}
	}
	ctrlVault := func(t *testing.T) (string, string) {
		t.Helper()
		sub := p.created(t, "qa", "/api/v1/controlled/substances", ctrlSubstanceBody(code("S-")))
		return sub, p.created(t, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": code("C-"),
			"lot_code": "S-1", "place": "Coffre", "place_kind": "vault"})
	}
	// maintainer is a maintenance technician, created once.
	maintainer := func(t *testing.T) string {
		t.Helper()
		if _, ok := e.accounts["idem-maint"]; !ok {
			hash, err := passwordHash()
			if err != nil {
				t.Fatal(err)
			}
			a := identity.Account{Username: "idem-maint", Name: "Idem Maintenance", Roles: []identity.Role{identity.RoleMaintenance}}
			if err := e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(_ context.Context, h *store.History) error {
				return h.CreateAccount(&a, hash)
			}); err != nil {
				t.Fatal(err)
			}
			e.accounts[a.Username] = a
		}
		return "idem-maint"
	}
	// dirtyEquipment creates a dirty piece of equipment and returns its id.
	dirtyEquipment := func(t *testing.T) string {
		t.Helper()
		return p.created(t, "supervisor", "/api/v1/equipment", map[string]any{"code": code("E-IDEM-"), "name": "Idem pump", "kind": "pump",
			"line_id": e.line.ID, "status": "dirty", "qualification_due": time.Now().AddDate(1, 0, 0).UTC().Format("2006-01-02") + "T00:00:00Z"})
	}
	// account creates an account and returns its id.
	account := func(t *testing.T, username string) string {
		t.Helper()
		return ok(t, e.call(t, "admin", "POST", "/api/v1/accounts", map[string]any{"username": username, "name": "Idem " + username,
			"roles": []string{"operator"}, "password": testPassword, "reason": "Idempotency test"}), http.StatusCreated, "create account").object(t)["id"].(string)
	}
	// session creates an account and signs it in; with settled, its first
	// password is changed, so that nothing is pending.
	session := func(t *testing.T, settled bool) string {
		t.Helper()
		u := strings.ToLower(code("idem-user-"))
		account(t, u)
		tok := tokenOf(t, e.login(t, "username", u, "password", testPassword))
		if !settled {
			return tok
		}
		ok(t, e.with(t, tok, "POST", "/api/v1/password", map[string]string{"current": testPassword, "new": testPassword + " settled"}),
			http.StatusNoContent, "first password change")
		return tokenOf(t, e.login(t, "username", u, "password", testPassword+" settled"))
	}
	// nextSlot is the next free slot of e.line: a batch takes two hours,
	// and two more are needed for the changeover.
	slotN := 0
	nextSlot := func() time.Time {
		s := slot(time.Monday+time.Weekday(slotN/2), 6+4*(slotN%2))
		slotN++
		return s
	}
	// batch orders a batch, and with released schedules and releases it.
	batch := func(t *testing.T, released bool) string {
		t.Helper()
		b := p.order(t, product, 1)[0]
		if released {
			ok(t, p.schedule(t, b, e.line.ID, nextSlot()), http.StatusOK, "schedule")
			p.move(t, "supervisor", "/api/v1/batches/"+b, "release", "released")
		}
		return b
	}
	site := func(path string, body map[string]any) func(t *testing.T) idemRequest {
		return func(t *testing.T) idemRequest { return idemRequest{who: "admin", path: path, body: body} }
	}
	rename := func(path, id string) func(t *testing.T) idemRequest {
		return func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: path + "/" + id, body: edited(t, "admin", path+"/"+id, "name", code("Renamed "))}
		}
	}
	cases := map[string]func(t *testing.T) idemRequest{
		// The session and the account's own security.
		"logout": func(t *testing.T) idemRequest {
			return idemRequest{tok: session(t, true), path: "/api/v1/logout", endsSession: true}
		},
		"changePassword": func(t *testing.T) idemRequest {
			return idemRequest{tok: session(t, false), path: "/api/v1/password",
				body: map[string]string{"current": testPassword, "new": testPassword + " changed"}}
		},
		"revokeSessions": func(t *testing.T) idemRequest {
			return idemRequest{tok: session(t, true), path: "/api/v1/sessions/revoke-all", endsSession: true}
		},
		"enrollTOTP": func(t *testing.T) idemRequest {
			return idemRequest{tok: session(t, true), path: "/api/v1/totp/enroll", secret: true}
		},
		"confirmTOTP": func(t *testing.T) idemRequest {
			tok := session(t, true)
			var en identity.TOTPEnrollment
			ok(t, e.with(t, tok, "POST", "/api/v1/totp/enroll", nil), http.StatusOK, "enroll").decode(t, &en)
			c, err := identity.TOTPCode(en.Secret, e.db.Now())
			if err != nil {
				t.Fatal(err)
			}
			return idemRequest{tok: tok, path: "/api/v1/totp/confirm", body: map[string]string{"code": c}}
		},
		"updatePolicy": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/policy", body: edited(t, "admin", "/api/v1/policy", "history", 7)}
		},
		"acknowledgeSecurityEvent": func(t *testing.T) idemRequest {
			e.login(t, "username", code("nobody-"), "password", "not a password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
			events := e.call(t, "admin", "GET", "/api/v1/security/events?open=true", nil).items(t)
			if len(events) == 0 {
				t.Fatal("no open security event")
			}
			return idemRequest{who: "admin", path: "/api/v1/security/events/" + events[0]["id"].(string) + "/acknowledge"}
		},

		// The site model.
		"createBuilding": site("/api/v1/buildings", map[string]any{"code": "B-IDEM", "name": "Bâtiment idem", "role": "warehouse"}),
		"updateBuilding": rename("/api/v1/buildings", e.building.ID),
		"createRoom": site("/api/v1/rooms", map[string]any{"building_id": e.building.ID, "code": "R-IDEM", "name": "Room idem", "grade": "C",
			"temp_min": 18, "temp_max": 24, "humidity_min": 30, "humidity_max": 60}),
		"updateRoom":      rename("/api/v1/rooms", e.roomD.ID),
		"createLine":      site("/api/v1/lines", map[string]any{"code": "L-IDEM", "name": "Tablets idem", "room_id": e.roomD.ID, "forms": []string{"tablet"}}),
		"updateLine":      rename("/api/v1/lines", e.line.ID),
		"createEquipment": site("/api/v1/equipment", map[string]any{"code": "E-IDEM", "name": "Autoclave", "kind": "autoclave", "line_id": e.line.ID, "qualification_due": "2027-06-30T00:00:00Z"}),
		"updateEquipment": rename("/api/v1/equipment", e.equipment.ID),
		"maintainEquipment": func(t *testing.T) idemRequest {
			return idemRequest{who: maintainer(t), path: "/api/v1/equipment/" + dirtyEquipment(t) + "/actions",
				body: map[string]any{"action": "clean", "reason": "Wiped with IPA"}}
		},
		"renewEquipmentQualification": func(t *testing.T) idemRequest {
			who, id := maintainer(t), dirtyEquipment(t)
			b := map[string]any{"username": who, "password": testPassword, "challenge": p.challenge(t, who, "equipment", id, "approved"),
				"qualification_due": time.Now().AddDate(3, 0, 0).Format(time.DateOnly), "qualification_report": "QR-IDEM", "reason": "IQ/OQ"}
			return idemRequest{who: who, path: "/api/v1/equipment/" + id + "/qualification", body: b}
		},
		"createShift":  site("/api/v1/shifts", map[string]any{"code": "S-IDEM", "name": "Night idem", "kind": "night", "start": "21:00", "end": "05:00"}),
		"updateShift":  rename("/api/v1/shifts", e.shift.ID),
		"createTeam":   site("/api/v1/teams", map[string]any{"code": "T-IDEM", "name": "Team idem", "shift_id": e.shift.ID}),
		"updateTeam":   rename("/api/v1/teams", e.team.ID),
		"createPerson": site("/api/v1/people", map[string]any{"badge": "IDEM-1", "name": "Jean Idem", "job": "Technician", "team_id": e.team.ID}),
		"updatePerson": rename("/api/v1/people", e.person.ID),

		// Accounts, assignments and machine tokens.
		"createAccount": site("/api/v1/accounts", map[string]any{"username": "idem-new", "name": "Idem New", "roles": []string{"operator"},
			"password": testPassword, "reason": "New starter"}),
		"updateAccount": func(t *testing.T) idemRequest {
			path := "/api/v1/accounts/" + account(t, code("idem-upd-"))
			return idemRequest{who: "admin", path: path, body: edited(t, "admin", path, "name", "Idem Renamed")}
		},
		"withdrawAccount": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/accounts/" + account(t, code("idem-wd-")) + "/withdraw",
				body: map[string]string{"reason": "Left the company"}}
		},
		"resetPassword": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/accounts/" + account(t, code("idem-rp-")) + "/password",
				body: map[string]string{"password": testPassword + " reset", "reason": "Locked out"}}
		},
		"unlockAccount": func(t *testing.T) idemRequest {
			u := strings.ToLower(code("idem-ul-"))
			id := account(t, u)
			e.login(t, "username", u, "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
			return idemRequest{who: "admin", path: "/api/v1/accounts/" + id + "/unlock", body: map[string]string{"reason": "Called the help desk, recognised by voice"}}
		},
		"assignClient": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/assignments", body: map[string]string{"account_id": account(t, code("idem-as-")),
				"client_id": e.alpha.ID, "reason": "Campaign ALPHA"}}
		},
		"unassignClient": func(t *testing.T) idemRequest {
			as := ok(t, e.call(t, "admin", "POST", "/api/v1/assignments", map[string]string{"account_id": account(t, code("idem-un-")),
				"client_id": e.beta.ID, "reason": "Campaign BETA"}), http.StatusCreated, "assign").object(t)
			return idemRequest{who: "admin", path: "/api/v1/assignments/" + as["id"].(string) + "/withdraw", body: map[string]string{"reason": "Campaign over"}}
		},
		"createToken": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/tokens", secret: true,
				body: map[string]any{"name": "Gateway idem", "scopes": []string{"site:read"}, "reason": "New gateway"}}
		},
		"revokeToken": func(t *testing.T) idemRequest {
			tk := ok(t, e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": code("Gateway "), "scopes": []string{"site:read"},
				"reason": "New gateway"}), http.StatusCreated, "create token").object(t)
			return idemRequest{who: "admin", path: "/api/v1/tokens/" + tk["id"].(string) + "/revoke", body: map[string]string{"reason": "Replaced"}}
		},

		// Site access: zones and readers, a reader's events.
		"createZone": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/zones", body: map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"}}
		},
		"updateZone": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"})
			return idemRequest{who: "admin", path: "/api/v1/zones/" + id, body: edited(t, "admin", "/api/v1/zones/"+id, "name", "Zone renamed")}
		},
		"createReader": func(t *testing.T) idemRequest {
			zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"})
			return idemRequest{who: "admin", path: "/api/v1/readers", body: map[string]any{"code": code("R-IDEM-"), "zone_id": zone, "direction": "in", "door": "Porte"}}
		},
		"updateReader": func(t *testing.T) idemRequest {
			zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"})
			id := created(t, e, "admin", "/api/v1/readers", map[string]any{"code": code("R-IDEM-"), "zone_id": zone, "direction": "in", "door": "Porte"})
			return idemRequest{who: "admin", path: "/api/v1/readers/" + id, body: edited(t, "admin", "/api/v1/readers/"+id, "door", "Porte renommée")}
		},
		"appendAccessEvents": func(t *testing.T) idemRequest {
			zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"})
			reader := code("R-IDEM-")
			created(t, e, "admin", "/api/v1/readers", map[string]any{"code": reader, "zone_id": zone, "direction": "in", "door": "Porte"})
			accessReader(t, e)
			return idemRequest{who: "reader-token", path: "/api/v1/access/events", body: map[string]any{"events": []map[string]any{{"reader": reader, "seq": 1,
				"badge": e.person.Badge, "at": time.Now().UTC(), "allow": true, "rule": "allowed", "policy": 1}}}}
		},

		// Visits: registered, changed, welcomed, gone, cancelled.
		"createVisit": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/visits", body: visitBody(e.person.ID)}
		},
		"updateVisit": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
			return idemRequest{who: "admin", path: "/api/v1/visits/" + id, body: edited(t, "admin", "/api/v1/visits/"+id, "purpose", "Audit prolongé")}
		},
		"arriveVisit": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
			return idemRequest{who: "admin", path: "/api/v1/visits/" + id + "/arrive", body: map[string]any{"badge": code("V-")}}
		},
		"departVisit": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
			ok(t, e.call(t, "admin", "POST", "/api/v1/visits/"+id+"/arrive", map[string]any{"badge": code("V-")}), http.StatusOK, "arrive")
			return idemRequest{who: "admin", path: "/api/v1/visits/" + id + "/depart", body: map[string]any{}}
		},
		"cancelVisit": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/visits", visitBody(e.person.ID))
			return idemRequest{who: "admin", path: "/api/v1/visits/" + id + "/cancel", body: map[string]any{"reason": "Reportée"}}
		},

		// The controlled-substance register: every write.
		"setControlledEstablishment": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/controlled/establishment", body: map[string]any{"authorisation": code("ANSM-"),
				"authorised_on": "2026-01-15", "pharmacist": "Paula Personne Qualifiée", "reason": "Idempotency test"}}
		},
		"createControlledSubstance": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/controlled/substances", body: ctrlSubstanceBody(code("S-"))}
		},
		"createControlledContainer": func(t *testing.T) idemRequest {
			sub := p.created(t, "qa", "/api/v1/controlled/substances", ctrlSubstanceBody(code("S-")))
			return idemRequest{who: "qa", path: "/api/v1/controlled/containers", body: map[string]any{"substance_id": sub, "code": code("C-"),
				"lot_code": "S-1", "place": "Coffre", "place_kind": "vault"}}
		},
		"enterControlledMovement": func(t *testing.T) idemRequest {
			sub, vault := ctrlVault(t)
			return idemRequest{who: "qa", path: "/api/v1/controlled/movements", body: map[string]any{"kind": "receipt", "substance_id": sub,
				"container_id": vault, "quantity": "1", "party": "Francopia", "document": "BL-1", "witness_id": e.accounts["supervisor"].ID}}
		},
		"dischargeControlledLoss": func(t *testing.T) idemRequest {
			sub, vault := ctrlVault(t)
			signedMovement(t, p, sub, vault, map[string]any{"kind": "receipt", "quantity": "1", "party": "Francopia", "document": "BL-1"})
			loss := signedMovement(t, p, sub, vault, map[string]any{"kind": "loss", "quantity": "0.1", "cause": "Flacon brisé"})
			return idemRequest{who: "qa", path: "/api/v1/controlled/movements/" + loss + "/discharge", body: map[string]any{"document": "PV-1"}}
		},
		"acknowledgeControlledAlert": func(t *testing.T) idemRequest {
			sub, vault := ctrlVault(t)
			e.call(t, "qa", "POST", "/api/v1/controlled/movements", map[string]any{"kind": "sampling", "substance_id": sub, "container_id": vault,
				"quantity": "1", "party": "Laboratoire", "witness_id": e.accounts["supervisor"].ID}).wantError(t, http.StatusConflict, "conflict", "")
			alert := ok(t, e.call(t, "qa", "GET", "/api/v1/controlled/alerts", nil), http.StatusOK, "alerts").items(t)[0]["id"].(string)
			return idemRequest{who: "qa", path: "/api/v1/controlled/alerts/" + alert + "/acknowledge", body: map[string]any{"comment": "Vu"}}
		},
		"countControlledContainer": func(t *testing.T) idemRequest {
			_, vault := ctrlVault(t)
			return idemRequest{who: "qa", path: "/api/v1/controlled/counts", body: map[string]any{"container_id": vault, "counted": "0"}}
		},

		// The infrastructure: every write.
		"createInfraAsset": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/assets", body: map[string]any{"code": code("A-"), "name": "Switch", "kind": "switch",
				"building_id": e.building.ID, "isa95_level": 2}}
		},
		"updateInfraAsset": func(t *testing.T) idemRequest {
			path := "/api/v1/infra/assets/" + infraAsset(t)
			return idemRequest{who: "it", path: path, body: edited(t, "it", path, "name", code("Switch "))}
		},
		"removeInfraAsset": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/assets/" + infraAsset(t) + "/remove", body: map[string]any{"reason": "Saisi par erreur"}}
		},
		"importInfraInventory": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/inventory", contentType: "text/csv",
				body: "code,name,kind,building\n" + code("A-") + ",Onduleur,ups," + e.building.Code + "\n"}
		},
		"createInfraZone": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/zones", body: map[string]any{"code": code("Z-"), "name": "Zone", "target_sl": 2}}
		},
		"updateInfraZone": func(t *testing.T) idemRequest {
			path := "/api/v1/infra/zones/" + infraZone(t)
			return idemRequest{who: "it", path: path, body: edited(t, "it", path, "name", code("Zone "))}
		},
		"createInfraConduit": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/conduits", body: map[string]any{"code": code("C-"), "name": "Conduit",
				"zone_a_id": infraZone(t), "zone_b_id": infraZone(t), "target_sl": 2, "services": []string{"tcp/443"}}}
		},
		"updateInfraConduit": func(t *testing.T) idemRequest {
			path := "/api/v1/infra/conduits/" + infraConduit(t)
			return idemRequest{who: "it", path: path, body: edited(t, "it", path, "name", code("Conduit "))}
		},
		"createInfraFlow": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/flows", body: map[string]any{"from_id": infraAsset(t), "to_id": infraAsset(t), "service": "tcp/443"}}
		},
		"removeInfraFlow": func(t *testing.T) idemRequest {
			id := created(t, e, "it", "/api/v1/infra/flows", map[string]any{"from_id": infraAsset(t), "to_id": infraAsset(t), "service": "tcp/443"})
			return idemRequest{who: "it", path: "/api/v1/infra/flows/" + id + "/remove", body: map[string]any{"reason": "Flux supprimé"}}
		},
		"createInfraCheck": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/checks", body: map[string]any{"asset_id": infraAsset(t), "kind": "tcp", "target": "10.0.0.1:22"}}
		},
		"updateInfraCheck": func(t *testing.T) idemRequest {
			path := "/api/v1/infra/checks/" + infraCheck(t)
			n++
			return idemRequest{who: "it", path: path, body: edited(t, "it", path, "every_seconds", 30+n)}
		},
		"removeInfraCheck": func(t *testing.T) idemRequest {
			return idemRequest{who: "it", path: "/api/v1/infra/checks/" + infraCheck(t) + "/remove", body: map[string]any{"reason": "Doublon"}}
		},
		"draftInfraPlan": func(t *testing.T) idemRequest {
			from := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
			return idemRequest{who: "it", path: "/api/v1/infra/plans", body: map[string]any{"title": "Arrêt du switch", "scope": map[string]any{
				"asset_ids": []string{infraAsset(t)}}, "from": from.Format(time.RFC3339), "to": from.Add(time.Hour).Format(time.RFC3339)}}
		},

		// Musters: started, a person checked off, ended.
		"startMuster": func(t *testing.T) idemRequest {
			return idemRequest{who: "admin", path: "/api/v1/musters", body: map[string]any{"reason": "Exercice"}}
		},
		"checkOffMuster": func(t *testing.T) idemRequest {
			accessReader(t, e)
			zone := created(t, e, "admin", "/api/v1/zones", map[string]any{"code": code("Z-IDEM-"), "name": "Zone idem", "kind": "building"})
			reader := code("R-IDEM-")
			created(t, e, "admin", "/api/v1/readers", map[string]any{"code": reader, "zone_id": zone, "direction": "in", "door": "Porte"})
			ok(t, e.call(t, "reader-token", "POST", "/api/v1/access/events", map[string]any{"events": []map[string]any{{"reader": reader, "seq": 1,
				"badge": e.person.Badge, "at": time.Now().UTC(), "allow": true, "rule": "allowed", "policy": 1}}}), http.StatusOK, "events")
			id := created(t, e, "admin", "/api/v1/musters", map[string]any{"reason": "Exercice"})
			return idemRequest{who: "admin", path: "/api/v1/musters/" + id + "/check", body: map[string]any{"person_id": e.person.ID}}
		},
		"endMuster": func(t *testing.T) idemRequest {
			id := created(t, e, "admin", "/api/v1/musters", map[string]any{"reason": "Exercice"})
			return idemRequest{who: "admin", path: "/api/v1/musters/" + id + "/end", body: map[string]any{"reason": "Fin de l'exercice"}}
		},

		// People's qualifications: recorded, revoked.
		"recordQualification": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/qualifications", body: qualificationBody(e.person.ID, code("MBR-Q"))}
		},
		"revokeQualification": func(t *testing.T) idemRequest {
			id := p.created(t, "supervisor", "/api/v1/qualifications", qualificationBody(e.person.ID, code("MBR-Q")))
			return idemRequest{who: "qa", path: "/api/v1/qualifications/" + id + "/revoke", body: map[string]any{"reason": "Échec à la requalification"}}
		},

		// Electronic signatures.
		"signatureChallenge": site("/api/v1/signatures/challenge", map[string]any{"entity": "line", "entity_id": e.line.ID, "meaning": "acknowledged"}),
		"sign": func(t *testing.T) idemRequest {
			return idemRequest{who: "operator", path: "/api/v1/signatures",
				body: signBody("operator", "line", e.line.ID, "performed", p.challenge(t, "operator", "line", e.line.ID, "performed"))}
		},

		// Production.
		"createProduct": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/products", body: p.productBody("IDEM-NEW")}
		},
		"updateProduct": func(t *testing.T) idemRequest {
			path := "/api/v1/products/" + product
			return idemRequest{who: "supervisor", path: path, body: edited(t, "supervisor", path, "storage", "2–8 °C")}
		},
		"createMaterial": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/materials", body: map[string]any{"code": "M-IDEM", "name": "Excipient", "kind": "raw", "unit": "g"}}
		},
		"createLot": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/lots", body: map[string]any{"material_id": p.api, "code": "LOT-IDEM", "quantity": 5,
				"expires_on": "2030-01-01T00:00:00Z"}}
		},
		"setLotStatus": func(t *testing.T) idemRequest {
			lot := p.created(t, "supervisor", "/api/v1/lots", map[string]any{"material_id": p.wfi, "code": code("LOT-S"), "quantity": 5,
				"expires_on": "2030-01-01T00:00:00Z"})
			p.releaseLots(t, lot)
			return idemRequest{who: "qa", path: "/api/v1/lots/" + lot + "/status", body: map[string]any{"status": "quarantine", "reason": "Supplier complaint"}}
		},
		"createMaster": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/masters", body: p.masterBody(product, "MBR-IDEM-NEW")}
		},
		"updateMaster": func(t *testing.T) idemRequest {
			path := "/api/v1/masters/" + p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, code("MBR-U")))
			return idemRequest{who: "supervisor", path: path, body: edited(t, "supervisor", path, "hours", 3)}
		},
		"updateMaterial": func(t *testing.T) idemRequest {
			path := "/api/v1/materials/" + p.created(t, "supervisor", "/api/v1/materials", map[string]any{"code": code("M-U"), "name": "Salt", "kind": "raw", "unit": "kg"})
			return idemRequest{who: "supervisor", path: path, body: edited(t, "supervisor", path, "name", "Sodium chloride")}
		},
		"moveMaster": func(t *testing.T) idemRequest {
			id := p.created(t, "supervisor", "/api/v1/masters", p.masterBody(product, code("MBR-M")))
			p.submit(t, id)
			return idemRequest{who: "qa", path: "/api/v1/masters/" + id + "/move", body: map[string]string{"action": "reject", "reason": "Unclear"}}
		},
		"createOrder": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/orders", body: map[string]any{"product_id": product, "quantity": 1000,
				"due_on": slot(time.Friday, 8).AddDate(0, 1, 0).Format(time.DateOnly)}}
		},
		"scheduleBatch": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/batches/" + batch(t, false) + "/schedule",
				body: map[string]any{"line_id": e.line.ID, "start": nextSlot().Format(time.RFC3339), "reason": "Plan of the week"}}
		},
		"moveBatch": func(t *testing.T) idemRequest {
			b := batch(t, false)
			ok(t, p.schedule(t, b, e.line.ID, nextSlot()), http.StatusOK, "schedule")
			return idemRequest{who: "supervisor", path: "/api/v1/batches/" + b + "/move", body: map[string]string{"action": "release", "reason": "Ready"}}
		},
		"recordStep": func(t *testing.T) idemRequest {
			b := batch(t, true)
			return idemRequest{who: "supervisor", path: "/api/v1/batches/" + b + "/steps",
				body: map[string]any{"step_id": p.steps(t, b)[0]["id"], "checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}}
		},
		"correctStep": func(t *testing.T) idemRequest {
			b := batch(t, true)
			steps := p.steps(t, b)
			for i, entry := range []map[string]any{{"checked": []bool{true, true}, "reason": "Test slot two weeks ahead."}, {"lot": "LOT-A", "quantity": "10"}, {"lot": "LOT-B", "quantity": "20"},
				{"equipment": e.equipment.Code}, {"value": "7.42"}} {
				ok(t, p.record(t, "supervisor", b, steps[i], entry), http.StatusOK, "step")
			}
			return idemRequest{who: "supervisor", path: "/api/v1/batches/" + b + "/steps/" + steps[4]["id"].(string),
				body: map[string]any{"value": "7.40", "reason": "Typing error"}}
		},
		"justifyBatchExceptions": func(t *testing.T) idemRequest {
			b, ph := p.inReview(t, product, nextSlot())
			return idemRequest{who: "qa", path: "/api/v1/batches/" + b + "/justifications",
				body: map[string]any{"justifications": map[string]string{ph: "pH 8.2: buffer over-dosed, see the deviation."}}}
		},
		"createWindow": func(t *testing.T) idemRequest {
			return idemRequest{who: "supervisor", path: "/api/v1/windows", body: map[string]any{"line_id": p.ampoules.ID,
				"start": slot(time.Thursday, 6).Format(time.RFC3339), "end": slot(time.Thursday, 14).Format(time.RFC3339), "reason": "Overhaul"}}
		},
	}
	// The laboratory's (api_lab_test.go).
	maps.Copy(cases, labIdemCases(t, p, product))
	// Deviations and CAPA (api_deviation_test.go).
	maps.Copy(cases, deviationIdemCases(t, p))
	// Quality agreements (api_agreement_test.go).
	maps.Copy(cases, agreementIdemCases(t, p))
	// Projects (api_project_test.go).
	maps.Copy(cases, projectIdemCases(t, p))
	// Environmental monitoring's (api_environment_test.go).
	maps.Copy(cases, environmentIdemCases(t, e))
	// A client's documents and the end of its contract (api_document_test.go).
	maps.Copy(cases, documentIdemCases(t, p))
	return cases
}
