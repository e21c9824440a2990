package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestAlarmPages: the alarm list and an alarm's page, in French and
// English, for site staff only; the acknowledgement signed on the page,
// each refusal said in words and changing nothing.
func TestAlarmPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	e.seedAccounts(t, identity.Account{Username: "qa", Name: "Quentin Qualité", Roles: []identity.Role{identity.RoleQA}},
		identity.Account{Username: "supervisor", Name: "Sarah Superviseur", Roles: []identity.Role{identity.RoleSupervisor}})
	sensor := exerciseEnvironment(t, e)
	sys := identity.WithActor(context.Background(), identity.System)
	as, err := e.db.Environment().Alarms(sys, sensor, 10)
	if err != nil || len(as) != 1 {
		t.Fatalf("the scenario's alarm: %v, %+v", err, as)
	}
	alarm := "/alarms/" + as[0].ID
	acked := func() bool {
		a, err := e.db.Environment().Alarm(sys, as[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Acknowledged()
	}

	qa := e.browserWith(t, "qa", testPassword, "")
	qa.get("/environment").has(t, http.StatusOK, `href="/alarms"`)
	qa.get("/alarms").has(t, http.StatusOK, "Alarmes d&#39;environnement", "CMD-T1", `href="`+alarm+`"`, "Non acquittée", "En cours")
	qa.get("/alarms?state=unacknowledged").has(t, http.StatusOK, "CMD-T1")
	qa.get("/alarms?state=ended").has(t, http.StatusOK, "Aucune alarme.")
	qa.get("/alarms?state=someday").has(t, http.StatusBadRequest)
	qa.get(alarm).has(t, http.StatusOK, "CMD-T1", "Acquitter l&#39;alarme", "Commentaire (obligatoire)", "Signer l&#39;acquittement")
	e.browserWith(t, "supervisor", testPassword, "en").get(alarm).has(t, http.StatusOK, "Acknowledge the alarm", "Not acknowledged")

	// Who may not: a client's user is refused the pages, an operator
	// sees the alarm without the form and cannot sign.
	e.browserWith(t, "client-alpha", testPassword, "").get("/alarms").has(t, http.StatusForbidden)
	op := e.browserWith(t, "operator", testPassword, "")
	if p := op.get(alarm); p.status != http.StatusOK || strings.Contains(p.text, "Signer l'acquittement") {
		t.Fatalf("the operator's view of the alarm: %d", p.status)
	}
	op.post(alarm+"/acknowledge", url.Values{"reason": {"Vu"}, "username": {"operator"}, "password": {testPassword}}).has(t, http.StatusForbidden)

	// Refusals on the page, in words; nothing acknowledged.
	ack := url.Values{"reason": {" "}, "username": {"qa"}, "password": {testPassword}}
	qa.post(alarm+"/acknowledge", ack).has(t, http.StatusBadRequest, "l&#39;acquittement d&#39;une alarme porte un commentaire")
	ack.Set("reason", "Porte restée ouverte, refermée à 10 h 05")
	ack.Set("password", "wrong password")
	if p := qa.post(alarm+"/acknowledge", ack); p.status == http.StatusSeeOther {
		t.Fatal("a wrong password acknowledged the alarm")
	}
	ack.Set("password", "")
	qa.post(alarm+"/acknowledge", ack).has(t, http.StatusBadRequest)
	if acked() {
		t.Fatal("a refused acknowledgement acknowledged the alarm")
	}

	// Signed: the alarm keeps who, when and the comment.
	ack.Set("password", testPassword)
	p := qa.post(alarm+"/acknowledge", ack)
	if p.status != http.StatusSeeOther || !acked() {
		t.Fatalf("acknowledgement through the page: %d %s", p.status, p.text)
	}
	page := qa.get(p.location)
	page.has(t, http.StatusOK, "Alarme acquittée.", "Porte restée ouverte", "Acquittée")
	if strings.Contains(page.text, "Signer l'acquittement") {
		t.Error("the form is still offered on an acknowledged alarm")
	}
	// Acknowledged once: a second signature is refused.
	if p := qa.post(alarm+"/acknowledge", ack); p.status == http.StatusSeeOther {
		t.Fatal("an alarm acknowledged twice")
	}
	qa.get("/alarms?state=unacknowledged").has(t, http.StatusOK, "Aucune alarme.")
}
