package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// auditOf lists the audit entries of a record.
func (p *prodEnv) auditOf(t *testing.T, entity, id string) []audit.Entry {
	t.Helper()
	es, err := p.db.Audit().Entries(identity.WithActor(context.Background(), identity.System), audit.Filter{Entity: entity, EntityID: id})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestProductPages: a supervisor creates and edits a product through the
// forms; bad input shows its field's error and writes nothing; a stale
// edit shows the product as it is now; QA, a client user, see no button
// and are refused the forms.
func TestProductPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		sup := p.browserWith(t, "supervisor", testPassword, "")
		sup.get("/products").has(t, http.StatusOK, `href="/products/new"`, "Nouveau produit")
		sup.get("/products/new").has(t, http.StatusOK, "Nouveau produit", "Laboratoire client", "Forme galénique", "Alpha Laboratories")

		good := url.Values{"client_id": {e.alpha.ID}, "code": {"AMOX-500"}, "name": {"Amoxicilline 500 mg"}, "form": {"tablet"},
			"strength": {"500 mg"}, "presentation": {"Boîte de 12"}, "special_class": {"none"}, "storage": {"Moins de 25 °C"}}
		with := func(k, v string) url.Values {
			c := url.Values{}
			for key, vs := range good {
				c[key] = append([]string(nil), vs...)
			}
			c.Set(k, v)
			return c
		}
		before := p.prodSnapshot(t)
		bad := sup.post("/products", with("form", "pill"))
		bad.has(t, http.StatusBadRequest, `id="e-form"`, "AMOX-500", "La forme galénique doit être l'une de")
		sup.post("/products", with("client_id", "")).has(t, http.StatusBadRequest, `id="e-client_id"`, "Choisissez le laboratoire client propriétaire du produit.")
		sup.post("/products", with("code", "A B")).has(t, http.StatusBadRequest, `id="e-code"`, "Un code de 1 à 40 caractères sans espace est requis.")
		client := p.browserWith(t, "client-alpha", testPassword, "")
		client.post("/products", good).has(t, http.StatusForbidden)
		p.prodUnchanged(t, before)

		loc := sup.post("/products", good)
		if loc.status != http.StatusSeeOther {
			t.Fatalf("create: status %d:\n%s", loc.status, loc.text)
		}
		sup.follow(t, loc).has(t, http.StatusOK, "Modifications enregistrées.", "AMOX-500", "Amoxicilline 500 mg")
		ps, err := p.db.Production().Products(identity.WithActor(context.Background(), identity.System), production.ProductFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for _, pr := range ps {
			if pr.Code == "AMOX-500" {
				id = pr.ID
			}
		}
		if id == "" {
			t.Fatal("the product was not recorded")
		}
		if n := len(p.auditOf(t, "product", id)); n == 0 {
			t.Error("the creation wrote no audit entry")
		}

		edit := sup.get("/products/" + id + "/edit")
		edit.has(t, http.StatusOK, "Modifier le produit", `name="version" value="1"`, "Raison de la modification")
		upd := with("name", "Amoxicilline 500 mg comprimés")
		upd.Set("version", "1")
		before = p.prodSnapshot(t)
		sup.post("/products/"+id, upd).has(t, http.StatusBadRequest, `id="e-reason"`)
		p.prodUnchanged(t, before)
		upd.Set("reason", "Libellé de l'AMM")
		if r := sup.post("/products/"+id, upd); r.status != http.StatusSeeOther {
			t.Fatalf("edit: status %d:\n%s", r.status, r.text)
		}
		var reasoned bool
		for _, en := range p.auditOf(t, "product", id) {
			if en.Field == "name" && en.New == "Amoxicilline 500 mg comprimés" && en.Reason == "Libellé de l'AMM" {
				reasoned = true
			}
		}
		if !reasoned {
			t.Error("the change of name is not in the audit trail with its reason")
		}
		// The same version again is stale: the form shows the product as
		// it is now, and nothing is written.
		before = p.prodSnapshot(t)
		stale := with("name", "Autre nom")
		stale.Set("version", "1")
		stale.Set("reason", "Essai")
		sup.post("/products/"+id, stale).has(t, http.StatusPreconditionFailed, "Amoxicilline 500 mg comprimés", `name="version" value="2"`)
		p.prodUnchanged(t, before)

		// QA may not plan products, a client user even less: no button,
		// and the forms answer the refusal.
		qa := p.browserWith(t, "qa", testPassword, "")
		qa.get("/products").lacks(t, `href="/products/new"`)
		qa.get("/products/new").has(t, http.StatusForbidden)
		client.get("/products").lacks(t, `href="/products/new"`, "/edit")
		client.get("/products/new").has(t, http.StatusForbidden)
		client.get("/products/"+id+"/edit").has(t, http.StatusForbidden)
	})
}

// TestLotPages: a material recorded and a lot received through the forms
// enter quarantine; QA releases it with its signature; a wrong password,
// a missing reason, a supervisor, a client user are refused and write
// nothing; an expired lot is shown as such.
func TestLotPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		sup := p.browserWith(t, "supervisor", testPassword, "en")
		sup.get("/lots").has(t, http.StatusOK, `href="/lots/new"`, "Receive a lot", `href="/materials"`)
		sup.get("/materials/new").has(t, http.StatusOK, "New material", "Raw material")
		before := p.prodSnapshot(t)
		sup.post("/materials", url.Values{"code": {"M-NACL"}, "name": {"Sodium chloride"}, "kind": {"salt"}, "unit": {"kg"}}).
			has(t, http.StatusBadRequest, `id="e-kind"`, "The kind must be one of")
		p.prodUnchanged(t, before)
		r := sup.post("/materials", url.Values{"code": {"M-NACL"}, "name": {"Sodium chloride"}, "kind": {"raw"}, "unit": {"kg"}})
		sup.follow(t, r).has(t, http.StatusOK, "Changes saved.", "M-NACL", "Sodium chloride")
		ms, err := p.db.Production().Materials(identity.WithActor(context.Background(), identity.System))
		if err != nil {
			t.Fatal(err)
		}
		var mat string
		for _, m := range ms {
			if m.Code == "M-NACL" {
				mat = m.ID
			}
		}

		sup.get("/lots/new?material_id="+mat).has(t, http.StatusOK, "Receive a lot", `value="`+mat+`" selected`, "Expiry or retest date")
		lot := url.Values{"material_id": {mat}, "code": {"NACL-2601"}, "quantity": {"25,5"}, "expires_on": {"2031-06-30"},
			"supplier": {"Merck KGaA"}, "supplier_lot": {"MK-K51234"}, "received_on": {time.Now().AddDate(0, 0, -1).Format(time.DateOnly)}}
		before = p.prodSnapshot(t)
		future := url.Values{"material_id": {mat}, "code": {"NACL-2601"}, "quantity": {"5"}, "expires_on": {"2031-06-30"},
			"received_on": {time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}}
		sup.post("/lots", future).has(t, http.StatusBadRequest, `id="e-received_on"`, "The receipt date cannot be in the future.")
		sup.post("/lots", url.Values{"material_id": {mat}, "code": {"NACL-2601"}, "quantity": {"lots"}, "expires_on": {"2031-06-30"}}).
			has(t, http.StatusBadRequest, `id="e-quantity"`, "Write a number, for example 20.5.")
		sup.post("/lots", url.Values{"material_id": {mat}, "code": {"NACL-2601"}, "quantity": {"5"}}).
			has(t, http.StatusBadRequest, `id="e-expires_on"`, "Give the lot's expiry date")
		p.browserWith(t, "client-alpha", testPassword, "").post("/lots", lot).has(t, http.StatusForbidden)
		p.prodUnchanged(t, before)
		r = sup.post("/lots", lot)
		page := sup.follow(t, r)
		page.has(t, http.StatusOK, "Lot received", "NACL-2601", "Receipt → Quarantine", "25.5 kg", "Merck KGaA", "MK-K51234", "Received on")
		page.lacks(t, "Sign the decision") // the supervisor does not decide
		id := r.location[len("/lots/"):]
		if i := len(id) - len("?saved=1"); i > 0 && id[i:] == "?saved=1" {
			id = id[:i]
		}
		path := "/lots/" + id

		before = p.prodSnapshot(t)
		sup.post(path+"/status", url.Values{"status": {"released"}, "reason": {"CoA"}, "username": {"supervisor"}, "password": {testPassword}}).
			has(t, http.StatusForbidden)
		qa := p.browserWith(t, "qa", testPassword, "en")
		qa.get(path).has(t, http.StatusOK, "Quality decision", "Release the lot", "Block the lot (quarantine)")
		qa.post(path+"/status", url.Values{"status": {"released"}, "username": {"qa"}, "password": {testPassword}}).
			has(t, http.StatusBadRequest, "Say why: a lot's status is a quality decision and needs its reason.")
		qa.post(path+"/status", url.Values{"status": {"thrown"}, "reason": {"x"}, "username": {"qa"}, "password": {testPassword}}).
			has(t, http.StatusBadRequest)
		qa.post(path+"/status", url.Values{"status": {"released"}, "reason": {"CoA conforms"}, "username": {"qa"}}).
			has(t, http.StatusBadRequest, "Type your password to sign the decision.")
		p.prodUnchanged(t, before)

		// The decision tapped twice with its form's key: applied once.
		decision := url.Values{"idempotency_key": {newUUID(t)}, "status": {"released"}, "reason": {"CoA conforms"}, "username": {"qa"}, "password": {testPassword}}
		done := qa.post(path+"/status", decision)
		applied := p.prodSnapshot(t)
		if again := qa.post(path+"/status", decision); again.status != done.status || again.location != done.location {
			t.Errorf("sent twice: %d %q then %d %q", done.status, done.location, again.status, again.location)
		}
		p.prodUnchanged(t, applied)
		qa.follow(t, done).has(t, http.StatusOK, "Decision recorded and signed.", "Released", "Quentin Qualité", "CoA conforms", "Quarantine → Released")
		var released bool
		for _, en := range p.auditOf(t, "lot", id) {
			if en.Field == "status" && en.New == "released" && en.Reason == "CoA conforms" {
				released = true
			}
		}
		if !released {
			t.Error("the release is not in the audit trail with its reason")
		}
		sigs := p.signatures(t, "qa", "lot", id)
		if len(sigs) != 1 {
			t.Fatalf("signatures of the lot: %v", sigs)
		}

		// A wrong password: the decision is its signature, so the lot
		// stays released and unsigned again (only the refusal is in the
		// trail); the right one rejects it.
		bad := qa.post(path+"/status", url.Values{"status": {"rejected"}, "reason": {"Damaged drums"}, "username": {"qa"}, "password": {"wrong"}})
		bad.has(t, http.StatusUnauthorized)
		if n := len(p.signatures(t, "qa", "lot", id)); n != 1 {
			t.Errorf("%d signatures after a wrong password, want 1", n)
		}
		for _, en := range p.auditOf(t, "lot", id) {
			if en.Field == "status" && en.New == "rejected" {
				t.Errorf("a wrong password rejected the lot: %+v", en)
			}
		}
		qa.follow(t, qa.post(path+"/status", url.Values{"status": {"rejected"}, "reason": {"Damaged drums"}, "username": {"qa"}, "password": {testPassword}})).
			has(t, http.StatusOK, "Rejected", "Damaged drums")
		if n := len(p.signatures(t, "qa", "lot", id)); n != 2 {
			t.Errorf("%d signatures after the rejection, want 2", n)
		}

		// A block back to quarantine restricts the lot's use: recorded
		// with its reason, no signature needed.
		qa.follow(t, qa.post(path+"/status", url.Values{"status": {"quarantine"}, "reason": {"Supplier recall"}})).
			has(t, http.StatusOK, "Quarantine", "Supplier recall")
		if n := len(p.signatures(t, "qa", "lot", id)); n != 2 {
			t.Errorf("%d signatures after the block, want 2", n)
		}

		// A client user sees no lot and no form.
		cl := p.browserWith(t, "client-alpha", testPassword, "en")
		cl.get(path).has(t, http.StatusNotFound)
		cl.get("/lots/new").has(t, http.StatusForbidden)

		// A lot cannot be received already expired; one received long
		// ago and expired since is shown as such.
		expired := map[string]any{"material_id": mat, "code": "NACL-OLD", "quantity": 1, "expires_on": time.Now().AddDate(0, 0, -3).UTC().Format(time.RFC3339)}
		p.call(t, "supervisor", "POST", "/api/v1/lots", expired).wantError(t, http.StatusBadRequest, "invalid", "expires_on")
		expired["received_on"] = time.Now().AddDate(-1, 0, 0).UTC().Format(time.RFC3339)
		old := p.created(t, "supervisor", "/api/v1/lots", expired)
		sup.get("/lots").has(t, http.StatusOK, "Expired")
		sup.get("/lots/"+old).has(t, http.StatusOK, "Expired", "refused for any use")
	})
}
