package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"galenix/internal/identity"
)

// TestAdminSetPasswordPages: once an administrator has reset the
// operator's password in the pages, the operator's sign-in lands on the
// change of their password, saying why; every other page, signing
// included, refuses with a link to it and writes nothing; their own change
// leads to the page first asked for.
func TestAdminSetPasswordPages(t *testing.T) {
	e := newPageEnv(t)
	accounts, err := e.db.Identity().Accounts(identity.WithActor(context.Background(), identity.System))
	if err != nil {
		t.Fatal(err)
	}
	var operator string
	for _, a := range accounts {
		if a.Username == "operator" {
			operator = a.ID
		}
	}
	const given, own = "Granite-Otter-Falls-77", "Velvet-Canyon-Mosaic-19"

	admin := e.signedIn(t, "admin")
	// The administrator is told before giving the password.
	admin.get("/admin/accounts/"+operator).want(t, http.StatusOK, "La personne devra le remplacer par le sien à sa première connexion, avant toute signature.")
	if p := admin.post("/admin/accounts/"+operator+"/password", url.Values{"password": {given}, "reason": {"Mot de passe oublié"}}); p.status != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", p.status, p.text)
	}

	b := e.browser(t)
	loc := b.post("/login", url.Values{"username": {"operator"}, "password": {given}, "next": {"/people"}}).location(t)
	if loc != "/account/password?next=%2Fpeople" {
		t.Fatalf("sign-in with the administrator's password: went to %q", loc)
	}
	b.get(loc).want(t, http.StatusOK, "Changer mon mot de passe", "Votre mot de passe a été défini par un administrateur", "signature comprise")

	before := e.counts(t)
	for _, p := range []page{
		b.get("/people"), b.get("/"), b.get("/account"),
		b.post("/floor/lines/"+e.sterile.ID+"/sign", url.Values{"meaning": {"performed"}, "username": {"operator"}, "password": {given}}),
	} {
		p.want(t, http.StatusForbidden, "Changez d'abord le mot de passe donné par l'administrateur.")
		if !strings.Contains(p.body, `href="/account/password"`) {
			t.Errorf("no link to the change:\n%s", p.text)
		}
	}
	e.unchanged(t, before)

	if loc := b.post("/account/password", url.Values{"current": {given}, "new": {own}, "confirm": {own}, "next": {"/people"}}).location(t); loc != "/people" {
		t.Errorf("changed: went to %q, want the page first asked for", loc)
	}
	b.get("/people").want(t, http.StatusOK, "Personnel")
}
