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

// TestUniquenessRevealsNothing: a code or a username taken outside the
// caller's scope is refused in the very words of one taken inside it,
// which say that the value cannot be used, never that another record
// holds it: a supervisor of alpha learns nothing of beta's products, a
// client's manager nothing of the site's usernames.
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
			theirs := p.call(t, "supervisor", "POST", "/api/v1/products", p.productBody("BET-1"), "Accept-Language", lang)
			ours := p.call(t, "supervisor", "POST", "/api/v1/products", p.productBody("ALP-1"), "Accept-Language", lang)
			msg := theirs.wantError(t, http.StatusConflict, "conflict", "code").Message
			ours.wantError(t, http.StatusConflict, "conflict", "code")
			p.prodUnchanged(t, before)
			if !sameAnswer(theirs.body, ours.body) {
				t.Errorf("%s: beta's code answers %s, alpha's %s", lang, theirs.body, ours.body)
			}
			if want := map[string]string{
				"en": "This code cannot be used: choose another (it must be unique across the site).",
				"fr": "Ce code ne peut pas être utilisé : choisissez-en un autre (il doit être unique sur tout le site).",
			}[lang]; msg != want {
				t.Errorf("%s: %q, want %q", lang, msg, want)
			}
		}

		if r := e.call(t, "admin", "POST", "/api/v1/accounts", map[string]any{"username": "manager-alpha", "name": "Mia Manager",
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
