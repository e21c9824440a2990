package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestUniquenessRevealsNothing: a value taken outside the caller's scope
// is never refused: a product's code is unique within its client, so a
// supervisor of alpha may use a code beta's product has (and learns
// nothing of it), and is refused one of alpha's own in words naming the
// client's product. A username, the site's sign-in name, is refused in
// the very words of one taken inside the caller's scope, which say that
// the value cannot be used, never that another record holds it: a
// client's manager learns nothing of whose it is.
func TestUniquenessRevealsNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		p := newProdEnv(t, e, "operator")
		p.created(t, "supervisor", "/api/v1/products", p.productBody("ALP-1"))
		sys := identity.WithActor(context.Background(), identity.System)
		if err := e.db.WriteHistory(sys, "test.seed", func(ctx context.Context, h *store.History) error {
			return e.db.Production().CreateProduct(ctx, &production.Product{ClientID: e.beta.ID, Code: "BET-1", Name: "Betamol", Form: site.FormVial,
				Strength: "1 g", Presentation: "Box", Storage: "Cold"})
		}); err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"en", "fr"} {
			before := p.prodSnapshot(t)
			ours := p.call(t, "supervisor", "POST", "/api/v1/products", p.productBody("ALP-1"), "Accept-Language", lang)
			msg := ours.wantError(t, http.StatusConflict, "conflict", "code").Message
			p.prodUnchanged(t, before)
			if want := map[string]string{
				"en": "Another product of this client already has this code: choose another.",
				"fr": "Un autre produit de ce client porte déjà ce code : choisissez-en un autre.",
			}[lang]; msg != want {
				t.Errorf("%s: %q, want %q", lang, msg, want)
			}
		}
		// Beta's code, for alpha: a product of its own.
		p.created(t, "supervisor", "/api/v1/products", p.productBody("BET-1"))

		if r := e.createAccount(t, "admin", map[string]any{"username": "manager-alpha", "name": "Mia Manager",
			"roles": []string{"client_manager"}, "client_id": e.alpha.ID, "password": adminPassword}); r.status != http.StatusCreated {
			t.Fatalf("create the manager: %d %s", r.status, r.body)
		}
		e.loginWith(t, "manager-alpha", adminPassword)
		user := func(name string) reply {
			return e.call(t, "manager-alpha", "POST", "/api/v1/accounts", map[string]any{"username": name, "name": "Ulla Alpha",
				"roles": []string{"client_user"}, "password": adminPassword})
		}
		before := e.adminSnapshot(t)
		staff, own := user("operator"), user("client-alpha")
		msg := staff.wantError(t, http.StatusConflict, "conflict", "username").Message
		own.wantError(t, http.StatusConflict, "conflict", "username")
		e.adminUnchanged(t, before)
		if !sameAnswer(staff.body, own.body) || msg != "This username cannot be used: choose another (it must be unique across the site)." {
			t.Errorf("a staff username answers %s, one of alpha %s", staff.body, own.body)
		}
		if strings.Contains(msg, "already") {
			t.Errorf("%q confirms the username exists", msg)
		}
	})
}
