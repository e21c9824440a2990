package web

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"galenix/internal/identity"
)

var updateDocs = flag.Bool("update", false, "rewrite the machine scopes table in docs/security.md from the code")

const securityDoc = "../../docs/security.md"

// The table of machine scopes in docs/security.md lies between these lines.
const (
	scopesBegin = "<!-- BEGIN machine scopes: generated from internal/web by `go test ./internal/web -run TestMachineScopesDoc -update`; do not edit by hand -->"
	scopesEnd   = "<!-- END machine scopes -->"
)

// renderScopes writes machineRoutes as a Markdown table: each scope and the
// routes it reaches.
func renderScopes() string {
	var b strings.Builder
	b.WriteString("| scope | reaches |\n|---|---|\n")
	for _, sc := range identity.TokenScopes {
		routes := machineRoutes[sc]
		cell := "nothing yet: reserved for the coming intake"
		if len(routes) > 0 {
			quoted := make([]string, len(routes))
			for i, r := range routes {
				quoted[i] = "`" + r + "`"
			}
			cell = strings.Join(quoted, ", ")
		}
		b.WriteString("| `" + string(sc) + "` | " + cell + " |\n")
	}
	return b.String()
}

// TestMachineScopesDoc checks that docs/security.md shows the routes each
// machine scope reaches as machineRoutes says; with -update it rewrites the
// table.
func TestMachineScopesDoc(t *testing.T) {
	raw, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, scopesBegin), strings.Index(doc, scopesEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the lines that enclose the machine scopes:\n%s\n%s", securityDoc, scopesBegin, scopesEnd)
	}
	want := renderScopes()
	if got := doc[i+len(scopesBegin) : j]; strings.TrimSpace(got) != strings.TrimSpace(want) {
		if !*updateDocs {
			t.Errorf("the machine scopes in %s differ from machineRoutes; run\n\tgo test ./internal/web -run TestMachineScopesDoc -update\nwant:\n%s\ngot:\n%s", securityDoc, want, got)
			return
		}
		doc = doc[:i+len(scopesBegin)] + "\n" + want + doc[j:]
		if err := os.WriteFile(securityDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMachineRoutesExist checks the machine table names only routes the
// server registers (a renamed route must not silently drop out of it) and
// only known scopes, and that no scope reaches a write of the site model,
// a page or the administration.
func TestMachineRoutesExist(t *testing.T) {
	e := newPageEnv(t)
	registered := map[string]Route{}
	for _, r := range e.web.Routes() {
		registered[r.Method+" "+r.Path] = r
	}
	for sc, routes := range machineRoutes {
		if !sc.Valid() {
			t.Errorf("machineRoutes names the unknown scope %q", sc)
		}
		for _, p := range routes {
			r, ok := registered[p]
			if !ok {
				t.Errorf("scope %s names %q, which the server does not register", sc, p)
				continue
			}
			if r.Public || !strings.HasPrefix(r.Path, "/api/v1/") || strings.Contains(r.Path, "/accounts") ||
				strings.Contains(r.Path, "/tokens") || strings.Contains(r.Path, "/assignments") {
				t.Errorf("scope %s reaches %q, which no machine should", sc, p)
			}
		}
	}
	for _, sc := range identity.TokenScopes {
		if _, ok := machineRoutes[sc]; !ok {
			t.Errorf("scope %s is missing from machineRoutes", sc)
		}
	}
	if !slices.Contains(machineRoutes[identity.ScopeSiteRead], "GET /api/v1/lines") {
		t.Error("site:read does not reach the lines")
	}
}
