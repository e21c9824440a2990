package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestEquipmentWork: maintenance records a cleaning, takes a piece of
// equipment out of service and back, and renews a qualification by
// signature, through the JSON API and through the pages; the operator and
// the client are refused, bad input changes nothing.
func TestEquipmentWork(t *testing.T) {
	e := newEnv(t, store.SQLite)
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	eq := map[string]*site.Equipment{}
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		a := identity.Account{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}}
		if err := h.CreateAccount(&a, hash); err != nil {
			return err
		}
		for _, x := range []site.Equipment{
			{Code: "E-DIRTY", Name: "Dirty filler", Kind: "filler", Status: site.EquipmentDirty, QualificationDue: now.AddDate(1, 0, 0)},
			{Code: "E-API", Name: "API washer", Kind: "washer", Status: site.EquipmentDirty, QualificationDue: now.AddDate(1, 0, 0)},
			{Code: "E-LATE", Name: "Tunnel lapsed", Kind: "tunnel", Status: site.EquipmentClean, QualificationDue: now.AddDate(0, 0, -5)},
		} {
			x.LineID = e.line.ID
			if err := e.db.Site().CreateEquipment(ctx, &x); err != nil {
				return err
			}
			eq[x.Code] = &x
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	current := func(code string) site.Equipment {
		t.Helper()
		x, err := e.db.Site().EquipmentItem(identity.WithActor(context.Background(), identity.System), eq[code].ID)
		if err != nil {
			t.Fatal(err)
		}
		return *x
	}
	api := "/api/v1/equipment/" + eq["E-API"].ID

	t.Run("api actions", func(t *testing.T) {
		clean := map[string]string{"action": "clean", "reason": "Wiped with IPA"}
		e.call(t, "operator", "POST", api+"/actions", clean).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "client-alpha", "POST", api+"/actions", clean).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "maintenance", "POST", api+"/actions", map[string]string{"action": "clean"}).wantError(t, http.StatusBadRequest, "invalid", "reason")
		e.call(t, "maintenance", "POST", api+"/actions", map[string]string{"action": "scrub", "reason": "x"}).wantError(t, http.StatusBadRequest, "invalid", "action")
		if st := current("E-API").Status; st != site.EquipmentDirty {
			t.Fatalf("a refusal changed the status to %s", st)
		}
		first := e.call(t, "maintenance", "POST", api+"/actions", clean, "Idempotency-Key", "clean-1")
		var got site.Equipment
		first.decode(t, &got)
		if first.status != http.StatusOK || got.Status != site.EquipmentClean {
			t.Fatalf("clean: %d %s", first.status, first.body)
		}
		again := e.call(t, "maintenance", "POST", api+"/actions", clean, "Idempotency-Key", "clean-1")
		if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %v %s", again.status, again.header, again.body)
		}
		e.call(t, "maintenance", "POST", api+"/actions", clean).wantError(t, http.StatusConflict, "conflict", "")

		e.call(t, "maintenance", "POST", api+"/actions", map[string]string{"action": "out_of_service", "reason": "Seal leaking"}).decode(t, &got)
		if got.Status != site.EquipmentMaintenance {
			t.Fatalf("out of service: %s", got.Status)
		}
		var l site.Line
		e.call(t, "maintenance", "GET", "/api/v1/lines/"+e.line.ID, nil).decode(t, &l)
		if l.State != site.StateOutOfService {
			t.Fatalf("line state: %s", l.State)
		}
		e.call(t, "maintenance", "POST", api+"/actions", map[string]string{"action": "in_service", "reason": "Seal replaced"}).decode(t, &got)
		if got.Status != site.EquipmentDirty {
			t.Fatalf("back in service: %s", got.Status)
		}
	})

	t.Run("api renewal", func(t *testing.T) {
		challenge := func(who string) string {
			t.Helper()
			var c struct {
				Challenge string `json:"challenge"`
			}
			r := e.call(t, who, "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "equipment", "entity_id": eq["E-API"].ID, "meaning": "approved"})
			if r.status != http.StatusCreated {
				return ""
			}
			r.decode(t, &c)
			return c.Challenge
		}
		body := func(who, due, report string) map[string]string {
			return map[string]string{"qualification_due": due, "qualification_report": report, "challenge": challenge(who),
				"username": who, "password": testPassword, "reason": "IQ/OQ"}
		}
		next := now.AddDate(2, 0, 0).Format(time.DateOnly)
		before := current("E-API")
		e.call(t, "operator", "POST", api+"/qualification", body("operator", next, "QR-1")).wantError(t, http.StatusForbidden, "forbidden", "")
		e.call(t, "maintenance", "POST", api+"/qualification", body("maintenance", now.Format(time.DateOnly), "QR-1")).wantError(t, http.StatusBadRequest, "invalid", "qualification_due")
		e.call(t, "maintenance", "POST", api+"/qualification", body("maintenance", "soon", "QR-1")).wantError(t, http.StatusBadRequest, "invalid", "qualification_due")
		e.call(t, "maintenance", "POST", api+"/qualification", body("maintenance", next, "")).wantError(t, http.StatusBadRequest, "invalid", "qualification_report")
		if x := current("E-API"); !x.QualificationDue.Equal(before.QualificationDue) || x.QualificationReport != "" {
			t.Fatalf("a refused renewal changed the equipment: %+v", x)
		}
		var got site.Equipment
		r := e.call(t, "maintenance", "POST", api+"/qualification", body("maintenance", next, "QR-2028-1"))
		r.decode(t, &got)
		if r.status != http.StatusOK || got.QualificationDue.Format(time.DateOnly) != next || got.QualificationReport != "QR-2028-1" {
			t.Fatalf("renewal: %d %s", r.status, r.body)
		}
	})

	t.Run("pages", func(t *testing.T) {
		b := e.browserWith(t, "maintenance", testPassword, "")
		dirty := "/equipment/" + eq["E-DIRTY"].ID
		b.get("/equipment").has(t, http.StatusOK, `href="`+dirty+`#actions"`, "Enregistrer le nettoyage", `href="/equipment/`+eq["E-LATE"].ID+`#renew"`)
		b.get(dirty).has(t, http.StatusOK, "E-DIRTY", "Enregistrer le nettoyage", "Mettre hors service", "Renouveler la qualification", "Historique")

		p := b.post(dirty+"/action", url.Values{"action": {"clean"}, "reason": {" "}})
		p.has(t, http.StatusBadRequest, "Dites ce qui a été nettoyé et comment.")
		if current("E-DIRTY").Status != site.EquipmentDirty {
			t.Fatal("a refused cleaning changed the status")
		}
		p = b.post(dirty+"/action", url.Values{"action": {"clean"}, "reason": {"Nettoyé à l'IPA"}})
		if p.status != http.StatusSeeOther || current("E-DIRTY").Status != site.EquipmentClean {
			t.Fatalf("clean through the page: %d %s", p.status, p.text)
		}
		b.get(p.location).has(t, http.StatusOK, "Nettoyage enregistré", "Nettoyé à l'IPA", "Nettoyage d'un équipement", "Statut")

		// In use: refused in words.
		x := current("E-DIRTY")
		x.Status = site.EquipmentInUse
		if err := e.db.Site().UpdateEquipment(identity.WithActor(context.Background(), identity.System), &x, "a batch starts"); err != nil {
			t.Fatal(err)
		}
		b.post(dirty+"/action", url.Values{"action": {"clean"}, "reason": {"x"}}).has(t, http.StatusConflict, "en cours d'utilisation")

		// The overdue qualification on the line page, with its action.
		late := "/equipment/" + eq["E-LATE"].ID
		b.get("/lines/"+e.line.ID).has(t, http.StatusOK, "Qualification échue sur cette ligne", `href="`+late+`#renew"`)
		e.browserWith(t, "operator", testPassword, "").get("/lines/"+e.line.ID).has(t, http.StatusOK, "Qualification échue sur cette ligne")
		if strings.Contains(e.browserWith(t, "operator", testPassword, "").get("/lines/"+e.line.ID).body, late+"#renew") {
			t.Error("the operator is offered the renewal")
		}

		renew := url.Values{"qualification_due": {now.AddDate(0, 0, -1).Format(time.DateOnly)}, "qualification_report": {"QR-9"},
			"username": {"maintenance"}, "password": {testPassword}, "reason": {"IQ/OQ"}}
		b.post(late+"/qualification", renew).has(t, http.StatusBadRequest, "postérieure à aujourd'hui")
		renew.Set("qualification_due", now.AddDate(1, 0, 0).Format(time.DateOnly))
		renew.Set("password", "wrong password")
		if p := b.post(late+"/qualification", renew); p.status == http.StatusSeeOther {
			t.Fatal("a wrong password renewed the qualification")
		}
		if x := current("E-LATE"); x.QualificationReport != "" {
			t.Fatalf("a refused renewal changed the equipment: %+v", x)
		}
		renew.Set("password", testPassword)
		p = b.post(late+"/qualification", renew)
		if p.status != http.StatusSeeOther {
			t.Fatalf("renewal through the page: %d %s", p.status, p.text)
		}
		if x := current("E-LATE"); x.QualificationReport != "QR-9" || !x.QualifiedOn(now) {
			t.Fatalf("renewed: %+v", x)
		}
		b.get(p.location).has(t, http.StatusOK, "Qualification renouvelée", "QR-9", "Marc Maintenance")

		// The operator sees the page, without the forms; English too.
		op := e.browserWith(t, "operator", testPassword, "en")
		p = op.get(dirty)
		p.has(t, http.StatusOK, "E-DIRTY", "History")
		if strings.Contains(p.body, "/action\"") || strings.Contains(p.body, "/qualification\"") {
			t.Error("the operator is shown maintenance's forms")
		}
		op.post(late+"/qualification", renew).has(t, http.StatusForbidden)
	})
}
