package web_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/docs"
	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/web"
)

// notGMPData lists the write commands of the store that write no audit entry
// on purpose: none of them changes GMP data. Every other command must leave
// audit entries, and the scenario below must exercise it.
var notGMPData = map[string]string{
	"session.touch":          "marks a session seen (idle timeout bookkeeping), not GMP data",
	"session.close":          "deletes the caller's own session row at sign-out, not GMP data",
	"token.touch":            "marks a machine token used (last_used_at), not GMP data",
	"signature.challenge":    "stores a one-time challenge; the signature itself is audited (signature.sign/refused)",
	"audit.checkpoint":       "signs the trail itself; an entry would change what the checkpoint signs",
	"outbox.register":        "records a durable outbox consumer's cursor (delivery bookkeeping), not GMP data",
	"outbox.advance":         "moves a durable outbox consumer's cursor (delivery bookkeeping), not GMP data",
	"outbox.prune":           "deletes delivered outbox events, copies of what audited commands did, not GMP data",
	"infra.checks.record":    "records the supervision's results and changes of state (infra_events, append-only), operations data about the infrastructure, not GMP data",
	"environment_rollup.run": "recomputes the plots' 1-minute and 1-hour summaries of readings sealed in the trail (derived, rebuilt from the readings at will), not GMP data",
}

// storeCommands parses the store's source and returns the command of every
// call db.Write(ctx, command, reason, fn) and tx.auditAs(command, ...), with
// the place of its first use. A command that is not a string literal or a
// package string constant fails the test: nothing escapes the enumeration.
func storeCommands(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "store", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if bl, ok := vs.Values[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							consts[n.Name], _ = strconv.Unquote(bl.Value)
						}
					}
				}
			}
		}
	}
	out := map[string]string{}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			// tx.command is set only by Tx.run and Tx.auditAs.
			if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name == "auditAs" {
				return false
			}
			if as, ok := n.(*ast.AssignStmt); ok {
				for _, l := range as.Lhs {
					if se, ok := l.(*ast.SelectorExpr); ok && se.Sel.Name == "command" {
						t.Errorf("%s: assigns a transaction's command outside auditAs: the enumeration cannot see it", fset.Position(as.Pos()))
					}
				}
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			var arg ast.Expr
			switch {
			case sel.Sel.Name == "Write" && len(call.Args) == 4:
				arg = call.Args[1]
			case sel.Sel.Name == "auditAs" && len(call.Args) == 3:
				arg = call.Args[0]
			default:
				return true
			}
			pos := fset.Position(call.Pos())
			where := filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line)
			var cmd string
			switch a := arg.(type) {
			case *ast.BasicLit:
				if a.Kind == token.STRING {
					cmd, _ = strconv.Unquote(a.Value)
				}
			case *ast.Ident:
				cmd = consts[a.Name]
			}
			if cmd == "" {
				t.Errorf("%s: %s with a command that is not a string literal or constant", where, sel.Sel.Name)
				return true
			}
			if _, ok := out[cmd]; !ok {
				out[cmd] = where
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("no write command found in internal/store")
	}
	return out
}

// fakeDirectory knows one person, whatever their password.
type fakeDirectory struct{}

func (fakeDirectory) Authenticate(_ context.Context, username, _ string) (*identity.DirectoryUser, error) {
	if username != "dora" {
		return nil, errs.E(errs.Unauthorized, "store.no_account")
	}
	return &identity.DirectoryUser{Username: "dora", Name: "Dora Directory", Roles: []identity.Role{identity.RoleOperator}}, nil
}

// TestEveryWriteCommandIsAudited enumerates the store's write commands from
// its source, runs each audited one through the API and finds its entries,
// attributed and timed, in the trail; and checks that every PUT without a
// reason is refused and writes nothing.
func TestEveryWriteCommandIsAudited(t *testing.T) {
	commands := storeCommands(t)
	vocab := auditNames(t)
	// The fixtures' histories (e.db.WriteHistory) are the tests' own.
	vocab.commands["test.seed"] = "the tests' fixtures"
	for c := range notGMPData {
		if _, ok := commands[c]; !ok {
			t.Errorf("exempt command %q is no longer a write command of the store: remove it", c)
		}
	}
	t.Logf("write commands: %v", slices.Sorted(maps.Keys(commands)))

	eachDB(t, func(t *testing.T, e *env) {
		start := time.Now().UTC().Truncate(time.Microsecond)
		// Production: every command, and what the PUT routes below change.
		prod := exerciseProduction(t, e)
		// The laboratory: every command.
		specDraft := exerciseLab(t, prod)
		// Deviations and CAPA: every step of the workflow.
		exerciseDeviations(t, prod.p)
		// Quality agreements: recorded, a deviation's notification
		// escalated late, then met.
		exerciseAgreements(t, prod.p)
		// People's qualifications: one recorded, granted, revoked.
		exerciseQualifications(t, prod.p)
		// Site access: a zone and its reader recorded and changed, a
		// reader's events delivered.
		zone, reader := exerciseAccess(t, e)
		// Visitors: registered, welcomed, extended, overdue, gone; one
		// cancelled.
		visit := exerciseVisits(t, e)
		// The controlled-substance register: every write.
		exerciseControlled(t, prod.p, prod.reviewed)
		// The infrastructure: every write.
		inf := exerciseInfra(t, e)
		// A client's documents and the end of its contract.
		exerciseDocuments(t, prod.p)
		// A client's project: opened, both sides' entries, a task moved,
		// the next phase.
		projectID := exerciseProjects(t, prod.p)
		// Environmental monitoring: sensors, limits, readings, an alarm.
		sensor := exerciseEnvironment(t, e)
		// The leader's jobs compact the readings and, past the site's
		// retention, delete them (no API does either): two hours later,
		// then years later.
		compactAndPurge(t, e)

		// Every PUT route: a change without a reason is refused, and
		// nothing is written. A PUT route missing here fails the test.
		// who changes the record ("admin" when not named); the path's
		// {step_id} is step; body, when set, is sent instead of the
		// record as GET answers it.
		puts := map[string]struct {
			id    string
			field string
			value any
			who   string
			step  string
			body  map[string]any
		}{
			"/api/v1/buildings/{id}": {id: e.building.ID, field: "name", value: "Renamed building"},
			"/api/v1/rooms/{id}":     {id: e.roomD.ID, field: "name", value: "Renamed room"},
			"/api/v1/lines/{id}":     {id: e.line.ID, field: "name", value: "Renamed line"},
			"/api/v1/equipment/{id}": {id: e.equipment.ID, field: "name", value: "Renamed equipment"},
			"/api/v1/shifts/{id}":    {id: e.shift.ID, field: "name", value: "Renamed shift"},
			"/api/v1/teams/{id}":     {id: e.team.ID, field: "name", value: "Renamed team"},
			"/api/v1/zones/{id}":     {id: zone, field: "name", value: "Renamed zone"},
			"/api/v1/readers/{id}":   {id: reader, field: "door", value: "Renamed door"},
			"/api/v1/visits/{id}":    {id: visit, field: "purpose", value: "Renamed purpose"},
			"/api/v1/people/{id}":    {id: e.person.ID, field: "name", value: "Renamed person"},
			"/api/v1/accounts/{id}":  {id: e.accounts["operator"].ID, field: "name", value: "Renamed operator"},
			"/api/v1/policy":         {field: "history", value: 7},
			"/api/v1/products/{id}":  {id: prod.product, field: "name", value: "Renamed product", who: "supervisor"},
			"/api/v1/masters/{id}":   {id: prod.draft, field: "title", value: "Renamed master", who: "supervisor"},
			"/api/v1/materials/{id}": {id: prod.p.api, field: "name", value: "Renamed material", who: "supervisor"},
			"/api/v1/batches/{id}/steps/{step_id}": {id: prod.batch, step: prod.numericStep, who: "supervisor",
				body: map[string]any{"value": "7.30"}},
			"/api/v1/batches/{id}/justifications": {id: prod.reviewed, who: "qa",
				body: map[string]any{"justifications": map[string]string{prod.exception: "pH 8.2: buffer re-prepared, see the deviation."}}},
			"/api/v1/specs/{id}":               {id: specDraft, field: "title", value: "Renamed specification", who: "lab"},
			"/api/v1/sensors/{id}":             {id: sensor, field: "name", value: "Renamed sensor"},
			"/api/v1/sensors/{id}/limits":      {id: sensor, field: "delay_s", value: 30},
			"/api/v1/clients/{id}/agreement":   {id: e.alpha.ID, field: "notify_major_hours", value: 36, who: "qa"},
			"/api/v1/projects/{id}":            {id: projectID, field: "title", value: "Renamed project", who: "qa"},
			"/api/v1/controlled/establishment": {field: "pharmacist", value: "Renamed pharmacist", who: "qa"},
			"/api/v1/infra/assets/{id}":        {id: inf.sw1, field: "name", value: "Renamed switch", who: "it"},
			"/api/v1/infra/zones/{id}":         {id: inf.zoneOT, field: "name", value: "Renamed zone", who: "it"},
			"/api/v1/infra/conduits/{id}":      {id: inf.conduit, field: "name", value: "Renamed conduit", who: "it"},
			"/api/v1/infra/checks/{id}":        {id: inf.check, field: "every_seconds", value: 90, who: "it"},
		}
		seen := 0
		for _, r := range e.web.Routes() {
			// "/api/" is the catch-all that answers 404 to unknown routes.
			if r.Method != "PUT" || r.Path == "/api/" {
				continue
			}
			p, ok := puts[r.Path]
			if !ok {
				t.Errorf("PUT %s: no case in the reason check: add one", r.Path)
				continue
			}
			seen++
			who := cmp.Or(p.who, "admin")
			path := strings.ReplaceAll(withID(r.Path, p.id), "{step_id}", p.step)
			body := p.body
			if body == nil {
				got := e.call(t, who, "GET", path, nil)
				if got.status != http.StatusOK {
					t.Fatalf("GET %s: status %d: %s", path, got.status, got.body)
				}
				body = got.object(t)
				body[p.field] = p.value
			}
			delete(body, "reason")
			before := e.snapshot(t)
			e.call(t, who, "PUT", path, body).wantError(t, http.StatusBadRequest, "invalid", "reason")
			e.unchanged(t, before)
		}
		if seen != len(puts) {
			t.Errorf("%d PUT routes checked, the table has %d: a route was removed", seen, len(puts))
		}

		ok := func(r reply, status int, what string) reply {
			t.Helper()
			if r.status != status {
				t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
			}
			return r
		}

		// Site model: create and change each kind of record.
		for _, c := range []struct {
			path   string
			create map[string]any
		}{
			{"/api/v1/buildings", map[string]any{"code": "B40", "name": "Bâtiment 40", "role": "production_nonsterile"}},
			{"/api/v1/rooms", map[string]any{"building_id": e.building.ID, "code": "R-C", "name": "Terminal sterilisation", "grade": "C",
				"temp_min": 18, "temp_max": 24, "humidity_min": 30, "humidity_max": 60}},
			{"/api/v1/lines", map[string]any{"code": "L2", "name": "Tablets", "room_id": e.roomD.ID, "forms": []string{"tablet"}}},
			{"/api/v1/equipment", map[string]any{"code": "E2", "name": "Autoclave", "kind": "autoclave", "line_id": e.line.ID,
				"qualification_due": "2027-06-30T00:00:00Z"}},
			{"/api/v1/shifts", map[string]any{"code": "NIGHT", "name": "Night", "kind": "night", "start": "21:00", "end": "05:00"}},
			{"/api/v1/teams", map[string]any{"code": "T2", "name": "Team two", "shift_id": e.shift.ID}},
			{"/api/v1/people", map[string]any{"badge": "0002", "name": "Jean Martin", "job": "Technician", "team_id": e.team.ID}},
		} {
			created := ok(e.call(t, "admin", "POST", c.path, c.create), http.StatusCreated, "create "+c.path).object(t)
			created["name"] = "Changed " + c.path
			created["reason"] = "Change request CR-1"
			ok(e.call(t, "admin", "PUT", c.path+"/"+created["id"].(string), created), http.StatusOK, "update "+c.path)
		}

		// Equipment life: out of service, back in service, cleaned.
		e.seedAccounts(t, identity.Account{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}})
		pump := ok(e.call(t, "admin", "POST", "/api/v1/equipment", map[string]any{"code": "E3", "name": "Pump", "kind": "pump", "line_id": e.line.ID,
			"qualification_due": "2027-06-30T00:00:00Z"}), http.StatusCreated, "create a pump").object(t)["id"].(string)
		for _, act := range []map[string]string{{"action": "out_of_service", "reason": "Seal leaking"},
			{"action": "in_service", "reason": "Seal replaced"}, {"action": "clean", "reason": "Wiped with IPA"}} {
			ok(e.call(t, "maintenance", "POST", "/api/v1/equipment/"+pump+"/actions", act), http.StatusOK, "equipment "+act["action"])
		}

		// A material renamed.
		mat := ok(e.call(t, "supervisor", "GET", "/api/v1/materials/"+prod.p.api, nil), http.StatusOK, "get a material").object(t)
		mat["name"], mat["reason"] = "Ceftriaxone sodium, sterile", "Supplier's name of the substance"
		ok(e.call(t, "supervisor", "PUT", "/api/v1/materials/"+prod.p.api, mat), http.StatusOK, "update a material")

		// Accounts: create, a failed then a good sign-in, own password,
		// sessions, second factor, lock-out and its acknowledgement.
		acc := ok(e.call(t, "admin", "POST", "/api/v1/accounts", map[string]any{"username": "auditee", "name": "Audrey Auditee",
			"roles": []string{"operator"}, "password": testPassword, "reason": "New starter"}), http.StatusCreated, "create account").object(t)
		accID := acc["id"].(string)
		e.login(t, "username", "auditee", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		tok := tokenOf(t, e.login(t, "username", "auditee", "password", testPassword))
		newPassword := testPassword + " again"
		ok(e.with(t, tok, "POST", "/api/v1/password", map[string]string{"current": testPassword, "new": newPassword}), http.StatusNoContent, "change password")
		tok = tokenOf(t, e.login(t, "username", "auditee", "password", newPassword))
		ok(e.with(t, tok, "POST", "/api/v1/sessions/revoke-all", nil), http.StatusOK, "revoke sessions")
		tok = tokenOf(t, e.login(t, "username", "auditee", "password", newPassword))
		var en identity.TOTPEnrollment
		ok(e.with(t, tok, "POST", "/api/v1/totp/enroll", nil), http.StatusOK, "enroll TOTP").decode(t, &en)
		code, err := identity.TOTPCode(en.Secret, e.db.Now())
		if err != nil {
			t.Fatal(err)
		}
		ok(e.with(t, tok, "POST", "/api/v1/totp/confirm", map[string]string{"code": code}), http.StatusNoContent, "confirm TOTP")
		for range 5 {
			e.login(t, "username", "auditee", "password", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized", "")
		}
		events := e.call(t, "admin", "GET", "/api/v1/security/events", nil).items(t)
		if len(events) == 0 {
			t.Fatal("no security event after the lock-out")
		}
		// A sign-in's event (the badge readers' alerts take a comment).
		signin := slices.IndexFunc(events, func(ev map[string]any) bool { return !strings.HasPrefix(ev["kind"].(string), "access_") })
		if signin < 0 {
			t.Fatal("no sign-in event after the lock-out")
		}
		ok(e.call(t, "admin", "POST", "/api/v1/security/events/"+events[signin]["id"].(string)+"/acknowledge", nil), http.StatusOK, "acknowledge")
		// An administrator who has checked who is asking ends the lock.
		ok(e.call(t, "admin", "POST", "/api/v1/accounts/"+accID+"/unlock", map[string]string{"reason": "Identity checked by phone"}),
			http.StatusOK, "unlock account")
		admin := identity.WithActor(context.Background(), identity.Actor{UserID: e.accounts["admin"].ID, Username: "admin",
			Name: e.accounts["admin"].Name, Roles: []identity.Role{identity.RoleAdmin}})
		ok(e.call(t, "admin", "POST", "/api/v1/accounts/"+accID+"/password", map[string]string{"password": testPassword + " reset", "reason": "Locked out"}),
			http.StatusNoContent, "reset password")
		acc["name"], acc["reason"] = "Audrey Auditée", "Spelling"
		ok(e.call(t, "admin", "PUT", "/api/v1/accounts/"+accID, acc), http.StatusOK, "update account")

		// Assignments and machine tokens.
		as := ok(e.call(t, "admin", "POST", "/api/v1/assignments", map[string]string{"account_id": e.accounts["operator"].ID,
			"client_id": e.alpha.ID, "reason": "Campaign ALPHA"}), http.StatusCreated, "assign").object(t)
		ok(e.call(t, "admin", "POST", "/api/v1/assignments/"+as["id"].(string)+"/withdraw", map[string]string{"reason": "Campaign over"}),
			http.StatusNoContent, "unassign")
		tk := ok(e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": "Gateway B40", "scopes": []string{"site:read"},
			"reason": "New gateway"}), http.StatusCreated, "create token").object(t)
		ok(e.call(t, "", "GET", "/api/v1/lines", nil, "Authorization", "Bearer "+tk["secret"].(string)), http.StatusOK, "use token")
		ok(e.call(t, "admin", "POST", "/api/v1/tokens/"+tk["id"].(string)+"/revoke", map[string]string{"reason": "Gateway replaced"}),
			http.StatusOK, "revoke token")

		// Policy.
		pol := ok(e.call(t, "admin", "GET", "/api/v1/policy", nil), http.StatusOK, "policy").object(t)
		pol["history"], pol["reason"] = 6, "SOP-SEC-3 rev. 2"
		ok(e.call(t, "admin", "PUT", "/api/v1/policy", pol), http.StatusOK, "set policy")

		// A restore drill, recorded by `galenix backup drill` (no API
		// writes it): its start and its end.
		sys := identity.WithActor(context.Background(), identity.System)
		drill := &backup.Drill{Database: backup.SQLite, BackupID: "scenario", Target: backup.Target{Kind: backup.TargetBackup, Time: time.Now()}}
		if err := e.db.StartDrill(sys, drill); err != nil {
			t.Fatal(err)
		}
		drill.Finish(time.Now(), nil, 1, nil)
		if err := e.db.FinishDrill(sys, drill); err != nil {
			t.Fatal(err)
		}
		// Backups removed by a retention (`galenix backup prune`).
		if err := e.db.RecordBackupsRemoved(sys, backup.SQLite, []string{"20260101T000000.000000Z"}, "--keep 4"); err != nil {
			t.Fatal(err)
		}
		// A client laboratory, recorded by galenix itself (no role does).
		if err := e.db.Clients().CreateClient(sys, &client.Client{Code: "GAMMA", Name: "Gamma Santé"}); err != nil {
			t.Fatal(err)
		}
		// The site is recorded once per database, by galenix itself: on a
		// database of its own, whose entries count with the scenario's.
		elsewhere := map[string]int{}
		freshDir := t.TempDir()
		fresh, err := store.Open(context.Background(), store.Config{DataDir: freshDir})
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		if err := fresh.Site().CreateSite(sys, &site.Site{Code: "MRS", Name: "Marseille", Timezone: "Europe/Paris"}); err != nil {
			t.Fatal(err)
		}
		// There too, second-factor secrets an older galenix kept in clear
		// are sealed when the database opens with a key; sealed with a key
		// since lost, they are removed (`galenix totp reset-lost`).
		clear := &identity.Account{Username: "older", Name: "Olivier Older", Roles: []identity.Role{identity.RoleOperator}}
		if err := fresh.Identity().Admin().(*store.AdminStore).CreateAccount(admin, clear, testPassword, "Before the upgrade"); err != nil {
			t.Fatal(err)
		}
		en2, err := identity.NewTOTP("older")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.WriteSQL().Exec(`UPDATE accounts SET totp_secret = ?, totp_enabled = 1 WHERE id = ?`, en2.Secret, clear.ID); err != nil {
			t.Fatal(err)
		}
		for _, key := range [][]byte{testSecretKey, []byte("fedcba9876543210fedcba9876543210")} {
			keyed, err := store.Open(context.Background(), store.Config{DataDir: freshDir, SecretKey: key})
			if err != nil {
				t.Fatal(err)
			}
			defer keyed.Close()
			if bytes.Equal(key, testSecretKey) {
				continue
			}
			if n, err := keyed.ResetLostTOTP(sys, "Key lost with the old server"); n != 1 || err != nil {
				t.Fatalf("second factors removed: %d, %v", n, err)
			}
		}
		freshEntries, err := fresh.Audit().Entries(sys, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range freshEntries {
			if en.ActorID == identity.System.UserID && en.ActorName != "" {
				elsewhere[en.Command]++
			}
		}

		// Electronic signatures: one refused (wrong password), one signed.
		challenge := func() string {
			c := ok(e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": e.line.ID,
				"meaning": "performed"}), http.StatusCreated, "challenge").object(t)
			return c["challenge"].(string)
		}
		body := signBody("operator", "line", e.line.ID, "performed", challenge())
		body["password"] = "not the password"
		e.call(t, "operator", "POST", "/api/v1/signatures", body).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		ok(e.call(t, "operator", "POST", "/api/v1/signatures", signBody("operator", "line", e.line.ID, "performed", challenge())),
			http.StatusCreated, "sign")

		// A person of the directory signs in for the first time.
		ids := e.db.Identity()
		ids.Directory = fakeDirectory{}
		dir := httptest.NewServer(web.New(web.Deps{Site: e.db.Site(), Clients: e.db.Clients(), Identity: ids, Admin: ids.Admin(), Signatures: ids.Signatures(), Audit: e.db.Audit(), AuditBundles: e.db.Audit(),
			Production: e.db.Production(), Release: e.db.Release(), DB: e.db, Drills: e.db, OpenAPI: docs.OpenAPI}).Handler())
		defer dir.Close()
		de := &env{db: e.db, srv: dir, tokens: map[string]string{}}
		ok(de.login(t, "username", "dora", "password", "directory password"), http.StatusOK, "directory sign-in")

		// Finally the account leaves.
		ok(e.call(t, "admin", "POST", "/api/v1/accounts/"+accID+"/withdraw", map[string]string{"reason": "Left the company"}),
			http.StatusOK, "withdraw account")

		// The site's audit key is rotated (`galenix audit rotate-key`;
		// no API does it), last: no checkpoint is signed after it here.
		_, key, _ := ed25519.GenerateKey(nil)
		_, next, _ := ed25519.GenerateKey(nil)
		if _, err := e.db.RotateAuditKey(identity.WithActor(context.Background(), identity.System),
			key, next, "Yearly rotation"); err != nil {
			t.Fatal(err)
		}
		// The master key of documents is rotated (`galenix documents
		// rotate-key`; no API does it): every client's key wrapped again.
		docKey := make([]byte, 32)
		rand.Read(docKey)
		if n, err := e.db.RotateMasterKey(identity.WithActor(context.Background(), identity.System), docKey, "Yearly rotation"); err != nil || n == 0 {
			t.Fatalf("rotate the master key of documents: %d %v", n, err)
		}

		// The trail: every audited command has attributed entries from
		// the scenario.
		found := map[string]int{}
		for _, en := range e.auditEntries(t, audit.Filter{}) {
			if en.At.Before(start) {
				continue
			}
			if en.ActorID == "" || en.ActorName == "" {
				t.Errorf("entry %d (%s %s.%s): actor id %q name %q", en.Seq, en.Command, en.Entity, en.Field, en.ActorID, en.ActorName)
			}
			if _, exempt := notGMPData[en.Command]; exempt {
				t.Logf("exempt command %s wrote entry %d (%s.%s)", en.Command, en.Seq, en.Entity, en.Field)
			}
			found[en.Command]++
			// What the trail records is in the enumeration the
			// words are checked on (TestAuditWordsForEveryName).
			if !vocab.has(en) {
				t.Errorf("entry %d (%s %s.%s) names what the source enumeration misses: teach auditNames to read it", en.Seq, en.Command, en.Entity, en.Field)
			}
		}
		for c, n := range elsewhere {
			found[c] += n
		}
		for _, c := range slices.Sorted(maps.Keys(commands)) {
			if _, exempt := notGMPData[c]; exempt {
				continue
			}
			if found[c] == 0 {
				t.Errorf("write command %q (%s) left no audit entry in the scenario: audit it, or add a scenario step", c, commands[c])
			}
		}
	})
}
