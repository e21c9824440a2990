package web_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"galenix/docs"
	"galenix/internal/demo"
	"galenix/internal/demotest"
	"galenix/internal/store"
	"galenix/internal/web"
)

// TestDemoSignsIn checks that every demo account signs in with its username
// and password alone, and may then work: the demo's policy asks no second
// factor of its administrator (CONTRACT.md). On SQLite: the demo's load
// and its accounts' sign-in on PostgreSQL are internal/demo's TestLoad, and
// the web layer above the store is the same on both.
func TestDemoSignsIn(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			cfg := store.Config{DataDir: demotest.DataDir(t), Keys: memoKeys}
			db, err := store.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			srv := httptest.NewServer(checkContract(t, web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db, OpenAPI: docs.OpenAPI}).Handler()))
			t.Cleanup(srv.Close)
			e := &env{db: db, srv: srv, tokens: map[string]string{}}
			for _, u := range []string{"admin", "operator", "supervisor", "maintenance", "qa", "qp", "lab", "security", "client-alpha", "client-beta", "client-gamma"} {
				tok := tokenOf(t, e.login(t, "username", u, "password", demo.Password))
				if me := e.with(t, tok, "GET", "/api/v1/me", nil).object(t); me["username"] != u || me["pending"] != "" {
					t.Errorf("%s: me %v", u, me)
				}
				e.with(t, tok, "GET", "/api/v1/lines", nil).items(t)
			}
		})
	}
}
