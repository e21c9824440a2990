package web_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// signEnv is a test environment with the people who sign: besides the
// operator (who performs), a supervisor (who verifies), quality assurance
// and a Qualified Person. Its clock can be moved on.
type signEnv struct {
	*env
	shift atomic.Int64 // how far the clock is moved on, in nanoseconds
}

func newSignEnv(t *testing.T, e *env) *signEnv {
	t.Helper()
	se := &signEnv{env: e}
	e.db.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(se.shift.Load())) }
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, a := range []identity.Account{
			{Username: "supervisor", Name: "Sonia Superviseure", Roles: []identity.Role{identity.RoleSupervisor}},
			{Username: "qa", Name: "Quentin Qualité", Roles: []identity.Role{identity.RoleQA}},
			{Username: "qp", Name: "Paula Personne Qualifiée", Roles: []identity.Role{identity.RoleQP}},
		} {
			if err := h.CreateAccount(&a, hash); err != nil {
				return err
			}
			e.accounts[a.Username] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return se
}

// challenge asks for a challenge as who, failing the test if refused.
func (e *signEnv) challenge(t *testing.T, who, entity, id, meaning string) string {
	t.Helper()
	r := e.call(t, who, "POST", "/api/v1/signatures/challenge", map[string]string{"entity": entity, "entity_id": id, "meaning": meaning})
	if r.status != http.StatusCreated {
		t.Fatalf("challenge of %s to sign %s %s %s: status %d: %s", who, entity, id, meaning, r.status, r.body)
	}
	c := r.object(t)
	if ch, _ := c["challenge"].(string); ch != "" {
		return ch
	}
	t.Fatalf("no challenge in %s", r.body)
	return ""
}

// signBody is a signing request of who with their password.
func signBody(who, entity, id, meaning, challenge string) map[string]string {
	return map[string]string{"entity": entity, "entity_id": id, "meaning": meaning, "username": who, "password": testPassword, "challenge": challenge}
}

// sign signs as who with a fresh challenge and returns the answer.
func (e *signEnv) sign(t *testing.T, who, entity, id, meaning string) reply {
	t.Helper()
	return e.call(t, who, "POST", "/api/v1/signatures", signBody(who, entity, id, meaning, e.challenge(t, who, entity, id, meaning)))
}

func (e *signEnv) signatures(t *testing.T, who, entity, id string) []map[string]any {
	t.Helper()
	return e.call(t, who, "GET", "/api/v1/signatures?entity="+entity+"&entity_id="+id, nil).items(t)
}

func (e *signEnv) signatureRows(t *testing.T) int {
	t.Helper()
	n, err := e.db.Count(identity.WithActor(context.Background(), identity.System), "signatures")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedEntries lists the audited refusals of signatures of a record.
func (e *signEnv) refusedEntries(t *testing.T, entity, id string) []string {
	t.Helper()
	var out []string
	for _, en := range e.auditEntries(t, audit.Filter{Entity: entity, EntityID: id}) {
		if en.Command == "signature.refused" {
			out = append(out, en.New)
		}
	}
	return out
}

// TestSignatureAPI signs a line as performed and as verified and lists
// the signatures, valid, then broken once the line changes.
func TestSignatureAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		line := e.line.ID
		r := e.sign(t, "operator", "line", line, "performed")
		if r.status != http.StatusCreated {
			t.Fatalf("sign: status %d: %s", r.status, r.body)
		}
		sig := r.object(t)
		id, _ := sig["id"].(string)
		display, _ := sig["display"].(string)
		if id == "" || sig["status"] != "valid" || sig["signer_name"] != "Otto Operator" || sig["meaning"] != "performed" ||
			len(sig["content_sha256"].(string)) != 64 || sig["client_id"] != nil {
			t.Errorf("signature %s", r.body)
		}
		if !strings.HasPrefix(display, "Otto Operator — ") || !strings.Contains(display, "(Europe/Paris, UTC+0") || !strings.HasSuffix(display, " — Réalisé / Performed") {
			t.Errorf("display %q", display)
		}
		// The performer does not verify; another person does.
		r = e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "verified"})
		if got := r.wantError(t, http.StatusForbidden, "forbidden", ""); !strings.Contains(got.Message, "another person") {
			t.Errorf("message %q", got.Message)
		}
		r = e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "verified"}, "Accept-Language", "fr")
		if got := r.wantError(t, http.StatusForbidden, "forbidden", ""); !strings.Contains(got.Message, "autre personne") {
			t.Errorf("French message %q", got.Message)
		}
		if r := e.sign(t, "supervisor", "line", line, "verified"); r.status != http.StatusCreated {
			t.Fatalf("verify: status %d: %s", r.status, r.body)
		}
		items := e.signatures(t, "qa", "line", line)
		if len(items) != 2 || items[0]["id"] != id || items[0]["status"] != "valid" || items[1]["meaning"] != "verified" || items[1]["status"] != "valid" ||
			!strings.HasSuffix(items[1]["display"].(string), "Vérifié / Verified") {
			t.Errorf("signatures %v", items)
		}
		// Each signature is in the audit trail.
		var signed []string
		for _, en := range e.auditEntries(t, audit.Filter{Entity: "line", EntityID: line}) {
			if en.Command == "signature.sign" && en.Field == "signature" {
				signed = append(signed, en.New)
			}
		}
		if len(signed) != 2 || !strings.HasPrefix(signed[0], "performed "+id+" sha256:") {
			t.Errorf("audit entries of the signatures %q", signed)
		}

		// The line changes, for a reason: both signatures are broken.
		var l map[string]any
		e.call(t, "admin", "GET", "/api/v1/lines/"+line, nil).decode(t, &l)
		l["capacity_per_hour"] = 4800
		l["reason"] = "Capacity re-measured after the new stoppering head"
		if r := e.call(t, "admin", "PUT", "/api/v1/lines/"+line, l); r.status != http.StatusOK {
			t.Fatalf("update line: %d %s", r.status, r.body)
		}
		for _, it := range e.signatures(t, "operator", "line", line) {
			if it["status"] != "broken" {
				t.Errorf("after the change: %v", it)
			}
		}

		// The API's answers are the schemas the document describes.
		_, doc := openapiDoc(t)
		schemas := at(t, doc, "components", "schemas").(map[string]any)
		// reason and client_id are left out when empty.
		optional := func(k string) bool { return k == "reason" || k == "client_id" }
		want := slices.DeleteFunc(slices.Sorted(maps.Keys(at(t, schemas, "Signature", "properties").(map[string]any))), optional)
		got := slices.DeleteFunc(slices.Sorted(maps.Keys(items[0])), optional)
		if !slices.Equal(got, want) {
			t.Errorf("a signature answers %v; schema Signature has %v", got, want)
		}
		var meanings []string
		for _, v := range at(t, schemas, "SignatureMeaning", "enum").([]any) {
			meanings = append(meanings, v.(string))
		}
		if !slices.Equal(meanings, strs(esign.Meanings)) {
			t.Errorf("enum SignatureMeaning %v, want %v", meanings, esign.Meanings)
		}
	})
}

// TestSignatureRefusals: a wrong password, a replayed signature, a
// challenge of another session, record or meaning, and a signature without
// the right: each refused in the error envelope, nothing signed, and the
// refused attempts audited.
func TestSignatureRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		line, eq := e.line.ID, e.equipment.ID

		// Wrong password: 401, nothing signed, the attempt audited.
		body := signBody("operator", "line", line, "performed", e.challenge(t, "operator", "line", line, "performed"))
		body["password"] = "not my password"
		before := e.snapshot(t)
		e.call(t, "operator", "POST", "/api/v1/signatures", body).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		if n := e.signatureRows(t); n != 0 {
			t.Errorf("%d signatures after a wrong password", n)
		}
		if got := e.refusedEntries(t, "line", line); len(got) != 1 || got[0] != "refused performed: wrong password" {
			t.Errorf("audited refusals %q", got)
		}
		for k, n := range e.snapshot(t) {
			if k != "audit_log" && n != before[k] {
				t.Errorf("%s: %d rows, want %d", k, n, before[k])
			}
		}

		// Replayed: the same request twice signs once.
		body = signBody("operator", "line", line, "performed", e.challenge(t, "operator", "line", line, "performed"))
		if r := e.call(t, "operator", "POST", "/api/v1/signatures", body); r.status != http.StatusCreated {
			t.Fatalf("sign: %d %s", r.status, r.body)
		}
		r := e.call(t, "operator", "POST", "/api/v1/signatures", body)
		if got := r.wantError(t, http.StatusForbidden, "forbidden", "challenge"); !strings.Contains(got.Message, "replayed") {
			t.Errorf("message %q", got.Message)
		}
		if n := e.signatureRows(t); n != 1 {
			t.Errorf("%d signatures after a replay, want 1", n)
		}

		// A challenge of another session of the same person.
		r = e.call(t, "", "POST", "/api/v1/login", map[string]string{"username": "supervisor", "password": testPassword})
		var other struct{ Token string }
		r.decode(t, &other)
		r = e.call(t, "", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "verified"},
			"Authorization", "Bearer "+other.Token)
		var c struct{ Challenge string }
		r.decode(t, &c)
		e.call(t, "supervisor", "POST", "/api/v1/signatures", signBody("supervisor", "line", line, "verified", c.Challenge)).
			wantError(t, http.StatusForbidden, "forbidden", "challenge")
		// ... of another record, of another meaning.
		e.call(t, "supervisor", "POST", "/api/v1/signatures", signBody("supervisor", "line", line, "verified", e.challenge(t, "supervisor", "equipment", eq, "acknowledged"))).
			wantError(t, http.StatusForbidden, "forbidden", "challenge")
		e.call(t, "supervisor", "POST", "/api/v1/signatures", signBody("supervisor", "line", line, "verified", e.challenge(t, "supervisor", "line", line, "acknowledged"))).
			wantError(t, http.StatusForbidden, "forbidden", "challenge")
		// Someone else's username, on a signature that is no second
		// person's (TestSecondPersonAPI).
		body = signBody("operator", "line", line, "acknowledged", e.challenge(t, "supervisor", "line", line, "acknowledged"))
		e.call(t, "supervisor", "POST", "/api/v1/signatures", body).wantError(t, http.StatusUnauthorized, "unauthorized", "username")
		if n := e.signatureRows(t); n != 1 {
			t.Errorf("%d signatures after the refusals, want 1", n)
		}
		if got := e.refusedEntries(t, "line", line); len(got) != 6 {
			t.Errorf("audited refusals %q, want 6", got)
		}

		// A release is a Qualified Person's.
		e.call(t, "supervisor", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "released"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		// ... and of a batch, never of a line, even by a Qualified Person.
		e.call(t, "qp", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "released"}).
			wantError(t, http.StatusBadRequest, "invalid", "meaning")

		// Bad requests.
		e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "blessed"}).
			wantError(t, http.StatusBadRequest, "invalid", "meaning")
		e.call(t, "operator", "POST", "/api/v1/signatures", map[string]string{"entity": "line", "entity_id": line, "meaning": "performed", "username": "operator", "password": testPassword}).
			wantError(t, http.StatusBadRequest, "invalid", "challenge")
		e.call(t, "operator", "POST", "/api/v1/signatures", `{"entity": "line", "signed": true}`).wantError(t, http.StatusBadRequest, "invalid", "signed")
		e.call(t, "operator", "GET", "/api/v1/signatures?entity=line", nil).wantError(t, http.StatusBadRequest, "invalid", "entity_id")
		e.call(t, "", "GET", "/api/v1/signatures?entity=line&entity_id="+line, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		// A machine does not sign.
		e.call(t, "", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "performed"},
			"Authorization", "Bearer "+e.machineSecret).wantError(t, http.StatusForbidden, "forbidden", "")
	})
}

// TestSignatureClientScope: a client's user signs and sees the signatures
// of its own laboratory's records only; another client's record is 404.
func TestSignatureClientScope(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		for _, r := range []struct{ entity, id string }{{"client", e.beta.ID}, {"line", e.line.ID}, {"client", newUUID(t)}, {"batch", newUUID(t)}} {
			e.call(t, "client-alpha", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": r.entity, "entity_id": r.id, "meaning": "acknowledged"}).
				wantError(t, http.StatusNotFound, "not_found", "")
			e.call(t, "client-alpha", "GET", "/api/v1/signatures?entity="+r.entity+"&entity_id="+r.id, nil).wantError(t, http.StatusNotFound, "not_found", "")
		}
		// The admin is assigned to beta: signs beta's record.
		if r := e.sign(t, "admin", "client", e.beta.ID, "acknowledged"); r.status != http.StatusCreated || r.object(t)["client_id"] != e.beta.ID {
			t.Fatalf("admin signs beta: %d %s", r.status, r.body)
		}
		e.call(t, "client-alpha", "GET", "/api/v1/signatures?entity=client&entity_id="+e.beta.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
		// A body naming another client's record, with a challenge of alpha's, signs nothing.
		body := signBody("client-alpha", "client", e.beta.ID, "acknowledged", e.challenge(t, "client-alpha", "client", e.alpha.ID, "acknowledged"))
		e.call(t, "client-alpha", "POST", "/api/v1/signatures", body).wantError(t, http.StatusNotFound, "not_found", "")

		r := e.sign(t, "client-alpha", "client", e.alpha.ID, "acknowledged")
		if r.status != http.StatusCreated {
			t.Fatalf("client signs its own: %d %s", r.status, r.body)
		}
		items := e.signatures(t, "client-alpha", "client", e.alpha.ID)
		if len(items) != 1 || items[0]["client_id"] != e.alpha.ID || items[0]["status"] != "valid" {
			t.Errorf("signatures %v", items)
		}
	})
}

// TestAuditPeriodReviewAPI: quality assurance signs the review of a period
// of the audit trail once it is over; a later entry in the period breaks it.
func TestAuditPeriodReviewAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		day := time.Now().In(site.DefaultLocation()).Format(time.DateOnly)
		period := day + "/" + day
		e.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "audit_period", "entity_id": period, "meaning": "reviewed"}).
			wantError(t, http.StatusBadRequest, "invalid", "entity_id")
		// Two days later; the sessions of two days ago have ended.
		e.shift.Store(int64(48 * time.Hour))
		e.mu.Lock()
		clear(e.tokens)
		e.mu.Unlock()
		e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "audit_period", "entity_id": period, "meaning": "reviewed"}).
			wantError(t, http.StatusForbidden, "forbidden", "")
		r := e.sign(t, "qa", "audit_period", period, "reviewed")
		if r.status != http.StatusCreated {
			t.Fatalf("review: %d %s", r.status, r.body)
		}
		if items := e.signatures(t, "supervisor", "audit_period", period); len(items) != 1 || items[0]["status"] != "valid" || items[0]["entity_id"] != period {
			t.Errorf("reviews %v", items)
		}
		e.call(t, "client-alpha", "GET", "/api/v1/signatures?entity=audit_period&entity_id="+period, nil).wantError(t, http.StatusNotFound, "not_found", "")
		// An entry dated in the period, written later.
		e.shift.Store(0)
		var l map[string]any
		e.call(t, "admin", "GET", "/api/v1/lines/"+e.line.ID, nil).decode(t, &l)
		l["name"], l["reason"] = "Vial filling and stoppering", "Name as on the new drawing"
		if r := e.call(t, "admin", "PUT", "/api/v1/lines/"+e.line.ID, l); r.status != http.StatusOK {
			t.Fatalf("update line: %d %s", r.status, r.body)
		}
		if items := e.signatures(t, "qa", "audit_period", period); len(items) != 1 || items[0]["status"] != "broken" {
			t.Errorf("reviews after a new entry in the period %v", items)
		}
	})
}

// TestSignatureStaleContent: a challenge binds the record's content; the
// record changed since, the signature answers 409 and nothing is written;
// unchanged, it signs. A meaning implying authority the signer lacks, or
// one the record does not take, is refused.
func TestSignatureStaleContent(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		line := e.line.ID
		r := e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "performed"})
		var c struct {
			Challenge   string
			ContentHash string `json:"content_sha256"`
		}
		r.decode(t, &c)
		if len(c.ContentHash) != 64 {
			t.Fatalf("challenge binds no content: %s", r.body)
		}
		before := e.signatureRows(t)
		var l map[string]any
		e.call(t, "admin", "GET", "/api/v1/lines/"+line, nil).decode(t, &l)
		l["capacity_per_hour"] = 4321
		l["reason"] = "Capacity re-measured"
		if r := e.call(t, "admin", "PUT", "/api/v1/lines/"+line, l); r.status != http.StatusOK {
			t.Fatalf("update line: %d %s", r.status, r.body)
		}
		got := e.call(t, "operator", "POST", "/api/v1/signatures", signBody("operator", "line", line, "performed", c.Challenge)).
			wantError(t, http.StatusConflict, "conflict", "")
		if !strings.Contains(got.Message, "changed since you opened it") {
			t.Errorf("message %q", got.Message)
		}
		if n := e.signatureRows(t); n != before {
			t.Errorf("%d signatures, want %d", n, before)
		}
		// Named at the challenge, a hash no longer current is refused.
		e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "performed", "content_sha256": c.ContentHash}).
			wantError(t, http.StatusConflict, "conflict", "")
		// Unchanged, it signs.
		if r := e.sign(t, "operator", "line", line, "performed"); r.status != http.StatusCreated {
			t.Fatalf("sign unchanged: %d %s", r.status, r.body)
		}
		// Authority: a line is never "reviewed"; a lot is approved only with the lot-status permission.
		e.call(t, "qa", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "line", "entity_id": line, "meaning": "reviewed"}).
			wantError(t, http.StatusBadRequest, "invalid", "meaning")
	})
}

// TestSecondPersonAPI: through the API, the verification at the line is
// signed on the operator's session by a second person with their own
// username and password; the challenge says so, and any other meaning is
// refused as a second person's.
func TestSecondPersonAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		line := e.line.ID
		if r := e.sign(t, "operator", "line", line, "performed"); r.status != http.StatusCreated {
			t.Fatalf("performed: %d %s", r.status, r.body)
		}
		ask := func(meaning string) reply {
			return e.call(t, "operator", "POST", "/api/v1/signatures/challenge",
				map[string]any{"entity": "line", "entity_id": line, "meaning": meaning, "second_person": true})
		}
		ask("performed").wantError(t, http.StatusBadRequest, "invalid", "meaning")
		e.call(t, "operator", "POST", "/api/v1/signatures/challenge", map[string]any{"entity": "line", "entity_id": line, "meaning": "verified", "second_person": "yes"}).
			wantError(t, http.StatusBadRequest, "invalid", "second_person")
		c := ask("verified")
		if c.status != http.StatusCreated {
			t.Fatalf("second person's challenge: %d %s", c.status, c.body)
		}
		challenge := c.object(t)["challenge"].(string)
		r := e.call(t, "operator", "POST", "/api/v1/signatures", signBody("supervisor", "line", line, "verified", challenge))
		if r.status != http.StatusCreated {
			t.Fatalf("second person's signature: %d %s", r.status, r.body)
		}
		if sig := r.object(t); sig["signer_id"] != e.accounts["supervisor"].ID || sig["signer_name"] != "Sonia Superviseure" || sig["meaning"] != "verified" {
			t.Errorf("second person's signature %s", r.body)
		}
	})
}
